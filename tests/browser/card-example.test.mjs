// The runnable example (examples/card-form) works as its README says: a portal with its own
// backend creates the payment, the patient pays in the card iframe, the page shows brand and
// last 4. Screenshot: test-artifacts/browser/card-example-paid.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './lib/gateway.mjs';
import { ARTIFACTS, fillCard } from './lib/card-env.mjs';

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function startExample(env) {
  const child = spawn(process.execPath, [join(root, 'examples', 'card-form', 'server.mjs')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`example exited ${code}`)));
    child.stdout.on('data', (d) => { const url = String(d).match(/on (http:\S+)/)?.[1]; if (url) resolve({ child, url }); });
  });
}

test('examples/card-form: the patient pays and the portal shows brand and last 4', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'hushpay-card-example-'));
  const port = await freePort();
  const bin = gatewayBinary();
  const tenant = admin(bin, dataDir, ['tenant', 'create', 'riverside', '--allowed-origin', `http://127.0.0.1:${port}`]);
  const apiKey = admin(bin, dataDir, ['apikey', 'create', '--tenant', tenant]);
  const gw = await startGateway(bin, dataDir);
  const example = await startExample({ HUSHPAY_URL: `http://${gw.addr}`, HUSHPAY_API_KEY: apiKey, HUSHPAY_TENANT: tenant, PORT: String(port) });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 520, height: 600 } });
    await page.goto(example.url);
    const frame = page.frameLocator('iframe');
    await frame.locator('#number:not([disabled])').waitFor();
    // The inputs are found by their labels, as assistive technology finds them.
    await frame.getByLabel('Card number').waitFor();
    const cardFrame = page.frames().find((f) => f.url().includes('/elements/v1/card'));
    await fillCard(cardFrame, { number: '378282246310005', expiry: '0830', cvc: '1234', postalCode: '10001' });
    assert.equal(await frame.getByLabel('Card number').inputValue(), '3782 822463 10005');
    await page.getByRole('button', { name: 'Pay $42.00' }).click();
    await page.getByText(/paid with amex ending in 0005/).waitFor({ timeout: 15000 })
      .catch(async (e) => { throw new Error(`${e.message}; page says: ${await page.locator('#message').textContent()}; gateway: ${gw.logs.stderr.slice(-3000)}`); });
    await page.screenshot({ path: join(ARTIFACTS, 'card-example-paid.png') });
  } finally {
    await browser.close();
    example.child.kill();
    gw.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
