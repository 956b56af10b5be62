// Browser end-to-end for the agent console and the demo patient portal (issue 7, items 5-7),
// both as `hushpay serve` hosts them in development: the agent signs in to /console with an
// agent token and joins the call; the patient joins from /portal/ (its backend mints the
// patient token); the agent requests a card-form payment, the portal mounts the card iframe
// from the prompt, the patient pays, and the console shows the token, brand and last 4. A
// hostile script injected into the portal sees every message and cannot read the card number
// from the iframe; no DOM, frame, WebSocket or data-channel message of the agent's page holds
// it, nor do the gateway's logs. Screenshots of both go to test-artifacts/browser/.
import { test, before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ARTIFACTS, assert, eventually, newPage, pageText, startCallEnv } from './lib/call-env.mjs';
import { fillCard } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

const PAN = '4242424242424242';
const CVC = '737';
const ROOM = 'demo-visit';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let env;

before(async () => { env = await startCallEnv(); });
after(async () => { await env?.close(); });

/** Records every WebSocket frame and data-channel message of a page's context. */
async function recordTraffic(context, page) {
  const frames = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
    ws.on('framesent', (f) => frames.push(String(f.payload)));
  });
  await context.addInitScript(() => {
    window.__dc = [];
    const create = RTCPeerConnection.prototype.createDataChannel;
    RTCPeerConnection.prototype.createDataChannel = function (...args) {
      const dc = create.apply(this, args);
      dc.addEventListener('message', (e) => window.__dc.push(String(e.data)));
      return dc;
    };
  });
  return frames;
}

/** A hostile script in the portal: it logs every message the page sends or receives. */
async function injectSniffer(context, origin) {
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
    const fetch0 = window.fetch;
    window.fetch = function (...a) { log(a.map(String)); return fetch0.apply(this, a); };
  }, origin);
}

async function signIn(console_, token) {
  await console_.locator('#token').fill(token);
  await console_.locator('#token').press('Tab');
  await console_.keyboard.press('Enter');
  // Joining is ICE + DTLS + the first offer/answer: seconds on a quiet machine, more when the
  // machine is busy building. The sign-in form goes away once the console is in the call (the
  // status line is not the signal: it moves on to the next event, e.g. the downlink's audio,
  // within milliseconds); the status line says why if it never gets there.
  try {
    await console_.waitForFunction(() => document.getElementById('signin').hidden, null, { timeout: 30000 });
  } catch (e) {
    const status = await console_.locator('#status').textContent();
    throw new Error(`the console did not join: status "${status}"`, { cause: e });
  }
}

