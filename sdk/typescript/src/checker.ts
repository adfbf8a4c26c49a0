// Receipt checking in the browser: what the node claims about an attestation or an evidence file,
// recomputed here with WebCrypto so the user need not trust the node for it.
//
// An attestation receipt (`GET /v1/attestations/{id}`) commits to its event as
// `leaf = SHA-256(0x00 || salt || SHA-256(RFC 8785 JSON of the event))` and proves that leaf is in
// the batch's RFC 6962 tree. An evidence receipt (`GET /v1/evidence/{sha256}/receipt`, or the
// `receipt` object inside it) commits to `salt || file SHA-256 || metadata hash` and proves that
// leaf is in the evidence log at `tree_size`. Inclusion is checked with RFC 9162 section 2.1.3.2.

/** Largest receipt accepted, in bytes of text. */
export const MAX_RECEIPT_BYTES = 256 * 1024;
/** Longest inclusion path (a tree of 2^64 leaves). */
export const MAX_PATH = 64;

/** Why a receipt could not be read at all (before any check). */
export type FormatCode = 'too_large' | 'not_json' | 'unknown_kind' | 'bad_field';

/** A receipt that is not one this checker reads; `field` names the part at fault. */
export class ReceiptFormatError extends Error {
  constructor(
    readonly code: FormatCode,
    readonly field: string = '',
  ) {
    super(field ? `${code}: ${field}` : code);
  }
}

/** The checks, in the order they are shown. */
export type CheckId = 'event_digest' | 'leaf' | 'inclusion' | 'file_sha256' | 'anchored';

/** One check's outcome. `skipped` when the input needed for it was not given. */
export interface Check {
  id: CheckId;
  outcome: 'passed' | 'failed' | 'skipped';
  /** What was recomputed (hex), when there is one. */
  computed?: string;
  /** What the receipt claims (hex), when there is one. */
  claimed?: string;
}

/** Where a receipt says its root was anchored. */
export interface AnchorClaim {
  transactionHash: string;
  blockNumber: number;
  finalized?: boolean;
}

/** A receipt, read and validated. */
export type Receipt =
  | {
      kind: 'attestation';
      id: string;
      event: unknown;
      eventDigest: Uint8Array | null;
      salt: Uint8Array;
      leaf: Uint8Array;
      leafIndex: number;
      treeSize: number;
      path: Uint8Array[];
      root: Uint8Array;
      batchId: number | null;
      anchor: AnchorClaim | null;
    }
  | {
      kind: 'evidence';
      salt: Uint8Array;
      fileSha256: Uint8Array;
      metadataHash: Uint8Array;
      leafIndex: number;
      treeSize: number;
      path: Uint8Array[];
      root: Uint8Array;
      anchor: AnchorClaim | null;
    };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of a hex string (an optional `0x`), or null when it is not exactly `len` bytes of hex. */
export function fromHex(s: unknown, len: number): Uint8Array | null {
  if (typeof s !== 'string') return null;
  const h = s.startsWith('0x') ? s.slice(2) : s;
  if (h.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(h)) return null;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function digestField(o: Json, name: string, label = name): Uint8Array {
  const d = fromHex(o[name], 32);
  if (!d) throw new ReceiptFormatError('bad_field', label);
  return d;
}

function countField(o: Json, name: string, label = name): number {
  const n = o[name];
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ReceiptFormatError('bad_field', label);
  return n;
}

function pathField(o: Json, name: string): Uint8Array[] {
  const p = o[name];
  if (!Array.isArray(p) || p.length > MAX_PATH) throw new ReceiptFormatError('bad_field', name);
  return p.map((h, i) => {
    const d = fromHex(h, 32);
    if (!d) throw new ReceiptFormatError('bad_field', `${name}[${i}]`);
    return d;
  });
}

function anchorField(a: unknown, tx: string, block: string): AnchorClaim | null {
  if (!isObject(a)) return null;
  const t = a[tx];
  const n = a[block];
  if (typeof t !== 'string' || !fromHex(t, 32) || typeof n !== 'number' || !Number.isSafeInteger(n)) return null;
  return { transactionHash: t, blockNumber: n, finalized: typeof a.finalized === 'boolean' ? a.finalized : undefined };
}

/** Reads a receipt from pasted or dropped text. Throws [`ReceiptFormatError`] when it is not one. */
export function parseReceipt(text: string): Receipt {
  if (text.length > MAX_RECEIPT_BYTES) throw new ReceiptFormatError('too_large');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ReceiptFormatError('not_json');
  }
  if (!isObject(v)) throw new ReceiptFormatError('unknown_kind');
  // The evidence receipt endpoint wraps the receipt with the file's status and metadata.
  const inner = isObject(v.receipt) ? v.receipt : v;
  if ('file_sha256' in inner) {
    if (inner.version !== 1) throw new ReceiptFormatError('bad_field', 'version');
    const leafIndex = countField(inner, 'leaf_index');
    const treeSize = countField(inner, 'tree_size');
    return {
      kind: 'evidence',
      salt: digestField(inner, 'salt'),
      fileSha256: digestField(inner, 'file_sha256'),
      metadataHash: digestField(inner, 'metadata_hash'),
      leafIndex,
      treeSize,
      path: pathField(inner, 'inclusion_path'),
      root: digestField(inner, 'root'),
      anchor: anchorField(inner.anchor, 'tx_hash', 'block_number'),
    };
  }
  if ('event' in v && 'salt' in v) {
    if (typeof v.id !== 'string') throw new ReceiptFormatError('bad_field', 'id');
    if (!('inclusion_proof' in v) || !isObject(v.batch)) throw new ReceiptFormatError('bad_field', 'batch');
    const batch = v.batch;
    const eventDigest = v.event_digest === undefined ? null : digestField(v, 'event_digest');
    return {
      kind: 'attestation',
      id: v.id,
      event: v.event,
      eventDigest,
      salt: digestField(v, 'salt'),
      leaf: digestField(v, 'leaf'),
      leafIndex: countField(v, 'leaf_index'),
      treeSize: countField(batch, 'count', 'batch.count'),
      path: pathField(v, 'inclusion_proof'),
      root: digestField(batch, 'root', 'batch.root'),
      batchId: isObject(v.anchor) && typeof v.anchor.batch_id === 'number' ? v.anchor.batch_id : null,
      anchor: anchorField(v.anchor, 'transaction_hash', 'block_number'),
    };
  }
  throw new ReceiptFormatError('unknown_kind');
}

