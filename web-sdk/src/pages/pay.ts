/**
 * The pay-by-link page's script (served by the gateway at `/pay/{id}`). The client secret
 * arrives in the URL fragment (`#pcs_...`), which browsers never send to a server; it is
 * read once and removed from the address bar, then given to the card iframe. Card data is
 * typed into the iframe (widget origin) only: this page sees field states and the result.
 */
import { CardForm } from '../card/card-form';
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
  const amount = formatMinor(Number(root.amount), root.currency ?? 'USD');
  el('amount').textContent = amount;
  el('pay-amount').textContent = amount;
  document.title = `Pay ${amount}`;

  const secret = window.location.hash.slice(1);
  history.replaceState(null, '', window.location.pathname);
  if (!/^pcs_[0-9A-Za-z]{32}$/.test(secret)) {
    say('This link is incomplete: open the full link you were sent.', 'error');
    return;
  }
  const form = new CardForm({
    widgetOrigin: root.widgetOrigin ?? '',
    tenant: root.tenant ?? '',
    payment: { id: root.payment ?? '', clientSecret: secret },
    style: { base: { fontSize: '16px', color: '#1a1a2e' }, invalid: { color: '#b3261e' } },
  });
  form.on('ready', () => say('Enter your card details.'));
  form.on('change', () => { button.disabled = !form.complete; });
  form.on('error', (e) => say(e.message, 'error'));
  form.on('submit', () => { if (!button.disabled) button.click(); });
  form.mount('#card');
  button.addEventListener('click', async () => {
    button.disabled = true;
    say('Paying…');
    try {
      const card = await form.submit();
      form.destroy();
      el('card').hidden = true;
      button.hidden = true;
      // `authorized`: an `authorize`-mode payment's card was accepted (captured later).
      if (card.status && card.status !== 'succeeded' && card.status !== 'authorized') {
        say(`The payment with ${card.brand} ending in ${card.last4} was declined. Ask for a new link to try another card.`, 'error');
      } else {
        say(`Thank you: paid ${amount} with ${card.brand} ending in ${card.last4}. You can close this page.`, 'ok');
      }
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (err.code === 'payment_link_used' || err.code === 'payment_already_completed') {
        form.destroy();
        button.hidden = true;
      } else {
        button.disabled = !form.complete;
      }
      say(err.message ?? 'The payment failed.', 'error');
    }
  });
}

start();
