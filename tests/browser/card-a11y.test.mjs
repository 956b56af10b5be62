// Accessibility of the card iframe (WCAG 2.1 A and AA rules of axe-core), empty, filled and
// with errors shown; plus keyboard use: Tab order and Enter raising the `submit` event.
// axe runs inside the iframe through the DevTools protocol (the context bypasses the page's
// CSP for that purpose only; the CSP itself is tested in card-form.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { events, newPage, startCardEnv, waitForEvent } from './lib/card-env.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let env;
before(async () => { env = await startCardEnv(); });
after(async () => { await env?.close(); });

async function axe(frame) {
  await frame.evaluate(axeSource);
  return frame.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('the card iframe passes axe WCAG 2.1 AA and works from the keyboard', async () => {
  const { context, page } = await newPage(env.browser, { bypassCSP: true });
  await page.goto(env.portalUrl(env.portal.origin, { id: 'pay_a11y', secret: 'pcs_a11y' }));
  await waitForEvent(page, 'ready');
  const frame = env.cardFrame(page);
  assert.deepEqual(await axe(frame), [], 'empty form');

  // Keyboard only: focus the number field, then Tab through the fields in reading order.
  await frame.locator('#number').focus();
  await page.keyboard.type('4111 1111 1111 1112');
  await page.keyboard.press('Tab');
  await page.keyboard.type('13');
  await page.keyboard.press('Tab');
  await page.keyboard.type('1');
  await page.keyboard.press('Tab');
  const focused = (await events(page, 'focus')).map((e) => e.payload.field);
  assert.deepEqual(focused.slice(0, 4), ['number', 'expiry', 'cvc', 'postalCode']);
  // Errors are shown, tied to their inputs and announced.
  for (const field of ['number', 'expiry', 'cvc']) {
    assert.equal(await frame.locator(`#${field}`).getAttribute('aria-invalid'), 'true', field);
    assert.match(await frame.locator(`#${field}-error`).textContent(), /invalid|incomplete/, field);
    assert.match(await frame.locator(`#${field}`).getAttribute('aria-describedby'), new RegExp(`${field}-error`));
  }
  assert.deepEqual(await axe(frame), [], 'form with errors');

  // Enter in the form asks the parent to submit.
  await frame.locator('#postalCode').press('Enter');
  await waitForEvent(page, 'submit');
  await context.close();
});
