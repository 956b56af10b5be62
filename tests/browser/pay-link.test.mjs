// Browser end-to-end for pay-by-link (issue 7, item 3): an agent in a call creates a link
// payment through the API (POST /v1/payments, method link, with its own access token); the
// gateway sends it into the call's chat as a `payment_link` message, the patient's copy
// carrying the secret in the URL fragment and the agent's not (nor the agent's API answer:
// issue 12, finding 2, no `pcs_` in anything the agent's page holds); the patient opens it, the
// hosted /pay/{id} page mounts the card iframe, the card is paid; the token reaches the
// agent's view of the payment and the signed webhook; the link is single use (410 on reuse)
// and expires (410 after its timeout). No page of the agent holds the card number, and
// neither do the gateway's logs (debug level).
import { test, before, after } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, assert, eventually, newPage, pageText, startCallEnv, webhookEvents } from './lib/call-env.mjs';
import { fillCard } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

const PAN = '4242424242424242';
const ROOM = 'link-room';
let env, agent, patient, agentToken, expiring;

async function joinCall(identity, role) {
  const { page } = await newPage(env.browser);
  await page.goto(`${env.portal.origin}/call.html`);
  const token = await env.mint(identity, role, ROOM);
  await page.evaluate(([u, t]) => start(u, t), [env.rtcUrl, token]);
  return { page, token };
}

function linkBody(extra = {}) {
  return { method: 'link', mode: 'charge', amount: 4200, currency: 'USD', reference: 'visit-77', ...extra };
}