test('card form requested from the console: the portal pays in the iframe, the console gets token and last 4 only', async () => {
  assert.ok(env.demoKey, 'the development gateway printed the demo tenant key');
  // The agent's console.
  const agentSide = await newPage(env.browser);
  const agentFrames = await recordTraffic(agentSide.context, agentSide.page);
  const consolePage = agentSide.page;
  const consoleResponse = await consolePage.goto(`${env.gatewayUrl}/console`);
  assert.match(consoleResponse.headers()['content-security-policy'], /frame-ancestors 'none'/);
  await consolePage.locator('#token').fill('not a token');
  await consolePage.locator('#join').click();
  assert.match(await consolePage.locator('#alert').textContent(), /not an access token/, 'a clear error for a bad token');
  await signIn(consolePage, await env.mint('agent-1', 'agent', ROOM, env.demoKey));
  assert.match(await consolePage.locator('#participants').textContent(), /Waiting for the patient/);

  // The patient's portal, with the hostile script.
  const patientSide = await newPage(env.browser);
  await injectSniffer(patientSide.context, new URL(env.gatewayUrl).origin);
  const portal = patientSide.page;
  await portal.goto(`${env.gatewayUrl}/portal/`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });
  await consolePage.waitForFunction(() => document.getElementById('participants').textContent.includes('patient (patient)'), null, { timeout: 15000 });
  // The agent hears the patient: a live track plays in the console's audio element.
  await consolePage.waitForFunction(() => document.getElementById('remote-audio').srcObject?.getAudioTracks()[0]?.readyState === 'live', null, { timeout: 15000 });

  // Chat both ways; a card number typed into chat never reaches the console.
  await portal.locator('#chat-input').fill(`my card is ${PAN}`);
  await portal.locator('#chat-input').press('Enter');
  await consolePage.waitForFunction(() => document.getElementById('chat-log').textContent.includes('[card number removed]'), null, { timeout: 15000 });

  // The agent asks for a card-form payment, from the keyboard.
  await consolePage.locator('#method-card-form').check();
  await consolePage.locator('#reference').fill('visit-77');
  await consolePage.locator('#reference').press('Enter');
  await consolePage.waitForFunction(() => document.getElementById('payment-state').textContent.startsWith('Requested'), null, { timeout: 15000 });
  assert.match(await consolePage.locator('#status').textContent(), /the patient has been asked/);

  // The portal received the prompt and mounted Hushpay's iframe.
  await portal.waitForFunction(() => !document.getElementById('payment').hidden, null, { timeout: 15000 });
  assert.equal(await portal.locator('#payment-summary').textContent(), '$42.00 for visit-77');
  const frame = await eventually(() => portal.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`)), 'the card iframe');
  await frame.locator('#number').waitFor();
  await frame.waitForFunction(() => !document.getElementById('fields').disabled, null, { timeout: 15000 });
  await fillCard(frame, { number: PAN, expiry: '1234', cvc: CVC, postalCode: '94107' });
  await portal.screenshot({ path: join(ARTIFACTS, 'portal-card-form.png'), fullPage: true });

  // The hostile script cannot reach into the iframe.
  const attempts = await portal.evaluate(() => {
    const iframe = document.querySelector('#card-form iframe');
    const out = { contentDocument: iframe.contentDocument === null };
    try { out.read = iframe.contentWindow.document.getElementById('number').value; } catch (e) { out.error = e.name; }
    return out;
  });
  assert.deepEqual(attempts, { contentDocument: true, error: 'SecurityError' });

  await portal.locator('#pay').click();
  await portal.waitForFunction(() => document.getElementById('payment-message').textContent.startsWith('Thank you'), null, { timeout: 15000 });

  // The console shows the result: token, brand, last 4.
  await consolePage.waitForFunction(() => document.getElementById('payment-result').textContent.includes('Payment succeeded'), null, { timeout: 15000 });
  const result = await consolePage.locator('#payment-result').textContent();
  assert.match(result, /visa ending in 4242, expires 12\/2034, token tok_[0-9A-Za-z]+/);
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-card-form-result.png'), fullPage: true });

  // Nowhere on the agent's side, nor in what the hostile script saw, nor in the logs.
  const sniffed = (await portal.evaluate(() => window.__sniffed)).join('\n');
  assert.ok(sniffed.includes('"type":"change"'), 'the sniffer did see the port traffic (positive control)');
  assert.deepEqual(findTracer(sniffed, PAN), [], 'hostile script');
  assert.deepEqual(findTracer(await pageText(consolePage), PAN), [], 'console DOM and frames');
  assert.deepEqual(findTracer(agentFrames.join('\n'), PAN), [], 'console WebSocket');
  const dc = (await consolePage.evaluate(() => window.__dc)).join('\n');
  assert.ok(dc.includes('[card number removed]'), 'data-channel log works (positive control)');
  assert.deepEqual(findTracer(dc, PAN), [], 'console data channel');
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN), [], 'gateway logs');
  // Positive control for the tracer itself.
  assert.notDeepEqual(findTracer(`x ${PAN} y`, PAN), []);

  // Leaving ends the console's call with a clear state.
  await consolePage.locator('#leave').click();
  await consolePage.waitForFunction(() => document.getElementById('status').textContent.startsWith('Left the call'), null, { timeout: 15000 });
  assert.equal(await consolePage.locator('#signin').isVisible(), true);
});

/** WCAG 2.1 A/AA violations axe-core finds in a page (run through DevTools, CSP bypassed). */
async function axe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('console and portal: axe WCAG 2.1 AA clean; a keypad request shows the keypad and masked progress; bad input is refused', async () => {
  const room = 'a11y-visit';
  const { page: consolePage } = await newPage(env.browser, { bypassCSP: true });
  await consolePage.goto(`${env.gatewayUrl}/console`);
  assert.deepEqual(await axe(consolePage), [], 'console, signed out');
  assert.equal(await consolePage.evaluate(() => document.activeElement.id), 'token', 'focus starts in the token field');
  await signIn(consolePage, await env.mint('agent-2', 'agent', room, env.demoKey));

  const { page: portal } = await newPage(env.browser, { bypassCSP: true });
  await portal.goto(`${env.gatewayUrl}/portal/`);
  assert.deepEqual(await axe(portal), [], 'portal, before joining');
  // The portal's stand-in backend refuses a bad room; the portal joins ours.
  const bad = await portal.evaluate(async () => (await fetch('./session?room=..%2Fetc', { method: 'POST' })).status);
  assert.equal(bad, 400);
  await portal.goto(`${env.gatewayUrl}/portal/?room=${room}`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });

  // A keypad payment from the console, driven from the keyboard.
  await consolePage.locator('#method-keypad').focus();
  await consolePage.keyboard.press('Space');
  await consolePage.locator('#reference').fill('visit-90');
  await consolePage.locator('#reference').press('Enter');
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Card number: not asked yet'), null, { timeout: 15000 });
  assert.equal(await consolePage.evaluate(() => document.activeElement.id), 'payment-title', 'focus moves to the payment');
  await portal.waitForFunction(() => !document.getElementById('keypad').hidden, null, { timeout: 15000 });
  assert.equal(await portal.locator('#keypad .keys button').count(), 12);
  await consolePage.getByRole('button', { name: 'Ask for card number' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-state').textContent === 'Collecting card details', null, { timeout: 15000 });
  assert.match(await consolePage.locator('#payment-fields').textContent(), /Card number: waiting for keys/);
  assert.deepEqual(await axe(consolePage), [], 'console, in a call with a payment');
  assert.deepEqual(await axe(portal), [], 'portal, keypad prompt');
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-keypad-request.png'), fullPage: true });
  await portal.screenshot({ path: join(ARTIFACTS, 'portal-keypad-prompt.png'), fullPage: true });

  // Cancel: the console states the end; a refused request shows a clear error.
  await consolePage.getByRole('button', { name: 'Cancel payment' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-result').textContent.startsWith('Payment cancelled'), null, { timeout: 15000 });
  await portal.waitForFunction(() => document.getElementById('payment-message').textContent === 'The payment was cancelled.', null, { timeout: 15000 });
  assert.equal(await portal.locator('#keypad').isHidden(), true, 'the keypad prompt closes');
  await consolePage.locator('#amount').fill('-3');
  await consolePage.locator('#request-payment').click();
  assert.match(await consolePage.locator('#alert').textContent(), /Enter an amount/);
  await consolePage.locator('#amount').fill('42');
  await consolePage.locator('#reference').fill('card 4111 1111 1111 1111');
  await consolePage.locator('#request-payment').click();
  await consolePage.waitForFunction(() => document.getElementById('alert').textContent.includes('invalid_reference'), null, { timeout: 15000 });

  // The hosted pages are not served on the widget origin.
  const r = await fetch(`${env.widget}/console`);
  assert.equal(r.status, 404);
  const s = await fetch(`${env.widget}/portal/session`, { method: 'POST' });
  assert.equal(s.status, 404);
});

test('pay-by-link from the console: the portal shows the link in the chat, the patient pays in a new tab, the console gets the result', async () => {
  const room = 'link-visit';
  const { page: consolePage } = await newPage(env.browser);
  await consolePage.goto(`${env.gatewayUrl}/console`);
  await signIn(consolePage, await env.mint('agent-3', 'agent', room, env.demoKey));
  const { context, page: portal } = await newPage(env.browser);
  await portal.goto(`${env.gatewayUrl}/portal/?room=${room}`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });

  await consolePage.locator('#method-link').check();
  await consolePage.locator('#amount').fill('19.5');
  await consolePage.locator('#reference').fill('visit-55');
  await consolePage.locator('#request-payment').click();
  await consolePage.waitForFunction(() => document.getElementById('chat-log').textContent.includes('Payment link sent: visit-55'), null, { timeout: 15000 });
  assert.doesNotMatch(await consolePage.locator('#chat-log').textContent(), /pcs_/, 'the agent sees the link without its secret');

  const link = portal.getByRole('link', { name: 'Open the secure payment page' });
  await link.waitFor({ timeout: 15000 });
  assert.match(await link.getAttribute('href'), /\/pay\/pay_[0-9A-Za-z]+#pcs_/);
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  const [pay] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await pay.waitForFunction(() => document.getElementById('status')?.textContent.includes('Enter your card'), null, { timeout: 15000 });
  assert.equal(await pay.locator('#amount').textContent(), '$19.50');
  const frame = pay.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`));
  await fillCard(frame, { number: '5555555555554444', expiry: '1130', cvc: '123', postalCode: '10001' });
  await pay.locator('#pay').click();
  await pay.waitForFunction(() => document.getElementById('status').textContent.startsWith('Thank you'), null, { timeout: 15000 });

  await consolePage.waitForFunction(() => document.getElementById('payment-result').textContent.includes('Payment succeeded'), null, { timeout: 15000 });
  assert.match(await consolePage.locator('#payment-result').textContent(), /mastercard ending in 4444, expires 11\/2030, token tok_/);
  await portal.waitForFunction(() => document.getElementById('payment-message').textContent.includes('mastercard ending in 4444'), null, { timeout: 15000 });
  assert.equal(await portal.locator('#payment-message').isVisible(), true, 'the portal says the link was paid');
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-link-result.png'), fullPage: true });
  assert.deepEqual(findTracer(await pageText(consolePage), '5555555555554444'), [], 'console');
});

