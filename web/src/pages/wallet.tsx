// The worker's wallet (a worker key): scores with their reasons in plain words, the breakdown per
// platform, both scores over epochs, credentials (issue, download, QR), the way to answer a
// proof request, the portable bundle, and evidence tasks with their verdicts rule by rule.
import { useEffect, useState } from 'preact/hooks';

import { ApiError, apiText, type CredentialInfo, type IssuedCredential, type Page, post, type Reason, type Reputation, type Session } from '../api.js';
import { chartGeometry } from '../chart.js';
import type { Key } from '../i18n/index.js';
import { Facts, Mono, Show, useApi, useI18n } from '../ui.js';
import { asApiError, DownloadJson, FormError, QrCode, TaskList, TaskLookup } from '../widgets.js';

/** The page asks for a key of `role` first. */
export function NeedsKey({ session, role }: { session: Session | null; role: 'worker' | 'platform' }) {
  const { t } = useI18n();
  return (
    <div class="alert alert-info" role="status" data-testid="needs-key">
      <p>{session ? t('auth.wrong_role', { role: t(`role.${session.role}` as Key) }) : t(role === 'worker' ? 'auth.need_worker' : 'auth.need_platform')}</p>
      <p>
        <a href={`/signin?next=${encodeURIComponent(window.location.pathname + window.location.search)}`}>{t('nav.signin')}</a>
      </p>
    </div>
  );
}