/** RFC 8785 JSON Canonicalization Scheme: sorted keys (by UTF-16 code units), ECMAScript
 * number and string serialization, no whitespace. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ReceiptFormatError('bad_field', 'event');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  throw new ReceiptFormatError('bad_field', 'event');
}

/** SHA-256 with WebCrypto. */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** RFC 6962 leaf hash: SHA-256(0x00 || input). */
export function leafHash(input: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(Uint8Array.of(0), input));
}

/** RFC 6962 interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 Merkle Tree Hash of leaf inputs (not hashes). */
export async function merkleRoot(leaves: Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 0) return sha256(new Uint8Array());
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(await merkleRoot(leaves.slice(0, k)), await merkleRoot(leaves.slice(k)));
}

/** RFC 6962 audit path of leaf `index` among leaf inputs, leaf side first. */
export async function inclusionPath(leaves: Uint8Array[], index: number): Promise<Uint8Array[]> {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (index < k) return [...(await inclusionPath(leaves.slice(0, k), index)), await merkleRoot(leaves.slice(k))];
  return [...(await inclusionPath(leaves.slice(k), index - k)), await merkleRoot(leaves.slice(0, k))];
}

/** The root a leaf hash and its audit path lead to (RFC 9162 section 2.1.3.2), or null when the
 * path cannot belong to leaf `index` of a tree of `size` leaves. */
export async function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: Uint8Array[],
): Promise<Uint8Array | null> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  // Safe integers up to 2^53: halve with division, never with 32-bit shifts.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function compare(id: CheckId, computed: Uint8Array | null, claimed: Uint8Array): Check {
  return {
    id,
    outcome: computed !== null && equal(computed, claimed) ? 'passed' : 'failed',
    computed: computed ? toHex(computed) : undefined,
    claimed: toHex(claimed),
  };
}

/** The anchoring of a root as the chain records it (the explorer's index of chain events). */
export interface AnchorRecord {
  /** Root, hex. */
  root: string;
  /** Leaf count (a batch) or log size (an evidence checkpoint). */
  size: number;
  transactionHash: string;
  blockNumber: number;
  finalized: boolean;
}

/** Finds the anchoring of a receipt's root, or null when the chain has none. */
export type AnchorLookup = (r: Receipt) => Promise<AnchorRecord | null>;

/** Recomputes every check a receipt allows: `file`, when given, is the evidence file itself;
 * `anchor`, when given, finds the root's anchoring on chain. */
export async function checkReceipt(
  r: Receipt,
  opts: { file?: Uint8Array; anchor?: AnchorLookup } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  let leaf: Uint8Array;
  if (r.kind === 'attestation') {
    const digest = await sha256(new TextEncoder().encode(canonicalJson(r.event)));
    checks.push(compare('event_digest', digest, r.eventDigest ?? digest));
    leaf = await leafHash(concat(r.salt, digest));
    checks.push(compare('leaf', leaf, r.leaf));
  } else {
    if (opts.file) checks.push(compare('file_sha256', await sha256(opts.file), r.fileSha256));
    else checks.push({ id: 'file_sha256', outcome: 'skipped', claimed: toHex(r.fileSha256) });
    leaf = await leafHash(concat(r.salt, r.fileSha256, r.metadataHash));
  }
  checks.push(compare('inclusion', await rootFromInclusion(r.leafIndex, r.treeSize, leaf, r.path), r.root));
  if (!opts.anchor) {
    checks.push({ id: 'anchored', outcome: 'skipped', claimed: r.anchor?.transactionHash });
  } else {
    const rec = await opts.anchor(r);
    const ok =
      rec !== null &&
      rec.root.toLowerCase() === toHex(r.root) &&
      rec.size === r.treeSize &&
      (r.anchor === null || rec.transactionHash.toLowerCase() === r.anchor.transactionHash.toLowerCase());
    checks.push({
      id: 'anchored',
      outcome: ok ? 'passed' : 'failed',
      computed: rec?.transactionHash,
      claimed: r.anchor?.transactionHash,
    });
  }
  return checks;
}

/** The first check that failed, if any. */
export function firstFailure(checks: Check[]): Check | undefined {
  return checks.find((c) => c.outcome === 'failed');
}
