// `Jejak-Signature`, the signature of webhooks in both directions (the node's
// api/src/services/webhooks.rs `sign` and `verify`): `t=<unix seconds>,v1=<hex>` where `v1` is
// HMAC-SHA256 over `"<t>.<body>"` with the webhook secret. A receiver checks the timestamp
// against its clock (replay window) and compares the MAC in constant time with every `v1` entry
// (a sender rotating its secret sends two). The header is read within bounds before any MAC is
// computed. WebCrypto only: the same code runs in Node.js (>= 20), Deno, browsers and workers.

/** Seconds a signature's timestamp may be away from the receiver's clock (the node's window). */
export const DEFAULT_TOLERANCE_SECS = 300;
/** Longest `Jejak-Signature` header read, bytes. */
export const MAX_SIGNATURE_HEADER = 512;
/** Most `v1=` entries in one header. */
export const MAX_SIGNATURES = 4;
/** Name of the signature header (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'Jejak-Signature';
/** Name of the header carrying an outgoing event's id, the receiver's idempotency key. */
export const WEBHOOK_ID_HEADER = 'Jejak-Webhook-Id';
/** Name of the header naming the sending platform of a signed incoming webhook. */
export const PLATFORM_HEADER = 'Jejak-Platform';

/** Why a signature was refused, as a stable code. */
export type SignatureErrorCode = 'malformed' | 'outside_window' | 'mismatch';

/** A refused signature. `code` is stable; the message says how to fix it. */
export class WebhookSignatureError extends Error {
  constructor(readonly code: SignatureErrorCode) {
    super(
      code === 'malformed'
        ? `Jejak-Signature must read t=<unix seconds>,v1=<64 hex digits> (at most ${MAX_SIGNATURES} v1 entries, ${MAX_SIGNATURE_HEADER} bytes)`
        : code === 'outside_window'
          ? 'the signature timestamp is outside the tolerance window of this clock'
          : 'the signature does not match the body',
    );
    this.name = 'WebhookSignatureError';
  }
}

/** A `Jejak-Signature` header read within its bounds; nothing is verified yet. */
export interface SignatureHeader {
  /** The signed timestamp, unix seconds. */
  t: number;
  /** The candidate MACs, 1 to [`MAX_SIGNATURES`], 32 bytes each. */
  macs: Uint8Array[];
}

/** What a verified signature vouches for. */
export interface VerifiedWebhook {
  /** The signed timestamp, unix seconds. */
  t: number;
}

/** Bytes, text (UTF-8) or an ArrayBuffer: what a secret or a body may be given as. */
export type BytesLike = Uint8Array | ArrayBuffer | string;

function bytes(b: BytesLike): Uint8Array<ArrayBuffer> {
  if (typeof b === 'string') return new TextEncoder().encode(b) as Uint8Array<ArrayBuffer>;
  if (b instanceof Uint8Array) return new Uint8Array(b) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(b.slice(0));
}

function hexToBytes32(h: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(h)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Reads a header: one `t=`, 1 to [`MAX_SIGNATURES`] `v1=` of 64 hex digits, at most
 * [`MAX_SIGNATURE_HEADER`] bytes; entries of other schemes are skipped. Computes no MAC.
 * Throws [`WebhookSignatureError`] `malformed`. */
export function parseSignatureHeader(header: string): SignatureHeader {
  if (typeof header !== 'string' || new TextEncoder().encode(header).length > MAX_SIGNATURE_HEADER) {
    throw new WebhookSignatureError('malformed');
  }
  let t: number | null = null;
  const macs: Uint8Array[] = [];
  for (const part of header.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new WebhookSignatureError('malformed');
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === 't' && t === null) {
      // The node reads an i64. A value past 2^53 is read approximately: it is far outside any
      // window, and refused there.
      if (!/^[+-]?\d{1,19}$/.test(v)) throw new WebhookSignatureError('malformed');
      t = Number(v);
    } else if (k === 'v1' && macs.length < MAX_SIGNATURES) {
      const mac = hexToBytes32(v);
      if (!mac) throw new WebhookSignatureError('malformed');
      macs.push(mac);
    } else if (k !== 't' && k !== 'v1') {
      // Another scheme (a later version may add some).
    } else {
      // A second `t`, or one `v1` too many.
      throw new WebhookSignatureError('malformed');
    }
  }
  if (t === null || macs.length === 0) throw new WebhookSignatureError('malformed');
  return { t, macs };
}

async function hmac(secret: BytesLike, t: number, body: BytesLike): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', bytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const prefix = new TextEncoder().encode(`${t}.`);
  const b = bytes(body);
  const msg = new Uint8Array(prefix.length + b.length);
  msg.set(prefix, 0);
  msg.set(b, prefix.length);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, msg));
}

/** Constant-time equality of two 32-byte MACs: every byte is looked at, whatever differs. */
function macEqual(a: Uint8Array, b: Uint8Array): number {
  let diff = a.length ^ b.length;
  for (let i = 0; i < 32; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0 ? 1 : 0;
}

/** The `Jejak-Signature` header for `body` at unix time `t` (default now), as the node signs its
 * deliveries and as a platform signs events sent to `POST /v1/webhooks/events`. */
export async function signWebhook(secret: BytesLike, body: BytesLike, t: number = nowSecs()): Promise<string> {
  if (!Number.isSafeInteger(t)) throw new RangeError('t must be an integer number of seconds');
  return `t=${t},v1=${hex(await hmac(secret, t, body))}`;
}

/** Unix seconds now. */
export function nowSecs(): number {
  return Math.floor(Date.now() / 1000);
}

/** Options of [`verifyWebhook`]. */
export interface VerifyOptions {
  /** The receiver's clock, unix seconds (default: now). */
  now?: number;
  /** Largest distance between `t` and `now`, seconds (default [`DEFAULT_TOLERANCE_SECS`]). */
  toleranceSecs?: number;
}

/** Checks a `Jejak-Signature` header against the exact bytes of `body` (verify before parsing
 * the JSON): the timestamp within the tolerance window, then one MAC compared in constant time
 * with every `v1` entry. Throws [`WebhookSignatureError`] (`malformed`, `outside_window`,
 * `mismatch`). */
export async function verifyWebhook(
  secret: BytesLike,
  header: string | null | undefined,
  body: BytesLike,
  opts: VerifyOptions = {},
): Promise<VerifiedWebhook> {
  if (header === null || header === undefined) throw new WebhookSignatureError('malformed');
  const h = parseSignatureHeader(header);
  const now = opts.now ?? nowSecs();
  const tolerance = opts.toleranceSecs ?? DEFAULT_TOLERANCE_SECS;
  if (!Number.isSafeInteger(now) || !Number.isSafeInteger(tolerance) || tolerance < 0) {
    throw new RangeError('now and toleranceSecs must be non-negative integers of seconds');
  }
  if (!Number.isSafeInteger(h.t) || Math.abs(now - h.t) > tolerance) throw new WebhookSignatureError('outside_window');
  const expected = await hmac(secret, h.t, body);
  // Every candidate is compared, whichever matches.
  let matched = 0;
  for (const m of h.macs) matched |= macEqual(m, expected);
  if (matched !== 1) throw new WebhookSignatureError('mismatch');
  return { t: h.t };
}
