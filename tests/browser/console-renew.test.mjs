// Browser end-to-end for the agent console's session renewal (issue 12, finding 3): the
// gateway ends a call at its token's `exp`. With a short-lived agent token the console shows
// "Extend session" before `exp`; a fresh token pasted there keeps the call past the old `exp`.
// Without one, the console is signed out at `exp` with the reason.
import { test, before, after } from 'node:test';
import { assert, newPage, startCallEnv } from './lib/call-env.mjs';

let env;
before(async () => { env = await startCallEnv({}, { gatewayEnv: { HUSHPAY__AUTH__LEEWAY_SECS: '0' } }); });
after(async () => { await env?.close(); });

const expOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp;
const shown = (id) => (page) => page.waitForFunction((el) => !document.getElementById(el).hidden, id, { timeout: 30000 });

test('console: a fresh token pasted before exp keeps the call past the old exp', async () => {
  const { page } = await newPage(env.browser);
  await page.goto(`${env.gatewayUrl}/console`);
  const token = await env.mint('agent-8', 'agent', 'renew-visit', env.apiKey, 14);
  await page.locator('#token').fill(token);
  await page.locator('#join').click();
  await shown('call')(page);
  await shown('renew')(page);
  assert.match(await page.locator('#alert').textContent(), /Your session ends in \d+ seconds/);
  await page.locator('#renew-token').fill(await env.mint('agent-8', 'agent', 'renew-visit', env.apiKey, 600));
  await page.locator('#renew-submit').click();
  await page.waitForFunction(() => document.getElementById('status').textContent === 'Session extended.', null, { timeout: 10000 });
  assert.equal(await page.locator('#renew').isHidden(), true);
  const wait = (expOf(token) + 2) * 1000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  assert.equal(await page.locator('#call').isHidden(), false, 'still in the call after the old exp');
  assert.doesNotMatch(await page.locator('#status').textContent(), /Left the call/);
  await page.close();
});

test('console: without a fresh token the call ends at exp', async () => {
  const { page } = await newPage(env.browser);
  await page.goto(`${env.gatewayUrl}/console`);
  const token = await env.mint('agent-9', 'agent', 'expiring-visit', env.apiKey, 6);
  await page.locator('#token').fill(token);
  await page.locator('#join').click();
  await shown('call')(page);
  await page.waitForFunction(() => document.getElementById('call').hidden, null, { timeout: 15000 });
  const ended = Date.now() / 1000;
  assert.ok(ended >= expOf(token) - 0.5, `not before exp (${expOf(token)} vs ${ended})`);
  assert.match(await page.locator('#status').textContent(), /Left the call: The access token expired/);
  assert.equal(await page.locator('#signin').isHidden(), false);
  await page.close();
});
