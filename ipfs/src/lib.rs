//! IPFS for jejak: the embedded blockstore, trustless-gateway and Kubo RPC clients, and CID-checked fetching.
