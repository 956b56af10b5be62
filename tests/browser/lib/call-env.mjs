// Shared set-up of the browser tests that run a call: the real gateway (card iframe on the
// widget origin http://localhost:PORT, API, pay-by-link page and console on
// http://127.0.0.1:PORT), a tenant whose allowed origin is a test patient portal (a static
// server), a signed webhook receiver (examples/webhook-receiver), and Debian Chromium with
// fake media devices. `close()` stops everything it started.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './gateway.mjs';
import { serveStatic, sdkRoutes } from './static.mjs';
import { serve as serveWebhooks } from '../../../examples/webhook-receiver/receiver.mjs';

export const ARTIFACTS = join(root, 'test-artifacts', 'browser');
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required'];

/** Starts everything. `routes` adds pages to the portal's static server; `gatewayEnv` adds
 * environment overrides for the gateway (`HUSHPAY__RECORDING__ENABLED`, ...); `gatewayConfig`,
 * given the test tenant's id, returns the text of a config file for the gateway (`[sip]`, ...). */
export async function startCallEnv(routes = {}, { chromiumArgs = [], gatewayEnv = {}, gatewayConfig } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'hushpay-call-env-'));
  const portal = await serveStatic({
    ...sdkRoutes(root),
    '/call.html': join(root, 'tests', 'browser', 'pages', 'call.html'),
    ...routes,
  });
  const bin = gatewayBinary();
  const tenant = admin(bin, dataDir, ['tenant', 'create', 'clinic', '--allowed-origin', portal.origin]);
  const apiKey = admin(bin, dataDir, ['apikey', 'create', '--tenant', tenant, '--label', 'browser-test']);
  const config = {};
  if (gatewayConfig) {
    config.HUSHPAY_CONFIG = join(dataDir, 'hushpay.toml');
    writeFileSync(config.HUSHPAY_CONFIG, await gatewayConfig(tenant));
  }
  const gw = await startGateway(bin, dataDir, {
    ...config,
    HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS: '100',
    HUSHPAY_LOG: 'debug,rtc=warn,webrtc=warn,hyper=warn,h2=warn,tower=warn,sqlx=warn',
    ...gatewayEnv,
  });
  const gatewayUrl = `http://${gw.addr}`;
  // Webhooks: the receiver verifies each delivery with the endpoint's secret.
  const webhookOut = join(dataDir, 'webhooks.jsonl');
  writeFileSync(webhookOut, '');
  const secretFile = join(dataDir, 'webhook-secret');
  writeFileSync(secretFile, 'whsec_unset');
  process.env.SECRET_FILE = secretFile;
  const receiver = serveWebhooks({ port: 0, out: webhookOut });
  await new Promise((r) => receiver.once('listening', r));
  const hook = await (await fetch(`${gatewayUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${receiver.address().port}/hooks` }),
  })).json();
  assert.match(hook.secret ?? '', /^whsec_/, JSON.stringify(hook));
  writeFileSync(secretFile, hook.secret);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, ...chromiumArgs] });
  // The demo tenant (development mode): its key is printed once at the first start.
  const demoKey = gw.logs.stdout.match(/Demo tenant API key \(shown once[^)]*\): (\S+)/)?.[1];
  const env = {
    portal, browser, tenant, apiKey, gw, gatewayUrl, webhookOut, demoKey, bin, dataDir,
    widget: `http://localhost:${gw.addr.split(':')[1]}`,
    rtcUrl: `ws://${gw.addr}/v1/rtc`,
    async close() {
      await browser.close();
      gw.child.kill('SIGTERM');
      portal.server.close();
      receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    /** A participant access token from the tenant backend (`key`: the tenant's API key;
     * `ttlSecs`: its lifetime, the gateway's default when omitted). */
    async mint(identity, role, room, key = apiKey, ttlSecs = undefined) {
      const r = await fetch(`${gatewayUrl}/v1/access-tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ identity, room, role, ...(ttlSecs === undefined ? {} : { ttl_secs: ttlSecs }) }),
      });
      assert.equal(r.status, 201, await r.clone().text());
      return (await r.json()).token;
    },
    /** `fetch` on the gateway with a bearer credential and JSON. */
    async api(path, credential, { method = 'GET', body, headers = {} } = {}) {
      const r = await fetch(`${gatewayUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
  };
  return env;
}

/** A fresh context and page; requests and console lines are recorded for leak checks. */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 }, ...contextOptions });
  const page = await context.newPage();
  const seen = { requests: [], console: [] };
  page.on('request', (r) => seen.requests.push({ url: r.url(), body: r.postData() ?? '' }));
  page.on('console', (m) => seen.console.push(m.text()));
  return { context, page, seen };
}

/** Every text a page holds: the DOM of each frame it can read, and its input values. */
export async function pageText(page) {
  const out = [];
  for (const f of page.frames()) {
    try {
      out.push(await f.evaluate(() => document.documentElement.outerHTML + [...document.querySelectorAll('input,textarea')].map((i) => i.value).join(' ')));
    } catch { /* a detached frame */ }
  }
  return out.join('\n');
}

/** Webhook events received so far, of `type` for payment `id`. */
export function webhookEvents(file, type, id) {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).event)
    .filter((e) => e.type === type && e.data.id === id);
}

/** Polls `fn` until it returns a truthy value (15 s). */
export async function eventually(fn, what, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { assert };
