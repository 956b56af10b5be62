import { describe, expect, it, vi } from 'vitest';
import { PaymentApiError, PaymentClient, PaymentTracker } from './payments';
import type { Payment } from './messages';

function payment(over: Partial<Payment> = {}): Payment {
  return {
    id: 'pay_1', tenant: 'ten_1', amount: 4200, currency: 'USD', reference: 'visit-77', mode: 'charge', method: 'keypad',
    required_fields: ['payment-card-number'], allowed_brands: ['visa'], max_attempts: 3, timeout_secs: 900, state: 'requested',
    fields: [{ field: 'payment-card-number', status: 'pending', length: 0, valid: false }], failed_attempts: 0,
    room: 'r1', created_by: 'agent:a', created_at: 1, updated_at: 1, expires_at: 901, ...over,
  };
}

function response(status: number, body: unknown) {
  return Promise.resolve({ status, ok: status < 300, json: () => Promise.resolve(body) });
}

describe('PaymentClient', () => {
  it('creates with an idempotency key and maps the answer', async () => {
    const fetchFn = vi.fn((_u: string, _i: { method: string; headers: Record<string, string>; body?: string }) =>
      response(201, { payment: payment({ method: 'link' }), link_url: 'https://g/pay/pay_1', offered: { patients: 1, staff: 1 } }));
    const c = new PaymentClient('https://g.example', 'jwt', fetchFn);
    const out = await c.create({ method: 'link', amount: 4200, currency: 'USD', reference: 'visit-77', timeout: 600 });
    expect(out.linkUrl).toBe('https://g/pay/pay_1');
    expect(out.offered).toEqual({ patients: 1, staff: 1 });
    const [url, init] = fetchFn.mock.calls[0]!;
    expect(url).toBe('https://g.example/v1/payments');
    expect(init.headers.Authorization).toBe('Bearer jwt');
    expect(init.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(JSON.parse(init.body!)).toEqual({ method: 'link', mode: 'charge', amount: 4200, currency: 'USD', reference: 'visit-77', timeout: 600 });
  });

  it('never hands on a client secret, even from an answer that carries one', async () => {
    const c = new PaymentClient('https://g', 'jwt', () =>
      response(201, { payment: payment({ method: 'link' }), client_secret: 'pcs_x', link_url: 'https://g/pay/pay_1#pcs_x' }));
    const out = await c.create({ method: 'link', amount: 4200, currency: 'USD', reference: 'visit-77' });
    expect(out.linkUrl).toBe('https://g/pay/pay_1');
    expect(JSON.stringify(out)).not.toContain('pcs_');
  });

  it('turns API errors, network failures and odd answers into typed errors', async () => {
    const err = (f: () => Promise<unknown>) => f().then(() => null, (e: PaymentApiError) => [e.status, e.code]);
    const c1 = new PaymentClient('https://g', 't', () => response(403, { error: { code: 'missing_grant', message: 'no' } }));
    expect(await err(() => c1.show('pay_1'))).toEqual([403, 'missing_grant']);
    const c2 = new PaymentClient('https://g', 't', () => Promise.reject(new Error('down')));
    expect(await err(() => c2.command('pay_1', 'cancel'))).toEqual([0, 'network_error']);
    const c3 = new PaymentClient('https://g', 't', () => response(200, { payment: { id: 'pay_1' } }));
    expect(await err(() => c3.show('pay_1'))).toEqual([200, 'bad_response']);
    const c4 = new PaymentClient('https://g', 't', () => response(500, null));
    expect(await err(() => c4.show('pay_1'))).toEqual([500, 'http_500']);
  });

  it('escapes ids in paths', async () => {
    const fetchFn = vi.fn((_u: string) => response(200, { payment: payment() }));
    await new PaymentClient('https://g', 't', fetchFn).command('pay_1/../x', 'capture', 'payment-card-number');
    expect(fetchFn.mock.calls[0]![0]).toBe('https://g/v1/payments/pay_1%2F..%2Fx/capture');
  });
});

describe('PaymentTracker', () => {
  it('keeps the newest document, reports changes and the result once', () => {
    const t = new PaymentTracker(() => Promise.reject(new Error('unused')));
    const seen: string[] = [];
    const results: Payment[] = [];
    t.events.on('payment', (p) => seen.push(`${p.state}:${p.fields[0]!.length}`));
    t.events.on('result', (p) => results.push(p));
    expect(t.accept(payment())).toBe(true);
    expect(t.accept(payment())).toBe(false);
    t.accept(payment({ state: 'collecting', updated_at: 2, fields: [{ field: 'payment-card-number', status: 'collecting', length: 6, valid: false }] }));
    expect(t.accept(payment({ state: 'requested', updated_at: 1 }))).toBe(false);
    t.accept(payment({ state: 'succeeded', updated_at: 3, card: { token: 'tok_1', brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 } }));
    expect(t.accept(payment({ state: 'collecting', updated_at: 9 }))).toBe(false);
    expect(seen).toEqual(['requested:0', 'collecting:6', 'succeeded:0']);
    expect(results.map((p) => p.card?.last4)).toEqual(['4242']);
    expect(t.get('pay_1')?.state).toBe('succeeded');
  });

  it('ends an authorize-mode payment at `authorized`: no more polling, one result', async () => {
    vi.useFakeTimers();
    try {
      const answers = [payment({ state: 'authorizing', updated_at: 2 }), payment({ state: 'authorized', mode: 'authorize', updated_at: 3 })];
      const fetchOne = vi.fn(() => Promise.resolve(answers.shift() ?? payment({ state: 'captured', updated_at: 9 })));
      const t = new PaymentTracker(fetchOne, 100);
      const results: string[] = [];
      t.events.on('result', (p) => results.push(p.state));
      t.accept(payment());
      t.watch('pay_1');
      await vi.advanceTimersByTimeAsync(1000);
      expect(fetchOne).toHaveBeenCalledTimes(2);
      expect(results).toEqual(['authorized']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls an open payment until it ends', async () => {
    vi.useFakeTimers();
    try {
      const answers = [payment({ state: 'collecting', updated_at: 2 }), payment({ state: 'cancelled', updated_at: 3 })];
      const fetchOne = vi.fn(() => Promise.resolve(answers.shift() ?? payment({ state: 'cancelled', updated_at: 3 })));
      const t = new PaymentTracker(fetchOne, 100);
      t.accept(payment());
      t.watch('pay_1');
      t.watch('pay_1');
      await vi.advanceTimersByTimeAsync(1000);
      expect(fetchOne).toHaveBeenCalledTimes(2);
      expect(t.get('pay_1')?.state).toBe('cancelled');
    } finally {
      vi.useRealTimers();
    }
  });
});
