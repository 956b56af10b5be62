/**
 * The agent's side of payments: `PaymentClient` calls the payments API with the agent's
 * access token (`POST /v1/payments` and the commands, docs/payments.md), and
 * `PaymentTracker` keeps the latest masked document of each payment, from the `payment`
 * signalling messages and from polling `GET /v1/payments/{id}` while a payment is open (so
 * progress shows even where pushes are missed). Only masked documents pass through here:
 * field lengths, validity, brand; at the end token, brand, last 4 and the result.
 */
import { Emitter } from '../card/emitter';
import { TERMINAL_STATES, isPayment } from './messages';
import type { Payment } from './messages';

export type PaymentMethod = 'keypad' | 'card-form' | 'link';
export type PaymentField = 'payment-card-number' | 'expiration-date' | 'security-code' | 'postal-code';

export interface PaymentRequest {
  method: PaymentMethod;
  /** Minor units (cents). */
  amount: number;
  currency: string;
  reference: string;
  /** `authorize`: the card is authorized only; the tenant's backend captures or voids it. */
  mode?: 'charge' | 'tokenize' | 'authorize';
  requiredFields?: PaymentField[];
  allowedBrands?: string[];
  attempts?: number;
  /** Seconds (default 900: a link expires after 15 minutes). */
  timeout?: number;
  /** The patient's language, BCP 47 (`es`, `es-US`; default `en`): the IVR's prompts, the
   *  card form and the pay page follow it. */
  locale?: string;
}

export interface CreatedPayment {
  payment: Payment;
  /**
   * Link payments: the pay-by-link page's address, without the client secret. Only the
   * patient's copy of the link (in the chat) carries the secret that opens a card form; an
   * agent never holds it (docs/security.md, issue 12 finding 2).
   */
  linkUrl?: string;
  /** Whom the payment was offered to in the room. */
  offered?: { patients: number; staff: number };
}

export class PaymentApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'PaymentApiError';
  }
}

type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ status: number; ok: boolean; json(): Promise<unknown> }>;

function idempotencyKey(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class PaymentClient {
  constructor(private readonly gateway: string, private token: string, private readonly fetchFn: FetchLike = (u, i) => fetch(u, i)) {}

  /** Uses `token` from now on (after the session's token was refreshed). */
  setToken(token: string): void {
    this.token = token;
  }

  private async call(path: string, method: string, body?: unknown, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, ...extra };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await this.fetchFn(new URL(path, this.gateway).toString(), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new PaymentApiError(0, 'network_error', 'The payment service could not be reached.');
    }
    const json = await res.json().catch(() => null) as Record<string, unknown> | null;
    if (!res.ok) {
      const err = json?.error as { code?: unknown; message?: unknown } | undefined;
      throw new PaymentApiError(res.status, typeof err?.code === 'string' ? err.code : `http_${res.status}`,
        typeof err?.message === 'string' ? err.message : `The payment service answered ${res.status}.`);
    }
    if (!json || !isPayment(json.payment)) throw new PaymentApiError(res.status, 'bad_response', 'The payment service gave an unexpected answer.');
    return json;
  }

  /** Creates a payment bound to the agent's room (and offered to its patient). */
  async create(r: PaymentRequest): Promise<CreatedPayment> {
    const body: Record<string, unknown> = { method: r.method, mode: r.mode ?? 'charge', amount: r.amount, currency: r.currency, reference: r.reference };
    if (r.requiredFields) body.required_fields = r.requiredFields;
    if (r.allowedBrands) body.allowed_brands = r.allowedBrands;
    if (r.attempts !== undefined) body.attempts = r.attempts;
    if (r.timeout !== undefined) body.timeout = r.timeout;
    if (r.locale !== undefined) body.locale = r.locale;
    const json = await this.call('/v1/payments', 'POST', body, { 'Idempotency-Key': idempotencyKey() });
    const out: CreatedPayment = { payment: json.payment as Payment };
    // Never hand on a fragment (an older gateway put the client secret there).
    if (typeof json.link_url === 'string') out.linkUrl = json.link_url.split('#', 1)[0] ?? '';
    const offered = json.offered as { patients?: unknown; staff?: unknown } | undefined;
    if (typeof offered?.patients === 'number' && typeof offered.staff === 'number') out.offered = { patients: offered.patients, staff: offered.staff };
    return out;
  }

  async show(id: string): Promise<Payment> {
    return (await this.call(`/v1/payments/${encodeURIComponent(id)}`, 'GET')).payment as Payment;
  }

  /** `capture`, `re-ask` (a keypad field), `cancel`, `complete`. */
  async command(id: string, command: 'capture' | 're-ask' | 'cancel' | 'complete', field?: PaymentField): Promise<Payment> {
    const body = field === undefined ? undefined : { field };
    return (await this.call(`/v1/payments/${encodeURIComponent(id)}/${command}`, 'POST', body)).payment as Payment;
  }
}

export interface TrackerEvents extends Record<string, unknown> {
  /** A payment's masked document changed. */
  payment: Payment;
  /** A payment reached a terminal state (succeeded, failed, cancelled, expired). */
  result: Payment;
}

export class PaymentTracker {
  readonly events = new Emitter<TrackerEvents>();
  private readonly latest = new Map<string, Payment>();
  private readonly polls = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly fetchOne: (id: string) => Promise<Payment>, private readonly pollMs = 1000) {}

  get(id: string): Payment | undefined {
    return this.latest.get(id);
  }

  all(): Payment[] {
    return [...this.latest.values()];
  }

  /** Takes a document; stale ones (older `updated_at`, or a finished payment reopening) are ignored. */
  accept(p: Payment): boolean {
    const old = this.latest.get(p.id);
    if (old) {
      if (TERMINAL_STATES.includes(old.state)) return false;
      if (p.updated_at < old.updated_at) return false;
      if (JSON.stringify(old) === JSON.stringify(p)) return false;
    }
    this.latest.set(p.id, p);
    this.events.emit('payment', p);
    if (TERMINAL_STATES.includes(p.state)) {
      this.stop(p.id);
      this.events.emit('result', p);
    }
    return true;
  }

  /** Polls `id` until it finishes. */
  watch(id: string): void {
    if (this.polls.has(id) || TERMINAL_STATES.includes(this.latest.get(id)?.state ?? '')) return;
    const tick = async () => {
      try {
        this.accept(await this.fetchOne(id));
      } catch {
        // A failed poll is retried at the next tick; pushes keep flowing meanwhile.
      }
      if (this.polls.has(id) && !TERMINAL_STATES.includes(this.latest.get(id)?.state ?? '')) {
        this.polls.set(id, setTimeout(tick, this.pollMs));
      } else {
        this.polls.delete(id);
      }
    };
    this.polls.set(id, setTimeout(tick, this.pollMs));
  }

  stop(id: string): void {
    clearTimeout(this.polls.get(id));
    this.polls.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.polls.keys()]) this.stop(id);
  }
}
