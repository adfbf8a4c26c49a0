//! The jejak indexer: follows the contracts' events through reorganisations and finality and fetches the IPFS documents they name.
