// Browser end-to-end for the card iframe's isolation (issue 7): the vault opens what the
// browser sealed (and only for its payment), a parent that is not allowlisted cannot frame
// the iframe, postMessages from other origins are ignored, and a tampered script or wasm
// fails integrity. Screenshots go to test-artifacts/browser/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, events, fillCard, newPage, startCardEnv, waitForEvent } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

let env;
before(async () => { env = await startCardEnv(); });
after(async () => { await env?.close(); });

test('the sealed envelope from the browser opens in the vault for this tenant and payment only', async () => {
  // Seal in the browser, then hand the captured envelope to POST /v1/tokens as the tenant
  // backend: the vault opens it (binding = tenant + payment id) and reports brand and last4.
  const payment = { id: `pay_seal${Date.now()}`, secret: 'pcs_unused' };
  const { context, page, seen } = await newPage(env.browser);
  await page.goto(env.portalUrl(env.portal.origin, payment));
  await waitForEvent(page, 'ready');
  const frame = env.cardFrame(page);
  await fillCard(frame, { number: '5555555555554444', expiry: '1230', cvc: '123', postalCode: 'SW1A 1AA' });
  assert.equal(await page.locator('#pay').isDisabled(), false, 'the portal learned the form is complete');
  await page.evaluate(() => window.__submit());
  const post = seen.requests.find((r) => r.url.startsWith(`${env.widget}/v1/payments/${payment.id}/card`));
  assert.ok(post, 'the iframe posted the sealed card');
  assert.deepEqual(findTracer(post.body, '5555555555554444'), []);
  const sealed = JSON.parse(post.body).sealed;
  const tokenize = (session) => fetch(`${env.gatewayUrl}/v1/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sealed, session }),
  });
  const wrong = await tokenize('pay_other');
  assert.equal(wrong.status, 400, 'bound to the payment id');
  const ok = await tokenize(payment.id);
  const text = await ok.text();
  assert.equal(ok.status, 201, text);
  const token = JSON.parse(text);
  assert.equal(token.last4 ?? token.token?.last4, '4444', text);
  await context.close();
});

test('the iframe refuses to load in a parent that is not allowlisted (CSP frame-ancestors)', async () => {
  const payment = { id: 'pay_hostile', secret: 'pcs_hostile' };
  const { context, page, seen } = await newPage(env.browser);
  // 1. The SDK on a hostile origin: the gateway refuses the page for that origin.
  await page.goto(env.portalUrl(env.hostile.origin, payment, { timeout: '2500' }));
  await waitForEvent(page, 'error');
  assert.deepEqual((await events(page, 'error'))[0].payload.code, 'frame_load_timeout');
  assert.equal((await events(page, 'ready')).length, 0);
  const refused = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(refused, 'the iframe element exists');
  assert.equal(await refused.locator('#number').count().catch(() => 0), 0, 'no card inputs rendered');
  // 2. The hostile parent lies about its origin: the page is served, but the browser blocks
  //    the framing because the real ancestor is not in frame-ancestors.
  const src = `${env.widget}/elements/v1/card?${new URLSearchParams({ tenant: env.tenant, origin: env.portal.origin })}`;
  await page.goto(`${env.hostile.origin}/raw-frame.html?${new URLSearchParams({ src })}`);
  await page.waitForFunction(() => window.__loaded);
  await page.waitForTimeout(300);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.equal(await frame.locator('#number').count().catch(() => 0), 0, 'no card inputs rendered');
  assert.ok(seen.console.some((l) => /frame-ancestors/.test(l)), `CSP report in console: ${seen.console.join(' | ')}`);
  await page.screenshot({ path: join(ARTIFACTS, 'card-form-refused.png') });
  // The refusal itself is a JSON error with frame-ancestors 'none'.
  const res = await fetch(`${env.widget}/elements/v1/card?${new URLSearchParams({ tenant: env.tenant, origin: env.hostile.origin })}`);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
  assert.equal((await res.json()).error.code, 'origin_not_allowed');
  await context.close();
});

test('the iframe ignores postMessages from other origins and talks only over its channel', async () => {
  const { context, page } = await newPage(env.browser);
  const src = `${env.widget}/elements/v1/card?${new URLSearchParams({ tenant: env.tenant, origin: env.portal.origin })}`;
  await page.goto(`${env.portal.origin}/raw-frame.html?${new URLSearchParams({ src, sibling: `${env.hostile.origin}/sibling.html` })}`);
  await page.waitForFunction(() => window.__loaded);
  const sibling = page.frames().find((f) => f.url().startsWith(env.hostile.origin));
  await sibling.waitForFunction(() => typeof window.__attack === 'function');
  await sibling.evaluate(() => window.__attack());
  // Wrong target origin from the right parent: the browser drops it.
  await page.evaluate((o) => window.__connect(o), env.hostile.origin);
  await page.waitForTimeout(1500);
  assert.deepEqual(await sibling.evaluate(() => window.__replies), [], 'the hostile frame got nothing');
  assert.deepEqual(await page.evaluate(() => window.__replies), []);
  // The real parent, with the exact widget origin, is answered.
  await page.evaluate((o) => window.__connect(o), env.widget);
  await page.waitForFunction(() => window.__replies.some((m) => m.type === 'ready'), null, { timeout: 10000 });
  // After connecting, window messages are ignored even from the parent itself.
  await page.evaluate(() => {
    window.__replies = [];
    document.getElementById('card').contentWindow.postMessage({ type: 'submit', requestId: 9 }, '*');
  });
  await page.waitForTimeout(500);
  const after = (await page.evaluate(() => window.__replies)).filter((m) => m.type !== 'resize');
  assert.deepEqual(after, [], 'no answer to a window message once connected');
  await context.close();
});

test('a tampered script or wasm fails integrity and the form does not load', async () => {
  const payment = { id: 'pay_tamper', secret: 'pcs_tamper' };
  for (const [file, tamper, expected] of [
    ['card-frame.js', (b) => Buffer.concat([b, Buffer.from(';window.__tampered=1;')]), 'frame_load_timeout'],
    ['card.wasm', (b) => { const c = Buffer.from(b); c[c.length - 9] ^= 1; return c; }, 'frame_integrity'],
  ]) {
    const { context, page, seen } = await newPage(env.browser);
    await page.route(`${env.widget}/elements/v1/${file}`, async (route) => {
      const original = await route.fetch();
      await route.fulfill({ response: original, body: tamper(await original.body()) });
    });
    await page.goto(env.portalUrl(env.portal.origin, payment, { timeout: '4000' }));
    await waitForEvent(page, 'error');
    const errors = (await events(page, 'error')).map((e) => e.payload.code);
    assert.ok(errors.includes(expected), `${file}: ${errors}`);
    assert.equal((await events(page, 'ready')).length, 0, `${file}: never ready`);
    const frame = env.cardFrame(page);
    assert.equal(await frame.locator('#number').isDisabled(), true, `${file}: inputs stay disabled`);
    assert.equal(await frame.evaluate(() => document.getElementById('fields').disabled), true);
    assert.ok(seen.console.some((l) => /integrity/i.test(l)), `${file}: ${seen.console.join(' | ')}`);
    if (file === 'card.wasm') {
      assert.match(await frame.locator('#form-error').textContent(), /could not be loaded securely/);
    }
    await page.screenshot({ path: join(ARTIFACTS, `card-form-tampered-${file.replace('.', '-')}.png`) });
    await context.close();
  }
});
