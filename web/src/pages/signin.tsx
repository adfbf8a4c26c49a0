// Sign-in with an API key, kept in sessionStorage; the wallet and the console build on it.
import { useState } from 'preact/hooks';

import { api, ApiError, type Session } from '../api.js';
import { navigate } from '../router.js';
import { nextPath, signIn, signOut } from '../session.js';
import { useI18n } from '../ui.js';

export function SignInPage({ onChange, next }: { onChange: (s: Session | null) => void; next: string | null }) {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Session | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError(t('signin.error.empty'));
      return;
    }
    try {
      const s = await api<Session>('/v1/session', { headers: { Authorization: `Bearer ${k}` } });
      signIn(k);
      setError(null);
      setDone(s);
      onChange(s);
      navigate(nextPath(next, s.role));
    } catch (err) {
      signOut();
      const a = err instanceof ApiError ? err : new ApiError(0, 'network', String(err));
      setError(a.code === 'network' ? t('error.network') : t('signin.error.invalid', { message: a.message, code: a.code }));
    }
  };
  return (
    <>
      <h1>{t('signin.title')}</h1>
      <p class="lead">{t('signin.intro')}</p>
      {error && (
        <div class="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      )}
      {done ? (
        <div class="alert alert-ok" role="status">
          <p>{t('signin.done')}</p>
        </div>
      ) : (
        <form onSubmit={submit} noValidate>
          <div class="field">
            <label for="key">{t('signin.key')}</label>
            <p class="hint" id="key-hint">
              {t('signin.key_hint')}
            </p>
            <input id="key" name="key" type="password" autoComplete="off" spellcheck={false} aria-describedby="key-hint"
              value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="button">
            {t('signin.submit')}
          </button>
        </form>
      )}
    </>
  );
}
