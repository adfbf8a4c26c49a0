// A verifier's proof request (`/prove?context=..&min=..&gigs=..&tier=..&challenge=..&platform=..`):
// the worker reads what is asked, approves, and the node proves for them (custody); the proof
// is shown to hand over (copy, download, QR). Nothing is sent before the worker approves.
import { useMemo, useState } from 'preact/hooks';

import { ApiError, post, type ProofAnswer, type Session } from '../api.js';
import type { Key } from '../i18n/index.js';
import { parseProofRequest, type ProofRequest, ProofRequestError, proveBody } from '../../../sdk/typescript/src/proofreq.js';
import { Facts, useI18n } from '../ui.js';
import { asApiError, DownloadJson, FormError, QrCode } from '../widgets.js';
import { NeedsKey } from './wallet.js';

const TIERS = ['', 'E', 'D', 'C', 'B', 'A'];

export function ProvePage({ query, session }: { query: URLSearchParams; session: Session | null }) {
  const { t } = useI18n();
  const parsed = useMemo((): ProofRequest | ProofRequestError => {
    try {
      return parseProofRequest(query);
    } catch (e) {
      return e instanceof ProofRequestError ? e : new ProofRequestError('context', 'missing');
    }
  }, [query.toString()]);
  return (
    <>
      <h1>{t('prove.title')}</h1>
      {parsed instanceof ProofRequestError ? (
        <div class="alert alert-error" role="alert" data-testid="prove-error">
          <p>{t('prove.error.request', { field: parsed.field, problem: t(`prove.problem.${parsed.code}` as Key), code: `proof_request_${parsed.code}` })}</p>
        </div>
      ) : (
        <Request r={parsed} session={session} />
      )}
    </>
  );
}

function Request({ r, session }: { r: ProofRequest; session: Session | null }) {
  const { t, num } = useI18n();
  const [answer, setAnswer] = useState<ProofAnswer | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [declined, setDeclined] = useState(false);
  const [busy, setBusy] = useState(false);
  const worker = session?.role === 'worker' ? session.worker_id : null;
  const approve = async () => {
    if (!worker) return;
    setBusy(true);
    setError(null);
    try {
      setAnswer(await post<ProofAnswer>(`/v1/workers/${encodeURIComponent(worker)}/proofs`, proveBody(r)));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const rows: [string, string][] = [
    [t('prove.context'), r.context],
    [t('prove.min_score'), num(r.minScore)],
    [t('prove.min_gigs'), num(r.minGigs)],
    [t('prove.min_tier'), r.minTier ? TIERS[r.minTier] : t('prove.any')],
    [t('prove.verifier'), r.platform === null ? t('prove.operator') : t('prove.platform', { id: num(r.platform) })],
  ];
  if (r.challenge !== null) rows.push([t('prove.challenge'), r.challenge]);
  const text = answer ? JSON.stringify(answer.proof) : '';
  return (
    <>
      <p class="lead">{t('prove.intro')}</p>
      <section aria-labelledby="asked">
        <h2 id="asked">{t('prove.asked')}</h2>
        <Facts rows={rows} />
        <p>{t('prove.privacy')}</p>
      </section>
      {!worker ? (
        <NeedsKey session={session} role="worker" />
      ) : answer ? (
        <section aria-labelledby="proof">
          <h2 id="proof">{t('prove.done')}</h2>
          <div class="alert alert-ok" role="status" data-testid="proof-made">
            <p>{t('prove.hand_over', { epoch: num(answer.epoch) })}</p>
          </div>
          <div class="field">
            <label for="proof-json">{t('prove.proof')}</label>
            <textarea id="proof-json" rows={8} readOnly value={JSON.stringify(answer.proof, null, 2)} />
          </div>
          <DownloadJson value={answer.proof} filename="proof.json" label={t('prove.download')} />
          <QrCode text={text} label={t('prove.qr')} />
        </section>
      ) : declined ? (
        <div class="alert alert-info" role="status">
          <p>{t('prove.declined')}</p>
        </div>
      ) : (
        <>
          <FormError error={error} />
          {error?.code === 'requirement_not_met' && <p>{t('prove.not_met')}</p>}
          <div class="actions">
            <button type="button" class="button" onClick={approve} disabled={busy}>
              {busy ? t('prove.proving') : t('prove.approve')}
            </button>
            <button type="button" class="button button-secondary" onClick={() => setDeclined(true)}>
              {t('prove.decline')}
            </button>
          </div>
        </>
      )}
    </>
  );
}
