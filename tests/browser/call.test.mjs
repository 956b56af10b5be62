// Browser end-to-end: the real gateway binary, two headless Debian Chromium instances
// (playwright-core, executablePath /usr/bin/chromium), a patient page whose fake microphone
// plays a WAV with DTMF tones and which also sends RFC 4733 keys with insertDTMF, and an agent
// page. The agent hears the patient's voice and no tone (WebAudio analyser), chat flows both
// ways, and a card number typed by the patient never reaches the agent's DOM, any frame it
// receives, or the gateway's logs.
//
// The tone detector has controls: it must find the tones in the patient's own microphone, and
// (first test) in a call where the tone file is the *agent's* microphone, whose audio the SFU
// does not mask, so the patient page receives the tones after Opus, WebRTC and the SFU; and it
// must find none in the agent's tone-free speech. An earlier rule ("a low and a high DTMF bin
// each 20 dB above the band median") counted 50-90 "tone" frames in tone-free speech (voiced
// harmonics land on DTMF frequencies); its count is still reported as a diagnostic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gatewayBinary } from './lib/gateway.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** Starts `hushpay serve` on 127.0.0.1:0; resolves with its address and the demo API key. */
function startGateway(dataDir) {
  const child = spawn(gatewayBinary(), ['serve', '--listen', '127.0.0.1:0'], {
    cwd: dataDir,
    env: { ...process.env, HUSHPAY__DATA_DIR: dataDir, HUSHPAY__STORE: 'memory', HUSHPAY_LOG: 'warn,rtc::peer_connection::handler=error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.logs = '';
  child.stderr.on('data', (d) => { child.logs += d; process.stderr.write(d); });
  return new Promise((resolve, reject) => {
    let out = '';
    let addr, key;
    child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${out}`)));
    child.stdout.on('data', (d) => {
      out += d;
      addr ??= out.match(/listening on http:\/\/(\S+)/)?.[1];
      key ??= out.match(/API key \(shown once[^)]*\): (\S+)/)?.[1];
      if (addr && key) resolve({ child, addr, key });
    });
  });
}

function wav(samples) {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + samples.length * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(48000, 24); buf.writeUInt32LE(96000, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(samples.length * 2, 40);
  samples.forEach((s, i) => buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s))), 44 + i * 2));
  return buf;
}

/** A voiced, syllabic speech-like signal; with `tones`, DTMF 4 and 7 (150 ms) every second. */
function audio(seconds, tones) {
  const n = seconds * 48000;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 48000;
    const f0 = 120 + 20 * Math.sin(t * 1.3);
    const env = (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)) ** 2;
    let s = 0;
    for (let k = 1; k <= 12; k++) s += Math.sin(2 * Math.PI * f0 * k * t) / k;
    out[i] = s * env * 4000;
  }
  if (tones) {
    const pairs = [[770, 1209], [852, 1209]];
    for (let sec = 0; sec < seconds; sec++) {
      const [lo, hi] = pairs[sec % 2];
      const start = sec * 48000 + 24000;
      for (let i = 0; i < 7200 && start + i < n; i++) {
        const t = i / 48000;
        out[start + i] = 7000 * (Math.sin(2 * Math.PI * lo * t) + Math.sin(2 * Math.PI * hi * t));
      }
    }
  }
  return wav(Array.from(out));
}

function serveStatic() {
  const server = createServer((req, res) => {
    if (req.url === '/call.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(readFileSync(join(here, 'pages', 'call.html')));
    } else { res.writeHead(404); res.end(); }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function mint(addr, key, identity, role, room) {
  const r = await fetch(`http://${addr}/v1/access-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ identity, room, role }),
  });
  assert.equal(r.status, 201);
  return (await r.json()).token;
}

async function until(page, fn, arg, ms = 15000) {
  await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
}

/**
 * A gateway, a static server and two Chromium instances (agent, patient) whose fake
 * microphones play `agentAudio` and `patientAudio`, joined to one room. `body` gets the pages.
 */
async function withCall(room, { agentAudio, patientAudio }, body, checkLogs = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hushpay-browser-'));
  const patientWav = join(dir, 'patient.wav');
  const agentWav = join(dir, 'agent.wav');
  writeFileSync(patientWav, patientAudio);
  writeFileSync(agentWav, agentAudio);
  const { child, addr, key } = await startGateway(dir);
  const server = await serveStatic();
  const pageUrl = `http://127.0.0.1:${server.address().port}/call.html`;
  const browsers = [];
  try {
    const launch = async (wavFile) => {
      const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, `--use-file-for-fake-audio-capture=${wavFile}`] });
      browsers.push(b);
      const page = await b.newPage();
      await page.goto(pageUrl);
      return page;
    };
    const agent = await launch(agentWav);
    const patient = await launch(patientWav);
    const ws = `ws://${addr}/v1/rtc`;
    await agent.evaluate(([u, t]) => start(u, t), [ws, await mint(addr, key, 'agent-1', 'agent', room)]);
    await patient.evaluate(([u, t]) => start(u, t), [ws, await mint(addr, key, 'patient-1', 'patient', room)]);
    await body({ agent, patient, addr });
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
    server.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
  checkLogs(child.logs);
}

/** Analyser counts as test diagnostics (`toneFrames` by the dominance rule, and the earlier
 * median rule's count, which fires on tone-free speech). */
function report(t, stats) {
  for (const [label, s] of Object.entries(stats)) {
    t.diagnostic(`${label}: ${s.frames} frames, ${s.loud} loud, tone frames ${s.toneFrames} (median rule ${s.medianRuleFrames})`);
  }
}

test('positive control: tones sent as agent audio (not masked) reach the patient page and the analyser finds them', { timeout: 120000 }, async (t) => {
  await withCall('browser-control', { agentAudio: audio(10, true), patientAudio: audio(10, false) }, async ({ agent, patient }) => {
    await until(patient, () => (window.hp.remote?.frames ?? 0) > 200);
    const heard = await patient.evaluate(() => window.hp.remote);
    const sent = await agent.evaluate(() => window.hp.local);
    report(t, { 'agent mic (tones)': sent, 'patient hears agent (tones, not masked)': heard });
    assert.ok(sent.toneFrames >= 5, `the analyser finds tones in the agent's microphone (${sent.toneFrames})`);
    assert.ok(heard.toneFrames >= 5, `the analyser finds the tones after Opus, WebRTC and the SFU (${heard.toneFrames})`);
  });
});

test('patient and agent in Chromium: masked audio, chat both ways, card number intercepted', { timeout: 120000 }, async (t) => {
  await withCall('browser-call', { agentAudio: audio(10, false), patientAudio: audio(10, true) }, async ({ agent, patient, addr }) => {
    assert.equal(await patient.evaluate(() => window.hp.canInsertDTMF), true, 'telephone-event negotiated');
    const answer = await patient.evaluate(() => window.hp.answer);
    assert.match(answer, /useinbandfec=0/);
    assert.match(answer, /maxplaybackrate=16000/, 'the answer asks for wideband Opus');
    assert.doesNotMatch(answer, /red\/48000/i);

    // Four seconds of call (in-band tones every second), then RFC 4733 keys.
    await until(agent, () => (window.hp.remote?.frames ?? 0) > 200);
    await patient.evaluate(() => keys('123'));
    await until(agent, () => window.hp.remote.frames > 300);

    const heard = await agent.evaluate(() => window.hp.remote);
    const sent = await patient.evaluate(() => window.hp.local);
    const back = await patient.evaluate(() => window.hp.remote);
    report(t, { 'patient mic (tones)': sent, 'agent hears patient (masked)': heard, 'patient hears agent (no tones)': back });
    assert.ok(sent.toneFrames >= 5, `control: the analyser finds tones in the patient's microphone (${sent.toneFrames})`);
    assert.equal(back.toneFrames, 0, `control: no tone in the agent's tone-free speech (${back.toneAt})`);
    assert.ok(heard.loud > heard.frames * 0.3, `the agent hears the patient's voice (${heard.loud}/${heard.frames} loud frames)`);
    assert.equal(heard.toneFrames, 0, `the agent hears no tone (tone frames at ${heard.toneAt} ms)`);
    assert.ok(back.loud > back.frames * 0.3, 'the patient hears the agent');
    const metrics = await (await fetch(`http://${addr}/metrics`)).text();
    const digits = Number(metrics.match(/^hushpay_digits_captured_total (\d+)/m)?.[1]);
    assert.ok(digits >= 5, `the server captured the keyed digits (${digits})`);
    // Chromium honours the answer's maxplaybackrate=16000: it codes wideband (or narrower).
    const band = (b) => Number(metrics.match(new RegExp(`^hushpay_patient_opus_packets_total\\{bandwidth="${b}"\\} (\\d+)`, 'm'))?.[1]);
    const wide = band('narrowband') + band('mediumband') + band('wideband');
    const total = wide + band('superwideband') + band('fullband');
    t.diagnostic(`patient Opus packets: ${wide} of ${total} wideband or narrower`);
    assert.ok(total > 200 && wide >= total * 0.95, `the patient's browser codes wideband Opus (${wide}/${total})`);

    // Chat both ways.
    await patient.evaluate(() => chat('hello agent'));
    await until(agent, () => window.hp.chat.some((m) => m.text === 'hello agent' && m.from.role === 'patient'));
    await agent.evaluate(() => chat('hello patient'));
    await until(patient, () => window.hp.chat.some((m) => m.text === 'hello patient' && m.from.role === 'agent'));

    // A card number, split over two messages and one whole: never on the agent's side.
    await patient.evaluate(() => chat('my card is 4111 1111'));
    await patient.evaluate(() => chat('1111 1111'));
    await patient.evaluate(() => chat('5555-5555-5555-4444'));
    await until(agent, () => window.hp.chat.filter((m) => m.redacted).length >= 2);
    await until(agent, () => !document.body.innerText.includes('4111'));
    const dom = await agent.evaluate(() => document.body.innerHTML);
    const frames = await agent.evaluate(() => [...window.hp.frames, ...window.hp.wsFrames].join('\n'));
    // Every frame the agent received (data channel and signalling) and its DOM, separators
    // removed: neither card number is in them. The first fragment of the split number (8
    // digits, not a card number) was relayed before the rest arrived, then retracted: it is no
    // longer in the DOM.
    for (const haystack of [dom, frames.replace(/[\s.\-\u200b]/g, '')]) {
      assert.ok(!haystack.includes('5555555555554444'), 'the whole card number never reaches the agent');
      assert.ok(!haystack.includes('4111111111111111'), 'the split card number never reaches the agent');
    }
    assert.ok(!dom.includes('4111'), 'the retracted fragment is gone from the agent DOM');
    assert.ok(dom.includes('[card number removed]'), 'the agent sees the notice');
  }, (logs) => {
    // The gateway's own output (logs, warnings) holds neither card number either.
    const flat = logs.replace(/\x1b\[[0-9;]*m/g, '').replace(/[\s.\-]/g, '');
    assert.match(logs, /card number intercepted in chat/, 'control: the incidents were logged');
    assert.ok(!flat.includes('5555555555554444') && !flat.includes('4111111111111111'), 'no card number in the gateway logs');
  });
});
