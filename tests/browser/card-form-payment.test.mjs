// Browser end-to-end for the card-form payment (issue 7): a payment created by the tenant
// backend (POST /v1/payments, method card-form), the patient types a test card into the
// iframe embedded by the test portal, and the token with brand and last4 arrives; a hostile
// script in the portal sees every message and cannot read the PAN; no request, console line
// or portal DOM carries it. Screenshots go to test-artifacts/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, events, fillCard, newPage, startCardEnv, waitForEvent } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

let env;
before(async () => { env = await startCardEnv(); });
after(async () => { await env?.close(); });

const PAN = '4242424242424242';
const CVC = '737';

/** A payment for the card form: `POST /v1/payments` (method card-form) as the tenant backend. */
async function createPayment() {
  const res = await fetch(`${env.gatewayUrl}/v1/payments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': `card-form-${Date.now()}-${Math.random()}` },
    body: JSON.stringify({ method: 'card-form', mode: 'charge', amount: 4200, currency: 'USD', reference: 'bill-42' }),
  });
  assert.equal(res.status, 201, `POST /v1/payments: ${res.status} ${await res.clone().text()}`);
  const body = await res.json();
  assert.match(body.client_secret, /^pcs_/);
  return { id: body.payment.id, secret: body.client_secret };
}

test('the patient fills a test card in the iframe; only the sealed card travels; the token and last4 arrive', async () => {
  const payment = await createPayment();
  const { context, page, seen } = await newPage(env.browser);
  // A hostile script in the portal page: it sees every message the page sends or receives,
  // and tries to read the iframe's inputs.
  await context.addInitScript((portalOrigin) => {
    if (location.origin !== portalOrigin) return;
    window.__sniffed = [];
    const log = (d) => { try { window.__sniffed.push(JSON.stringify(d)); } catch { window.__sniffed.push(String(d)); } };
    window.addEventListener('message', (e) => log(e.data), true);
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (d, ...rest) { log(d); return post.call(this, d, ...rest); };
    const desc = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
    Object.defineProperty(MessagePort.prototype, 'onmessage', {
      set(h) { desc.set.call(this, (e) => { log(e.data); return h(e); }); },
      get() { return desc.get.call(this); },
    });
  }, env.portal.origin);
  await page.goto(env.portalUrl(env.portal.origin, payment));
  await waitForEvent(page, 'ready');
  const frame = env.cardFrame(page);
  assert.ok(frame, 'the card iframe is on the widget origin');

  await fillCard(frame, { number: PAN, expiry: '1234', cvc: CVC, postalCode: '94107' });
  assert.equal(await frame.locator('#number').inputValue(), '4242 4242 4242 4242', 'grouped as typed');
  assert.equal(await frame.locator('#expiry').inputValue(), '12 / 34');

  const changes = (await events(page, 'change')).map((e) => e.payload);
  const lastNumber = changes.filter((c) => c.field === 'number').at(-1);
  assert.deepEqual(lastNumber, { field: 'number', empty: false, complete: true, valid: true, potentiallyValid: true, brand: 'visa' });
  assert.ok(changes.some((c) => c.field === 'number' && !c.complete && c.potentiallyValid), 'potentially valid while typing');
  assert.ok((await events(page, 'focus')).length >= 4 && (await events(page, 'blur')).length >= 1);
  assert.equal(await page.locator('#pay').isDisabled(), false, 'the portal learned the form is complete');
  await page.screenshot({ path: join(ARTIFACTS, 'card-form-filled.png') });

  // The hostile script cannot reach into the cross-origin iframe.
  const attempts = await page.evaluate(() => {
    const iframe = document.querySelector('iframe');
    const out = { contentDocument: iframe.contentDocument === null };
    try { out.read = iframe.contentWindow.document.getElementById('number').value; } catch (e) { out.error = e.name; }
    try { out.frames = window.frames[0].document.body.innerHTML; } catch (e) { out.framesError = e.name; }
    return out;
  });
  assert.deepEqual(attempts, { contentDocument: true, error: 'SecurityError', framesError: 'SecurityError' });

  const outcome = await page.evaluate(() => window.__submit());
  await page.screenshot({ path: join(ARTIFACTS, 'card-form-paid.png') });
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
  assert.match(outcome.card.token, /^tok_/);
  assert.equal(outcome.card.last4, '4242');
  assert.equal(outcome.card.brand, 'visa');
  assert.equal(outcome.card.paymentId, payment.id);
  const again = await page.evaluate(() => window.__submit());
  assert.equal(again.code, 'already_submitted', 'a finished form submits nothing more');

  // The submission carried only the sealed envelope.
  const posts = seen.requests.filter((r) => r.url === `${env.widget}/v1/payments/${payment.id}/card`);
  assert.equal(posts.length, 1, 'the iframe posted the card to the gateway once');
  const post = posts[0];
  const body = JSON.parse(post.body);
  assert.deepEqual(Object.keys(body), ['sealed']);
  assert.deepEqual(Object.keys(body.sealed).sort(), ['ciphertext', 'enc', 'kid', 'version']);

  // No request body or URL, no console line, nothing the portal page saw carries the PAN.
  const sniffed = await page.evaluate(() => window.__sniffed);
  assert.ok(sniffed.length > 5, 'the hostile script did see the messages');
  const portalDom = await page.content();
  for (const [where, text] of [
    ...seen.requests.map((r) => [`request ${r.url}`, `${r.url}\n${r.body}`]),
    ['console', seen.console.join('\n')],
    ['portal messages', sniffed.join('\n')],
    ['portal DOM', portalDom],
  ]) {
    assert.deepEqual(findTracer(text, PAN), [], `PAN in ${where}`);
  }
  for (const text of sniffed) assert.ok(!text.includes(CVC), 'CVC in a portal message');
  await context.close();
});

