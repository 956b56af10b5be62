/**
 * The embedded console's side of its agent desktop (`/console?tenant=ten_...` in a CRM or
 * contact-centre desktop): the `postMessage` protocol, version 1.
 *
 * In (from the desktop): `{type: 'hushpay.console.token', token}` (`v: 1` optional) — sign in,
 * or extend the session when already in a call. Accepted only when `event.source` is the
 * window that frames the console AND `event.origin` is one of the tenant's
 * `agent_desktop_origins`, the token is shaped like a JWT and its `tenant` claim is the page's
 * tenant; the first accepted origin is the desktop from then on, and messages from any other
 * origin are dropped. Anything else is dropped without an answer.
 *
 * Out (to the desktop's exact origin, never `"*"`; every message carries `v: 1`):
 * - `hushpay.console.ready` — the console is listening (sent to each allowed origin: the
 *   browser delivers it only to the one that frames the console);
 * - `hushpay.console.joined {room}` / `hushpay.console.left {reason}`;
 * - `hushpay.console.token-refused {reason}` — a token it could not use;
 * - `hushpay.console.token-request {expires_in}` — send a fresh token for the same call;
 * - `hushpay.console.payment-result {payment_id, status, token, brand, last4}` — `token`,
 *   `brand` and `last4` are `null` when no card was captured. Never the expiry, never more.
 */
import type { Payment } from '../rtc/messages';

export const PROTOCOL_VERSION = 1;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN = 8192;

/** What the page says about embedding (`data-tenant`, `data-desktop-origins`). */
export interface Embedding {
  tenant: string;
  origins: string[];
}

/** Reads the embedding from the page's root element; null on plain `/console`. */
export function readEmbedding(root: HTMLElement): Embedding | null {
  const tenant = root.dataset.tenant;
  if (!tenant) return null;
  const origins = (root.dataset.desktopOrigins ?? '').split(' ').filter(Boolean);
  return { tenant, origins };
}

/** The `tenant` claim of a JWT (unverified: the gateway verifies the token itself). */
export function tokenTenant(token: string): string | null {
  if (!JWT.test(token)) return null;
  try {
    const b64 = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')));
    const tenant = (claims as { tenant?: unknown } | null)?.tenant;
    return typeof tenant === 'string' ? tenant : null;
  } catch {
    return null;
  }
}

/** The payment result a desktop may see: id, state and the masked card (token, brand, last 4). */
export function paymentResultMessage(p: Payment): Record<string, unknown> {
  return {
    type: 'hushpay.console.payment-result',
    v: PROTOCOL_VERSION,
    payment_id: p.id,
    status: p.state,
    token: p.card?.token ?? null,
    brand: p.card?.brand ?? null,
    last4: p.card?.last4 ?? null,
  };
}

/** The window the bridge runs in, reduced to what it uses (tests pass a fake). */
export interface BridgeWindow {
  parent: unknown;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

/** The desktop that frames the console (reduced to `postMessage`). */
export interface DesktopWindow {
  postMessage(message: unknown, targetOrigin: string): void;
}

export class DesktopBridge {
  private host: string | null = null;
  private readonly reported = new Set<string>();

  constructor(
    private readonly win: BridgeWindow,
    private readonly embedding: Embedding,
    private readonly onToken: (token: string) => void,
  ) {}

  /** True when the console is framed and the tenant allows desktops at all. */
  get active(): boolean {
    return this.win.parent !== this.win && this.embedding.origins.length > 0;
  }

  /** The origin of the desktop whose token was accepted (null until then). */
  get desktopOrigin(): string | null {
    return this.host;
  }

  /** Listens for tokens and says `ready` to the desktop. */
  start(): void {
    if (!this.active) return;
    this.win.addEventListener('message', (e) => this.receive(e));
    for (const origin of this.embedding.origins) this.post({ type: 'hushpay.console.ready' }, origin);
  }

  private receive(e: MessageEvent): void {
    if (e.source !== this.win.parent) return;
    if (!this.embedding.origins.includes(e.origin)) return;
    if (this.host !== null && e.origin !== this.host) return;
    const data = e.data as { type?: unknown; v?: unknown; token?: unknown } | null;
    if (typeof data !== 'object' || data === null || data.type !== 'hushpay.console.token') return;
    const refuse = (reason: string) => this.post({ type: 'hushpay.console.token-refused', reason }, e.origin);
    if (data.v !== undefined && data.v !== PROTOCOL_VERSION) return refuse(`unsupported protocol version (this console speaks ${PROTOCOL_VERSION})`);
    const token = data.token;
    if (typeof token !== 'string' || token.length > MAX_TOKEN || !JWT.test(token)) return refuse('not an access token');
    if (tokenTenant(token) !== this.embedding.tenant) return refuse('the token is for another tenant');
    this.host = e.origin;
    this.onToken(token);
  }

  /** Asks the desktop for a fresh token for the same call. */
  requestToken(expiresIn: number): void {
    this.toHost({ type: 'hushpay.console.token-request', expires_in: expiresIn });
  }

  joined(room: string | null): void {
    this.toHost({ type: 'hushpay.console.joined', room });
  }

  left(reason: string | null): void {
    this.toHost({ type: 'hushpay.console.left', reason });
  }

  refused(reason: string): void {
    this.toHost({ type: 'hushpay.console.token-refused', reason });
  }

  /** Reports a finished payment once (token, brand, last 4 only). */
  paymentResult(p: Payment): void {
    if (this.reported.has(p.id)) return;
    this.reported.add(p.id);
    this.toHost(paymentResultMessage(p));
  }

  private toHost(message: Record<string, unknown>): void {
    if (this.host !== null) this.post(message, this.host);
  }

  private post(message: Record<string, unknown>, origin: string): void {
    (this.win.parent as DesktopWindow).postMessage({ ...message, v: PROTOCOL_VERSION }, origin);
  }
}
