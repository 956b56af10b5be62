/**
 * The messages between the page that hosts a card form ("parent") and the card iframe.
 *
 * Handshake: once the iframe has loaded, the parent creates a `MessageChannel` and posts
 * `{ hushpay: 'connect', version: 1 }` to the iframe window with the exact widget origin as
 * `targetOrigin`, transferring one port. The iframe accepts it only from `window.parent` and
 * only when `event.origin` is exactly the parent origin the gateway put in its page (checked
 * against the tenant's allowlist). Everything after goes over the private port; `window`
 * messages are ignored from then on.
 *
 * What crosses to the parent is deliberately poor: field states (never values), focus and
 * blur, errors with codes, and at the end the payment's token, brand and last 4.
 */

export const PROTOCOL_VERSION = 1;

export type FieldName = 'number' | 'expiry' | 'cvc' | 'postalCode';
export const FIELD_NAMES: readonly FieldName[] = ['number', 'expiry', 'cvc', 'postalCode'];

/** The state of one field, as the `change` event reports it (no value, ever). */
export interface FieldState {
  field: FieldName;
  empty: boolean;
  complete: boolean;
  valid: boolean;
  potentiallyValid: boolean;
  /** Card brand id (`visa`, `mastercard`, `amex`, ...) on the number field. */
  brand?: string;
  /** Set when the field was left invalid or submission found it wrong. */
  error?: { code: string; message: string };
}

/** What the parent learns when the card was accepted. */
export interface CardResult {
  paymentId: string;
  token: string;
  brand: string;
  last4: string;
  /** The payment's result (`success`, ...) and state (`succeeded`, ...) as the gateway gave them. */
  result?: string;
  status?: string;
}

export interface ErrorInfo {
  code: string;
  message: string;
  field?: FieldName;
}

export interface ConnectMessage {
  hushpay: 'connect';
  version: number;
}

/** Parent -> iframe (over the port). */
export type ParentMessage =
  | {
      type: 'init';
      payment: { id: string; clientSecret: string };
      style?: unknown;
      postalCode: boolean;
    }
  | { type: 'submit'; requestId: number }
  | { type: 'focus'; field: FieldName }
  | { type: 'clear' };

/** Iframe -> parent (over the port). */
export type FrameMessage =
  | { type: 'ready' }
  | { type: 'change'; state: FieldState }
  | { type: 'focus'; field: FieldName }
  | { type: 'blur'; field: FieldName }
  | { type: 'submit' }
  | { type: 'resize'; height: number }
  | { type: 'error'; error: ErrorInfo }
  | { type: 'result'; requestId: number; ok: true; card: CardResult }
  | { type: 'result'; requestId: number; ok: false; error: ErrorInfo };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isField(v: unknown): v is FieldName {
  return typeof v === 'string' && (FIELD_NAMES as readonly string[]).includes(v);
}

/** Is `data` the parent's connect request? */
export function isConnect(data: unknown): data is ConnectMessage {
  return isObject(data) && data.hushpay === 'connect' && data.version === PROTOCOL_VERSION;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const SECRET = /^[A-Za-z0-9_-]{1,256}$/;

/** Parses a parent message; anything malformed is `null` (and ignored by the iframe). */
export function parseParentMessage(data: unknown): ParentMessage | null {
  if (!isObject(data)) return null;
  switch (data.type) {
    case 'init': {
      const p = data.payment;
      if (!isObject(p) || typeof p.id !== 'string' || typeof p.clientSecret !== 'string') return null;
      if (!ID.test(p.id) || !SECRET.test(p.clientSecret)) return null;
      return {
        type: 'init',
        payment: { id: p.id, clientSecret: p.clientSecret },
        style: data.style,
        postalCode: data.postalCode !== false,
      };
    }
    case 'submit':
      return Number.isSafeInteger(data.requestId) ? { type: 'submit', requestId: data.requestId as number } : null;
    case 'focus':
      return isField(data.field) ? { type: 'focus', field: data.field } : null;
    case 'clear':
      return { type: 'clear' };
    default:
      return null;
  }
}

function isError(v: unknown): v is ErrorInfo {
  return isObject(v) && typeof v.code === 'string' && typeof v.message === 'string'
    && (v.field === undefined || isField(v.field));
}

function isState(v: unknown): v is FieldState {
  return isObject(v) && isField(v.field) && typeof v.empty === 'boolean' && typeof v.complete === 'boolean'
    && typeof v.valid === 'boolean' && typeof v.potentiallyValid === 'boolean'
    && (v.brand === undefined || typeof v.brand === 'string')
    && (v.error === undefined || isError(v.error));
}

function isCard(v: unknown): v is CardResult {
  return isObject(v) && typeof v.paymentId === 'string' && typeof v.token === 'string'
    && typeof v.brand === 'string' && typeof v.last4 === 'string' && /^[0-9]{4}$/.test(v.last4);
}

/** Parses an iframe message; anything malformed is `null`. */
export function parseFrameMessage(data: unknown): FrameMessage | null {
  if (!isObject(data)) return null;
  switch (data.type) {
    case 'ready':
    case 'submit':
      return { type: data.type };
    case 'change':
      return isState(data.state) ? { type: 'change', state: data.state } : null;
    case 'focus':
    case 'blur':
      return isField(data.field) ? { type: data.type, field: data.field } : null;
    case 'resize':
      return typeof data.height === 'number' && data.height > 0 && data.height < 4096
        ? { type: 'resize', height: data.height } : null;
    case 'error':
      return isError(data.error) ? { type: 'error', error: data.error } : null;
    case 'result': {
      if (!Number.isSafeInteger(data.requestId)) return null;
      const requestId = data.requestId as number;
      if (data.ok === true && isCard(data.card)) return { type: 'result', requestId, ok: true, card: data.card };
      if (data.ok === false && isError(data.error)) return { type: 'result', requestId, ok: false, error: data.error };
      return null;
    }
    default:
      return null;
  }
}
