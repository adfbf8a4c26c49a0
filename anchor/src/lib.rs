//! Anchoring jobs of jejak: batches accepted events into RFC 6962 trees, publishes batch documents and anchors roots on chain.
