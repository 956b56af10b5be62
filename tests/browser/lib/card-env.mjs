// Shared set-up of the card-form browser tests: the real gateway (its card iframe on the
// widget origin http://localhost:PORT, the API on http://127.0.0.1:PORT), a tenant whose only
// allowed origin is a test patient portal (a static server on another origin), a second
// static server playing a hostile site, and Debian Chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './gateway.mjs';
import { serveStatic, sdkRoutes } from './static.mjs';

export const ARTIFACTS = join(root, 'test-artifacts', 'browser');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const pages = join(root, 'tests', 'browser', 'card-pages');

/** Starts everything; `close()` stops it. */
export async function startCardEnv() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'hushpay-card-form-'));
  const routes = {
    ...sdkRoutes(root),
    '/portal.html': join(pages, 'portal.html'),
    '/raw-frame.html': join(pages, 'raw-frame.html'),
    '/sibling.html': join(pages, 'sibling.html'),
  };
  const portal = await serveStatic(routes);
  const hostile = await serveStatic(routes);
  const bin = gatewayBinary();
  const tenant = admin(bin, dataDir, ['tenant', 'create', 'portal', '--allowed-origin', portal.origin]);
  const apiKey = admin(bin, dataDir, ['apikey', 'create', '--tenant', tenant, '--label', 'browser-test']);
  const gw = await startGateway(bin, dataDir);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
  const env = {
    portal, hostile, browser, tenant, apiKey, gw,
    gatewayUrl: `http://${gw.addr}`,
    widget: `http://localhost:${gw.addr.split(':')[1]}`,
    async close() {
      await browser.close();
      gw.child.kill('SIGTERM');
      portal.server.close();
      hostile.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    /** The test portal embedding the card form for `payment` (on `origin`). */
    portalUrl(origin, payment, extra = {}) {
      const q = new URLSearchParams({ widget: env.widget, tenant, payment: payment.id, secret: payment.secret, ...extra });
      return `${origin}/portal.html?${q}`;
    },
    /** The card iframe's frame in `page`. */
    cardFrame(page) {
      return page.frames().find((f) => f.url().startsWith(`${env.widget}/elements/v1/card`));
    },
  };
  return env;
}

/** A fresh context; every request and console line is recorded for the leak checks. */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 520, height: 640 }, ...contextOptions });
  const page = await context.newPage();
  const seen = { requests: [], console: [] };
  page.on('request', (r) => seen.requests.push({ url: r.url(), body: r.postData() ?? '' }));
  page.on('console', (m) => seen.console.push(m.text()));
  return { context, page, seen };
}

/** The SDK events the test portal recorded, of one type. */
export async function events(page, type) {
  return (await page.evaluate(() => window.__events)).filter((e) => e.type === type);
}

export async function waitForEvent(page, type) {
  await page.waitForFunction((t) => window.__events.some((e) => e.type === t), type, { timeout: 15000 });
}

/** Types a test card into the iframe the way a patient would. */
export async function fillCard(frame, { number, expiry, cvc, postalCode }) {
  await frame.locator('#number').pressSequentially(number, { delay: 5 });
  await frame.locator('#expiry').pressSequentially(expiry, { delay: 5 });
  await frame.locator('#cvc').pressSequentially(cvc, { delay: 5 });
  await frame.locator('#postalCode').fill(postalCode);
  await frame.locator('#postalCode').press('Tab');
}

export { assert };
