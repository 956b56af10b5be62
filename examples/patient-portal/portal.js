// The demo patient portal: what a telehealth developer writes with @hushpay/web.
//
// 1. Our backend (server.mjs, or `hushpay serve` in development) mints a patient access token
//    for the visit's room with the tenant API key: POST ./session -> { token, gateway }.
// 2. Call.join() connects voice and chat. The agent's payment requests arrive as events:
//    - paymentRequested with a client secret (card form): mount Hushpay's CardForm, the card
//      is typed into Hushpay's iframe, never into this page;
//    - paymentRequested without one (keypad): show a keypad that sends RFC 4733 tones;
//    - paymentLink (pay-by-link in the chat): show the link;
//    - paymentEnded: close the prompt and say how it ended.
import { Call, CardForm, formatMinor } from './hushpay-web.js';

const $ = (id) => document.getElementById(id);

// The payment prompt speaks the payment's language (`payment.locale`, set by whoever asked for
// the payment): its own texts here, the card iframe's through CardForm({ locale }), amounts
// with Intl for that locale. A portal adds a language by adding its texts.
const PAYMENT_TEXT = {
  en: {
    summary: (amount, reference) => `${amount} for ${reference}`,
    pay: (amount) => `Pay ${amount}`,
    paying: 'Paying…',
    declined: (brand, last4) => `The payment with ${brand} ending in ${last4} was declined.`,
    thanks: (brand, last4) => `Thank you: paid with ${brand} ending in ${last4}.`,
    withCard: (brand, last4) => ` with ${brand} ending in ${last4}`,
    // `authorized`: an `authorize`-mode payment's card was accepted; the clinic captures it later.
    ended: { succeeded: (card) => `Thank you: paid${card}.`, authorized: (card) => `Thank you: paid${card}.`, failed: (card) => `The payment did not go through${card}.`,
      cancelled: () => 'The payment was cancelled.', expired: () => 'The payment request expired.' },
    endedOther: 'The payment ended.',
    keypad: 'Key your card details on the keypad when your care team asks for them. Nobody on the call hears the tones.',
    key: (d) => `Key ${d}`,
  },
  es: {
    summary: (amount, reference) => `${amount} por ${reference}`,
    pay: (amount) => `Pagar ${amount}`,
    paying: 'Pagando…',
    declined: (brand, last4) => `El pago con la tarjeta ${brand} terminada en ${last4} fue rechazado.`,
    thanks: (brand, last4) => `Gracias: pagó con la tarjeta ${brand} terminada en ${last4}.`,
    withCard: (brand, last4) => ` con la tarjeta ${brand} terminada en ${last4}`,
    ended: { succeeded: (card) => `Gracias: pago realizado${card}.`, authorized: (card) => `Gracias: pago realizado${card}.`, failed: (card) => `El pago no se pudo completar${card}.`,
      cancelled: () => 'El pago fue cancelado.', expired: () => 'La solicitud de pago venció.' },
    endedOther: 'El pago terminó.',
    keypad: 'Marque los datos de su tarjeta en el teclado cuando su equipo de atención se los pida. Nadie en la llamada oye los tonos.',
    key: (d) => `Tecla ${d}`,
  },
};
let paymentLocale = 'en';
const text = () => PAYMENT_TEXT[paymentLocale.split('-')[0]] ?? PAYMENT_TEXT.en;
const numberLocale = () => (paymentLocale === 'en' ? undefined : paymentLocale);
const say = (text) => { $('status').textContent = text; };
const fail = (text) => { $('alert').textContent = text; };
let call = null;
let form = null;

$('join-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  fail('');
  $('join').disabled = true;
  say('Connecting…');
  try {
    // The visit's room may come in the page's address (`?room=`); the backend decides.
    const room = new URLSearchParams(location.search).get('room');
    const res = await fetch(room ? `./session?room=${encodeURIComponent(room)}` : './session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    const session = await res.json();
    if (!res.ok) throw new Error(session.error?.message ?? `session: ${res.status}`);
    call = await Call.join({ url: session.gateway, token: session.token, audioElement: $('remote-audio') });
    window.__call = call;
    wire(call, session);
    $('join-form').hidden = true;
    $('call').hidden = false;
    $('chat').hidden = false;
    $('who').textContent = call.participants.length ? `With ${call.participants.map((p) => p.identity).join(', ')}` : 'Waiting for your care team…';
    say('You are in your visit.');
    $('call-title').focus();
  } catch (err) {
    say('Not connected.');
    fail(`Could not join: ${err.message}`);
  } finally {
    $('join').disabled = false;
  }
});

