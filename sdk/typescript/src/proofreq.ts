// A verifier's proof request, carried in a link `/prove?context=..&min=..&gigs=..&tier=..&challenge=..&platform=..`
// (or its QR code): built by a verifier ([`buildProofRequest`], [`proofRequestLink`]) and read by
// the worker's wallet ([`parseProofRequest`]), with the same bounds on both sides; the node
// checks again when it proves. Shared by the SDK and the web app.

/** What a verifier asks a worker to prove. */
export interface ProofRequest {
  /** The verifier's context label (1 to 256 bytes of UTF-8). */
  context: string;
  /** Minimum reputation, 0 to 1000. */
  minScore: number;
  /** Minimum completed gigs. */
  minGigs: number;
  /** Minimum credit tier, 1 (E) to 5 (A); 0 asks nothing. */
  minTier: number;
  /** The verifier's challenge: a decimal field element, or absent. */
  challenge: string | null;
  /** The registry id of the platform that will verify, or absent (the node's operator). */
  platform: number | null;
}

/** Why a link is not a proof request: the field, and a stable code. */
export class ProofRequestError extends Error {
  constructor(
    readonly field: string,
    readonly code: 'missing' | 'too_long' | 'not_a_number' | 'out_of_range',
  ) {
    super(`${field}: ${code}`);
  }
}

export const MAX_CONTEXT_BYTES = 256;
const MAX_GIGS = 1_000_000;
/** The BN254 scalar field's modulus: a challenge must be below it. */
const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

function bounded(q: URLSearchParams, field: string, max: number, required = false): number {
  const raw = q.get(field);
  if (raw === null || raw === '') {
    if (required) throw new ProofRequestError(field, 'missing');
    return 0;
  }
  if (!/^\d{1,9}$/.test(raw)) throw new ProofRequestError(field, 'not_a_number');
  const n = Number(raw);
  if (n > max) throw new ProofRequestError(field, 'out_of_range');
  return n;
}

/** Parses the query of a proof request link. Throws [`ProofRequestError`]. */
export function parseProofRequest(q: URLSearchParams): ProofRequest {
  const context = q.get('context') ?? '';
  if (!context) throw new ProofRequestError('context', 'missing');
  if (new TextEncoder().encode(context).length > MAX_CONTEXT_BYTES) throw new ProofRequestError('context', 'too_long');
  const minScore = bounded(q, 'min', 1000, true);
  const minGigs = bounded(q, 'gigs', MAX_GIGS);
  const minTier = bounded(q, 'tier', 5);
  let challenge: string | null = q.get('challenge');
  if (challenge === '') challenge = null;
  if (challenge !== null) {
    if (!/^\d{1,78}$/.test(challenge)) throw new ProofRequestError('challenge', 'not_a_number');
    if (BigInt(challenge) >= FIELD) throw new ProofRequestError('challenge', 'out_of_range');
    challenge = BigInt(challenge).toString();
  }
  const p = q.get('platform');
  let platform: number | null = null;
  if (p !== null && p !== '') {
    if (!/^\d{1,15}$/.test(p)) throw new ProofRequestError('platform', 'not_a_number');
    platform = Number(p);
    if (platform < 1) throw new ProofRequestError('platform', 'out_of_range');
  }
  return { context, minScore, minGigs, minTier, challenge, platform };
}

/** The link a verifier hands out (absolute, on `origin`). */
export function proofRequestLink(origin: string, r: ProofRequest): string {
  const q = new URLSearchParams({ context: r.context, min: String(r.minScore) });
  if (r.minGigs) q.set('gigs', String(r.minGigs));
  if (r.minTier) q.set('tier', String(r.minTier));
  if (r.challenge !== null) q.set('challenge', r.challenge);
  if (r.platform !== null) q.set('platform', String(r.platform));
  return `${origin}/prove?${q.toString()}`;
}

/** A fresh random challenge below the field modulus (248 random bits). */
export function randomChallenge(): string {
  const b = crypto.getRandomValues(new Uint8Array(31));
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n.toString();
}

/** The body of `POST /v1/workers/{id}/proofs` for `r`. */
export function proveBody(r: ProofRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    context: r.context,
    min_score: r.minScore,
    min_gigs: r.minGigs,
    min_tier: r.minTier,
  };
  if (r.challenge !== null) body.challenge = r.challenge;
  if (r.platform !== null) body.platform_id = r.platform;
  return body;
}

/** What a verifier fills in to build a proof request. */
export interface ProofRequestInput {
  /** The verifier's context label (1 to 256 bytes of UTF-8). */
  context: string;
  /** Minimum reputation, 0 to 1000. */
  minScore: number;
  /** Minimum completed gigs (default 0). */
  minGigs?: number;
  /** Minimum credit tier, 1 (E) to 5 (A); 0 (the default) asks nothing. */
  minTier?: number;
  /** The challenge: a decimal field element (string or bigint), `null` for none; by default a
   * fresh random one, so that a proof made for this request cannot answer another. */
  challenge?: string | bigint | null;
  /** The registry id of the platform that will verify (default: none, the node's operator). */
  platform?: number | null;
}

function asParam(field: string, v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isSafeInteger(v)) throw new ProofRequestError(field, 'not_a_number');
  if (v < 0) throw new ProofRequestError(field, 'out_of_range');
  return String(v);
}

/** Builds a proof request, checked with exactly the bounds the wallet applies to the link.
 * Throws [`ProofRequestError`] naming the field at fault. */
export function buildProofRequest(input: ProofRequestInput): ProofRequest {
  const q = new URLSearchParams();
  q.set('context', typeof input.context === 'string' ? input.context : '');
  q.set('min', asParam('min', input.minScore));
  q.set('gigs', asParam('gigs', input.minGigs));
  q.set('tier', asParam('tier', input.minTier));
  const c = input.challenge === undefined ? randomChallenge() : input.challenge;
  if (c !== null) {
    if (typeof c === 'bigint' && c < 0n) throw new ProofRequestError('challenge', 'out_of_range');
    q.set('challenge', String(c));
  }
  if (input.platform !== undefined && input.platform !== null) {
    if (!Number.isSafeInteger(input.platform)) throw new ProofRequestError('platform', 'not_a_number');
    q.set('platform', String(input.platform));
  }
  return parseProofRequest(q);
}
