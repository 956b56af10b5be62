import { describe, expect, it } from 'vitest';
import { DesktopBridge, paymentResultMessage, tokenTenant } from './desktop';
import type { BridgeWindow } from './desktop';
import type { Payment } from '../rtc/messages';

const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: unknown) => `${b64({ alg: 'EdDSA' })}.${b64(claims)}.c2ln`;
const DESK = 'https://crm.example';

function setup(origins = [DESK, 'http://127.0.0.1:4100']) {
  const sent: { message: Record<string, unknown>; origin: string }[] = [];
  const parent = { postMessage: (message: Record<string, unknown>, origin: string) => sent.push({ message, origin }) };
  let listener: ((e: MessageEvent) => void) | null = null;
  const win: BridgeWindow = { parent, addEventListener: (_t, l) => { listener = l; } };
  const tokens: string[] = [];
  const bridge = new DesktopBridge(win, { tenant: 'ten_a', origins }, (t) => tokens.push(t));
  bridge.start();
  const deliver = (data: unknown, origin = DESK, source: unknown = parent) =>
    listener?.({ data, origin, source } as MessageEvent);
  return { bridge, sent, tokens, deliver, parent };
}

describe('DesktopBridge', () => {
  it('says ready to each allowed origin, never "*"', () => {
    const { sent } = setup();
    expect(sent).toEqual([
      { message: { type: 'hushpay.console.ready', v: 1 }, origin: DESK },
      { message: { type: 'hushpay.console.ready', v: 1 }, origin: 'http://127.0.0.1:4100' },
    ]);
  });

  it('takes a token of its tenant from the framing desktop, then talks to that origin only', () => {
    const { bridge, sent, tokens, deliver } = setup();
    const token = jwt({ tenant: 'ten_a' });
    deliver({ type: 'hushpay.console.token', token });
    expect(tokens).toEqual([token]);
    expect(bridge.desktopOrigin).toBe(DESK);
    sent.length = 0;
    bridge.requestToken(30);
    expect(sent).toEqual([{ message: { type: 'hushpay.console.token-request', expires_in: 30, v: 1 }, origin: DESK }]);
    // Another allowed origin cannot take over once the desktop is known.
    deliver({ type: 'hushpay.console.token', token }, 'http://127.0.0.1:4100');
    expect(tokens).toHaveLength(1);
  });

  it('drops messages from foreign origins and from windows other than its parent, without an answer', () => {
    const { sent, tokens, deliver } = setup();
    sent.length = 0;
    const token = jwt({ tenant: 'ten_a' });
    deliver({ type: 'hushpay.console.token', token }, 'https://evil.example');
    deliver({ type: 'hushpay.console.token', token }, DESK, { postMessage() {} });
    deliver({ type: 'hushpay.console.token', token }, DESK, null);
    deliver({ type: 'other', token });
    deliver('hushpay.console.token');
    deliver(null);
    expect(tokens).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('refuses tokens of another tenant, malformed tokens and unknown versions', () => {
    const { sent, tokens, deliver } = setup();
    sent.length = 0;
    deliver({ type: 'hushpay.console.token', token: jwt({ tenant: 'ten_b' }) });
    deliver({ type: 'hushpay.console.token', token: 'not a token' });
    deliver({ type: 'hushpay.console.token', token: 42 });
    deliver({ type: 'hushpay.console.token', token: `${'a'.repeat(9000)}.b.c` });
    deliver({ type: 'hushpay.console.token', token: jwt({ tenant: 'ten_a' }), v: 2 });
    expect(tokens).toEqual([]);
    expect(sent.map((s) => s.message.reason)).toEqual([
      'the token is for another tenant', 'not an access token', 'not an access token', 'not an access token',
      'unsupported protocol version (this console speaks 1)',
    ]);
    expect(sent.every((s) => s.origin === DESK)).toBe(true);
  });

  it('stays silent when not framed or when the tenant allows no desktop', () => {
    const sent: unknown[] = [];
    const top: BridgeWindow & { postMessage?: unknown } = { parent: null, addEventListener() {} };
    top.parent = top;
    new DesktopBridge(top, { tenant: 'ten_a', origins: [DESK] }, () => {}).start();
    const { sent: none } = setup([]);
    expect(sent).toEqual([]);
    expect(none).toEqual([]);
  });

  it('reports each payment result once, with token, brand and last 4 only', () => {
    const { bridge, sent, deliver } = setup();
    deliver({ type: 'hushpay.console.token', token: jwt({ tenant: 'ten_a' }) });
    sent.length = 0;
    const p = {
      id: 'pay_1', state: 'succeeded', reference: 'visit-1', amount: 4200,
      card: { token: 'tok_abc', brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 },
    } as unknown as Payment;
    bridge.paymentResult(p);
    bridge.paymentResult(p);
    expect(sent).toEqual([{
      message: { type: 'hushpay.console.payment-result', v: 1, payment_id: 'pay_1', status: 'succeeded', token: 'tok_abc', brand: 'visa', last4: '4242' },
      origin: DESK,
    }]);
    expect(paymentResultMessage({ id: 'pay_2', state: 'cancelled' } as Payment)).toEqual({
      type: 'hushpay.console.payment-result', v: 1, payment_id: 'pay_2', status: 'cancelled', token: null, brand: null, last4: null,
    });
  });
});

describe('tokenTenant', () => {
  it('reads the tenant claim and refuses what is not a JWT', () => {
    expect(tokenTenant(jwt({ tenant: 'ten_a', sub: 'ä' }))).toBe('ten_a');
    expect(tokenTenant(jwt({ sub: 'x' }))).toBeNull();
    expect(tokenTenant(jwt({ tenant: 7 }))).toBeNull();
    expect(tokenTenant('a.%%%.c')).toBeNull();
    expect(tokenTenant('a.bm90IGpzb24.c')).toBeNull();
    expect(tokenTenant('')).toBeNull();
  });
});
