import { describe, expect, it } from 'vitest';
import { describeField, describePayment } from './describe';
import type { Payment } from '../rtc/messages';
import { es } from '../i18n/es';

const base: Payment = {
  id: 'pay_1', tenant: 't', amount: 4200, currency: 'USD', reference: 'visit-77', mode: 'charge', method: 'keypad',
  required_fields: ['payment-card-number', 'expiration-date'], allowed_brands: ['visa'], max_attempts: 3, timeout_secs: 900,
  state: 'collecting', failed_attempts: 0, created_by: 'agent:a', created_at: 1, updated_at: 2, expires_at: 901,
  fields: [
    { field: 'payment-card-number', status: 'collecting', length: 16, valid: true, brand: 'visa' },
    { field: 'expiration-date', status: 'pending', length: 0, valid: false },
  ],
};

describe('describePayment', () => {
  it('puts masked progress into words', () => {
    expect(describeField(base.fields[0]!)).toBe('Card number: 16 digits, valid, visa');
    expect(describeField(base.fields[1]!)).toBe('Expiry date: not asked yet');
    expect(describeField({ field: 'security-code', status: 'collecting', length: 0, valid: false })).toBe('Security code: waiting for keys');
    const d = describePayment(base);
    expect(d.title).toBe('$42.00 · visit-77 · keypad');
    expect(d.state).toBe('Collecting card details');
    expect(d.terminal).toBe(false);
  });

  it('states the result with token, brand and last 4', () => {
    const done = describePayment({ ...base, state: 'succeeded', result: 'success', authorization_code: 'SBX123456',
      card: { token: 'tok_abc', brand: 'visa', last4: '4242', exp_month: 3, exp_year: 2034 } });
    expect(done.result).toBe('Payment succeeded (success). visa ending in 4242, expires 03/2034, token tok_abc. Authorization SBX123456.');
    const failed = describePayment({ ...base, state: 'failed', result: 'payment-connector-error', error: 'card-declined' });
    expect(failed.result).toContain('(payment-connector-error: card-declined). no card.');
    expect(describePayment({ ...base, failed_attempts: 1 }).state).toContain('failed attempts: 1 of 3');
  });

  it('speaks the agent\'s language when the console does', () => {
    expect(describeField(base.fields[0]!, es.console)).toBe('Número de tarjeta: 16 dígitos, válido, visa');
    expect(describeField(base.fields[1]!, es.console)).toBe('Fecha de vencimiento: aún no solicitado');
    const d = describePayment({ ...base, amount: 425000, failed_attempts: 1 }, es.console, 'es');
    expect(d.title).toMatch(/^4\.?250,00\sUS\$ · visit-77 · keypad$/);
    expect(d.state).toBe('Recopilando los datos de la tarjeta (intentos fallidos: 1 de 3)');
    const done = describePayment({ ...base, state: 'succeeded', result: 'success',
      card: { token: 'tok_abc', brand: 'visa', last4: '4242', exp_month: 3, exp_year: 2034 } }, es.console);
    expect(done.result).toBe('Pago realizado (success). visa terminada en 4242, vence 03/2034, token tok_abc.');
  });
});
