// Pieces shared by the wallet, the proof flow and the console: a QR code, a JSON download, the
// checks of a verification, an evidence task's verdict rule by rule, a form's error.
import { useEffect, useMemo, useState } from 'preact/hooks';

import { api, ApiError, type Page, type Task, type TaskSummary, type VerifyAnswer } from './api.js';
import type { Key } from './i18n/index.js';
import { qrPath } from './qr.js';
import { ErrorMessage, Facts, Mono, Show, useApi, useI18n } from './ui.js';

/** A QR code of `text`, or a note that it is too long for one. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { t } = useI18n();
  const qr = useMemo(() => qrPath(text), [text]);
  if (!qr) return <p class="muted">{t('qr.too_long')}</p>;
  const side = qr.size + 8;
  return (
    <figure class="qr">
      <svg viewBox={`0 0 ${side} ${side}`} role="img" aria-label={label} shape-rendering="crispEdges">
        <rect width={side} height={side} class="qr-light" />
        <path d={qr.d} class="qr-dark" />
      </svg>
      <figcaption class="small muted">{label}</figcaption>
    </figure>
  );
}

/** A link that downloads `value` as a pretty-printed JSON file. */
export function DownloadJson({ value, filename, label }: { value: unknown; filename: string; label: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: 'application/json' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [value]);
  if (!url) return null;
  return (
    <a class="button button-secondary" href={url} download={filename}>
      {label}
    </a>
  );
}

/** An error of a form: the API's (with its code), or one found before sending. */
export function FormError({ error }: { error: ApiError | string | null }) {
  if (error === null) return null;
  if (typeof error !== 'string') return <ErrorMessage error={error} />;
  return (
    <div class="alert alert-error" role="alert" data-testid="form-error">
      <p>{error}</p>
    </div>
  );
}

/** Any thrown value as an [`ApiError`]. */
export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'network', String(e));
}

const MAX_PASTE = 256 * 1024;

/** Parses pasted JSON with a bound; the error is a sentence with a stable code. */
export function parsePasted(text: string, t: (k: Key, p?: Record<string, string | number>) => string): unknown {
  const s = text.trim();
  if (!s) throw new Error(t('paste.error.empty'));
  if (s.length > MAX_PASTE) throw new Error(t('paste.error.too_large'));
  try {
    return JSON.parse(s);
  } catch {
    throw new Error(t('paste.error.not_json'));
  }
}

const MARK = { pass: '✓', fail: '✗', not_checked: '–', warn: '!' } as const;

