// The receipt checker: everything is recomputed in this browser (checker.ts); the node is asked
// only where the root was anchored, through the explorer's index of chain events.
import { useState } from 'preact/hooks';

import { api, type SearchHit } from '../api.js';
import {
  type AnchorRecord,
  type Check,
  checkReceipt,
  firstFailure,
  MAX_RECEIPT_BYTES,
  parseReceipt,
  type Receipt,
  ReceiptFormatError,
  toHex,
} from '../../../sdk/typescript/src/checker.js';
import { useI18n } from '../ui.js';

/** The explorer's record of an anchored root: a batch for an attestation receipt, an evidence
 * checkpoint for an evidence receipt. */
async function lookupAnchor(r: Receipt): Promise<AnchorRecord | null> {
  const res = await api<{ data: SearchHit[] }>(`/v1/explorer/search?q=${toHex(r.root)}`);
  const kind = r.kind === 'attestation' ? 'batch' : 'evidence';
  const hit = res.data.find((h) => h.kind === kind && h.root === toHex(r.root) && h.size === r.treeSize);
  if (!hit || !hit.transaction_hash || hit.block_number === undefined) return null;
  return {
    root: hit.root ?? '',
    size: hit.size ?? -1,
    transactionHash: hit.transaction_hash,
    blockNumber: hit.block_number,
    finalized: hit.finalized ?? false,
  };
}

type Outcome = { kind: Receipt['kind']; checks: Check[] } | { error: string };

export function CheckPage() {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [dragging, setDragging] = useState(false);

  const readReceiptFile = async (f: File) => {
    if (f.size > MAX_RECEIPT_BYTES) {
      setOutcome({ error: t('check.error.too_large') });
      return;
    }
    try {
      setText(await f.text());
    } catch {
      setOutcome({ error: t('check.error.file') });
    }
  };

  const run = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) {
      setOutcome({ error: t('check.error.empty') });
      return;
    }
    setBusy(true);
    try {
      const r = parseReceipt(text);
      let bytes: Uint8Array | undefined;
      if (file) {
        try {
          bytes = new Uint8Array(await file.arrayBuffer());
        } catch {
          setOutcome({ error: t('check.error.file') });
          return;
        }
      }
      const anchor = async (rc: Receipt) => {
        try {
          return await lookupAnchor(rc);
        } catch {
          return null;
        }
      };
      setOutcome({ kind: r.kind, checks: await checkReceipt(r, { file: bytes, anchor }) });
    } catch (err) {
      if (err instanceof ReceiptFormatError) {
        setOutcome({ error: t(`check.error.${err.code}` as const, { field: err.field }) });
      } else {
        setOutcome({ error: t('error.title') });
      }
    } finally {
      setBusy(false);
    }
  };

  const failed = outcome && 'checks' in outcome ? firstFailure(outcome.checks) : undefined;
  return (
    <>
      <h1>{t('check.title')}</h1>
      <p class="lead">{t('check.intro')}</p>
      <form onSubmit={run} noValidate>
        <div
          class={dragging ? 'field dropzone dragging' : 'field dropzone'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            const f = e.dataTransfer?.files[0];
            if (f) void readReceiptFile(f);
          }}
        >
          <label for="receipt">{t('check.receipt')}</label>
          <p class="hint" id="receipt-hint">
            {t('check.receipt_hint')}
          </p>
          <textarea id="receipt" name="receipt" rows={10} spellcheck={false} aria-describedby="receipt-hint"
            value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <p class="hint">{t('check.drop')}</p>
          <label class="file-label" for="receipt-file">
            {t('check.choose')}
          </label>
          <input id="receipt-file" type="file" accept="application/json,.json"
            onChange={(e) => {
              const f = (e.target as HTMLInputElement).files?.[0];
              if (f) void readReceiptFile(f);
            }} />
        </div>
        <div class="field">
          <label for="evidence-file">{t('check.file')}</label>
          <p class="hint" id="evidence-hint">
            {t('check.file_hint')}
          </p>
          <input id="evidence-file" type="file" aria-describedby="evidence-hint"
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <button type="submit" class="button" disabled={busy}>
          {t('check.submit')}
        </button>
      </form>
      <section aria-live="polite" id="check-result">
        {outcome && 'error' in outcome && (
          <div class="alert alert-error" role="alert" data-testid="check-error">
            <p>{outcome.error}</p>
          </div>
        )}
        {outcome && 'checks' in outcome && (
          <>
            <h2>
              {t('check.result')}: {t(`check.kind.${outcome.kind}` as const)}
            </h2>
            <div class={failed ? 'alert alert-error' : 'alert alert-ok'} role="status" data-testid="check-summary">
              <p>{failed ? t('check.failed', { check: t(`check.id.${failed.id}` as const) }) : t('check.all_passed')}</p>
            </div>
            <ul class="checks">
              {outcome.checks.map((c) => (
                <li key={c.id} class={`check check-${c.outcome}`} data-check={c.id} data-outcome={c.outcome}>
                  <span class="check-mark" aria-hidden="true">
                    {c.outcome === 'passed' ? '✓' : c.outcome === 'failed' ? '✗' : '–'}
                  </span>
                  <span>
                    <strong>{t(`check.id.${c.id}` as const)}</strong>: {t(`check.outcome.${c.outcome}` as const)}
                    {c.outcome === 'failed' && c.claimed && (
                      <span class="check-detail">
                        {t('check.claimed')}: <code class="mono">{c.claimed}</code>
                        <br />
                        {t('check.computed')}: <code class="mono">{c.computed ?? '–'}</code>
                      </span>
                    )}
                  </span>
                </li>
              ))}
            </ul>
            <p class="hint">{t('check.anchor_note')}</p>
          </>
        )}
      </section>
    </>
  );
}
