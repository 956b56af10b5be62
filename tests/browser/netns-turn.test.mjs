// Issue 13 point 4: a patient behind a NAT that drops every UDP datagram it forwards reaches
// the agent through a real coturn over TCP. Network namespaces (tests/netns/setup.sh): the
// patient's Chromium runs in its own namespace behind the NAT namespace; the gateway, coturn
// and the agent's Chromium are in the root namespace on the NAT's outside network. The
// patient joins with the SDK's `Call` and `iceTransportPolicy: "relay"`, so its only path is
// the TURN server the gateway named in `joined`, with the credentials minted there.
//
// Checked: the NAT passes TCP and drops UDP (control, both directions of the claim); the
// selected candidate pair is a relay candidate allocated over TCP; coturn authenticated the
// allocation with the participant's TURN REST username; the agent hears the patient's
// voice; a token refresh puts fresh credentials into the peer connection's configuration; no
// TURN credential reaches the gateway's logs (debug level).
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin, gatewayBinary, root, startGateway } from './lib/gateway.mjs';
import { serveStatic, sdkRoutes } from './lib/static.mjs';
import { FLAGS, assert } from './lib/call-env.mjs';
import { assertAgentHears, chromiumIn, minter, patientNetwork, probeFrom, requireNetns, startCoturn } from './lib/netns.mjs';
import { speechWav } from './lib/speech.mjs';

const SECRET = `turn-secret-${process.pid}-0123456789abcdef0123`;

test('a patient behind a NAT that drops UDP reaches the agent through coturn over TCP (relay only)', { timeout: 90000 }, async (t) => {
  if (!requireNetns(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hushpay-netns-'));
  const net = patientNetwork('no-udp');
  const closers = [];
  try {
    // Control: the NAT forwards TCP and drops UDP.
    const probe = await probeFrom(net.pat, net.gwIp);
    assert.deepEqual(probe, { udp: false, tcp: true }, 'the patient network passes TCP and drops UDP');

    const turn = await startCoturn({ ip: net.gwIp, secret: SECRET, dir });
    closers.push(() => turn.stop());
    writeFileSync(join(dir, 'turn-secret'), `${SECRET}\n`);
    const bin = gatewayBinary();
    const tenant = admin(bin, dir, ['tenant', 'create', 'clinic']);
    const apiKey = admin(bin, dir, ['apikey', 'create', '--tenant', tenant, '--label', 'netns']);
    const gw = await startGateway(bin, dir, {
      HUSHPAY__RTC__MEDIA_IP: net.gwIp,
      HUSHPAY__TURN__URLS: `["turn:${net.gwIp}:${turn.port}?transport=udp", "turn:${net.gwIp}:${turn.port}?transport=tcp"]`,
      HUSHPAY__TURN__SHARED_SECRET_FILE: join(dir, 'turn-secret'),
      HUSHPAY_LOG: 'debug,rtc=warn,webrtc=warn,hyper=warn,h2=warn,tower=warn,sqlx=warn',
    }, { listen: `${net.gwIp}:0` });
    closers.push(() => gw.child.kill('SIGTERM'));
    const mint = minter(gw.addr, apiKey, 'netns-turn', assert);
    const pages = await serveStatic({
      ...sdkRoutes(root),
      '/call.html': join(root, 'tests', 'browser', 'pages', 'call.html'),
      '/reach.html': join(root, 'tests', 'browser', 'pages', 'reach.html'),
    }, net.gwIp);
    closers.push(() => pages.server.close());
    const wav = join(dir, 'patient.wav');
    writeFileSync(wav, speechWav(20));

    // getUserMedia needs a secure context: the pages' origin is not loopback here.
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
    await patient.evaluate(([u, tok]) => window.join(u, tok, 'relay'), [`http://${gw.addr}`, await mint('patient-1', 'patient')]);

    const config = await patient.evaluate(() => window.hp.config);
    assert.equal(config.iceTransportPolicy, 'relay');
    assert.equal(config.iceServers.length, 1, JSON.stringify(config.iceServers.map((s) => s.urls)));
    const username = config.iceServers[0].username;
    const credential = config.iceServers[0].credential;
    assert.match(username, /^\d+:par_[0-9a-f]+$/, 'a TURN REST username from joined');

    const pair = await patient.evaluate(async () => {
      for (let i = 0; i < 100; i++) {
        const p = await window.selectedPair();
        if (p) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    });
    t.diagnostic(`selected pair: ${JSON.stringify(pair)}`);
    assert.ok(pair, 'ICE selected a pair');
    assert.equal(pair.local.type, 'relay', 'the patient sends through its TURN relay');
    assert.equal(pair.local.relayProtocol, 'tcp', 'allocated over TCP (UDP is dropped)');
    assert.equal(pair.local.address, net.gwIp, 'the relay address is on coturn');
    assert.deepEqual([pair.remote.type, pair.remote.address], ['host', net.gwIp], 'to the gateway\'s host candidate');

    // The agent hears the patient's voice (through coturn, the SFU and its masker).
    // Measured over 3 s once audio flows (the first frames are the set-up's silence).
    await assertAgentHears(t, assert, agent, 'through coturn');

    // A token refresh brings fresh TURN credentials; the SDK hands them to setConfiguration.
    await patient.evaluate((tok) => window.hp.call.refreshToken(tok), await mint('patient-1', 'patient'));
    const renewed = await patient.evaluate(() => window.hp.pc.getConfiguration().iceServers);
    assert.equal(renewed.length, 1);
    assert.notEqual(renewed[0].username, username, 'a later expiry after the refresh');
    assert.match(renewed[0].username, new RegExp(`:${username.split(':')[1]}$`), 'the same participant');
    assert.deepEqual(await patient.evaluate(() => window.hp.errors), [], 'setConfiguration took them');

    const turnLogs = turn.logs();
    assert.match(turnLogs, new RegExp(`user <${username}>: incoming packet ALLOCATE processed, success`),
      'coturn authenticated the allocation with the minted username');
    assert.match(turnLogs, /TCP/, 'over TCP');
    assert.ok(!gw.logs.stderr.includes(credential) && !gw.logs.stderr.includes(SECRET), 'no TURN credential or secret in the gateway logs');
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    net.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
