// The web app served by the node at `/`: the layout (header, language switch, sign-in), the
// routes, and the pages. Routes not listed here are the node's own (`/v1`, `/ipfs`, ...).
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { api, ApiError, type Session } from './api.js';
import { i18n, initialLang, LANGS, type Lang, storeLang } from './i18n/index.js';
import { CheckPage } from './pages/check.js';
import { BatchPage, EpochPage, EvidencePage, Home, PlatformPage, SearchPage } from './pages/explorer.js';
import { SignInPage } from './pages/signin.js';
import { interceptLinks, match, useLocation } from './router.js';
import { currentKey, signOut } from './session.js';
import { ErrorMessage, I18nContext, useI18n } from './ui.js';
import './style.css';

function Page({ path, query, session, onSession }: { path: string; query: URLSearchParams; session: Session | null | undefined; onSession: (s: Session | null) => void }) {
  const { t } = useI18n();
  let m: Record<string, string> | null;
  if (path === '/') return <Home />;
  if ((m = match('/platforms/:id', path))) return <PlatformPage id={m.id} />;
  if ((m = match('/batches/:id', path))) return <BatchPage id={m.id} />;
  if ((m = match('/epochs/:epoch', path))) return <EpochPage epoch={m.epoch} />;
  if (path === '/evidence') return <EvidencePage />;
  if (path === '/check') return <CheckPage />;
  if (path === '/search') return <SearchPage q={query.get('q') ?? ''} />;
  if (path === '/signin') return <SignInPage onChange={onSession} next={query.get('next')} />;
  if (path === '/wallet' || path === '/prove' || path === '/console' || path === '/console/verify') {
    // The session is asked of the node once; until it answers, the page waits.
    if (session === undefined)
      return (
        <p class="muted" role="status">
          {t('common.loading')}
        </p>
      );
    return <SignedPage path={path} query={query} session={session} />;
  }
  return (
    <>
      <h1>{t('notfound.title')}</h1>
      <p>{t('error.not_found')}</p>
    </>
  );
}

type Signed = typeof import('./signed.js');

/** A page behind a key, from its own chunk. */
function SignedPage({ path, query, session }: { path: string; query: URLSearchParams; session: Session | null }) {
  const { t } = useI18n();
  const [mod, setMod] = useState<Signed | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import('./signed.js').then(setMod, () => setFailed(true));
  }, []);
  if (failed) return <ErrorMessage error={new ApiError(0, 'network', 'network')} />;
  if (!mod)
    return (
      <p class="muted" role="status">
        {t('common.loading')}
      </p>
    );
  if (path === '/wallet') return <mod.WalletPage session={session} />;
  if (path === '/prove') return <mod.ProvePage query={query} session={session} />;
  if (path === '/console') return <mod.ConsolePage session={session} />;
  return <mod.VerifyPage session={session} />;
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const loc = useLocation();
  // undefined: not known yet; null: not signed in.
  const [session, setSession] = useState<Session | null | undefined>(currentKey() ? undefined : null);
  const tr = useMemo(() => i18n(lang), [lang]);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  useEffect(() => {
    if (currentKey()) api<Session>('/v1/session').then(setSession, () => setSession(null));
  }, []);
  useEffect(() => {
    const h1 = document.querySelector('h1');
    document.title = h1?.textContent ? `${h1.textContent} · jejak` : 'jejak';
  });
  const { t } = tr;
  const nav: [string, string][] = [
    ['/', t('nav.explorer')],
    ['/evidence', t('nav.evidence')],
    ['/check', t('nav.check')],
  ];
  if (session?.role === 'worker') nav.push(['/wallet', t('nav.wallet')]);
  if (session?.role === 'platform' || session?.role === 'admin') nav.push(['/console', t('nav.console')]);
  if (session) nav.push(['/console/verify', t('nav.verify')]);
  return (
    <I18nContext.Provider value={tr}>
      <a class="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header class="top">
        <div class="top-inner">
          <a class="brand" href="/">
            <span class="brand-name">{t('app.name')}</span>
            <span class="brand-tag">{t('app.tagline')}</span>
          </a>
          <div class="top-tools">
            <div class="lang" role="group" aria-label={t('nav.language')}>
              {LANGS.map((l) => (
                <button type="button" key={l} lang={l} aria-pressed={l === lang} class="lang-button"
                  onClick={() => {
                    storeLang(l);
                    setLang(l);
                  }}>
                  {l === 'en' ? 'English' : 'Bahasa Indonesia'}
                </button>
              ))}
            </div>
            {session ? (
              <button type="button" class="button button-secondary"
                onClick={() => {
                  signOut();
                  setSession(null);
                }}>
                {t('nav.signout')}
              </button>
            ) : (
              <a class="button button-secondary" href="/signin">
                {t('nav.signin')}
              </a>
            )}
          </div>
        </div>
        <nav aria-label={t('nav.main')}>
          <ul class="nav">
            {nav.map(([href, label]) => {
              const here = href === '/' || href === '/console' ? loc.path === href : loc.path.startsWith(href);
              return (
                <li key={href}>
                  <a href={href} aria-current={here ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={loc.path} query={loc.query} session={session} onSession={setSession} />
      </main>
      <footer class="foot">
        <p>{t('footer.source')}</p>
        <p>
          <a href="/openapi.json">{t('footer.api')}</a>
        </p>
      </footer>
    </I18nContext.Provider>
  );
}

interceptLinks();
render(<App />, document.getElementById('app')!);
