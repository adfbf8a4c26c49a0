// @jejak/sdk: a typed client of a jejak node and the checks a platform runs on its own side.
//
// - [`createJejakClient`]: every endpoint of the node's OpenAPI document, typed (openapi-fetch).
// - [`verifyWebhook`], [`signWebhook`]: the `Jejak-Signature` scheme of webhooks, constant-time.
// - [`parseReceipt`], [`checkReceipt`]: a receipt recomputed with WebCrypto (SHA-256, RFC 8785,
//   RFC 6962 inclusion), so a platform need not trust the node for it.
// - [`buildProofRequest`], [`proofRequestLink`], [`parseProofRequest`]: the proof-request links
//   the worker's wallet reads.

export * from './client.js';
export * from './checker.js';
export * from './proofreq.js';
export * from './webhooks.js';
