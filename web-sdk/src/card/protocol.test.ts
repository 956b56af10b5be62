import { describe, expect, it } from 'vitest';
import { isConnect, parseFrameMessage, parseParentMessage } from './protocol';

describe('parent messages (read by the iframe)', () => {
  it('accepts a well-formed init and submit', () => {
    expect(parseParentMessage({ type: 'init', payment: { id: 'pay_1', clientSecret: 'pcs_abc' }, postalCode: false }))
      .toEqual({ type: 'init', payment: { id: 'pay_1', clientSecret: 'pcs_abc' }, style: undefined, postalCode: false });
    expect(parseParentMessage({ type: 'submit', requestId: 3 })).toEqual({ type: 'submit', requestId: 3 });
    expect(parseParentMessage({ type: 'focus', field: 'cvc' })).toEqual({ type: 'focus', field: 'cvc' });
  });

  it('drops anything else', () => {
    for (const bad of [
      null, 'init', [], { type: 'init' }, { type: 'init', payment: { id: '../x', clientSecret: 's' } },
      { type: 'init', payment: { id: 'p', clientSecret: 'a b' } }, { type: 'submit' },
      { type: 'submit', requestId: 1.5 }, { type: 'focus', field: 'password' }, { type: 'eval', code: '1' },
    ]) expect(parseParentMessage(bad)).toBeNull();
    expect(isConnect({ hushpay: 'connect', version: 1 })).toBe(true);
    expect(isConnect({ hushpay: 'connect', version: 2 })).toBe(false);
    expect(isConnect('connect')).toBe(false);
  });
});

describe('frame messages (read by the SDK)', () => {
  it('accepts states, results and errors', () => {
    const state = { field: 'number', empty: false, complete: true, valid: true, potentiallyValid: true, brand: 'visa' };
    expect(parseFrameMessage({ type: 'change', state })).toEqual({ type: 'change', state });
    const card = { paymentId: 'pay_1', token: 'tok_x', brand: 'visa', last4: '4242' };
    expect(parseFrameMessage({ type: 'result', requestId: 1, ok: true, card })).toEqual({ type: 'result', requestId: 1, ok: true, card });
    expect(parseFrameMessage({ type: 'error', error: { code: 'c', message: 'm' } })).not.toBeNull();
  });

  it('drops malformed ones', () => {
    expect(parseFrameMessage({ type: 'change', state: { field: 'x' } })).toBeNull();
    expect(parseFrameMessage({ type: 'result', requestId: 1, ok: true, card: { paymentId: 'p', token: 't', brand: 'v', last4: '42424242' } })).toBeNull();
    expect(parseFrameMessage({ type: 'resize', height: 1e9 })).toBeNull();
    expect(parseFrameMessage({ type: 'unknown' })).toBeNull();
  });
});
