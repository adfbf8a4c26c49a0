// The platform's console (a platform key; an admin key sees every platform): its key, recent
// events with their attestations, webhook subscriptions, deliveries and the dead-letter list
// with replay, evidence tasks with their verdicts. The verify page is `verify.tsx`.
import { useState } from 'preact/hooks';

import { api, ApiError, type Delivery, type HistoryItem, type KeyInfo, type Page, post, type Session, type Subscription } from '../api.js';
import type { Key } from '../i18n/index.js';
import { Facts, Mono, Show, short, useApi, useI18n } from '../ui.js';
import { asApiError, DownloadJson, FormError, TaskList, TaskLookup } from '../widgets.js';
import { NeedsKey } from './wallet.js';

const EVENT_TYPES = ['batch.finalized', 'evidence.verdict', 'score.changed'];

export function ConsolePage({ session }: { session: Session | null }) {
  const { t } = useI18n();
  const ok = session?.role === 'platform' || session?.role === 'admin';
  return (
    <>
      <h1>{t('console.title')}</h1>
      <p class="lead">{t('console.intro')}</p>
      {!ok ? (
        <NeedsKey session={session} role="platform" />
      ) : (
        <>
          <p>
            <a href="/console/verify">{t('console.verify_link')}</a>
          </p>
          <Keys session={session!} />
          <Events />
          <Subscriptions />
          <Deliveries />
          <section aria-labelledby="tasks">
            <h2 id="tasks">{t('console.tasks')}</h2>
            <p>{t('console.tasks_intro')}</p>
            <TaskList />
            <TaskLookup />
          </section>
        </>
      )}
    </>
  );
}