function wire(c, session) {
  c.on('participantJoined', (p) => { $('who').textContent = `With ${p.identity}`; say(`${p.identity} joined.`); });
  c.on('chat', (m) => addChat(m.id, `${m.from.identity}: ${m.text}`));
  c.on('chatRetract', (m) => { const li = document.getElementById(`chat-${m.id}`); if (li) li.textContent = m.text; });
  c.on('paymentLink', (l) => addChat(l.id, `${l.from.identity}: pay ${formatMinor(l.payment.amount, l.payment.currency)} for ${l.payment.reference} — `, l.url));
  c.on('paymentRequested', ({ payment, clientSecret }) => showPayment(payment, clientSecret, session));
  c.on('paymentEnded', (end) => {
    form?.destroy();
    form = null;
    $('pay').hidden = true;
    $('keypad').hidden = true;
    $('payment').hidden = false;
    const t = text();
    const card = end.last4 ? t.withCard(end.brand, end.last4) : '';
    $('payment-message').textContent = t.ended[end.state]?.(card) ?? t.endedOther;
  });
  c.on('error', (e) => fail(e.message));
  c.on('closed', (x) => { say(`The visit ended${x.reason ? ` (${x.reason})` : ''}.`); $('call').hidden = true; $('chat').hidden = true; $('join-form').hidden = false; });
}

function addChat(id, text, link) {
  const li = document.createElement('li');
  li.id = `chat-${id}`;
  li.append(text);
  if (link) {
    const a = document.createElement('a');
    a.href = link;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = 'Open the secure payment page';
    li.append(a);
  }
  $('chat-log').append(li);
}

function showPayment(payment, clientSecret, session) {
  form?.destroy();
  form = null;
  $('payment').hidden = false;
  $('payment-message').textContent = '';
  paymentLocale = payment.locale ?? 'en';
  $('payment').lang = paymentLocale;
  const t = text();
  const amount = formatMinor(payment.amount, payment.currency, numberLocale());
  $('payment-summary').textContent = t.summary(amount, payment.reference);
  $('keypad-hint').textContent = t.keypad;
  $('pay').hidden = true;
  $('keypad').hidden = true;
  if (payment.method === 'card-form' && clientSecret) {
    form = new CardForm({ widgetOrigin: session.widgetOrigin, tenant: session.tenant, payment: { id: payment.id, clientSecret },
      ...(payment.locale ? { locale: payment.locale } : {}) });
    form.on('change', () => { $('pay').disabled = !form.complete; });
    form.on('error', (e) => { $('payment-message').textContent = e.message; });
    form.on('submit', () => { if (!$('pay').disabled) $('pay').click(); });
    form.mount('#card-form');
    $('pay').textContent = t.pay(amount);
    $('pay').hidden = false;
    $('pay').disabled = true;
  } else if (payment.method === 'keypad') {
    const keys = $('keypad').querySelector('.keys');
    keys.replaceChildren(...'123456789*0#'.split('').map((d) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d;
      b.setAttribute('aria-label', t.key(d));
      b.addEventListener('click', () => call.sendDigits(d));
      return b;
    }));
    $('keypad').hidden = false;
  }
  $('payment-title').focus();
}

$('pay').addEventListener('click', async () => {
  $('pay').disabled = true;
  const t = text();
  $('payment-message').textContent = t.paying;
  try {
    const card = await form.submit();
    const accepted = !card.status || card.status === 'succeeded' || card.status === 'authorized';
    $('payment-message').textContent = accepted
      ? t.thanks(card.brand, card.last4)
      : t.declined(card.brand, card.last4);
    form?.destroy();
    form = null;
    $('pay').hidden = true;
  } catch (err) {
    // The payment ended meanwhile (paymentEnded closed the form and said how).
    if (err.code === 'destroyed') return;
    $('payment-message').textContent = err.message;
    $('pay').disabled = !form?.complete;
  }
});

$('chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('chat-input').value;
  if (!text.trim() || !call) return;
  try { call.sendChat(text); $('chat-input').value = ''; } catch (err) { fail(err.message); }
});
$('mute').addEventListener('click', () => {
  call.setMuted(!call.muted);
  $('mute').setAttribute('aria-pressed', String(call.muted));
  $('mute').textContent = call.muted ? 'Unmute microphone' : 'Mute microphone';
});
$('leave').addEventListener('click', () => call?.leave());
