// Browser end-to-end for the agent console embedded in an agent desktop (issue 16, point 3).
// The demo tenant allows one agent desktop origin (a static server on 127.0.0.1, another
// origin than the gateway's). That desktop frames /console?tenant=ten_...; the console says
// `ready`, the desktop hands it a short-lived token by postMessage, the console joins, asks for
// a fresh token before `exp` and stays in the call past the old `exp` with it; the patient
// pays in the card form on the demo portal and the desktop hears the result: payment id,
// status, token, brand and last 4 — every message it received is checked field by field and
// scanned for the card number. A page on a foreign origin (127.0.0.2) cannot frame the console
// (frame-ancestors), and a token it posts to a console it opened gets nothing: no sign-in, no
// message back. A token of another tenant is refused by the embedded console.
import { test, before, after } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, assert, eventually, newPage, pageText, startCallEnv } from './lib/call-env.mjs';
import { root } from './lib/gateway.mjs';
import { fillCard } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';
import { serveStatic } from './lib/static.mjs';

const PAN = '4242424242424242';
const ROOM = 'desktop-visit';
const TYPES = {
  'hushpay.console.ready': ['type', 'v'],
  'hushpay.console.joined': ['room', 'type', 'v'],
  'hushpay.console.left': ['reason', 'type', 'v'],
  'hushpay.console.token-refused': ['reason', 'type', 'v'],
  'hushpay.console.token-request': ['expires_in', 'type', 'v'],
  'hushpay.console.payment-result': ['brand', 'last4', 'payment_id', 'status', 'token', 'type', 'v'],
};
let env;
let desk;
let foreign;
let tenant;

const claims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const consoleUrl = () => `${env.gatewayUrl}/console?tenant=${tenant}`;
const types = (msgs) => msgs.map((m) => m.type);

before(async () => {
  env = await startCallEnv({}, { gatewayEnv: { HUSHPAY__AUTH__LEEWAY_SECS: '0' } });
  const page = (name) => ({ [`/${name}`]: join(root, 'tests', 'browser', 'pages', name) });
  desk = await serveStatic(page('agent-desktop.html'));
  foreign = await serveStatic({ ...page('foreign-desktop.html'), ...page('foreign-sibling.html') }, '127.0.0.2');
  tenant = claims(await env.mint('probe', 'agent', ROOM, env.demoKey)).tenant;
  assert.match(tenant, /^ten_/);
  // Refused lists change nothing; the desktop's origin is accepted.
  for (const bad of [['http://crm.example'], ['https://*.crm.example'], [`${desk.origin}/desk`], ['*']]) {
    const r = await env.api(`/v1/tenants/${tenant}`, env.demoKey, { method: 'PATCH', body: { agent_desktop_origins: bad } });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.body.error.code, 'invalid_agent_desktop_origins', JSON.stringify(r.body));
  }
  const ok = await env.api(`/v1/tenants/${tenant}`, env.demoKey, { method: 'PATCH', body: { agent_desktop_origins: [desk.origin] } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.agent_desktop_origins, [desk.origin]);
});
after(async () => {
  desk?.server.close();
  foreign?.server.close();
  await env?.close();
});

test('the console is framed by the tenant\'s desktops only; plain /console by nobody', async () => {
  const embedded = await fetch(consoleUrl());
  assert.equal(embedded.status, 200);
  assert.match(embedded.headers.get('content-security-policy'), new RegExp(`frame-ancestors ${desk.origin}$`));
  assert.equal(embedded.headers.get('x-frame-options'), null);
  const plain = await fetch(`${env.gatewayUrl}/console`);
  assert.match(plain.headers.get('content-security-policy'), /frame-ancestors 'none'$/);
  assert.equal(plain.headers.get('x-frame-options'), 'DENY');
  for (const q of ['ten_doesnotexist', '..%2F', 'x'.repeat(100)]) {
    const r = await fetch(`${env.gatewayUrl}/console?tenant=${q}`);
    assert.equal(r.status, 404, q);
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
  }
});

