// Browser end-to-end for a phone caller who pays by keypad (issue 15): the gateway as `hushpay
// serve` runs it with `[sip]` and recording on; SIPp (Debian `sip-tester`) is the caller on a
// trunk, its RTP a pcap this test writes: PCMU speech, then the card number, the expiry date
// and the security code, each key 100 ms, half of them in-band tone pairs and half RFC 4733
// telephone events, with pauses in which the agent asks for the next field. The agent is the
// console in Chromium: it requests the keypad payment while the caller speaks, asks for each
// field, sees digit counts, completes the payment, and the signed `payment.succeeded` webhook
// arrives. Everything the agent's browser received is captured (WebAudio on the remote track):
// it holds the caller's speech, multimon-ng hears no digit in it (controls: it hears the
// in-band keys in what the caller sent) and the gateway's sensitive leak detector (`hushpay
// media flag`) flags nothing from the payment's start on. The room's recording paused for the
// payment over the whole keying, and no page, frame or log holds the card number.
import { test, before, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, assert, eventually, newPage, pageText, startCallEnv, webhookEvents } from './lib/call-env.mjs';
import { root } from './lib/gateway.mjs';
import { findTracer } from './lib/leak.mjs';
import { CallerStream, captureRemoteAudio, freeUdpPort, multimon, resampleLinear, rms, sensitiveFlags, sippCall, speech8k } from './lib/phone-caller.mjs';

const PAN = '4242424242424242';
const EXPIRY = '1234';
const CVC = '737';
const ROOM = 'phone-visit';
/** The caller's speech before the first key: time for the agent to request the payment and
 *  ask for the card number once the call is up. */
const SPEECH_MS = 7000;
/** Silence between fields: time for the agent to ask for the next one. */
const GAP_MS = 5000;

let env;
let sipPort;
let work;