/** Fetches the worker's portable bundle (`GET /v1/workers/{id}/bundle`), then offers it as a file. */
function BundleDownload({ worker }: { worker: string }) {
  const { t } = useI18n();
  const [bundle, setBundle] = useState<string | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  // The bytes as the node gave them: `jejak bundle verify` wants the canonical form.
  useEffect(() => {
    if (bundle === null) return undefined;
    const u = URL.createObjectURL(new Blob([bundle], { type: 'application/json' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [bundle]);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const fetchIt = async () => {
    setError(null);
    setBusy(true);
    try {
      setBundle(await apiText(`/v1/workers/${encodeURIComponent(worker)}/bundle`));
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {url === null ? (
        <button type="button" class="button" onClick={fetchIt} disabled={busy} data-testid="bundle-fetch">
          {t('wallet.bundle_fetch')}
        </button>
      ) : (
        <a class="button button-secondary" href={url} download="jejak-bundle.json" data-testid="bundle-download">
          {t('wallet.bundle_download')}
        </a>
      )}
      <FormError error={error} />
    </>
  );
}

export function WalletPage({ session }: { session: Session | null }) {
  const { t } = useI18n();
  const worker = session?.role === 'worker' ? session.worker_id : null;
  const rep = useApi<Reputation>(worker ? `/v1/workers/${encodeURIComponent(worker)}/reputation` : null);
  return (
    <>
      <h1>{t('wallet.title')}</h1>
      <p class="lead">{t('wallet.intro')}</p>
      {!worker ? (
        <NeedsKey session={session} role="worker" />
      ) : (
        <>
          {rep.state === 'error' && rep.error.code === 'worker_not_found' ? (
            <div class="alert alert-info" role="status">
              <p>{t('wallet.no_score')}</p>
            </div>
          ) : (
            <Show it={rep}>{(r) => <Scores r={r} />}</Show>
          )}
          <Credentials worker={worker} />
          <section aria-labelledby="prove">
            <h2 id="prove">{t('wallet.prove')}</h2>
            <p>{t('wallet.prove_intro')}</p>
            <ProveLinkForm />
          </section>
          <section aria-labelledby="bundle">
            <h2 id="bundle">{t('wallet.bundle')}</h2>
            <p>{t('wallet.bundle_intro')}</p>
            <BundleDownload worker={worker} />
            <p class="small muted">
              {t('wallet.bundle_verify')} <code class="mono">jejak bundle verify jejak-bundle.json --rpc URL</code>
            </p>
          </section>
          <section aria-labelledby="tasks">
            <h2 id="tasks">{t('wallet.tasks')}</h2>
            <p>{t('wallet.tasks_intro')}</p>
            <TaskList />
            <TaskLookup />
          </section>
        </>
      )}
    </>
  );
}

function Scores({ r }: { r: Reputation }) {
  const { t, num, date, money } = useI18n();
  const limit = r.credit.limit;
  return (
    <>
      <section aria-labelledby="scores">
        <h2 id="scores">{t('wallet.scores')}</h2>
        <ul class="stats stats-4">
          <li class="stat" data-testid="reputation-score">
            <span class="stat-value">{num(r.reputation.score)}</span>
            <span class="stat-label">{t('wallet.reputation')}</span>
          </li>
          <li class="stat" data-testid="credit-score">
            <span class="stat-value">{num(r.credit.score)}</span>
            <span class="stat-label">{t('wallet.credit')}</span>
          </li>
          <li class="stat">
            <span class="stat-value">{r.credit.tier}</span>
            <span class="stat-label">{t('wallet.tier')}</span>
          </li>
          <li class="stat">
            <span class="stat-value">{num(r.reputation.gigs)}</span>
            <span class="stat-label">{t('wallet.gigs')}</span>
          </li>
        </ul>
        <Facts
          rows={[
            [t('wallet.epoch'), <a href={`/epochs/${r.epoch}`}>{num(r.epoch)}</a>],
            [t('wallet.as_of'), date(new Date(r.as_of * 1000))],
            [t('wallet.status'), t(r.status === 'published' ? 'wallet.published' : 'wallet.computed')],
            [t('wallet.active_months'), num(r.reputation.active_months)],
            [t('wallet.tenure'), num(r.credit.tenure_months)],
            [t('wallet.limit'), limit ? money(limit.amount_minor, limit.currency) : t('wallet.no_limit')],
            [t('wallet.params'), num(r.params_version)],
          ]}
        />
      </section>
      <section aria-labelledby="reasons">
        <h2 id="reasons">{t('wallet.reasons')}</h2>
        <Reasons title={t('wallet.reputation_reasons')} reasons={r.reputation.reasons} testid="reputation-reasons" />
        <Reasons title={t('wallet.credit_reasons')} reasons={r.credit.reasons} testid="credit-reasons" />
      </section>
      <section aria-labelledby="platforms">
        <h2 id="platforms">{t('wallet.platforms')}</h2>
        {r.platforms.length === 0 ? (
          <p class="muted">{t('common.none')}</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('wallet.platform')}</th>
                  <th scope="col">{t('wallet.account')}</th>
                  <th scope="col" class="num">{t('wallet.gigs')}</th>
                  <th scope="col" class="num">{t('wallet.reviews')}</th>
                  <th scope="col" class="num">{t('wallet.platform_score')}</th>
                  <th scope="col" class="num">{t('wallet.weight')}</th>
                </tr>
              </thead>
              <tbody>
                {r.platforms.map((p) => (
                  <tr key={`${p.platform_id}-${p.worker_ref}`}>
                    <td>
                      <a href={`/platforms/${p.platform_id}`}>{num(p.platform_id)}</a>
                    </td>
                    <td class="mono">{p.worker_ref}</td>
                    <td class="num">{num(p.gigs)}</td>
                    <td class="num">{num(p.reviews)}</td>
                    <td class="num">{num(Math.round(p.platform_score_bp / 10))}</td>
                    <td class="num">{pct(p.weight_bp)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="small muted">{t('wallet.platforms_note')}</p>
      </section>
      <section aria-labelledby="history">
        <h2 id="history">{t('wallet.history')}</h2>
        <Chart r={r} />
      </section>
    </>
  );
}

function pct(bp: number): string {
  return `${Math.round(bp / 100)}%`;
}

function Reasons({ title, reasons, testid }: { title: string; reasons: Reason[]; testid: string }) {
  const { t, num } = useI18n();
  return (
    <>
      <h3>{title}</h3>
      {reasons.length === 0 ? (
        <p class="muted">{t('wallet.no_reasons')}</p>
      ) : (
        <ul class="reasons" data-testid={testid}>
          {reasons.map((r) => (
            <li key={r.code} data-reason={r.code}>
              <span>{reasonSentence(r.code, t)}</span> <span class="badge badge-wait">{t('wallet.points', { points: num(r.points) })}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The plain sentence of a reason code; a code this app does not know is shown as it is. */
export function reasonSentence(code: string, t: (k: Key, p?: Record<string, string | number>) => string): string {
  const s = t(`reason.${code}` as Key);
  return s.startsWith('⟦') ? t('reason.unknown', { code }) : s;
}

function Chart({ r }: { r: Reputation }) {
  const { t, num } = useI18n();
  const points = r.history.map((h) => ({ epoch: h.epoch, reputation: h.reputation, credit: h.credit }));
  const g = chartGeometry(points);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${g.width} ${g.height}`} role="img" aria-labelledby="chart-caption" data-testid="score-chart">
        {g.ticks.map((k) => (
          <g key={k.value}>
            <line x1="40" x2={g.width - 12} y1={k.y} y2={k.y} class="chart-grid" />
            <text x="34" y={k.y + 4} class="chart-label" text-anchor="end">
              {num(k.value)}
            </text>
          </g>
        ))}
        {g.dots.length > 1 && <polyline points={g.reputation} class="chart-line chart-reputation" />}
        {g.dots.length > 1 && <polyline points={g.credit} class="chart-line chart-credit" />}
        {g.dots.map((d) => (
          <g key={d.epoch}>
            <circle cx={d.x} cy={d.yReputation} r="4" class="chart-dot chart-reputation" />
            <rect x={d.x - 4} y={d.yCredit - 4} width="8" height="8" class="chart-dot chart-credit" />
          </g>
        ))}
      </svg>
      <figcaption id="chart-caption">
        <span class="legend legend-reputation">{t('wallet.reputation')}</span> <span class="legend legend-credit">{t('wallet.credit')}</span>
        <span class="small muted"> {t('wallet.chart_note')}</span>
      </figcaption>
      <details>
        <summary>{t('wallet.chart_table')}</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('wallet.epoch')}</th>
                <th scope="col" class="num">{t('wallet.reputation')}</th>
                <th scope="col" class="num">{t('wallet.credit')}</th>
                <th scope="col">{t('wallet.tier')}</th>
              </tr>
            </thead>
            <tbody>
              {r.history.map((h) => (
                <tr key={h.epoch}>
                  <td>{num(h.epoch)}</td>
                  <td class="num">{num(h.reputation)}</td>
                  <td class="num">{num(h.credit)}</td>
                  <td>{h.tier}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function Credentials({ worker }: { worker: string }) {
  const { t, date } = useI18n();
  const [reload, setReload] = useState(0);
  const list = useApi<Page<CredentialInfo>>(`/v1/credentials?limit=20&r=${reload}`);
  const [issued, setIssued] = useState<IssuedCredential | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const issue = async () => {
    setBusy(true);
    setError(null);
    try {
      setIssued(await post<IssuedCredential>('/v1/credentials', { worker }));
      setReload((n) => n + 1);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const text = issued ? JSON.stringify(issued.credential) : '';
  return (
    <section aria-labelledby="credentials">
      <h2 id="credentials">{t('wallet.credentials')}</h2>
      <p>{t('wallet.credentials_intro')}</p>
      <button type="button" class="button" onClick={issue} disabled={busy}>
        {busy ? t('common.working') : t('wallet.issue')}
      </button>
      <FormError error={error} />
      {issued && (
        <div class="alert alert-ok" role="status" data-testid="credential-issued">
          <p>{t('wallet.issued', { id: issued.id })}</p>
          <DownloadJson value={issued.credential} filename={`credential-${issued.id.replace(/^urn:uuid:/, '')}.json`} label={t('wallet.download')} />
          <QrCode text={text} label={t('wallet.qr_credential')} />
        </div>
      )}
      <h3>{t('wallet.issued_list')}</h3>
      <Show it={list}>
        {(p) =>
          p.data.length === 0 ? (
            <p class="muted">{t('common.none')}</p>
          ) : (
            <ul class="hits" data-testid="credential-list">
              {p.data.map((c) => (
                <li key={c.id}>
                  <Mono value={c.id} />{' '}
                  <span class={c.revoked_at ? 'badge badge-bad' : 'badge badge-ok'}>{t(c.revoked_at ? 'wallet.revoked' : 'wallet.valid_until')}</span>{' '}
                  {c.revoked_at ? date(new Date(c.revoked_at)) : date(new Date(c.valid_until))}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

/** A verifier's link pasted into the wallet opens the proof request page. */
function ProveLinkForm() {
  const { t } = useI18n();
  const [link, setLink] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    let u: URL;
    try {
      u = new URL(link.trim(), window.location.origin);
    } catch {
      return setError(t('prove.error.link'));
    }
    if (u.pathname !== '/prove' || !u.searchParams.get('context')) return setError(t('prove.error.link'));
    window.location.assign(`/prove${u.search}`);
  };
  return (
    <form onSubmit={submit} noValidate class="search">
      <label for="prove-link">{t('wallet.prove_link')}</label>
      <div class="search-row">
        <input id="prove-link" type="search" value={link} spellcheck={false} onInput={(e) => setLink((e.target as HTMLInputElement).value)} />
        <button type="submit" class="button">
          {t('wallet.open')}
        </button>
      </div>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

