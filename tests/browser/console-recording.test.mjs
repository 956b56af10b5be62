// Browser end-to-end for the recording control of the agent console (issue 6): with
// `[recording] enabled`, the console says the call is recorded, its Pause / Resume button
// pauses by hand (aria-pressed follows), and a keypad payment pauses the recording by itself
// until it is cancelled. The gateway's recording API then shows the manual pause window.
import { test, before, after } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, assert, newPage, startCallEnv } from './lib/call-env.mjs';

const ROOM = 'recorded-visit';
let env;

before(async () => { env = await startCallEnv({}, { gatewayEnv: { HUSHPAY__RECORDING__ENABLED: 'true', HUSHPAY__RECORDING__CHUNK_MS: '500' } }); });
after(async () => { await env?.close(); });

const recText = (page) => page.evaluate(() => document.getElementById('recording-state').textContent);

test('console: recording state, manual pause and resume, automatic pause for a payment', async () => {
  assert.ok(env.demoKey, 'the development gateway printed the demo tenant key');
  const { page } = await newPage(env.browser);
  await page.goto(`${env.gatewayUrl}/console`);
  await page.locator('#token').fill(await env.mint('agent-5', 'agent', ROOM, env.demoKey));
  await page.locator('#join').click();
  await page.waitForFunction(() => document.getElementById('recording-state').textContent === 'Recording.', null, { timeout: 30000 });
  const toggle = page.locator('#recording-toggle');
  assert.equal(await toggle.textContent(), 'Pause recording');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  // The agent's microphone (fake device) is recorded until the pause.
  await page.waitForTimeout(1500);

  await toggle.click();
  await page.waitForFunction(() => document.getElementById('recording-state').textContent.startsWith('Recording paused'), null, { timeout: 15000 });
  assert.equal(await recText(page), 'Recording paused (paused by an agent).');
  assert.equal(await toggle.textContent(), 'Resume recording');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: join(ARTIFACTS, 'console-recording-paused.png'), fullPage: true });
  await toggle.click();
  await page.waitForFunction(() => document.getElementById('recording-state').textContent === 'Recording.', null, { timeout: 15000 });

  // A keypad payment pauses the recording by itself, before any field is asked.
  await page.locator('#method-keypad').check();
  await page.locator('#amount').fill('12');
  await page.locator('#reference').fill('visit-6');
  await page.locator('#request-payment').click();
  await page.waitForFunction(() => document.getElementById('recording-state').textContent.startsWith('Recording paused'), null, { timeout: 15000 });
  assert.equal(await recText(page), 'Recording paused (payment in progress).');
  assert.equal(await toggle.textContent(), 'Pause recording', 'no manual pause is in force');
  await page.getByRole('button', { name: 'Cancel payment' }).click();
  await page.waitForFunction(() => document.getElementById('recording-state').textContent === 'Recording.', null, { timeout: 15000 });

  const list = await (await fetch(`${env.gatewayUrl}/v1/recordings?room=${ROOM}`, { headers: { Authorization: `Bearer ${env.demoKey}` } })).json();
  assert.equal(list.recordings.length, 1, JSON.stringify(list));
  const reasons = list.recordings[0].pauses.map((p) => p.reason);
  assert.equal(reasons[0], 'manual', JSON.stringify(list));
  assert.equal(list.recordings[0].pauses[0].by, 'agent:agent-5');
  assert.match(reasons[1] ?? '', /^payment:pay_/);
  assert.equal(list.recordings[0].signature_valid, true);
});
