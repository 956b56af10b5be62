/**
 * The pay-by-link page's script (served by the gateway at `/pay/{id}`). The client secret
 * arrives in the URL fragment (`#pcs_...`), which browsers never send to a server; it is
 * read once and removed from the address bar, then given to the card iframe. Card data is
 * typed into the iframe (widget origin) only: this page sees field states and the result.
 */
import { CardForm } from '../card/card-form';
import { catalogue, formatLocale } from '../i18n/catalogue';
import { formatMinor } from './money';

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} missing`);
  return found as T;
}

function start(): void {
  const root = document.documentElement.dataset;
  const status = el<HTMLParagraphElement>('status');
  const button = el<HTMLButtonElement>('pay');
  const say = (text: string, kind: '' | 'ok' | 'error' = '') => {
    status.textContent = text;
    status.className = `hp-status${kind ? ` hp-${kind}` : ''}`;
  };
  // The payment's locale (`<html lang>`, set by the gateway) picks the strings and formats.
  const lang = document.documentElement.lang;
  const t = catalogue(lang).payPage;
  const locale = formatLocale(lang);
  const amount = formatMinor(Number(root.amount), root.currency ?? 'USD', locale);
  el('amount').textContent = amount;
  el('pay-amount').textContent = amount;
  el('pay-word').textContent = t.pay;
  el('pay-button-word').textContent = t.pay;
  el('reference-label').textContent = t.reference;
  el('note').textContent = t.note;
  status.textContent = t.loading;
  document.title = `${t.pay} ${amount}`;
  const expires = Number(root.expiresAt);
  if (Number.isFinite(expires) && expires > 0) {
    const when = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' }).format(new Date(expires * 1000));
    el('expires').textContent = t.expires(when);
  }

  const secret = window.location.hash.slice(1);
  history.replaceState(null, '', window.location.pathname);
  if (!/^pcs_[0-9A-Za-z]{32}$/.test(secret)) {
    say(t.incompleteLink, 'error');
    return;
  }
  const form = new CardForm({
    widgetOrigin: root.widgetOrigin ?? '',
    ...(lang ? { locale: lang } : {}),
    tenant: root.tenant ?? '',
    payment: { id: root.payment ?? '', clientSecret: secret },
    style: { base: { fontSize: '16px', color: '#1a1a2e' }, invalid: { color: '#b3261e' } },
  });
  form.on('ready', () => say(t.enterCard));
  form.on('change', () => { button.disabled = !form.complete; });
  form.on('error', (e) => say(e.message, 'error'));
  form.on('submit', () => { if (!button.disabled) button.click(); });
  form.mount('#card');
  button.addEventListener('click', async () => {
    button.disabled = true;
    say(t.paying);
    try {
      const card = await form.submit();
      form.destroy();
      el('card').hidden = true;
      button.hidden = true;
      // `authorized`: an `authorize`-mode payment's card was accepted (captured later).
      if (card.status && card.status !== 'succeeded' && card.status !== 'authorized') {
        say(t.declined(card.brand, card.last4), 'error');
      } else {
        say(t.paid(amount, card.brand, card.last4), 'ok');
      }
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (err.code === 'payment_link_used' || err.code === 'payment_already_completed') {
        form.destroy();
        button.hidden = true;
      } else {
        button.disabled = !form.complete;
      }
      say(err.message ?? t.failed, 'error');
    }
  });
}

start();
