// The console's verify page: a proof, credential or receipt pasted and checked through the API
// (`POST /v1/verify/proof|credential|receipt`), every check shown with its outcome; and a proof
// request link (with its QR code) to hand to a worker.
import { useState } from 'preact/hooks';

import { ApiError, post, type Session, type VerifyAnswer } from '../api.js';
import type { Key } from '../i18n/index.js';
import { type ProofRequest, proofRequestLink, randomChallenge } from '../../../sdk/typescript/src/proofreq.js';
import { Mono, useI18n } from '../ui.js';
import { asApiError, FormError, parsePasted, QrCode, VerifyResult } from '../widgets.js';
import { NeedsKey } from './wallet.js';

type Kind = 'proof' | 'credential' | 'receipt';
const KINDS: Kind[] = ['proof', 'credential', 'receipt'];

export function VerifyPage({ session }: { session: Session | null }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<Kind>('proof');
  return (
    <>
      <h1>{t('verify.title')}</h1>
      <p class="lead">{t('verify.intro')}</p>
      {!session ? (
        <NeedsKey session={session} role="platform" />
      ) : (
        <>
          <div class="tabs" role="group" aria-label={t('verify.kind')}>
            {KINDS.map((k) => (
              <button type="button" key={k} class="tab" aria-pressed={k === kind} onClick={() => setKind(k)}>
                {t(`verify.kind.${k}` as Key)}
              </button>
            ))}
          </div>
          <VerifyForm key={kind} kind={kind} />
          {(session.role === 'platform' || session.role === 'admin') && <RequestBuilder session={session} />}
        </>
      )}
    </>
  );
}

function VerifyForm({ kind }: { kind: Kind }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [context, setContext] = useState('');
  const [challenge, setChallenge] = useState('');
  const [min, setMin] = useState('');
  const [consume, setConsume] = useState(true);
  const [answer, setAnswer] = useState<VerifyAnswer | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setAnswer(null);
    let value: unknown;
    try {
      value = parsePasted(text, t);
    } catch (err) {
      return setError((err as Error).message);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return setError(t('paste.error.not_object'));
    let body: Record<string, unknown>;
    if (kind === 'proof') {
      if (!context.trim()) return setError(t('verify.error.context'));
      if (challenge.trim() && !/^\d{1,78}$/.test(challenge.trim())) return setError(t('verify.error.challenge'));
      if (min.trim() && !/^\d{1,4}$/.test(min.trim())) return setError(t('verify.error.min'));
      body = { proof: value, context: context.trim(), consume };
      if (challenge.trim()) body.challenge = challenge.trim();
      if (min.trim()) body.require = { min_score: Number(min.trim()) };
    } else if (kind === 'credential') {
      body = { credential: value };
    } else {
      body = { receipt: value };
    }
    setError(null);
    setBusy(true);
    try {
      setAnswer(await post<VerifyAnswer>(`/v1/verify/${kind}`, body));
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <div class="field">
        <label for="pasted">{t(`verify.paste.${kind}` as Key)}</label>
        <p class="hint" id="pasted-hint">
          {t(`verify.hint.${kind}` as Key)}
        </p>
        <textarea id="pasted" rows={8} spellcheck={false} aria-describedby="pasted-hint" value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </div>
      {kind === 'proof' && (
        <>
          <div class="field">
            <label for="context">{t('verify.context')}</label>
            <p class="hint" id="context-hint">
              {t('verify.context_hint')}
            </p>
            <input id="context" type="text" value={context} aria-describedby="context-hint" onInput={(e) => setContext((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="challenge">{t('verify.challenge')}</label>
            <input id="challenge" type="text" inputMode="numeric" value={challenge} onInput={(e) => setChallenge((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="min">{t('verify.min_score')}</label>
            <input id="min" type="text" inputMode="numeric" value={min} onInput={(e) => setMin((e.target as HTMLInputElement).value)} />
          </div>
          <label class="choice">
            <input type="checkbox" checked={consume} onChange={(e) => setConsume((e.target as HTMLInputElement).checked)} /> {t('verify.consume')}
          </label>
        </>
      )}
      <div class="actions">
        <button type="submit" class="button" disabled={busy}>
          {busy ? t('common.working') : t('verify.submit')}
        </button>
      </div>
      <FormError error={error} />
      {answer && <VerifyResult answer={answer} />}
    </form>
  );
}

function RequestBuilder({ session }: { session: Session }) {
  const { t } = useI18n();
  const [context, setContext] = useState('');
  const [min, setMin] = useState('600');
  const [gigs, setGigs] = useState('0');
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    setLink(null);
    const c = context.trim();
    if (!c || new TextEncoder().encode(c).length > 256) return setError(t('verify.error.context'));
    if (!/^\d{1,4}$/.test(min) || Number(min) > 1000) return setError(t('verify.error.min'));
    if (!/^\d{1,6}$/.test(gigs)) return setError(t('verify.error.gigs'));
    setError(null);
    const r: ProofRequest = {
      context: c,
      minScore: Number(min),
      minGigs: Number(gigs),
      minTier: 0,
      challenge: randomChallenge(),
      platform: session.platform_id,
    };
    setLink(proofRequestLink(window.location.origin, r));
  };
  return (
    <section aria-labelledby="ask">
      <h2 id="ask">{t('verify.ask')}</h2>
      <p>{t('verify.ask_intro')}</p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="ask-context">{t('verify.context')}</label>
          <input id="ask-context" type="text" value={context} onInput={(e) => setContext((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="ask-min">{t('verify.min_score')}</label>
          <input id="ask-min" type="text" inputMode="numeric" value={min} onInput={(e) => setMin((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="ask-gigs">{t('verify.min_gigs')}</label>
          <input id="ask-gigs" type="text" inputMode="numeric" value={gigs} onInput={(e) => setGigs((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit" class="button">
          {t('verify.make_link')}
        </button>
      </form>
      <FormError error={error} />
      {link && (
        <div data-testid="request-link">
          <p>{t('verify.link_ready')}</p>
          <p>
            <Mono value={link} />
          </p>
          <QrCode text={link} label={t('verify.qr_request')} />
        </div>
      )}
    </section>
  );
}
