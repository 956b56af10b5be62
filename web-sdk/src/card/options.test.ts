import { describe, expect, it } from 'vitest';
import { checkOptions, frameUrl } from './options';

const ok = { widgetOrigin: 'https://elements.pay.example', tenant: 'ten_abc123', payment: { id: 'pay_1', clientSecret: 'pcs_x' } };

describe('checkOptions', () => {
  it('fills defaults', () => {
    const o = checkOptions(ok);
    expect(o.postalCode).toBe(true);
    expect(o.loadTimeoutMs).toBe(15000);
    expect(o.title).toMatch(/card/i);
  });

  it('refuses sloppy origins, ids and styles', () => {
    for (const widgetOrigin of ['elements.pay.example', 'https://elements.pay.example/', 'https://e.example/path', 'javascript:alert(1)', 'ftp://x']) {
      expect(() => checkOptions({ ...ok, widgetOrigin })).toThrow(/widgetOrigin/);
    }
    expect(() => checkOptions({ ...ok, tenant: 'acme' })).toThrow(/tenant/);
    expect(() => checkOptions({ ...ok, payment: { id: 'pay 1', clientSecret: 'x' } })).toThrow(/payment/);
    expect(() => checkOptions({ ...ok, style: { base: { backgroundImage: 'url(x)' } } })).toThrow(/style/);
  });
});

describe('frameUrl', () => {
  it('names the tenant and the exact parent origin', () => {
    expect(frameUrl('http://localhost:8080', 'ten_a', 'http://127.0.0.1:3000'))
      .toBe('http://localhost:8080/elements/v1/card?tenant=ten_a&origin=http%3A%2F%2F127.0.0.1%3A3000');
    expect(frameUrl('http://localhost:8080', 'ten_a', 'http://127.0.0.1:3000', 'es-US'))
      .toBe('http://localhost:8080/elements/v1/card?tenant=ten_a&origin=http%3A%2F%2F127.0.0.1%3A3000&locale=es-US');
  });

  it('takes the patient\'s language for the title and refuses a malformed one', () => {
    expect(checkOptions({ ...ok, locale: 'es-US' }).title).toBe('Formulario seguro de pago con tarjeta');
    expect(checkOptions({ ...ok, locale: 'es-US' }).locale).toBe('es-US');
    expect(checkOptions(ok).locale).toBe('');
    for (const locale of ['', 'español', 'es-', 'es_US', 'es-US-x']) {
      expect(() => checkOptions({ ...ok, locale })).toThrow(/locale/);
    }
  });
});
