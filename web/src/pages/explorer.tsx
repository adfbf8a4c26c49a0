// The explorer: home, platform, batch, epoch, evidence log and search pages. Public: no key.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import {
  api,
  ApiError,
  type Batch,
  type Bucket,
  type Checkpoint,
  type Epoch,
  type Page,
  type Platform,
  type SearchHit,
  type Summary,
} from '../api.js';
import { navigate } from '../router.js';
import { ErrorMessage, Facts, Finality, Mono, short, Show, useApi, useI18n } from '../ui.js';

/** A path id as shown: grouped digits when it is a number, else as typed. */
function idText(raw: string, num: (n: number) => string): string {
  return /^\d{1,15}$/.test(raw) ? num(Number(raw)) : raw;
}

/** A list read page by page with "Show more". */
function usePaged<T>(path: string) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const load = (cursor: string | null) => {
    setLoading(true);
    const sep = path.includes('?') ? '&' : '?';
    api<Page<T>>(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path).then(
      (p) => {
        setItems((old) => (cursor ? [...old, ...p.data] : p.data));
        setNext(p.next_cursor);
        setLoading(false);
      },
      (e: ApiError) => {
        setError(e);
        setLoading(false);
      },
    );
  };
  useEffect(() => {
    setItems([]);
    setError(null);
    load(null);
  }, [path]);
  return { items, next, error, loading, more: () => next && load(next) };
}

function PagedTable<T>({
  path,
  head,
  row,
  caption,
}: {
  path: string;
  head: string[];
  row: (item: T) => ComponentChildren;
  caption: string;
}) {
  const { t } = useI18n();
  const p = usePaged<T>(path);
  if (p.error) return <ErrorMessage error={p.error} />;
  return (
    <>
      {p.items.length === 0 && !p.loading ? (
        <p class="muted">{t('common.none')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
          <table>
            <caption class="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                {head.map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{p.items.map(row)}</tbody>
          </table>
        </div>
      )}
      {p.loading && (
        <p class="muted" role="status">
          {t('common.loading')}
        </p>
      )}
      {p.next && !p.loading && (
        <button type="button" class="button button-secondary" onClick={p.more}>
          {t('common.more')}
        </button>
      )}
    </>
  );
}

function BatchRow({ b }: { b: Batch }) {
  const { t, num } = useI18n();
  return (
    <tr>
      <td>
        <a href={`/batches/${b.batch_id}`} aria-label={`${t('batch.id')} ${b.batch_id}`}>
          {num(b.batch_id)}
        </a>
      </td>
      <td>
        <a href={`/platforms/${b.platform_id}`}>{num(b.platform_id)}</a>
      </td>
      <td class="num">{num(b.count)}</td>
      <td>
        <code class="mono">{short(b.root)}</code>
      </td>
      <td class="num">{num(b.block_number)}</td>
      <td>
        <Finality finalized={b.finalized} />
      </td>
    </tr>
  );
}

function batchHead(t: ReturnType<typeof useI18n>['t']): string[] {
  return [t('batch.id'), t('batch.platform'), t('batch.count'), t('batch.root'), t('batch.block'), t('batch.finality')];
}

function EpochRow({ e }: { e: Epoch }) {
  const { num } = useI18n();
  return (
    <tr>
      <td>
        <a href={`/epochs/${e.epoch}`}>{num(e.epoch)}</a>
      </td>
      <td>
        <code class="mono">{short(e.root)}</code>
      </td>
      <td class="num">{num(e.params_version)}</td>
      <td class="num">{num(e.block_number)}</td>
      <td>
        <Finality finalized={e.finalized} />
      </td>
    </tr>
  );
}

export function SearchForm({ initial = '' }: { initial?: string }) {
  const { t } = useI18n();
  const [q, setQ] = useState(initial);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) navigate(`/search?q=${encodeURIComponent(q.trim())}`);
      }}
    >
      <label for="search-q">{t('search.label')}</label>
      <div class="search-row">
        <input id="search-q" name="q" type="search" value={q} maxLength={200} autoComplete="off" spellcheck={false}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <button type="submit" class="button">
          {t('search.button')}
        </button>
      </div>
    </form>
  );
}

