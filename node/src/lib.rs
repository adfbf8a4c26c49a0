//! The jejak node: configuration, CLI and composition of store, indexer, anchoring jobs and API.
