// Browser end-to-end for the agent console and the demo patient portal (issue 7, items 5-7),
// both as `hushpay serve` hosts them in development: the agent signs in to /console with an
// agent token and joins the call; the patient joins from /portal/ (its backend mints the
// patient token); the agent requests a card-form payment, the portal mounts the card iframe
// from the prompt, the patient pays, and the console shows the token, brand and last 4. A
// hostile script injected into the portal sees every message and cannot read the card number
// from the iframe; no DOM, frame, WebSocket or data-channel message of the agent's page holds
// it, nor do the gateway's logs. Screenshots of both go to test-artifacts/browser/.
import { test, before, after } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, assert, eventually, newPage, pageText, startCallEnv } from './lib/call-env.mjs';
import { fillCard } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

const PAN = '4242424242424242';
const CVC = '737';
const ROOM = 'demo-visit';
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
  await console_.waitForFunction(() => document.getElementById('status').textContent.startsWith('In the call'), null, { timeout: 15000 });
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
