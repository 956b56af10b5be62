/**
 * What the agent console shows of a payment, as plain text: the state, each field's masked
 * progress (`Card number: 16 digits, valid, visa`), and the result. Only masked facts exist
 * in a payment document, and only they are put into words here.
 */
import type { FieldStatus, Payment } from '../rtc/messages';
import { TERMINAL_STATES } from '../rtc/messages';
import { formatMinor } from '../pages/money';
import type { ConsoleStrings } from '../i18n/catalogue';
import { en } from '../i18n/en';

/** `strings`: the agent's language (English by default). */
export function fieldLabel(field: string, strings: ConsoleStrings = en.console): string {
  return (strings.fields as Record<string, string>)[field] ?? field;
}

export function describeField(f: FieldStatus, strings: ConsoleStrings = en.console): string {
  const t = strings;
  const parts: string[] = [];
  if (f.status === 'pending') parts.push(t.notAskedYet);
  else if (f.status === 'collecting') parts.push(f.length === 0 ? t.waitingForKeys : t.digits(f.length));
  else parts.push(f.length > 0 ? t.capturedDigits(f.length) : t.captured);
  if (f.status !== 'pending' && f.length > 0) parts.push(f.valid ? t.valid : t.notValidYet);
  if (f.brand) parts.push(f.brand);
  return `${fieldLabel(f.field, t)}: ${parts.join(', ')}`;
}

export interface Description {
  title: string;
  state: string;
  fields: string[];
  /** Set once the payment ended. */
  result?: string;
  terminal: boolean;
}

/** `strings` and `locale`: the agent's language and the locale amounts are formatted in. */
export function describePayment(p: Payment, strings: ConsoleStrings = en.console, locale?: string): Description {
  const t = strings;
  const title = `${formatMinor(p.amount, p.currency, locale)} · ${p.reference} · ${p.method}`;
  const d: Description = {
    title,
    state: (t.states as Record<string, string>)[p.state] ?? p.state,
    fields: p.method === 'keypad' || p.fields.some((f) => f.status !== 'pending') ? p.fields.map((f) => describeField(f, t)) : [],
    terminal: TERMINAL_STATES.includes(p.state),
  };
  if (p.failed_attempts > 0 && !d.terminal) d.state += t.failedAttempts(p.failed_attempts, p.max_attempts);
  if (d.terminal) {
    const card = p.card ? t.cardEnding(p.card.brand, p.card.last4, `${String(p.card.exp_month).padStart(2, '0')}/${p.card.exp_year}`, p.card.token) : t.noCard;
    const why = [p.result, p.error].filter(Boolean).join(': ');
    d.result = `${d.state}${why ? ` (${why})` : ''}. ${card}.${p.authorization_code ? t.authorization(p.authorization_code) : ''}`;
  }
  return d;
}
