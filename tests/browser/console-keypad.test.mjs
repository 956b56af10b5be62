// Browser end-to-end for a keypad payment (issue 7, item 7: "keypad flow with insertDTMF, the
// console showing masked progress"), with the real gateway as `hushpay serve` runs it in
// development: the agent requests a keypad payment from /console and asks for each field; the
// patient keys the card on the demo portal's keypad (each key is `RTCDTMFSender.insertDTMF`,
// RFC 4733 events to the gateway, whose masker is in secure mode for the payment and hands the
// digits to the collector); the console shows digit counts while keys arrive, never digits, and
// at the end the token, brand and last 4. No DOM, frame or WebSocket frame of the agent's page,
// and no gateway log line, holds the card number.
import { test, before, after } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, assert, newPage, pageText, startCallEnv } from './lib/call-env.mjs';
import { findTracer } from './lib/leak.mjs';

const PAN = '4242424242424242';
const ROOM = 'keypad-visit';
let env;

before(async () => { env = await startCallEnv(); });
after(async () => { await env?.close(); });

const fieldsText = (page) => page.evaluate(() => document.getElementById('payment-fields').textContent);

/** Presses `keys` on the portal's keypad one by one, as a patient would (a tone is 100 ms
 * plus a 70 ms gap; a key pressed while one plays would replace the queued tones). */
async function press(portal, keys) {
  for (const k of keys) {
    await portal.getByRole('button', { name: `Key ${k}` }).click();
    await portal.waitForTimeout(350);
  }
}

test('keypad payment: the patient keys the card on the portal (insertDTMF), the console shows digit counts and the result, never the card number', async () => {
  assert.ok(env.demoKey, 'the development gateway printed the demo tenant key');
  const { page: consolePage } = await newPage(env.browser);
  const frames = [];
  consolePage.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
    ws.on('framesent', (f) => frames.push(String(f.payload)));
  });
  await consolePage.goto(`${env.gatewayUrl}/console`);
  await consolePage.locator('#token').fill(await env.mint('agent-5', 'agent', ROOM, env.demoKey));
  await consolePage.locator('#join').click();
  await consolePage.waitForFunction(() => document.getElementById('signin').hidden, null, { timeout: 15000 });

  const { page: portal } = await newPage(env.browser);
  // The keypad's tones go out through the sender's DTMF sender: count the calls (control).
  await portal.addInitScript(() => {
    window.__dtmf = [];
    const insert = RTCDTMFSender.prototype.insertDTMF;
    RTCDTMFSender.prototype.insertDTMF = function (tones, ...rest) {
      window.__dtmf.push(tones.length);
      return insert.call(this, tones, ...rest);
    };
  });
  await portal.goto(`${env.gatewayUrl}/portal/?room=${ROOM}`);
  await portal.locator('#join').click();
  await portal.waitForFunction(() => document.getElementById('status').textContent === 'You are in your visit.', null, { timeout: 15000 });
  await consolePage.waitForFunction(() => document.getElementById('participants').textContent.includes('(patient)'), null, { timeout: 15000 });

  await consolePage.locator('#method-keypad').check();
  await consolePage.locator('#amount').fill('42');
  await consolePage.locator('#reference').fill('visit-91');
  await consolePage.locator('#request-payment').click();
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Card number: not asked yet'), null, { timeout: 15000 });
  await portal.waitForFunction(() => !document.getElementById('keypad').hidden, null, { timeout: 15000 });

  // Card number: half, then the masked count on the console, then the rest and '#'.
  await consolePage.getByRole('button', { name: 'Ask for card number' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Card number: waiting for keys'), null, { timeout: 15000 });
  await press(portal, PAN.slice(0, 8));
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Card number: 8 digits'), null, { timeout: 15000 });
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-keypad-progress.png'), fullPage: true });
  await press(portal, `${PAN.slice(8)}#`);
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Card number: captured, 16 digits'), null, { timeout: 15000 });
  assert.match(await fieldsText(consolePage), /Card number: captured, 16 digits, valid, visa/);

  // Expiry (MMYY completes at 4 digits) and security code.
  await consolePage.getByRole('button', { name: 'Ask for expiry date' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Expiry date: waiting for keys'), null, { timeout: 15000 });
  await press(portal, '1234');
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Expiry date: captured'), null, { timeout: 15000 });
  await consolePage.getByRole('button', { name: 'Ask for security code' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-fields').textContent.includes('Security code: waiting for keys'), null, { timeout: 15000 });
  await press(portal, '737#');
  await consolePage.waitForFunction(() => document.getElementById('payment-state').textContent.startsWith('All details captured'), null, { timeout: 15000 });

  await consolePage.getByRole('button', { name: 'Complete payment' }).click();
  await consolePage.waitForFunction(() => document.getElementById('payment-result').textContent.includes('Payment succeeded'), null, { timeout: 15000 });
  assert.match(await consolePage.locator('#payment-result').textContent(), /visa ending in 4242, expires 12\/2034, token tok_[0-9A-Za-z]+/);
  await consolePage.screenshot({ path: join(ARTIFACTS, 'console-keypad-result.png'), fullPage: true });
  await portal.screenshot({ path: join(ARTIFACTS, 'portal-keypad-done.png'), fullPage: true });

  // Every key went out through insertDTMF (control), and the card number is nowhere on the
  // agent's side nor in the gateway's logs.
  assert.equal((await portal.evaluate(() => window.__dtmf)).length, 16 + 1 + 4 + 4);
  assert.ok(frames.some((f) => f.includes('"length":8')), 'the WebSocket recorder saw the progress (control)');
  assert.deepEqual(findTracer(await pageText(consolePage), PAN), [], 'console DOM and frames');
  assert.deepEqual(findTracer(frames.join('\n'), PAN), [], 'console WebSocket');
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN), [], 'gateway logs');
  assert.notDeepEqual(findTracer(`x ${PAN} y`, PAN), [], 'tracer control');
});
