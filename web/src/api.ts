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
  const text = await apiText(path, init);
  try {
    return JSON.parse(text) as T;
  } catch {
    // A success without JSON (204).
    return null as T;
  }
}

/** The answer's exact text (a file whose bytes matter, e.g. a canonical bundle). */
export async function apiText(path: string, init: RequestInit = {}): Promise<string> {
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
  let text = '';
  try {
    text = await res.text();
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // An answer without JSON is reported by its status below.
    }
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText);
  }
  return text;
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

/** POSTs `body` as JSON. */
export function post<T>(path: string, body?: unknown): Promise<T> {
  return api<T>(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A reason that lowered a score, and by how many points. */
export interface Reason {
  code: string;
  points: number;
}

export interface PlatformBreakdown {
  platform_id: number;
  worker_ref: string;
  gigs: number;
  reviews: number;
  cancellations: number;
  lost_disputes: number;
  rating_quality_bp: number;
  completion_bp: number;
  penalties_bp: number;
  platform_score_bp: number;
  weight_bp: number;
}

export interface HistoryPoint {
  epoch: number;
  status: string;
  reputation: number;
  credit: number;
  tier: string;
  gigs: number;
}

/** `GET /v1/workers/{id}/reputation`. */
export interface Reputation {
  worker: string;
  epoch: number;
  status: string;
  as_of: number;
  params_version: number;
  reputation: { score: number; gigs: number; active_months: number; reasons: Reason[] };
  credit: {
    score: number;
    tier: string;
    limit: { amount_minor: number; currency: string } | null;
    tenure_months: number;
    reasons: Reason[];
  };
  platforms: PlatformBreakdown[];
  snapshot: { root: string; snapshot_cid: string; leaf_index: number; transaction_hash: string | null };
  history: HistoryPoint[];
}

export interface CredentialInfo {
  id: string;
  worker: string;
  epoch: number;
  issued_at: string;
  valid_until: string;
  revoked_at: string | null;
  reason: string | null;
}

export interface IssuedCredential {
  id: string;
  credential: Record<string, unknown>;
}

/** `POST /v1/workers/{id}/proofs`. */
export interface ProofAnswer {
  proof: Record<string, unknown>;
  statement: Record<string, unknown>;
  epoch: number;
}

/** One check of a verification (`/v1/verify/...`). */
export interface VerifyCheck {
  check: string;
  outcome: 'pass' | 'fail' | 'not_checked';
  detail: string;
}

export interface VerifyAnswer {
  valid: boolean;
  checks: VerifyCheck[];
}

export interface HistoryItem {
  id: string;
  platform_id: number;
  event_type: string;
  event_id: string | null;
  occurred_at: string;
  received_at: string;
  batched: boolean;
}

export interface KeyInfo {
  id: string;
  role: string;
  platform_id: number | null;
  worker_id: string | null;
  label: string;
  created_at: string;
  revoked_at: string | null;
}

export interface Subscription {
  id: string;
  platform_id: number;
  url: string;
  events: string[];
  created_at: string;
  secret?: string | null;
}

export interface Delivery {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
}

export interface RuleResult {
  code: string;
  outcome: 'pass' | 'warn' | 'fail';
  message: string;
  subject?: string;
}

/** An entry of `GET /v1/tasks`: a task without its files. */
export type TaskSummary = Omit<Task, 'evidence'> & { created_at: string };

/** `GET /v1/tasks/{id}`. */
export interface Task {
  id: string;
  platform_id: number;
  task_id: string;
  type: string;
  worker: string;
  window: { start: string; end: string };
  evidence: { sha256: string; media_type: string; size: number; submitted_at: string }[];
  verdict: { outcome: 'pass' | 'warn' | 'fail'; results: RuleResult[]; evaluated_at: string } | null;
}
