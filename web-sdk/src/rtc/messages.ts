/**
 * The Hushpay signalling protocol v1 (docs/protocol.md) as types, and strict parsers for what
 * the server sends on the WebSocket and on the `chat` data channel. A parser returns `null`
 * for anything that does not match, so a client never acts on a malformed frame.
 */

export const PROTOCOL_VERSION = 1;

export type Role = 'patient' | 'agent' | 'supervisor';

export interface ParticipantInfo {
  participant_id: string;
  identity: string;
  role: string;
  muted: boolean;
}

/** A payment as the patient may see it (`payment_requested`, `payment_link`). */
export interface PatientPayment {
  id: string;
  method: 'keypad' | 'card-form' | 'link' | string;
  amount: number;
  currency: string;
  reference: string;
  required_fields: string[];
  allowed_brands: string[];
  /** Unix seconds. */
  expires_at: number;
  /** BCP 47 (`en`, `es-US`): pass it to `CardForm({ locale })` (absent from older gateways). */
  locale?: string;
}

/** One field of a payment's masked progress. Never digits. */
export interface FieldStatus {
  field: string;
  status: 'pending' | 'collecting' | 'captured' | string;
  length: number;
  valid: boolean;
  brand?: string;
}

/** A masked payment document, as `GET /v1/payments/{id}` and the `payment` message give it. */
export interface Payment {
  id: string;
  tenant: string;
  amount: number;
  currency: string;
  reference: string;
  mode: 'charge' | 'tokenize' | 'authorize' | string;
  method: 'keypad' | 'card-form' | 'link' | string;
  required_fields: string[];
  allowed_brands: string[];
  max_attempts: number;
  timeout_secs: number;
  state: 'requested' | 'collecting' | 'ready' | 'authorizing' | 'succeeded' | 'failed' | 'cancelled' | 'expired'
    | 'authorized' | 'capturing' | 'captured' | 'voiding' | 'voided' | 'authenticating' | string;
  fields: FieldStatus[];
  failed_attempts: number;
  result?: string;
  error?: string;
  card?: { token: string; brand: string; last4: string; exp_month: number; exp_year: number };
  authorization_code?: string;
  /** (`authorize` mode) the amount the tenant's backend captured. */
  amount_captured?: number;
  room?: string;
  /** BCP 47, normalised (`en`, `es-US`): the patient's language. */
  locale?: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

/** How a payment offered to the patient ended (`payment_ended`). */
export interface PaymentEnd {
  id: string;
  method: string;
  state: 'succeeded' | 'failed' | 'cancelled' | 'expired' | string;
  result?: string;
  brand?: string;
  last4?: string;
}

/** The room's recording (`recording`, agents and supervisors, when the gateway records). */
export interface RecordingState {
  /** The recording in progress; `null` until audio was recorded. */
  recording_id: string | null;
  /** True while any pause reason holds: nothing is recorded. */
  paused: boolean;
  /** `payment:<id>`, `manual`, `consent`. */
  reasons: string[];
}

/**
 * A TURN server with this participant's short-lived credentials (the `RTCIceServer` shape),
 * from `joined` and `token_refreshed`.
 */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * The states in which a payment's collection is over. An `authorize`-mode payment ends its
 * collection `authorized`; capture, void and refunds are the tenant backend's (API key) and
 * move it on from there (docs/payments.md).
 */
export const TERMINAL_STATES: readonly string[] = [
  'succeeded', 'failed', 'cancelled', 'expired', 'authorized', 'capturing', 'captured', 'voiding', 'voided',
];

/** Server → client on the WebSocket. */
export type ServerMessage =
  | { type: 'joined'; v: number; room: string; participant: ParticipantInfo; participants: ParticipantInfo[]; iceServers?: IceServer[] }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  | { type: 'participant_joined'; participant: ParticipantInfo }
  | { type: 'participant_left'; participant_id: string }
  | { type: 'mute'; participant_id: string; muted: boolean }
  | { type: 'pong'; nonce: number | null }
  | { type: 'room_closed'; reason: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'payment_requested'; payment: PatientPayment; client_secret?: string }
  | { type: 'payment'; payment: Payment }
  | { type: 'payment_ended'; payment: PaymentEnd }
  | { type: 'recording'; recording: RecordingState }
  /** The session's token expires soon (`exp` unix seconds; `expires_in` seconds left): refresh it. */
  | { type: 'token_expiring'; exp: number; expires_in: number }
  /** The session's token expired; the server closes the socket (4401). */
  | { type: 'token_expired'; exp: number }
  /** A `refresh` was accepted: the session now ends at `exp`. */
  | { type: 'token_refreshed'; exp: number; iceServers?: IceServer[] }
  /** (Cluster) the room is on another gateway node: join again at `url` (its public base URL). */
  | { type: 'redirect'; url: string; node: string };

/** Client → server on the WebSocket. */
export type ClientMessage =
  | { type: 'join'; v: number }
  | { type: 'offer'; sdp: string }
  | { type: 'candidate'; candidate: string | null; sdpMid?: string | null; sdpMLineIndex?: number | null }
  | { type: 'mute'; muted: boolean }
  | { type: 'ping'; nonce?: number }
  | { type: 'leave' }
  | { type: 'recording'; action: 'pause' | 'resume' }
  | { type: 'refresh'; token: string };

export interface ChatSender {
  participant_id: string;
  identity: string;
  role: string;
}

/** Server → client on the `chat` data channel. */
export type ChatEvent =
  | { type: 'chat'; id: string; ts: number; from: ChatSender; text: string; redacted: boolean }
  | { type: 'chat_retract'; id: string; text: string }
  | { type: 'payment_link'; id: string; ts: number; from: ChatSender; payment: PatientPayment; url: string }
  | { type: 'error'; code: string; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown): v is boolean => typeof v === 'boolean';
const strs = (v: unknown): v is string[] => Array.isArray(v) && v.every(str);

export function isParticipant(v: unknown): v is ParticipantInfo {
  return isObj(v) && str(v.participant_id) && str(v.identity) && str(v.role) && bool(v.muted);
}

export function isPatientPayment(v: unknown): v is PatientPayment {
  return isObj(v) && str(v.id) && str(v.method) && num(v.amount) && str(v.currency) && str(v.reference)
    && strs(v.required_fields) && strs(v.allowed_brands) && num(v.expires_at);
}

function isField(v: unknown): v is FieldStatus {
  return isObj(v) && str(v.field) && str(v.status) && num(v.length) && bool(v.valid) && (v.brand === undefined || str(v.brand));
}

export function isPayment(v: unknown): v is Payment {
  if (!isObj(v)) return false;
  const card = v.card;
  const cardOk = card === undefined || (isObj(card) && str(card.token) && str(card.brand) && str(card.last4));
  return str(v.id) && num(v.amount) && str(v.currency) && str(v.reference) && str(v.method) && str(v.state)
    && Array.isArray(v.fields) && v.fields.every(isField) && num(v.updated_at) && cardOk
    && (v.result === undefined || str(v.result)) && (v.error === undefined || str(v.error));
}

/** `iceServers` as the gateway sends it: a few entries, each with URLs and credentials. */
function isIceServers(v: unknown): v is IceServer[] {
  return Array.isArray(v) && v.length <= 8
    && v.every((s) => isObj(s) && strs(s.urls) && s.urls.length > 0 && str(s.username) && str(s.credential));
}

const optionalIceServers = (v: unknown): boolean => v === undefined || isIceServers(v);

function isSender(v: unknown): v is ChatSender {
  return isObj(v) && str(v.participant_id) && str(v.identity) && str(v.role);
}

function parseJson(data: unknown): Obj | null {
  if (!str(data) || data.length > 1_000_000) return null;
  try {
    const v: unknown = JSON.parse(data);
    return isObj(v) && str(v.type) ? v : null;
  } catch {
    return null;
  }
}

/** A WebSocket frame from the server, or `null`. */
export function parseServerMessage(data: unknown): ServerMessage | null {
  const m = parseJson(data);
  if (!m) return null;
  switch (m.type) {
    case 'joined':
      return num(m.v) && str(m.room) && isParticipant(m.participant) && Array.isArray(m.participants) && m.participants.every(isParticipant)
        && optionalIceServers(m.iceServers) ? (m as ServerMessage) : null;
    case 'answer':
      return str(m.sdp) ? (m as ServerMessage) : null;
    case 'candidate':
      return str(m.candidate) ? (m as ServerMessage) : null;
    case 'participant_joined':
      return isParticipant(m.participant) ? (m as ServerMessage) : null;
    case 'participant_left':
      return str(m.participant_id) ? (m as ServerMessage) : null;
    case 'mute':
      return str(m.participant_id) && bool(m.muted) ? (m as ServerMessage) : null;
    case 'pong':
      return m as ServerMessage;
    case 'room_closed':
      return str(m.reason) ? (m as ServerMessage) : null;
    case 'error':
      return str(m.code) && str(m.message) ? (m as ServerMessage) : null;
    case 'payment_requested':
      return isPatientPayment(m.payment) && (m.client_secret === undefined || str(m.client_secret)) ? (m as ServerMessage) : null;
    case 'payment':
      return isPayment(m.payment) ? (m as ServerMessage) : null;
    case 'payment_ended': {
      const p = m.payment;
      const ok = isObj(p) && str(p.id) && str(p.method) && str(p.state) && TERMINAL_STATES.includes(p.state)
        && [p.result, p.brand, p.last4].every((v) => v === undefined || str(v));
      return ok ? (m as ServerMessage) : null;
    }
    case 'recording': {
      const r = m.recording;
      const ok = isObj(r) && (r.recording_id === null || str(r.recording_id)) && bool(r.paused) && strs(r.reasons);
      return ok ? (m as ServerMessage) : null;
    }
    case 'token_expiring':
      return num(m.exp) && num(m.expires_in) ? (m as ServerMessage) : null;
    case 'token_expired':
      return num(m.exp) ? (m as ServerMessage) : null;
    case 'token_refreshed':
      return num(m.exp) && optionalIceServers(m.iceServers) ? (m as ServerMessage) : null;
    case 'redirect':
      return str(m.url) && /^https?:\/\//.test(m.url) && str(m.node) ? (m as ServerMessage) : null;
    default:
      return null;
  }
}

/** A `chat` data-channel message from the server, or `null`. */
export function parseChatEvent(data: unknown): ChatEvent | null {
  const m = parseJson(data);
  if (!m) return null;
  switch (m.type) {
    case 'chat':
      return str(m.id) && num(m.ts) && isSender(m.from) && str(m.text) && bool(m.redacted) ? (m as ChatEvent) : null;
    case 'chat_retract':
      return str(m.id) && str(m.text) ? (m as ChatEvent) : null;
    case 'payment_link':
      return str(m.id) && num(m.ts) && isSender(m.from) && isPatientPayment(m.payment) && str(m.url) && /^https?:\/\//.test(m.url) ? (m as ChatEvent) : null;
    case 'error':
      return str(m.code) && str(m.message) ? (m as ChatEvent) : null;
    default:
      return null;
  }
}
