-- `RootReplaced.expiresAt` is a uint64 (2^64 - 1 when the window saturates, "never"); BIGINT held
-- it as a signed number, so the saturated value read back as -1 and looked expired. It is now the
-- exact decimal text. Rows written before hold the two's-complement bits of the value, which
-- printf('%u') turns back into it.
ALTER TABLE chain_roots ADD COLUMN expires_at_text TEXT;
UPDATE chain_roots SET expires_at_text = printf('%u', expires_at) WHERE expires_at IS NOT NULL;
ALTER TABLE chain_roots DROP COLUMN expires_at;
ALTER TABLE chain_roots RENAME COLUMN expires_at_text TO expires_at;
