// Browser end-to-end for 3-D Secure (issue 17, point 4) with the sandbox's test cards, in
// Chromium: the card iframe on the test portal opens the issuer's challenge in a frame inside
// its own document (never the portal's DOM), the cardholder completes it and `submit()`
// resolves with the final state; a failing challenge ends failed; a frictionless card goes
// straight through; the pay-by-link page gets the same challenge. While the challenge waits,
// the tenant's view (the agent's) shows only the state. No request, console line, portal DOM
// or gateway log carries the card number. Screenshots go to test-artifacts/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, fillCard, newPage, startCardEnv, waitForEvent } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

let env;
before(async () => { env = await startCardEnv(); });
after(async () => { await env?.close(); });

const CHALLENGE = '4000000000003220';
const CHALLENGE_FAILS = '4000000000003063';
const FRICTIONLESS = '4000000000003055';

async function createPayment(method = 'card-form') {
  const res = await fetch(`${env.gatewayUrl}/v1/payments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': `3ds-${Date.now()}-${Math.random()}` },
    body: JSON.stringify({ method, mode: 'charge', amount: 4200, currency: 'USD', reference: 'bill-3ds' }),
  });
  assert.equal(res.status, 201);
  const body = await res.json();
  return { id: body.payment.id, secret: body.client_secret, link: body.link_url };
}

async function tenantView(id) {
  const r = await fetch(`${env.gatewayUrl}/v1/payments/${id}`, { headers: { Authorization: `Bearer ${env.apiKey}` } });
  return r.text();
}

/** The issuer's challenge frame, a child of the card iframe. */
async function challengeFrame(card) {
  for (let i = 0; i < 150; i++) {
    const f = card.childFrames().find((c) => c.url().includes('/sandbox/3ds/'));
    if (f) {
      await f.waitForSelector('#complete');
      return f;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no challenge frame in the card iframe');
}

function assertNoPan(pan, seen, extra = []) {
  for (const [where, text] of [
    ...seen.requests.map((r) => [`request ${r.url}`, `${r.url}\n${r.body}`]),
    ['console', seen.console.join('\n')],
    ['gateway logs', env.gw.logs.stdout + env.gw.logs.stderr],
    ...extra,
  ]) {
    assert.deepEqual(findTracer(text, pan), [], `PAN in ${where}`);
  }
}

async function portalWithCard(pan) {
  const payment = await createPayment();
  const { context, page, seen } = await newPage(env.browser);
  await page.goto(env.portalUrl(env.portal.origin, payment));
  await waitForEvent(page, 'ready');
  const card = env.cardFrame(page);
  await fillCard(card, { number: pan, expiry: '1234', cvc: '737', postalCode: '94107' });
  return { payment, context, page, seen, card };
}

test('a challenge opens inside the card iframe; completed, the payment succeeds', async () => {
  const { payment, context, page, seen, card } = await portalWithCard(CHALLENGE);
  const outcome = page.evaluate(() => window.__submit());
  const challenge = await challengeFrame(card);
  // The challenge lives in the card iframe's document, not the portal's.
  assert.equal(await page.locator('iframe').count(), 1, 'the portal holds the card iframe only');
  assert.equal(await card.locator('#hp-challenge').count(), 1);
  assert.equal(await card.locator('#hp-challenge').getAttribute('title'), 'Your bank is checking it is you');
  assert.equal(await card.locator('#form-status').textContent(), 'Your bank is checking it is you', 'announced');
  // Meanwhile the tenant (and agent) view: the state, no challenge.
  const waiting = await tenantView(payment.id);
  assert.equal(JSON.parse(waiting).payment.state, 'authenticating');
  assert.ok(!waiting.includes('3ds_') && !waiting.includes('/sandbox/'), waiting);
  await page.screenshot({ path: join(ARTIFACTS, 'three-ds-challenge.png') });
  await challenge.locator('#complete').click();
  const result = await outcome;
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.card.status, 'succeeded');
  assert.equal(result.card.result, 'success');
  assert.equal(result.card.last4, '3220');
  assert.equal(await card.locator('#hp-challenge').count(), 0, 'the challenge frame is gone');
  assert.equal(JSON.parse(await tenantView(payment.id)).payment.state, 'succeeded');
  const completions = seen.requests.filter((r) => r.url === `${env.widget}/v1/payments/${payment.id}/authentication`);
  assert.equal(completions.length, 1);
  assertNoPan(CHALLENGE, seen, [['portal DOM', await page.content()]]);
  await context.close();
});

test('a failing challenge ends failed; a frictionless card goes straight through', async () => {
  {
    const { payment, context, page, seen, card } = await portalWithCard(CHALLENGE_FAILS);
    const outcome = page.evaluate(() => window.__submit());
    await (await challengeFrame(card)).locator('#complete').click();
    const result = await outcome;
    assert.equal(result.card?.status, 'failed', JSON.stringify(result));
    const p = JSON.parse(await tenantView(payment.id)).payment;
    assert.equal(p.state, 'failed');
    assert.equal(p.error, 'authentication-failed');
    assertNoPan(CHALLENGE_FAILS, seen);
    await context.close();
  }
  {
    const { context, page, seen, card } = await portalWithCard(FRICTIONLESS);
    const result = await page.evaluate(() => window.__submit());
    assert.equal(result.card?.status, 'succeeded', JSON.stringify(result));
    assert.equal(card.childFrames().length, 0, 'no challenge');
    assert.ok(!seen.requests.some((r) => r.url.includes('/sandbox/3ds/') || r.url.endsWith('/authentication')));
    await context.close();
  }
});

test('the pay-by-link page shows the challenge in its card iframe and finishes', async () => {
  const payment = await createPayment('link');
  assert.match(payment.link, /#pcs_/);
  const { context, page: pay, seen } = await newPage(env.browser);
  await pay.goto(payment.link);
  await pay.waitForFunction(() => document.getElementById('status').textContent.includes('Enter your card'), null, { timeout: 15000 });
  const card = pay.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`));
  await fillCard(card, { number: CHALLENGE, expiry: '1234', cvc: '737', postalCode: '94107' });
  await pay.locator('#pay').click();
  const challenge = await challengeFrame(card);
  await pay.screenshot({ path: join(ARTIFACTS, 'three-ds-pay-link-challenge.png') });
  await challenge.locator('#complete').click();
  await pay.waitForFunction(() => document.getElementById('status').textContent.startsWith('Thank you'), null, { timeout: 15000 });
  assert.match(await pay.locator('#status').textContent(), /ending in 3220/);
  assert.equal(JSON.parse(await tenantView(payment.id)).payment.state, 'succeeded');
  assertNoPan(CHALLENGE, seen, [['pay page DOM', await pay.content()]]);
  await context.close();
});