function Keys({ session }: { session: Session }) {
  const { t, num } = useI18n();
  const keys = useApi<Page<KeyInfo>>(session.role === 'admin' || session.role === 'platform' ? '/v1/keys?limit=50' : null);
  return (
    <section aria-labelledby="keys">
      <h2 id="keys">{t('console.keys')}</h2>
      <Facts
        rows={[
          [t('console.key_id'), <Mono value={session.key_id} />],
          [t('console.role'), t(`role.${session.role}` as Key)],
          [t('console.platform'), session.platform_id === null ? '—' : <a href={`/platforms/${session.platform_id}`}>{num(session.platform_id)}</a>],
        ]}
      />
      {session.role === 'admin' || session.role === 'platform' ? (
        <Show it={keys}>
          {(p) => (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('console.key_id')}</th>
                    <th scope="col">{t('console.role')}</th>
                    <th scope="col">{t('console.label')}</th>
                    <th scope="col">{t('console.state')}</th>
                  </tr>
                </thead>
                <tbody>
                  {p.data.map((k) => (
                    <tr key={k.id}>
                      <td class="mono">{k.id}</td>
                      <td>{t(`role.${k.role}` as Key)}</td>
                      <td>{k.label}</td>
                      <td>{k.revoked_at ? t('console.revoked') : t('common.active')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Show>
      ) : (
        <p class="small muted">{t('console.keys_note')}</p>
      )}
    </section>
  );
}

function Events() {
  const { t, date } = useI18n();
  const [cursor, setCursor] = useState<string | null>(null);
  const page = useApi<Page<HistoryItem>>(`/v1/attestations?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  return (
    <section aria-labelledby="events">
      <h2 id="events">{t('console.events')}</h2>
      <p>{t('console.events_intro')}</p>
      <Show it={page}>
        {(p) => (
          <>
            {p.data.length === 0 ? (
              <p class="muted">{t('common.none')}</p>
            ) : (
              <ul class="rows" data-testid="events">
                {p.data.map((a) => (
                  <EventRow key={a.id} a={a} date={date} />
                ))}
              </ul>
            )}
            {p.next_cursor && (
              <button type="button" class="button button-secondary" onClick={() => setCursor(p.next_cursor)}>
                {t('common.next_page')}
              </button>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function EventRow({ a, date }: { a: HistoryItem; date: (d: Date) => string }) {
  const { t } = useI18n();
  const [receipt, setReceipt] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const open = async () => {
    setError(null);
    try {
      setReceipt(await api<Record<string, unknown>>(`/v1/attestations/${encodeURIComponent(a.id)}`));
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const anchor = receipt?.anchor as { batch_id?: number } | undefined;
  return (
    <li class="row">
      <div>
        <strong>{a.event_type}</strong> <span class="muted">{a.event_id ?? ''}</span>
      </div>
      <div class="small">
        <Mono value={a.id} /> · {date(new Date(a.occurred_at))} ·{' '}
        <span class={a.batched ? 'badge badge-ok' : 'badge badge-wait'}>{t(a.batched ? 'console.batched' : 'console.waiting')}</span>
      </div>
      {receipt ? (
        <div class="actions">
          {typeof anchor?.batch_id === 'number' && <a href={`/batches/${anchor.batch_id}`}>{t('console.batch', { id: anchor.batch_id })}</a>}
          <DownloadJson value={receipt} filename={`${a.id}.json`} label={t('console.download_receipt')} />
        </div>
      ) : (
        <button type="button" class="button button-secondary" onClick={open} aria-label={t('console.receipt_of', { id: a.id })}>
          {t('console.receipt')}
        </button>
      )}
      <FormError error={error} />
    </li>
  );
}

function Subscriptions() {
  const { t, date } = useI18n();
  const [reload, setReload] = useState(0);
  const subs = useApi<Page<Subscription>>(`/v1/webhooks/subscriptions?limit=50&r=${reload}`);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['batch.finalized']);
  const [made, setMade] = useState<Subscription | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setMade(null);
    const u = url.trim();
    if (!/^https?:\/\/[^\s]+$/.test(u) || u.length > 2048) return setError(t('console.error.url'));
    if (events.length === 0) return setError(t('console.error.events'));
    setError(null);
    try {
      setMade(await post<Subscription>('/v1/webhooks/subscriptions', { url: u, events }));
      setReload((n) => n + 1);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const remove = async (id: string) => {
    setError(null);
    try {
      await api(`/v1/webhooks/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE' });
      setReload((n) => n + 1);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <section aria-labelledby="subscriptions">
      <h2 id="subscriptions">{t('console.subscriptions')}</h2>
      <Show it={subs}>
        {(p) =>
          p.data.length === 0 ? (
            <p class="muted">{t('common.none')}</p>
          ) : (
            <ul class="rows" data-testid="subscriptions">
              {p.data.map((s) => (
                <li class="row" key={s.id}>
                  <div class="mono">{s.url}</div>
                  <div class="small">
                    {s.events.join(', ')} · {date(new Date(s.created_at))}
                  </div>
                  <button type="button" class="button button-secondary" onClick={() => remove(s.id)} aria-label={t('console.unsubscribe_of', { url: s.url })}>
                    {t('console.unsubscribe')}
                  </button>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <h3>{t('console.subscribe')}</h3>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="hook-url">{t('console.url')}</label>
          <p class="hint" id="hook-url-hint">
            {t('console.url_hint')}
          </p>
          <input id="hook-url" type="url" value={url} aria-describedby="hook-url-hint" spellcheck={false}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
        </div>
        <fieldset class="field">
          <legend>{t('console.event_types')}</legend>
          {EVENT_TYPES.map((ev) => (
            <label class="choice" key={ev}>
              <input type="checkbox" checked={events.includes(ev)}
                onChange={(e) => setEvents((cur) => ((e.target as HTMLInputElement).checked ? [...cur, ev] : cur.filter((x) => x !== ev)))} />{' '}
              {ev}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="button">
          {t('console.subscribe')}
        </button>
      </form>
      <FormError error={error} />
      {made?.secret && (
        <div class="alert alert-ok" role="status">
          <p>{t('console.secret_once')}</p>
          <Mono value={made.secret} />
        </div>
      )}
    </section>
  );
}

const STATUSES = ['dead', 'pending', 'delivered'] as const;

function Deliveries() {
  const { t, num, date } = useI18n();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('dead');
  const [reload, setReload] = useState(0);
  const page = useApi<Page<Delivery>>(`/v1/webhooks/deliveries?status=${status}&limit=50&r=${reload}`);
  const [done, setDone] = useState<Delivery | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const replay = async (id: string) => {
    setError(null);
    setDone(null);
    try {
      setDone(await post<Delivery>(`/v1/webhooks/deliveries/${encodeURIComponent(id)}/replay`));
      setReload((n) => n + 1);
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">{t('console.deliveries')}</h2>
      <div class="tabs" role="group" aria-label={t('console.delivery_status')}>
        {STATUSES.map((s) => (
          <button type="button" key={s} class="tab" aria-pressed={s === status} onClick={() => setStatus(s)}>
            {t(`console.status.${s}` as Key)}
          </button>
        ))}
      </div>
      {done && (
        <div class="alert alert-ok" role="status" data-testid="replayed">
          <p>{t('console.replayed', { id: done.id, status: t(`console.status.${done.status}` as Key) })}</p>
        </div>
      )}
      <FormError error={error} />
      <Show it={page}>
        {(p) =>
          p.data.length === 0 ? (
            <p class="muted">{status === 'dead' ? t('console.no_dead') : t('common.none')}</p>
          ) : (
            <ul class="rows" data-testid={`deliveries-${status}`}>
              {p.data.map((d) => (
                <li class="row" key={d.id} data-delivery={d.id}>
                  <div>
                    <strong>{d.event_type}</strong> <span class="mono small">{short(d.event_id)}</span>
                  </div>
                  <div class="small">
                    {t('console.attempts', { n: num(d.attempts) })} · {date(new Date(d.created_at))}
                    {d.last_status !== null && ` · HTTP ${d.last_status}`}
                  </div>
                  {d.last_error && <div class="small muted">{d.last_error}</div>}
                  {d.status === 'dead' && (
                    <button type="button" class="button button-secondary" onClick={() => replay(d.id)} aria-label={t('console.replay_of', { id: d.id })}>
                      {t('console.replay')}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