/** The answer of a `/v1/verify/...` call: valid or not, then every check. */
export function VerifyResult({ answer }: { answer: VerifyAnswer }) {
  const { t } = useI18n();
  const failed = answer.checks.find((c) => c.outcome === 'fail');
  return (
    <section aria-labelledby="verify-result" class="result" data-testid="verify-result" data-valid={String(answer.valid)}>
      <h2 id="verify-result">{t('verify.result')}</h2>
      <div class={answer.valid ? 'alert alert-ok' : 'alert alert-error'} role="status" data-testid="verify-summary">
        <p>{answer.valid ? t('verify.valid') : failed ? t('verify.invalid_check', { check: failed.check }) : t('verify.invalid')}</p>
      </div>
      <ul class="checks">
        {answer.checks.map((c, i) => (
          <li key={`${c.check}-${i}`} class={`check check-${c.outcome === 'pass' ? 'passed' : c.outcome === 'fail' ? 'failed' : 'skipped'}`}
            data-check={c.check} data-outcome={c.outcome}>
            <span class="check-mark" aria-hidden="true">
              {MARK[c.outcome] ?? '?'}
            </span>
            <span>
              <strong>{c.check}</strong>: {t(`outcome.${c.outcome}` as Key)}
              <span class="check-detail">{c.detail}</span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** What an evidence rule checks, in words; a rule this app does not know by its code. */
function ruleName(code: string, t: (k: Key) => string): string {
  const s = t(`rule.${code}` as Key);
  return s.startsWith('⟦') ? code : s;
}

/** An evidence task and its latest verdict, rule by rule. */
export function TaskView({ task }: { task: Task }) {
  const { t, date } = useI18n();
  const v = task.verdict;
  return (
    <section aria-labelledby="task-title" data-testid="task">
      <h2 id="task-title">{t('task.title', { id: task.task_id })}</h2>
      <Facts
        rows={[
          [t('task.type'), task.type],
          [t('task.platform'), String(task.platform_id)],
          [t('task.window'), `${date(new Date(task.window.start))} – ${date(new Date(task.window.end))}`],
          [t('task.files'), String(task.evidence.length)],
        ]}
      />
      {task.evidence.length > 0 && (
        <ul class="hits">
          {task.evidence.map((f) => (
            <li key={f.sha256}>
              {f.media_type}: <Mono value={f.sha256} />
            </li>
          ))}
        </ul>
      )}
      <h3>{t('task.verdict')}</h3>
      {v === null ? (
        <p class="muted">{t('task.no_verdict')}</p>
      ) : (
        <>
          <p>
            <span class={`badge badge-${v.outcome}`} data-testid="task-outcome">
              {t(`outcome.${v.outcome}` as Key)}
            </span>{' '}
            <span class="muted small">{t('task.evaluated', { time: date(new Date(v.evaluated_at)) })}</span>
          </p>
          <ul class="checks">
            {v.results.map((r, i) => (
              <li key={`${r.code}-${i}`} class={`check check-${r.outcome === 'pass' ? 'passed' : r.outcome === 'fail' ? 'failed' : 'skipped'}`}
                data-rule={r.code} data-outcome={r.outcome}>
                <span class="check-mark" aria-hidden="true">
                  {MARK[r.outcome]}
                </span>
                <span>
                  <strong>{ruleName(r.code, t)}</strong>: {t(`outcome.${r.outcome}` as Key)}
                  <span class="check-detail">
                    <code class="mono">{r.code}</code>{' '}
                    {r.message}
                    {r.subject ? ` (${r.subject})` : ''}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The caller's latest evidence tasks (`GET /v1/tasks`: a platform's own, a worker's own), each
 * with its verdict; "Show" opens one rule by rule. */
export function TaskList() {
  const { t, date } = useI18n();
  const tasks = useApi<Page<TaskSummary>>('/v1/tasks?limit=20');
  const [open, setOpen] = useState<Task | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const show = async (id: string) => {
    setError(null);
    try {
      setOpen(await api<Task>(`/v1/tasks/${encodeURIComponent(id)}`));
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <>
      <Show it={tasks}>
        {(p) =>
          p.data.length === 0 ? (
            <p class="muted" data-testid="task-list-empty">{t('task.none')}</p>
          ) : (
            <div class="table-wrap">
              <table data-testid="task-list">
                <caption class="small muted">{t('task.recent')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('task.lookup')}</th>
                    <th scope="col">{t('task.type')}</th>
                    <th scope="col">{t('task.window')}</th>
                    <th scope="col">{t('task.verdict')}</th>
                    <th scope="col"><span class="visually-hidden">{t('task.show')}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {p.data.map((x) => (
                    <tr key={x.id} data-task={x.id}>
                      <td>{x.task_id}</td>
                      <td>{x.type}</td>
                      <td>{date(new Date(x.window.start))}</td>
                      <td>{x.verdict ? <span class={`badge badge-${x.verdict.outcome}`}>{t(`outcome.${x.verdict.outcome}` as Key)}</span> : t('task.no_files')}</td>
                      <td>
                        <button type="button" class="button button-secondary" onClick={() => show(x.id)}
                          aria-label={t('task.show_one', { id: x.task_id })}>
                          {t('task.show')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <FormError error={error} />
      {open && <TaskView task={open} />}
    </>
  );
}

/** A form that looks up an evidence task by its id and shows its verdict. */
export function TaskLookup() {
  const { t } = useI18n();
  const [id, setId] = useState('');
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const v = id.trim();
    setTask(null);
    if (!v) return setError(t('task.error.empty'));
    if (v.length > 200 || /[\s?#]/.test(v)) return setError(t('task.error.bad_id'));
    setError(null);
    try {
      setTask(await api<Task>(`/v1/tasks/${encodeURIComponent(v)}`));
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <>
      <form onSubmit={submit} noValidate class="search">
        <label for="task-id">{t('task.lookup')}</label>
        <p class="hint" id="task-id-hint">
          {t('task.lookup_hint')}
        </p>
        <div class="search-row">
          <input id="task-id" type="search" value={id} aria-describedby="task-id-hint" spellcheck={false}
            onInput={(e) => setId((e.target as HTMLInputElement).value)} />
          <button type="submit" class="button">
            {t('task.show')}
          </button>
        </div>
      </form>
      <FormError error={error} />
      {task && <TaskView task={task} />}
    </>
  );
}