async function createLink(key, extra) {
  const r = await env.api('/v1/payments', agentToken, { method: 'POST', body: linkBody(extra), headers: { 'Idempotency-Key': key } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** The `payment_link` chat messages a call page received. */
async function linkMessages(page) {
  return (await page.evaluate(() => window.hp.frames)).map((f) => JSON.parse(f)).filter((m) => m.type === 'payment_link');
}

/** The link of payment `id` as the patient got it in the chat (with its secret). */
async function patientLink(id) {
  const m = await eventually(async () => (await linkMessages(patient)).find((l) => l.payment.id === id), 'the patient\'s link');
  return m.url;
}

before(async () => {
  env = await startCallEnv();
  ({ page: agent, token: agentToken } = await joinCall('agent-1', 'agent'));
  ({ page: patient } = await joinCall('patient-1', 'patient'));
  // Made first so that its 30 s timeout runs out while the other tests run.
  expiring = await createLink('link-expiring', { timeout: 30, reference: 'expires-soon' });
});
after(async () => { await env?.close(); });

test('the agent sends a link in the chat; the patient pays on the hosted page; the token reaches the agent and the webhook', async () => {
  const created = await createLink('link-1');
  const id = created.payment.id;
  assert.equal(created.payment.method, 'link');
  assert.equal(created.payment.room, ROOM, 'bound to the agent\'s room');
  assert.deepEqual(created.offered, { patients: 1, staff: 1 });
  assert.equal(created.client_secret, undefined, 'the agent\'s answer holds no client secret');
  assert.equal(created.link_url, `${env.gatewayUrl}/pay/${id}`, 'nor a link with one');

  const forPatient = await eventually(async () => (await linkMessages(patient)).find((m) => m.payment.id === id), 'the patient\'s link');
  const forAgent = await eventually(async () => (await linkMessages(agent)).find((m) => m.payment.id === id), 'the agent\'s link');
  assert.match(forPatient.url, new RegExp(`^${env.gatewayUrl}/pay/${id}#pcs_[A-Za-z0-9]{32}$`), 'the patient gets the link with its secret');
  assert.equal(forAgent.url, created.link_url, 'the agent gets it without the secret');
  assert.equal(forPatient.from.identity, 'agent-1');
  assert.equal(forPatient.from.role, 'agent');
  assert.deepEqual({ amount: forPatient.payment.amount, currency: forPatient.payment.currency, reference: forPatient.payment.reference },
    { amount: 4200, currency: 'USD', reference: 'visit-77' });

  // The patient opens the link in its browser.
  const { page: pay, seen } = await newPage(env.browser);
  const response = await pay.goto(forPatient.url);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(new URL(pay.url()).hash, '', 'the secret leaves the address bar');
  assert.equal(await pay.locator('#amount').textContent(), '$42.00');
  await pay.waitForFunction(() => document.getElementById('status').textContent.includes('Enter your card'), null, { timeout: 15000 });
  const frame = pay.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`));
  assert.ok(frame, 'the card iframe comes from the widget origin');
  await fillCard(frame, { number: PAN, expiry: '1234', cvc: '737', postalCode: '94107' });
  await pay.locator('#pay').click();
  await pay.waitForFunction(() => document.getElementById('status').textContent.startsWith('Thank you'), null, { timeout: 15000 });
  assert.match(await pay.locator('#status').textContent(), /visa ending in 4242/);
  await pay.screenshot({ path: join(ARTIFACTS, 'pay-link-paid.png') });

  // The agent's session sees the result (masked): pushed as a `payment` signalling message,
  // and through GET /v1/payments/{id}; so does the webhook.
  const pushed = await eventually(async () => (await agent.evaluate(() => window.hp.wsFrames)).map((f) => JSON.parse(f))
    .find((m) => m.type === 'payment' && m.payment.id === id && m.payment.state === 'succeeded'), 'the payment message to the agent');
  assert.equal(pushed.payment.card.last4, '4242');
  assert.match(pushed.payment.card.token, /^tok_/);
  const ended = await eventually(async () => (await patient.evaluate(() => window.hp.wsFrames)).map((f) => JSON.parse(f))
    .find((m) => m.type === 'payment_ended' && m.payment.id === id), 'payment_ended to the patient');
  assert.deepEqual(ended.payment, { id, method: 'link', state: 'succeeded', result: 'success', brand: 'visa', last4: '4242' });
  const patientFrames = (await patient.evaluate(() => window.hp.wsFrames)).map((f) => JSON.parse(f));
  assert.ok(!patientFrames.some((m) => m.type === 'payment'), 'patients never get payment documents');
  const seenByAgent = await env.api(`/v1/payments/${id}`, agentToken);
  assert.equal(seenByAgent.body.payment.state, 'succeeded');
  assert.equal(seenByAgent.body.payment.card.last4, '4242');
  assert.match(seenByAgent.body.payment.card.token, /^tok_/);
  const event = await eventually(() => webhookEvents(env.webhookOut, 'payment.succeeded', id)[0], 'the payment.succeeded webhook');
  assert.equal(event.data.card.token, seenByAgent.body.payment.card.token);
  assert.equal(event.data.card.last4, '4242');

  // The link is single use: opening it again answers 410 (a second card: 410 payment_link_used,
  // server/gateway/tests/payments).
  const { page: reopened } = await newPage(env.browser);
  const again = await reopened.goto(forPatient.url);
  assert.equal(again.status(), 410);
  assert.match(await reopened.locator('#gone').textContent(), /already been used/);
  const reloaded = await pay.reload();
  assert.equal(reloaded.status(), 410, 'the same tab too');

  // Nothing the agent's page holds, nor the pay page's requests, nor the gateway logs, carry the card number.
  assert.deepEqual(findTracer(await pageText(agent), PAN), [], 'agent page');
  assert.deepEqual(findTracer((await agent.evaluate(() => window.hp.frames.concat(window.hp.wsFrames))).join('\n'), PAN), [], 'agent frames');
  for (const r of seen.requests) assert.deepEqual(findTracer(r.url + r.body, PAN), [], r.url);
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN), [], 'gateway logs');
  // Nor does anything the agent's page holds carry a client secret.
  assert.ok(!(await pageText(agent)).includes('pcs_'), 'no secret in the agent page');
  const agentFrames = await agent.evaluate(() => window.hp.frames.concat(window.hp.wsFrames));
  assert.deepEqual(agentFrames.filter((f) => f.includes('pcs_')), [], 'no secret in the agent\'s frames');
});

test('a used link cannot take a second card (410 payment_link_used)', async () => {
  const created = await createLink('link-2');
  const link = await patientLink(created.payment.id);
  await env.api(`/v1/payments/${created.payment.id}/cancel`, agentToken, { method: 'POST' });
  const { page } = await newPage(env.browser);
  const r = await page.goto(link);
  assert.equal(r.status(), 410);
  assert.match(await page.locator('#gone').textContent(), /cancelled/);
  assert.equal(await page.evaluate(() => document.scripts.length), 0, 'the 410 page runs no script');
});

test('a link without its secret, or with an unknown id, does not open a card form', async () => {
  const created = await createLink('link-3');
  const { page } = await newPage(env.browser);
  await page.goto(`${env.gatewayUrl}/pay/${created.payment.id}`);
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('incomplete'));
  assert.equal(page.frames().length, 1, 'no iframe without the secret');
  for (const bad of ['pay_doesnotexist', 'x'.repeat(5000), 'pay_%22%3Cscript%3Ealert(1)%3C%2Fscript%3E', '..%2F..%2Fetc%2Fpasswd']) {
    const r = await page.goto(`${env.gatewayUrl}/pay/${bad}`);
    assert.equal(r.status(), 404, bad.slice(0, 40));
    assert.equal(await page.evaluate(() => document.scripts.length), 0);
  }
  assert.equal((await page.goto(`${env.widget}/pay/${created.payment.id}`)).status(), 404, 'never on the widget origin');
});

test('a link expires after its timeout (410)', async () => {
  const link = await patientLink(expiring.payment.id);
  const wait = expiring.payment.expires_at * 1000 - Date.now() + 1500;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const { page } = await newPage(env.browser);
  const r = await page.goto(link);
  assert.equal(r.status(), 410);
  assert.match(await page.locator('#gone').textContent(), /expired/);
  const seen = await env.api(`/v1/payments/${expiring.payment.id}`, agentToken);
  assert.equal(seen.body.payment.state, 'expired');
  await eventually(() => webhookEvents(env.webhookOut, 'payment.failed', expiring.payment.id).length > 0, 'the payment.failed (expired) webhook');
});