export function Home() {
  const { t, num, date } = useI18n();
  const summary = useApi<Summary>('/v1/explorer/summary');
  const [at] = useState(() => new Date());
  return (
    <>
      <h1>{t('home.title')}</h1>
      <p class="lead">{t('home.intro')}</p>
      <SearchForm />
      <section aria-labelledby="stats">
        <h2 id="stats">{t('home.stats')}</h2>
        <Show it={summary}>
          {(s) => (
            <>
              <ul class="stats">
                {(
                  [
                    ['home.platforms', s.platforms],
                    ['home.batches', s.batches],
                    ['home.attestations', s.attestations_anchored],
                    ['home.epochs', s.epochs],
                    ['home.evidence_size', s.evidence_log_size],
                    ['home.checkpoints', s.evidence_checkpoints_anchored],
                  ] as const
                ).map(([k, v]) => (
                  <li class="stat" key={k}>
                    <span class="stat-value">{num(v)}</span>
                    <span class="stat-label">{t(k)}</span>
                  </li>
                ))}
              </ul>
              <h3>{t('home.indexer')}</h3>
              <Facts
                rows={[
                  [t('home.chain'), num(s.chain_id)],
                  [t('home.head'), num(s.indexer.head)],
                  [t('home.finalized'), num(s.indexer.finalized)],
                  [t('home.lag'), num(s.indexer.lag)],
                ]}
              />
              <p class="muted small">{t('home.updated', { time: date(at) })}</p>
            </>
          )}
        </Show>
      </section>
      <section aria-labelledby="platforms">
        <h2 id="platforms">{t('home.platforms')}</h2>
        <PagedTable<Platform>
          path="/v1/explorer/platforms?limit=20"
          caption={t('home.platforms')}
          head={[t('batch.platform'), t('platform.status'), t('platform.batches'), t('platform.attestations')]}
          row={(p) => (
            <tr key={p.platform_id}>
              <td>
                <a href={`/platforms/${p.platform_id}`}>{t('platform.title', { id: num(p.platform_id) })}</a>
              </td>
              <td>{t(p.active ? 'common.active' : 'common.suspended')}</td>
              <td class="num">{num(p.batches)}</td>
              <td class="num">{num(p.attestations)}</td>
            </tr>
          )}
        />
      </section>
      <section aria-labelledby="batches">
        <h2 id="batches">{t('home.latest_batches')}</h2>
        <PagedTable<Batch>
          path="/v1/explorer/batches?limit=10"
          caption={t('home.latest_batches')}
          head={batchHead(t)}
          row={(b) => <BatchRow key={b.batch_id} b={b} />}
        />
      </section>
      <section aria-labelledby="epochs">
        <h2 id="epochs">{t('home.latest_epochs')}</h2>
        <PagedTable<Epoch>
          path="/v1/explorer/epochs?limit=5"
          caption={t('home.latest_epochs')}
          head={[t('epoch.epoch'), t('epoch.root'), t('epoch.params'), t('epoch.block'), t('epoch.finality')]}
          row={(e) => <EpochRow key={e.epoch} e={e} />}
        />
      </section>
    </>
  );
}

export function PlatformPage({ id }: { id: string }) {
  const { t, num } = useI18n();
  const p = useApi<Platform>(`/v1/explorer/platforms/${encodeURIComponent(id)}`);
  return (
    <>
      <h1>{t('platform.title', { id: idText(id, num) })}</h1>
      <Show it={p}>
      {(p) => (
        <>
          <Facts
            rows={[
              [t('platform.status'), t(p.active ? 'common.active' : 'common.suspended')],
              [t('platform.signer'), <Mono value={p.signer} />],
              [t('platform.profile'), <Mono value={p.profile_cid} />],
              [t('platform.registered'), num(p.registered_block)],
              [t('platform.batches'), num(p.batches)],
              [t('platform.attestations'), num(p.attestations)],
            ]}
          />
          <h2>{t('platform.batches')}</h2>
          <PagedTable<Batch>
            path={`/v1/explorer/batches?platform_id=${p.platform_id}&limit=20`}
            caption={t('platform.batches')}
            head={batchHead(t)}
            row={(b) => <BatchRow key={b.batch_id} b={b} />}
          />
        </>
      )}
      </Show>
    </>
  );
}

export function BatchPage({ id }: { id: string }) {
  const { t, num } = useI18n();
  const b = useApi<Batch>(`/v1/explorer/batches/${encodeURIComponent(id)}`);
  return (
    <>
      <h1>{t('batch.title', { id: idText(id, num) })}</h1>
      <Show it={b}>
      {(b) => (
        <>
          <Facts
            rows={[
              [t('batch.platform'), <a href={`/platforms/${b.platform_id}`}>{t('platform.title', { id: num(b.platform_id) })}</a>],
              [t('batch.root'), <Mono value={b.root} />],
              [t('batch.cid'), <Mono value={b.cid} />],
              [t('batch.count'), num(b.count)],
              [t('batch.transaction'), <Mono value={b.transaction_hash} />],
              [t('batch.block'), num(b.block_number)],
              [t('batch.finality'), <Finality finalized={b.finalized} />],
              [t('batch.revocations'), num(b.revocations ?? 0)],
            ]}
          />
          <p>
            <a class="button" href="/check">
              {t('batch.check')}
            </a>
          </p>
        </>
      )}
      </Show>
    </>
  );
}

