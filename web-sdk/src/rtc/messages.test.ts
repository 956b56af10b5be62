import { describe, expect, it } from 'vitest';
import { parseChatEvent, parseServerMessage } from './messages';

const sender = { participant_id: 'par_1', identity: 'agent-1', role: 'agent' };
const patientPayment = { id: 'pay_1', method: 'link', amount: 4200, currency: 'USD', reference: 'r', required_fields: [], allowed_brands: ['visa'], expires_at: 9 };

describe('messages', () => {
  it('parses the payment prompt and link', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'payment_requested', payment: { ...patientPayment, method: 'card-form' }, client_secret: 'pcs_1' }))).not.toBeNull();
    const link = { type: 'payment_link', id: 'msg_1', ts: 1, from: sender, payment: patientPayment, url: 'http://127.0.0.1/pay/pay_1#pcs_1' };
    expect(parseChatEvent(JSON.stringify(link))).toEqual(link);
  });

  it('parses how a payment ended, and only a finished one', () => {
    const ended = { type: 'payment_ended', payment: { id: 'pay_1', method: 'keypad', state: 'succeeded', result: 'success', brand: 'visa', last4: '4242' } };
    expect(parseServerMessage(JSON.stringify(ended))).toEqual(ended);
    expect(parseServerMessage(JSON.stringify({ ...ended, payment: { ...ended.payment, state: 'collecting' } }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...ended, payment: { ...ended.payment, last4: 4242 } }))).toBeNull();
  });

  it('parses the recording state strictly', () => {
    const rec = { type: 'recording', recording: { recording_id: null, paused: true, reasons: ['payment:pay_1'] } };
    expect(parseServerMessage(JSON.stringify(rec))).toEqual(rec);
    expect(parseServerMessage(JSON.stringify({ ...rec, recording: { ...rec.recording, recording_id: 'rec_1' } }))).not.toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...rec, recording: { ...rec.recording, paused: 'yes' } }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...rec, recording: { ...rec.recording, reasons: [1] } }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'recording' }))).toBeNull();
  });

  it('parses the token lifetime messages strictly', () => {
    for (const m of [{ type: 'token_expiring', exp: 9, expires_in: 60 }, { type: 'token_expired', exp: 9 }, { type: 'token_refreshed', exp: 9 }]) {
      expect(parseServerMessage(JSON.stringify(m))).toEqual(m);
    }
    expect(parseServerMessage(JSON.stringify({ type: 'token_expiring', exp: 9 }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'token_expired', exp: '9' }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'token_refreshed' }))).toBeNull();
  });

  it('refuses links that are not http(s) and malformed messages', () => {
    const link = { type: 'payment_link', id: 'msg_1', ts: 1, from: sender, payment: patientPayment };
    for (const url of ['javascript:alert(1)', 'data:text/html,x', '//evil']) {
      expect(parseChatEvent(JSON.stringify({ ...link, url })), url).toBeNull();
    }
    expect(parseChatEvent(JSON.stringify({ type: 'chat', id: 'm', ts: 1, from: sender, text: 5, redacted: false }))).toBeNull();
    expect(parseChatEvent('x'.repeat(10))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ type: 'payment_requested', payment: { id: 'pay_1' } }))).toBeNull();
    expect(parseServerMessage(42)).toBeNull();
  });
});
