// Shared pieces of every page: the language context, data loading, errors, values.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';

import { api, ApiError } from './api.js';
import type { I18n } from './i18n/index.js';

export const I18nContext = createContext<I18n>(null as unknown as I18n);

export function useI18n(): I18n {
  return useContext(I18nContext);
}

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: ApiError };

/** GETs `path` (again whenever it changes; the answer for an earlier path is never shown). */
export function useApi<T>(path: string | null): Loaded<T> {
  const [s, set] = useState<{ path: string | null; it: Loaded<T> }>({ path: null, it: { state: 'loading' } });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api<T>(path).then(
      (data) => live && set({ path, it: { state: 'ok', data } }),
      (e: unknown) =>
        live && set({ path, it: { state: 'error', error: e instanceof ApiError ? e : new ApiError(0, 'network', String(e)) } }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return s.path === path ? s.it : { state: 'loading' };
}

/** An API error as a sentence with its code. */
export function ErrorMessage({ error }: { error: ApiError }) {
  const { t } = useI18n();
  let text: string;
  if (error.code === 'network') text = t('error.network');
  else if (error.status === 404) text = `${t('error.not_found')} (${error.code})`;
  else text = t('error.api', { message: error.message, code: error.code });
  return (
    <div class="alert alert-error" role="alert">
      <h2>{t('error.title')}</h2>
      <p>{text}</p>
    </div>
  );
}

/** Renders `children(data)` once loaded, a status line before, an error after a failure. */
export function Show<T>({ it, children }: { it: Loaded<T>; children: (d: T) => ComponentChildren }) {
  const { t } = useI18n();
  if (it.state === 'loading')
    return (
      <p class="muted" role="status">
        {t('common.loading')}
      </p>
    );
  if (it.state === 'error') return <ErrorMessage error={it.error} />;
  return <>{children(it.data)}</>;
}

/** A long hex value or CID: monospace, wraps anywhere, selectable. */
export function Mono({ value }: { value: string }) {
  return <code class="mono">{value}</code>;
}

/** A list of label/value pairs. */
export function Facts({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <div class="fact" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Finality({ finalized }: { finalized: boolean }) {
  const { t } = useI18n();
  return <span class={finalized ? 'badge badge-ok' : 'badge badge-wait'}>{t(finalized ? 'common.final' : 'common.pending')}</span>;
}

/** A shortened hex value for tables (the full value is on its own page). */
export function short(hex: string): string {
  return hex.length > 18 ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : hex;
}