test('embedded console: token by postMessage, a fresh one before exp, the payment result with token, brand and last 4 only', async () => {
  const { page } = await newPage(env.browser);
  const minted = [];
  await page.exposeFunction('mintToken', async () => {
    // The first token is short-lived: the console must ask for a fresh one before its exp.
    const token = await env.mint('agent-desk', 'agent', ROOM, env.demoKey, minted.length === 0 ? 14 : 600);
    minted.push(token);
    return token;
  });
  await page.goto(`${desk.origin}/agent-desktop.html?console=${encodeURIComponent(consoleUrl())}`);
  const received = () => page.evaluate(() => window.__received);
  await eventually(async () => types(await received()).includes('hushpay.console.joined'), 'the console to join with the desktop\'s token', 30000);
  const frame = page.frames().find((f) => f.url().startsWith(`${env.gatewayUrl}/console`));
  assert.ok(frame, 'the console frame');
  await frame.waitForFunction(() => document.getElementById('signin').hidden, null, { timeout: 15000 });
  assert.equal(minted.length, 1);
  const [ready, joined] = await received();
  assert.deepEqual(ready, { type: 'hushpay.console.ready', v: 1 });
  assert.deepEqual(joined, { type: 'hushpay.console.joined', room: ROOM, v: 1 });

  // The patient joins from the demo portal meanwhile.
  const { page: portal } = await newPage(env.browser);
  await portal.goto(`${env.gatewayUrl}/portal/?room=${ROOM}`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });

  // Before exp the console asks the desktop for a fresh token, gets it and stays in the call.
  await eventually(async () => types(await received()).includes('hushpay.console.token-request'), 'a token request', 30000);
  await frame.waitForFunction(() => document.getElementById('status').textContent === 'Session extended.', null, { timeout: 15000 });
  assert.equal(minted.length, 2);
  const wait = (claims(minted[0]).exp + 2) * 1000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  assert.equal(await frame.locator('#call').isHidden(), false, 'still in the call after the first token\'s exp');
  assert.ok(!types(await received()).includes('hushpay.console.left'));

  // A card-form payment from the embedded console.
  await frame.locator('#method-card-form').check();
  await frame.locator('#reference').fill('visit-16');
  await frame.locator('#request-payment').click();
  await portal.waitForFunction(() => !document.getElementById('payment').hidden, null, { timeout: 15000 });
  const card = await eventually(() => portal.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`)), 'the card iframe');
  await card.locator('#number').waitFor();
  await card.waitForFunction(() => !document.getElementById('fields').disabled, null, { timeout: 15000 });
  await fillCard(card, { number: PAN, expiry: '1234', cvc: '737', postalCode: '94107' });
  await portal.locator('#pay').click();
  const result = await eventually(async () => (await received()).find((m) => m.type === 'hushpay.console.payment-result'), 'the payment result at the desktop');
  assert.equal(result.status, 'succeeded');
  assert.match(result.payment_id, /^pay_[0-9A-Za-z]+$/);
  assert.match(result.token, /^tok_[0-9A-Za-z]+$/);
  assert.equal(result.brand, 'visa');
  assert.equal(result.last4, '4242');
  await frame.waitForFunction(() => document.getElementById('payment-result').textContent.includes('Payment succeeded'), null, { timeout: 15000 });
  await page.screenshot({ path: join(ARTIFACTS, 'console-embedded-result.png'), fullPage: true });

  // Every message the desktop received: from the console's origin, a known type with exactly
  // its fields, and no card data in any form (nor the expiry).
  const all = await page.evaluate(() => window.__all);
  const gatewayOrigin = new URL(env.gatewayUrl).origin;
  for (const { origin, data } of all) {
    assert.equal(origin, gatewayOrigin);
    assert.deepEqual(Object.keys(data).sort(), TYPES[data.type], JSON.stringify(data));
  }
  assert.equal(all.filter((m) => m.data.type === 'hushpay.console.payment-result').length, 1, 'reported once');
  const text = JSON.stringify(all);
  assert.deepEqual(findTracer(text, PAN), [], 'messages to the desktop');
  assert.doesNotMatch(text, /2034|12\/34|"exp_/, 'no expiry');
  assert.notDeepEqual(findTracer(`${text} ${PAN}`, PAN), [], 'the tracer finds the number (positive control)');
  assert.deepEqual(findTracer(await pageText(page), PAN), [], 'the desktop page and its frames');
  await portal.close();
  await page.close();
});

test('a foreign origin cannot frame the console, and a token it posts gets nothing', async () => {
  const { page, context } = await newPage(env.browser);
  const blocked = [];
  page.on('console', (m) => { if (/frame-ancestors/.test(m.text())) blocked.push(m.text()); });
  await page.goto(`${foreign.origin}/foreign-desktop.html?console=${encodeURIComponent(consoleUrl())}`);
  await eventually(() => blocked.length > 0, 'Chromium to refuse the frame (frame-ancestors)');
  const framed = page.frames().filter((f) => f !== page.mainFrame());
  assert.equal(framed.length, 1);
  assert.ok(!framed[0].url().startsWith(env.gatewayUrl), `the console did not load in the frame (${framed[0].url()})`);

  // The console in a window the foreign page opened: a valid token posted to it is ignored.
  const [popup] = await Promise.all([context.waitForEvent('page'), page.evaluate(() => window.openConsole())]);
  await popup.waitForFunction(() => document.getElementById('signin') !== null, null, { timeout: 15000 });
  const token = await env.mint('agent-foreign', 'agent', ROOM, env.demoKey);
  for (let i = 0; i < 5; i++) {
    await page.evaluate((t) => window.postToken(t), token);
    await page.waitForTimeout(200);
  }
  assert.equal(await popup.locator('#signin').isHidden(), false, 'not signed in');
  assert.equal(await popup.locator('#status').textContent(), 'Signed out.');
  assert.equal(await popup.locator('#alert').textContent(), '');
  assert.deepEqual(await page.evaluate(() => window.__all), [], 'no message back');
  await page.close();
});

test('a foreign frame beside the embedded console posting it a token gets nothing', async () => {
  const { page } = await newPage(env.browser);
  const sibling = `${foreign.origin}/foreign-sibling.html`;
  await page.goto(`${desk.origin}/agent-desktop.html?console=${encodeURIComponent(consoleUrl())}&sibling=${encodeURIComponent(sibling)}`);
  const frame = await eventually(() => page.frames().find((f) => f.url().startsWith(`${env.gatewayUrl}/console`)), 'the console frame');
  const other = await eventually(() => page.frames().find((f) => f.url() === sibling), 'the foreign frame');
  await frame.waitForFunction(() => document.getElementById('status').textContent === 'Waiting for your agent desktop to sign you in.', null, { timeout: 15000 });
  await other.waitForFunction(() => typeof window.postToken === 'function');
  const token = await env.mint('agent-sibling', 'agent', ROOM, env.demoKey);
  for (let i = 0; i < 5; i++) {
    await other.evaluate((t) => window.postToken(t), token);
    await page.waitForTimeout(200);
  }
  assert.equal(await frame.locator('#signin').isHidden(), false, 'not signed in');
  assert.equal(await frame.locator('#status').textContent(), 'Waiting for your agent desktop to sign you in.');
  assert.deepEqual(await other.evaluate(() => window.__all), [], 'no message back to the foreign frame');
  assert.deepEqual(types(await page.evaluate(() => window.__received)), ['hushpay.console.ready'], 'the desktop heard only ready');
  await page.close();
});

test('the allowed desktop handing a token of another tenant is refused', async () => {
  const { page } = await newPage(env.browser);
  await page.exposeFunction('mintToken', () => env.mint('agent-other', 'agent', ROOM, env.apiKey));
  await page.goto(`${desk.origin}/agent-desktop.html?console=${encodeURIComponent(consoleUrl())}`);
  const refused = await eventually(async () => (await page.evaluate(() => window.__received)).find((m) => m.type === 'hushpay.console.token-refused'), 'the refusal');
  assert.deepEqual(refused, { type: 'hushpay.console.token-refused', reason: 'the token is for another tenant', v: 1 });
  const frame = page.frames().find((f) => f.url().startsWith(`${env.gatewayUrl}/console`));
  assert.equal(await frame.locator('#signin').isHidden(), false, 'not signed in');
  await page.close();
});
