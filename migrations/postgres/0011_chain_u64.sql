-- `RootReplaced.expiresAt` is a uint64 (2^64 - 1 when the window saturates, "never"); BIGINT held
-- it as a signed number, so the saturated value read back as -1 and looked expired. It is now the
-- exact decimal text. Rows written before hold the two's-complement bits of the value.
ALTER TABLE chain_roots ALTER COLUMN expires_at TYPE TEXT USING (
    CASE WHEN expires_at < 0 THEN expires_at::numeric + 18446744073709551616 ELSE expires_at::numeric END
)::text;
