// The API client: same origin, JSON, the signed-in key (if any) as a bearer token, errors with
// the API's stable code.
import { currentKey } from './session.js';

/** An error answer of the API (`{"error": {"code", "message"}}`), or a network failure (code
 * `network`, status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  const key = currentKey();
  if (key && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // An answer without JSON is reported by its status below.
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText);
  }
  return body as T;
}

/** A page of a list: `{"data": [...], "next_cursor"}`. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Summary {
  chain_id: number;
  platforms: number;
  batches: number;
  attestations_anchored: number;
  epochs: number;
  evidence_log_size: number;
  evidence_checkpoints_anchored: number;
  indexer: { head: number; finalized: number; cursor: number; lag: number };
}

export interface Platform {
  platform_id: number;
  signer: string;
  profile_cid: string;
  active: boolean;
  registered_block: number;
  batches: number;
  attestations: number;
}

export interface Batch {
  batch_id: number;
  platform_id: number;
  root: string;
  count: number;
  cid: string;
  contract: string;
  transaction_hash: string;
  block_number: number;
  block_hash: string;
  finalized: boolean;
  revocations?: number;
}

export interface Bucket {
  from: number;
  to: number;
  count: number;
}

export interface Epoch {
  epoch: number;
  root: string;
  snapshot_cid: string;
  params_version: number;
  transaction_hash: string;
  block_number: number;
  finalized: boolean;
  replaced: boolean;
  distribution?: { workers: number; reputation: Bucket[]; credit: Bucket[] } | null;
}

export interface Checkpoint {
  index: number;
  size: number;
  root: string;
  cid: string;
  transaction_hash: string;
  block_number: number;
  finalized: boolean;
}

export interface SearchHit {
  kind: 'batch' | 'epoch' | 'evidence' | 'platform';
  id: number;
  root?: string;
  size?: number;
  transaction_hash?: string;
  block_number?: number;
  finalized?: boolean;
}

export interface Session {
  key_id: string;
  role: string;
  platform_id: number | null;
  worker_id: string | null;
}
