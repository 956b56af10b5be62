/**
 * Submitting the card from inside the iframe: fetch the vault's public key from the gateway,
 * seal the form in wasm (HPKE, bound to tenant and payment id), and send only the sealed
 * envelope to `POST /v1/payments/{id}/card` with the payment's client secret.
 *
 * The answer is reduced to what the parent may learn: token, brand, last 4 and result.
 * When the issuer asks for 3-D Secure, its challenge runs inside this iframe first and the
 * payment is resumed with `POST /v1/payments/{id}/authentication`: the result is the final one.
 */

import * as wasm from 'hushpay-wasm-glue';
import type { CardResult, ErrorInfo, FieldName } from '../card/protocol';
import type { CardFrameStrings } from '../i18n/catalogue';
import { enCardFrame } from '../i18n/en';
import { today } from './fields';
import { runChallenge } from './challenge';

export interface SubmitInput {
  /** The gateway (the widget origin itself). */
  gateway: string;
  tenant: string;
  payment: { id: string; clientSecret: string };
  values: { number: string; expiry: string; cvc: string; postalCode: string | undefined };
  /** The page's language (English by default). */
  strings?: CardFrameStrings;
  /** Called when the issuer's 3-D Secure challenge is shown. */
  onChallenge?: () => void;
}

export type SubmitOutcome = { ok: true; card: CardResult } | { ok: false; error: ErrorInfo };

interface SealAnswer {
  ok: boolean;
  sealed?: unknown;
  error?: { field: string; code: string; message: string };
}

const FIELD_OF: Record<string, FieldName | undefined> = {
  number: 'number', expiry: 'expiry', cvc: 'cvc', postalCode: 'postalCode',
};

function fail(code: string, message: string, field?: FieldName): SubmitOutcome {
  return { ok: false, error: field ? { code, message, field } : { code, message } };
}

async function json(response: Response): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A refusal of the wasm sealer in the page's language (its own texts are English). */
function sealMessage(t: CardFrameStrings, code: string, field: FieldName | undefined, message: string): string {
  if (t === enCardFrame || !field) return message;
  return code.startsWith('incomplete') ? t.fieldErrors[field].incomplete : t.fieldErrors[field].invalid;
}

export async function submitCard(input: SubmitInput): Promise<SubmitOutcome> {
  const t = input.strings ?? enCardFrame;
  const keyResponse = await fetch(`${input.gateway}/v1/vault/public-key`, { credentials: 'omit', cache: 'no-store' })
    .catch(() => null);
  const key = keyResponse?.ok ? await json(keyResponse) : null;
  if (!key || typeof key.public_key !== 'string' || typeof key.kid !== 'string') {
    return fail('vault_unavailable', t.unreachable);
  }
  const { year, month } = today();
  const v = input.values;
  const answer = JSON.parse(wasm.sealCard(v.number, v.expiry, v.cvc, v.postalCode, year, month,
    key.public_key, key.kid, input.tenant, input.payment.id)) as SealAnswer;
  if (!answer.ok || answer.sealed === undefined) {
    const e = answer.error ?? { field: 'form', code: 'seal_failed', message: t.sealFailed };
    const field = FIELD_OF[e.field];
    return fail(e.code, sealMessage(t, e.code, field, e.message), field);
  }
  const base = `${input.gateway}/v1/payments/${encodeURIComponent(input.payment.id)}`;
  let response = await fetch(`${base}/card`, {
    method: 'POST',
    credentials: 'omit',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${input.payment.clientSecret}` },
    body: JSON.stringify({ sealed: answer.sealed }),
  }).catch(() => null);
  if (!response) return fail('network_error', t.unreachable);
  let body = await json(response);
  const auth = body?.authentication as { url?: unknown } | undefined;
  if (response.ok && typeof auth?.url === 'string') {
    input.onChallenge?.();
    const passed = await runChallenge(input.gateway, auth.url, t.bankCheck).then(() => true, () => false);
    if (!passed) return fail('authentication_failed', t.notAccepted);
    response = await fetch(`${base}/authentication`, {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: { Authorization: `Bearer ${input.payment.clientSecret}` },
    }).catch(() => null);
    if (!response) return fail('network_error', t.unreachable);
    body = await json(response);
  }
  if (!response.ok) {
    const err = body?.error as { code?: unknown; message?: unknown } | undefined;
    return fail(typeof err?.code === 'string' ? err.code : `http_${response.status}`,
      typeof err?.message === 'string' && t === enCardFrame ? err.message : t.notAccepted);
  }
  // {"payment": {..., "state", "result", "error"?, "card"?: {token, brand, last4, ...}}}
  const p = body?.payment as Record<string, unknown> | undefined;
  const c = p?.card as Record<string, unknown> | undefined;
  if (!p || !c || typeof c.token !== 'string' || typeof c.last4 !== 'string' || typeof c.brand !== 'string') {
    if (typeof p?.error === 'string' || typeof p?.result === 'string') {
      return fail(String(p.error ?? p.result), t.checkCard);
    }
    return fail('bad_response', t.unexpected);
  }
  const card: CardResult = {
    paymentId: input.payment.id, token: c.token, brand: c.brand, last4: c.last4,
    ...(typeof p.result === 'string' ? { result: p.result } : {}),
    ...(typeof p.state === 'string' ? { status: p.state } : {}),
  };
  return { ok: true, card };
}
