// Issue 13 point 4: a gateway on a host behind a 1:1 NAT (a cloud VM: it binds its private
// address, the world reaches it at the NAT's public one) finds its public address with
// `rtc.stun_server` at start-up (a real coturn answers the binding request) and advertises it
// in its host candidates; two Chromium participants outside the NAT join through it. Network
// namespaces (tests/netns/setup.sh, policy one-to-one): the gateway runs in the inside
// namespace on 198.19.S.2, the NAT maps 198.18.S.2 to it, coturn and both browsers are in the
// root namespace.
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './lib/gateway.mjs';
import { serveStatic } from './lib/static.mjs';
import { FLAGS, assert } from './lib/call-env.mjs';
import { assertAgentHears, inNamespace, minter, patientNetwork, requireNetns, startCoturn } from './lib/netns.mjs';
import { speechWav } from './lib/speech.mjs';

test('a gateway behind a 1:1 NAT discovers its public address by STUN and advertises it; callers outside connect', { timeout: 90000 }, async (t) => {
  if (!requireNetns(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hushpay-netns-'));
  const net = patientNetwork('one-to-one');
  const closers = [];
  try {
    const stun = await startCoturn({ ip: net.gwIp, secret: `unused-${process.pid}-0123456789abcdef0123`, dir });
    closers.push(() => stun.stop());
    const bin = gatewayBinary();
    const tenant = admin(bin, dir, ['tenant', 'create', 'clinic']);
    const apiKey = admin(bin, dir, ['apikey', 'create', '--tenant', tenant, '--label', 'netns']);
    const gw = await startGateway(inNamespace(net.pat, bin, dir), dir, {
      HUSHPAY__RTC__MEDIA_IP: net.patIp,
      HUSHPAY__RTC__STUN_SERVER: `${net.gwIp}:${stun.port}`,
      HUSHPAY_LOG: 'info,rtc=warn,webrtc=warn',
    }, { listen: `${net.patIp}:0` });
    closers.push(() => gw.child.kill('SIGTERM'));
    assert.match(gw.logs.stdout, new RegExp(`public media address \\(STUN ${net.gwIp.replaceAll('.', '\\.')}:${stun.port}\\): ${net.natIp.replaceAll('.', '\\.')}\\n`),
      `STUN reports the NAT's public address: ${gw.logs.stdout}`);
    // The world reaches the gateway at the public address (the NAT maps it, ports kept).
    const publicAddr = `${net.natIp}:${gw.addr.split(':')[1]}`;
    const mint = minter(publicAddr, apiKey, 'netns-public-ip', assert);
    const pages = await serveStatic({ '/call.html': join(root, 'tests', 'browser', 'pages', 'call.html') });
    closers.push(() => pages.server.close());
    const wav = join(dir, 'patient.wav');
    writeFileSync(wav, speechWav(20));
    const join_ = async (identity, role, args) => {
      const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, ...args] });
      closers.push(() => b.close());
      const page = await b.newPage();
      await page.goto(`${pages.origin}/call.html`);
      await page.evaluate(([u, tok]) => start(u, tok), [`ws://${publicAddr}/v1/rtc`, await mint(identity, role)]);
      return page;
    };
    const agent = await join_('agent-1', 'agent', []);
    const patient = await join_('patient-1', 'patient', [`--use-file-for-fake-audio-capture=${wav}`]);

    // The gateway's candidates: in its answer (the media engine gathers before answering),
    // and any it trickles.
    const frames_ = (await patient.evaluate(() => window.hp.wsFrames)).map((f) => JSON.parse(f));
    const candidates = [
      ...frames_.filter((m) => m.type === 'answer')
        .flatMap((m) => m.sdp.split(/\r?\n/)).filter((l) => l.startsWith('a=candidate:'))
        .map((l) => l.slice(2)),
      ...frames_.filter((m) => m.type === 'candidate').map((m) => m.candidate),
    ];
    t.diagnostic(`gateway candidates: ${JSON.stringify(candidates)}`);
    assert.ok(candidates.length > 0);
    for (const c of candidates) {
      assert.match(c, new RegExp(` ${net.natIp.replaceAll('.', '\\.')} \\d+ typ host`), 'the public address is advertised');
      assert.ok(!c.includes(net.patIp), `the private bind address is not advertised: ${c}`);
    }

    await assertAgentHears(t, assert, agent, 'through the NAT');
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    net.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