before(async () => {
  sipPort = await freeUdpPort();
  work = mkdtempSync(join(tmpdir(), 'hushpay-phone-caller-'));
  env = await startCallEnv({}, {
    gatewayEnv: { HUSHPAY__RECORDING__ENABLED: 'true', HUSHPAY__RECORDING__CHUNK_MS: '500' },
    gatewayConfig: (tenant) => [
      '[sip]',
      `listen = "127.0.0.1:${sipPort}"`,
      '[[sip.trunks]]',
      'name = "carrier"',
      `tenant = "${tenant}"`,
      'sources = ["127.0.0.1/32"]',
      '[[sip.dispatch]]',
      `tenant = "${tenant}"`,
      'called = "payline"',
      `room = "${ROOM}"`,
      '',
    ].join('\n'),
  });
});
after(async () => {
  await env?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const fields = (page) => page.evaluate(() => document.getElementById('payment-fields').textContent);
const until = (page, text, what = 'payment-fields') => page.waitForFunction(
  ([id, t]) => document.getElementById(id).textContent.includes(t), [what, text], { timeout: 20000 });

test('a phone caller (SIPp) keys a card in-band and by RFC 4733 for a keypad payment the console requests: it succeeds, the agent hears no digit, the recording pauses over the keying', { timeout: 180000 }, async () => {
  // The caller's stream.
  const caller = new CallerStream();
  caller.audio(speech8k(SPEECH_MS));
  const keysFromMs = caller.ms;
  let inBand = caller.keys(`${PAN}#`);
  caller.silence(GAP_MS);
  inBand += caller.keys(EXPIRY);
  caller.silence(GAP_MS);
  inBand += caller.keys(`${CVC}#`);
  caller.silence(2000);
  caller.writePcap(join(work, 'caller.pcap'));
  const sent = caller.allPcm();
  assert.equal(multimon(sent, 8000), inBand, 'control: multimon-ng hears the in-band keys the caller sends');
  assert.equal(sensitiveFlags(env.bin, sent, 8000, work).length, inBand.length, 'control: the leak detector flags each in-band key, and not the speech');

  // The agent: the console, signed in to the room the trunk's calls go to, capturing what it hears.
  const { page: agent } = await newPage(env.browser);
  await agent.addInitScript(captureRemoteAudio);
  const frames = [];
  agent.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
    ws.on('framesent', (f) => frames.push(String(f.payload)));
  });
  await agent.goto(`${env.gatewayUrl}/console`);
  await agent.locator('#token').fill(await env.mint('agent-9', 'agent', ROOM));
  await agent.locator('#join').click();
  await agent.waitForFunction(() => document.getElementById('signin').hidden, null, { timeout: 15000 });
  await agent.waitForFunction(() => document.getElementById('recording-state').textContent === 'Recording.', null, { timeout: 30000 });

  // The call; its BYE comes once the test is done with it.
  const call = sippCall({
    xml: join(root, 'tests', 'browser', 'sipp', 'caller-pays.xml'),
    dir: work,
    target: `127.0.0.1:${sipPort}`,
    service: 'payline',
    pauseMs: Math.ceil(caller.ms) + 6000,
  });
  await agent.waitForFunction(() => document.getElementById('participants').textContent.includes('(patient)'), null, { timeout: 15000 });
  const answeredAt = Date.now();
  // The caller speaks (and is heard) for a while before the agent asks for the payment.
  await agent.waitForTimeout(2500);
  const speechHeard = [await agent.evaluate(() => window.__heardLength())];

  // The payment, while the caller still speaks.
  await agent.locator('#method-keypad').check();
  await agent.locator('#amount').fill('42');
  await agent.locator('#reference').fill('phone-7');
  await agent.locator('#request-payment').click();
  await until(agent, 'Card number: not asked yet');
  const heardFrom = await agent.evaluate(() => window.__heardLength());
  speechHeard.unshift(speechHeard[0] - 48 * 1500);
  await agent.getByRole('button', { name: 'Ask for card number' }).click();
  await until(agent, 'Card number: waiting for keys');
  const askedAt = Date.now();
  assert.ok(askedAt - answeredAt < SPEECH_MS - 1000, `asked for the card before the caller keys (${askedAt - answeredAt} ms after the answer)`);
  await until(agent, 'Card number: 8 digits');
  await agent.screenshot({ path: join(ARTIFACTS, 'console-phone-caller-progress.png'), fullPage: true });
  await until(agent, 'Card number: captured, 16 digits');
  assert.match(await fields(agent), /Card number: captured, 16 digits, valid, visa/);
  await agent.getByRole('button', { name: 'Ask for expiry date' }).click();
  await until(agent, 'Expiry date: captured');
  await agent.getByRole('button', { name: 'Ask for security code' }).click();
  await until(agent, 'All details captured', 'payment-state');
  const keyedAt = Date.now();
  await agent.getByRole('button', { name: 'Complete payment' }).click();
  await until(agent, 'Payment succeeded', 'payment-result');
  const result = await agent.locator('#payment-result').textContent();
  assert.match(result, /visa ending in 4242, expires 12\/2034, token tok_[0-9A-Za-z]+/);
  await agent.screenshot({ path: join(ARTIFACTS, 'console-phone-caller-result.png'), fullPage: true });

  // The caller hangs up; the signed webhook reports the payment.
  const { ok, out } = await call;
  assert.ok(ok, `SIPp: ${out}`);
  const id = frames.join('\n').match(/"(pay_[0-9A-Za-z]+)"/)?.[1];
  assert.ok(id, 'the console was told the payment id');
  await eventually(() => webhookEvents(env.webhookOut, 'payment.succeeded', id).length === 1, 'the payment.succeeded webhook');
  const payment = await env.api(`/v1/payments/${id}`, env.apiKey);
  assert.equal(payment.body?.payment?.state, 'succeeded', JSON.stringify(payment.body));

  // What the agent heard: the caller's speech, and not one digit.
  const heard48 = new Int16Array(Buffer.from(await agent.evaluate((from) => window.__heardBase64(from), 0), 'base64').buffer.slice(0));
  const during48 = heard48.subarray(heardFrom);
  assert.ok(heard48.length > 48000 * 10, `the console captured the call (${heard48.length} samples)`);
  const speechRms = rms(resampleLinear(sent.subarray(0, (SPEECH_MS * 8)), 8000, 48000));
  const heardBefore = heard48.subarray(Math.max(0, speechHeard[0]), speechHeard[1]);
  const contexts = await agent.evaluate(() => (window.__heardContexts ?? []).map((c) => c.state).join(','));
  assert.ok(rms(heardBefore) > 0.1 * speechRms, `the agent hears the caller's speech (${rms(heardBefore).toFixed(0)} vs ${speechRms.toFixed(0)}; all: ${rms(heard48).toFixed(0)}; audio contexts: ${contexts})`);
  assert.equal(multimon(heard48, 48000), '', 'multimon-ng hears no digit on the agent\'s leg');
  assert.deepEqual(sensitiveFlags(env.bin, during48, 48000, work), [], 'the leak detector flags nothing the agent heard from the payment on');

  // The recording paused for the payment from before the first key to after the last.
  const recs = (await env.api(`/v1/recordings?room=${ROOM}`, env.apiKey)).body;
  assert.equal(recs.recordings.length, 1, JSON.stringify(recs));
  const rec = recs.recordings[0];
  const windows = rec.pauses.filter((p) => p.reason === `payment:${id}`);
  assert.equal(windows.length, 1, JSON.stringify(rec.pauses));
  const [w] = windows;
  const fromAt = rec.started_at_unix_ms + w.from_ms;
  const toAt = w.to_ms === null ? Infinity : rec.started_at_unix_ms + w.to_ms;
  assert.ok(fromAt <= askedAt, `paused (${fromAt}) before the agent asked for the card (${askedAt}), before any key`);
  assert.ok(toAt >= keyedAt, `resumed (${toAt}) after every key had arrived (${keyedAt})`);
  assert.ok(keysFromMs >= SPEECH_MS, 'the stream keys after the speech');

  // No card number on the agent's side, in the gateway's logs, or in the webhooks.
  assert.ok(frames.some((f) => f.includes('"length":8')), 'control: the WebSocket recorder saw the progress');
  assert.deepEqual(findTracer(await pageText(agent), PAN), [], 'console DOM');
  assert.deepEqual(findTracer(frames.join('\n'), PAN), [], 'console WebSocket');
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN), [], 'gateway logs');
  assert.notDeepEqual(findTracer(`x ${PAN} y`, PAN), [], 'tracer control');
});