test('3-D Secure from the console: the patient answers the challenge in the iframe, the agent sees only the state', async () => {
  const room = '3ds-visit';
  const PAN3DS = '4000000000003220';
  const agentSide = await newPage(env.browser);
  const agentFrames = await recordTraffic(agentSide.context, agentSide.page);
  const consolePage = agentSide.page;
  await consolePage.goto(`${env.gatewayUrl}/console`);
  await signIn(consolePage, await env.mint('agent-4', 'agent', room, env.demoKey));
  const { page: portal } = await newPage(env.browser);
  await portal.goto(`${env.gatewayUrl}/portal/?room=${room}`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });

  await consolePage.locator('#method-card-form').check();
  await consolePage.locator('#reference').fill('visit-3ds');
  await consolePage.locator('#request-payment').click();
  await portal.waitForFunction(() => !document.getElementById('payment').hidden, null, { timeout: 15000 });
  const frame = await eventually(() => portal.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`)), 'the card iframe');
  await frame.waitForFunction(() => !document.getElementById('fields').disabled, null, { timeout: 15000 });
  await fillCard(frame, { number: PAN3DS, expiry: '1234', cvc: CVC, postalCode: '94107' });
  await portal.locator('#pay').click();

  // The issuer's challenge, inside the card iframe; the agent sees the state only.
  const challenge = await eventually(() => frame.childFrames().find((f) => f.url().includes('/sandbox/3ds/')), 'the challenge frame');
  await challenge.locator('#complete').waitFor();
  await consolePage.waitForFunction(() => document.getElementById('payment-state').textContent.includes('3-D Secure'), null, { timeout: 15000 });
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-three-ds-waiting.png'), fullPage: true });
  await challenge.locator('#complete').click();
  await consolePage.waitForFunction(() => document.getElementById('payment-result').textContent.includes('Payment succeeded'), null, { timeout: 15000 });
  assert.match(await consolePage.locator('#payment-result').textContent(), /visa ending in 3220/);
  await portal.waitForFunction(() => document.getElementById('payment-message').textContent.includes('visa ending in 3220'), null, { timeout: 15000 });

  const agentText = `${await pageText(consolePage)}\n${agentFrames.join('\n')}`;
  assert.ok(agentText.includes('authenticating'), 'the agent got the state (positive control)');
  assert.ok(!agentText.includes('3ds_') && !agentText.includes('/sandbox/'), 'no challenge on the agent side');
  assert.deepEqual(findTracer(agentText, PAN3DS), [], 'console');
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN3DS), [], 'gateway logs');
});