function Histogram({ title, buckets }: { title: string; buckets: Bucket[] }) {
  const { t, num } = useI18n();
  const max = Math.max(1, ...buckets.map((b) => b.count));
  return (
    <figure class="histogram">
      <figcaption>{title}</figcaption>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('epoch.range')}</th>
            <th scope="col">{t('epoch.count')}</th>
          </tr>
        </thead>
        <tbody>
          {buckets.map((b) => (
            <tr key={b.from}>
              <th scope="row" class="num">
                {num(b.from)}–{num(b.to)}
              </th>
              <td>
                <span class="bar-row">
                  <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                    <rect x="0" y="0" height="10" width={(100 * b.count) / max} />
                  </svg>
                  <span class="num">{num(b.count)}</span>
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export function EpochPage({ epoch }: { epoch: string }) {
  const { t, num } = useI18n();
  const e = useApi<Epoch>(`/v1/explorer/epochs/${encodeURIComponent(epoch)}`);
  return (
    <>
      <h1>{t('epoch.title', { epoch: idText(epoch, num) })}</h1>
      <Show it={e}>
      {(e) => (
        <>
          <Facts
            rows={[
              [t('epoch.root'), <Mono value={e.root} />],
              [t('epoch.params'), num(e.params_version)],
              [t('epoch.snapshot'), <Mono value={e.snapshot_cid} />],
              [t('epoch.transaction'), <Mono value={e.transaction_hash} />],
              [t('epoch.block'), num(e.block_number)],
              [t('epoch.finality'), <Finality finalized={e.finalized} />],
              [t('epoch.replaced'), t(e.replaced ? 'common.yes' : 'common.no')],
            ]}
          />
          {e.distribution ? (
            <>
              <h2>
                {t('epoch.workers')}: {num(e.distribution.workers)}
              </h2>
              <p class="muted">{t('epoch.histogram_note')}</p>
              <div class="histograms">
                <Histogram title={t('epoch.reputation')} buckets={e.distribution.reputation} />
                <Histogram title={t('epoch.credit')} buckets={e.distribution.credit} />
              </div>
            </>
          ) : (
            <p class="muted">{t('epoch.no_scores')}</p>
          )}
        </>
      )}
      </Show>
    </>
  );
}

export function EvidencePage() {
  const { t, num } = useI18n();
  const summary = useApi<Summary>('/v1/explorer/summary');
  return (
    <>
      <h1>{t('evidence.title')}</h1>
      <p class="lead">{t('evidence.intro')}</p>
      <Show it={summary}>{(s) => <Facts rows={[[t('evidence.size'), num(s.evidence_log_size)]]} />}</Show>
      <h2>{t('home.checkpoints')}</h2>
      <PagedTable<Checkpoint>
        path="/v1/explorer/evidence?limit=20"
        caption={t('home.checkpoints')}
        head={[t('evidence.checkpoint'), t('evidence.size'), t('evidence.root'), t('evidence.tx'), t('batch.finality')]}
        row={(c) => (
          <tr key={c.index}>
            <td class="num">{num(c.index)}</td>
            <td class="num">{num(c.size)}</td>
            <td>
              <code class="mono">{short(c.root)}</code>
            </td>
            <td>
              <code class="mono">{short(c.transaction_hash)}</code>
            </td>
            <td>
              <Finality finalized={c.finalized} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

function hitLink(h: SearchHit): string {
  switch (h.kind) {
    case 'batch':
      return `/batches/${h.id}`;
    case 'epoch':
      return `/epochs/${h.id}`;
    case 'platform':
      return `/platforms/${h.id}`;
    case 'evidence':
      return '/evidence';
  }
}

export function SearchPage({ q }: { q: string }) {
  const { t, num } = useI18n();
  const hits = useApi<{ data: SearchHit[] }>(q ? `/v1/explorer/search?q=${encodeURIComponent(q)}` : null);
  return (
    <>
      <h1>{t('search.title')}</h1>
      <SearchForm initial={q} />
      {!q ? (
        <p class="muted">{t('search.hint')}</p>
      ) : (
        <section aria-live="polite">
          <h2>{t('search.results', { query: q })}</h2>
          <Show it={hits}>
            {(r) =>
              r.data.length === 0 ? (
                <p>{t('search.nothing', { query: q })}</p>
              ) : (
                <ul class="hits">
                  {r.data.map((h) => (
                    <li key={`${h.kind}-${h.id}`}>
                      <a href={hitLink(h)}>
                        {t(`search.kind.${h.kind}` as const)} {num(h.id)}
                      </a>
                      {h.root && (
                        <>
                          {' '}
                          <code class="mono">{short(h.root)}</code>
                        </>
                      )}
                    </li>
                  ))}
                </ul>
              )
            }
          </Show>
          {hits.state === 'error' && <p class="muted">{t('search.hint')}</p>}
        </section>
      )}
    </>
  );
}
