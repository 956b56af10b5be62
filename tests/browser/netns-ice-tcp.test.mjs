// Issue 13 point 4: a patient on a network that drops every UDP datagram, with no TURN server,
// joins over ICE-TCP: the gateway's media engine listens on one TCP port (`rtc.tcp_port`) next
// to its UDP port and advertises a passive TCP candidate (RFC 6544). Network namespaces
// (tests/netns/setup.sh): the patient's Chromium runs behind the NAT namespace that passes TCP
// and drops UDP; the gateway and the agent's Chromium are in the root namespace.
//
// Checked: the NAT passes TCP and drops UDP (control); the gateway's answer carries a passive
// TCP candidate on rtc.tcp_port; the patient's selected candidate pair is TCP to that port;
// the agent hears the patient's voice through the SFU and its masker.
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './lib/gateway.mjs';
import { serveStatic, sdkRoutes } from './lib/static.mjs';
import { FLAGS, assert } from './lib/call-env.mjs';
import { assertAgentHears, chromiumIn, minter, patientNetwork, probeFrom, requireNetns } from './lib/netns.mjs';
import { speechWav } from './lib/speech.mjs';

test('a patient on a network that drops UDP joins over ICE-TCP on the gateway\'s one TCP port (no TURN)', { timeout: 90000 }, async (t) => {
  if (!requireNetns(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hushpay-netns-'));
  const net = patientNetwork('no-udp');
  const closers = [];
  try {
    const probe = await probeFrom(net.pat, net.gwIp);
    assert.deepEqual(probe, { udp: false, tcp: true }, 'the patient network passes TCP and drops UDP');

    const bin = gatewayBinary();
    const tenant = admin(bin, dir, ['tenant', 'create', 'clinic']);
    const apiKey = admin(bin, dir, ['apikey', 'create', '--tenant', tenant, '--label', 'netns']);
    // A free port of this run's own (the UDP port falls back to a free one in development).
    const tcpPort = await freePort(net.gwIp);
    const gw = await startGateway(bin, dir, {
      HUSHPAY__RTC__MEDIA_IP: net.gwIp,
      HUSHPAY__RTC__TCP_PORT: String(tcpPort),
      HUSHPAY_LOG: 'info,rtc=warn,webrtc=warn',
    }, { listen: `${net.gwIp}:0` });
    closers.push(() => gw.child.kill('SIGTERM'));
    const mint = minter(gw.addr, apiKey, 'netns-ice-tcp', assert);
    const pages = await serveStatic({
      ...sdkRoutes(root),
      '/call.html': join(root, 'tests', 'browser', 'pages', 'call.html'),
      '/reach.html': join(root, 'tests', 'browser', 'pages', 'reach.html'),
    }, net.gwIp);
    closers.push(() => pages.server.close());
    const wav = join(dir, 'patient.wav');
    writeFileSync(wav, speechWav(20));

    const secure = `--unsafely-treat-insecure-origin-as-secure=${pages.origin}`;
    const agentBrowser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, secure] });
    closers.push(() => agentBrowser.close());
    const agent = await agentBrowser.newPage();
    await agent.goto(`${pages.origin}/call.html`);
    await agent.evaluate(([u, tok]) => start(u, tok), [`ws://${gw.addr}/v1/rtc`, await mint('agent-1', 'agent')]);

    const patientBrowser = await chromium.launch({
      executablePath: chromiumIn(net.pat, dir),
      args: [...FLAGS, secure, `--use-file-for-fake-audio-capture=${wav}`],
    });
    closers.push(() => patientBrowser.close());
    const patient = await patientBrowser.newPage();
    await patient.goto(`${pages.origin}/reach.html`);
    await patient.evaluate(([u, tok]) => window.join(u, tok, 'all'), [`http://${gw.addr}`, await mint('patient-1', 'patient')]);

    const pair = await patient.evaluate(async () => {
      for (let i = 0; i < 150; i++) {
        const p = await window.selectedPair();
        if (p) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    });
    t.diagnostic(`selected pair: ${JSON.stringify(pair)}`);
    assert.ok(pair, 'ICE selected a pair');
    assert.equal(pair.remote.protocol, 'tcp', 'over TCP (UDP is dropped)');
    assert.deepEqual([pair.remote.address, pair.remote.port], [net.gwIp, tcpPort], 'to the gateway\'s TCP port');
    assert.equal(pair.remote.tcpType, 'passive', 'the gateway\'s passive candidate');

    await assertAgentHears(t, assert, agent, 'over ICE-TCP');
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    net.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A TCP port free on `host` now. */
function freePort(host) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
