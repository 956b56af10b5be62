/**
 * What the agent console shows of a payment, as plain text: the state, each field's masked
 * progress (`Card number: 16 digits, valid, visa`), and the result. Only masked facts exist
 * in a payment document, and only they are put into words here.
 */
import type { FieldStatus, Payment } from '../rtc/messages';
import { TERMINAL_STATES } from '../rtc/messages';
import { formatMinor } from '../pages/money';

const FIELD_LABELS: Record<string, string> = {
  'payment-card-number': 'Card number',
  'expiration-date': 'Expiry date',
  'security-code': 'Security code',
  'postal-code': 'Postal code',
};

const STATE_LABELS: Record<string, string> = {
  requested: 'Requested: waiting for the patient',
  collecting: 'Collecting card details',
  ready: 'All details captured: ready to complete',
  authorizing: 'Authorizing…',
  succeeded: 'Payment succeeded',
  failed: 'Payment failed',
  cancelled: 'Payment cancelled',
  expired: 'Payment expired',
  authorized: 'Card authorized: awaiting capture',
  capturing: 'Capturing…',
  captured: 'Payment captured',
  voiding: 'Releasing the authorization…',
  voided: 'Authorization released',
};

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field;
}

export function describeField(f: FieldStatus): string {
  const parts: string[] = [];
  if (f.status === 'pending') parts.push('not asked yet');
  else if (f.status === 'collecting') parts.push(f.length === 0 ? 'waiting for keys' : `${f.length} digit${f.length === 1 ? '' : 's'}`);
  else parts.push(f.length > 0 ? `captured, ${f.length} digits` : 'captured');
  if (f.status !== 'pending' && f.length > 0) parts.push(f.valid ? 'valid' : 'not valid yet');
  if (f.brand) parts.push(f.brand);
  return `${fieldLabel(f.field)}: ${parts.join(', ')}`;
}

export interface Description {
  title: string;
  state: string;
  fields: string[];
  /** Set once the payment ended. */
  result?: string;
  terminal: boolean;
}

export function describePayment(p: Payment): Description {
  const title = `${formatMinor(p.amount, p.currency)} · ${p.reference} · ${p.method}`;
  const d: Description = {
    title,
    state: STATE_LABELS[p.state] ?? p.state,
    fields: p.method === 'keypad' || p.fields.some((f) => f.status !== 'pending') ? p.fields.map(describeField) : [],
    terminal: TERMINAL_STATES.includes(p.state),
  };
  if (p.failed_attempts > 0 && !d.terminal) d.state += ` (failed attempts: ${p.failed_attempts} of ${p.max_attempts})`;
  if (d.terminal) {
    const card = p.card ? `${p.card.brand} ending in ${p.card.last4}, expires ${String(p.card.exp_month).padStart(2, '0')}/${p.card.exp_year}, token ${p.card.token}` : 'no card';
    const why = [p.result, p.error].filter(Boolean).join(': ');
    d.result = `${d.state}${why ? ` (${why})` : ''}. ${card}.${p.authorization_code ? ` Authorization ${p.authorization_code}.` : ''}`;
  }
  return d;
}
