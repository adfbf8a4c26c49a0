-- The explorer pages batches per platform newest first and searches chain facts by root,
-- transaction hash and CID: each of those reads one index range.
CREATE INDEX chain_batches_platform_block ON chain_batches (chain_id, platform_id, block_number, log_index);
CREATE INDEX chain_batches_any_root ON chain_batches (chain_id, root);
CREATE INDEX chain_batches_tx ON chain_batches (chain_id, tx_hash);
CREATE INDEX chain_roots_root ON chain_roots (chain_id, root);
CREATE INDEX chain_roots_tx ON chain_roots (chain_id, tx_hash);
CREATE INDEX chain_roots_snapshot ON chain_roots (chain_id, snapshot_cid);
CREATE INDEX chain_evidence_root ON chain_evidence (chain_id, root);
CREATE INDEX chain_evidence_tx ON chain_evidence (chain_id, tx_hash);
CREATE INDEX chain_evidence_cid ON chain_evidence (chain_id, cid);
CREATE INDEX chain_evidence_by_checkpoint ON chain_evidence (chain_id, checkpoint);
