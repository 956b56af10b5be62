/**
 * The card iframe's script (served by the gateway on the widget origin, pinned by SRI and
 * the page's CSP). It loads the wasm with `fetch(..., { integrity })`, waits for the parent's
 * connect message from the exact parent origin, then talks only over the transferred port.
 *
 * Card data rules: the values live in the inputs and in wasm memory; this script never logs,
 * never posts a value to the parent, and sends the network only the sealed envelope.
 */

import init from 'hushpay-wasm-glue';
import { compileStyle } from '../card/style';
import { isConnect, parseParentMessage } from '../card/protocol';
import type { FrameMessage, ParentMessage } from '../card/protocol';
import { cardFrameStrings } from '../i18n/card-frame';
import { Fields } from './fields';
import { submitCard } from './submit';
import type { SubmitOutcome } from './submit';

const root = document.documentElement;
const config = {
  tenant: root.dataset.tenant ?? '',
  parentOrigin: root.dataset.parentOrigin ?? '',
  wasm: root.dataset.wasm ?? '',
  wasmIntegrity: root.dataset.wasmIntegrity ?? '',
};

/** The strings of the page's language (`<html lang>`, set by the gateway from the payment's
 * locale). */
const t = cardFrameStrings(root.lang);

/** Puts the language's strings in the page (the gateway renders it in English). */
function localize(): void {
  const text = (selector: string, value: string) => {
    const node = document.querySelector(selector);
    if (node) node.textContent = value;
  };
  document.title = t.title;
  text('legend', t.title);
  for (const [field, label] of Object.entries(t.labels)) text(`label[for="${field}"]`, label);
  for (const [field, placeholder] of Object.entries(t.placeholders)) {
    document.getElementById(field)?.setAttribute('placeholder', placeholder);
  }
  text('#expiry-hint', t.expiryHint);
  text('#cvc-hint', t.cvcHint);
}
localize();

let port: MessagePort | null = null;
let fields: Fields | null = null;
let payment: { id: string; clientSecret: string } | null = null;
let wasmFailed = false;
let busy = false;
/** The card was accepted: the form is finished and submits nothing more. */
let done = false;

function send(message: FrameMessage): void {
  port?.postMessage(message);
}

/** Progress for screen readers (`role=status`, visually hidden). */
function status(text: string): void {
  const el = document.getElementById('form-status');
  if (el) el.textContent = text;
}

/** A problem with the whole form, shown under it (`role=alert`). */
function formError(text: string): void {
  const el = document.getElementById('form-error');
  if (el) el.textContent = text;
}

const wasmReady = init({
  module_or_path: fetch(config.wasm, { integrity: config.wasmIntegrity, credentials: 'omit' }),
}).then(() => true, () => {
  wasmFailed = true;
  formError(t.loadFailed);
  send({ type: 'error', error: { code: 'frame_integrity', message: 'The card form could not be loaded securely.' } });
  return false;
});

/** The one accepted `window` message: the parent's connect, from the exact parent origin. */
function onWindowMessage(event: MessageEvent): void {
  if (port !== null) return;
  if (event.source !== window.parent || event.origin !== config.parentOrigin) return;
  if (!isConnect(event.data) || event.ports.length !== 1) return;
  const p = event.ports[0];
  if (!p) return;
  port = p;
  window.removeEventListener('message', onWindowMessage);
  port.onmessage = (e: MessageEvent) => {
    const msg = parseParentMessage(e.data);
    if (msg) void onParentMessage(msg);
  };
  if (wasmFailed) send({ type: 'error', error: { code: 'frame_integrity', message: 'The card form could not be loaded securely.' } });
}

async function onParentMessage(msg: ParentMessage): Promise<void> {
  switch (msg.type) {
    case 'init':
      if (payment !== null) return;
      payment = msg.payment;
      if (!(await wasmReady)) return;
      start(msg.style, msg.postalCode);
      return;
    case 'focus':
      fields?.inputs[msg.field].focus();
      return;
    case 'clear':
      fields?.clear();
      return;
    case 'submit':
      await submit(msg.requestId);
      return;
  }
}

function start(style: unknown, postalCode: boolean): void {
  const compiled = compileStyle(style);
  if (compiled.css) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(compiled.css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
  if (compiled.errors.length) {
    send({ type: 'error', error: { code: 'invalid_style', message: compiled.errors.join('; ') } });
  }
  fields = new Fields(document, (state) => send({ type: 'change', state }), (brand) => status(brand ? t.brandCard(brand) : ''), t.fieldErrors);
  fields.postalCodeEnabled = postalCode;
  const postal = document.querySelector<HTMLElement>('[data-field="postalCode"]');
  if (!postalCode && postal) {
    postal.hidden = true;
    fields.inputs.postalCode.disabled = true;
  }
  for (const [name, input] of Object.entries(fields.inputs)) {
    const field = name as keyof typeof fields.inputs;
    input.addEventListener('focus', () => send({ type: 'focus', field }));
    input.addEventListener('blur', () => send({ type: 'blur', field }));
  }
  const form = document.getElementById('card-form') as HTMLFormElement;
  // A form of several fields without a submit button has no implicit submission: Enter is
  // caught here and passed to the parent, which decides whether to submit.
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing) return;
    e.preventDefault();
    send({ type: 'submit' });
  });
  (document.getElementById('fields') as HTMLFieldSetElement).disabled = false;
  new ResizeObserver(() => send({ type: 'resize', height: Math.ceil(form.getBoundingClientRect().height) + 4 }))
    .observe(form);
  send({ type: 'ready' });
}

async function submit(requestId: number): Promise<void> {
  if (!fields || !payment) {
    send({ type: 'result', requestId, ok: false, error: { code: 'not_ready', message: t.notReady } });
    return;
  }
  if (done) {
    send({ type: 'result', requestId, ok: false, error: { code: 'already_submitted', message: t.alreadySubmitted } });
    return;
  }
  if (busy) {
    send({ type: 'result', requestId, ok: false, error: { code: 'in_progress', message: t.inProgress } });
    return;
  }
  busy = true;
  const fieldset = document.getElementById('fields') as HTMLFieldSetElement;
  fieldset.disabled = true;
  formError('');
  status(t.submitting);
  const i = fields.inputs;
  const outcome = await submitCard({
    gateway: window.location.origin,
    tenant: config.tenant,
    payment,
    values: { number: i.number.value, expiry: i.expiry.value, cvc: i.cvc.value,
      postalCode: fields.postalCodeEnabled ? i.postalCode.value : undefined },
    strings: t,
    onChallenge: () => status(t.bankCheck),
  }).catch((): SubmitOutcome => ({ ok: false, error: { code: 'internal', message: t.submitFailed } }));
  busy = false;
  if (outcome.ok) {
    done = true;
    status(t.accepted);
    send({ type: 'result', requestId, ok: true, card: outcome.card });
    return;
  }
  fieldset.disabled = false;
  status('');
  if (outcome.error.field) {
    fields.showError(outcome.error.field, outcome.error.message);
    fields.inputs[outcome.error.field].focus();
  } else {
    formError(outcome.error.message);
  }
  send({ type: 'result', requestId, ok: false, error: outcome.error });
}

window.addEventListener('message', onWindowMessage);
