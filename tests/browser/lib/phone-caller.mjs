// A phone caller for browser tests: the RTP stream a caller on a SIP trunk sends (G.711 µ-law
// speech, keys as in-band tone pairs and as RFC 4733 telephone events), written as the pcap
// SIPp's `play_pcap_audio` plays, and SIPp (Debian `sip-tester`) to place the call. Also the
// checks run on what an agent heard: multimon-ng's DTMF decoder and the gateway's own
// sensitive leak detector (`hushpay media flag`).
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RATE = 8000;
const FRAME = 160; // 20 ms at 8 kHz
const EVENT_PT = 101;
const LOW = { 1: 697, 2: 697, 3: 697, A: 697, 4: 770, 5: 770, 6: 770, B: 770, 7: 852, 8: 852, 9: 852, C: 852, '*': 941, 0: 941, '#': 941, D: 941 };
const HIGH = { 1: 1209, 4: 1209, 7: 1209, '*': 1209, 2: 1336, 5: 1336, 8: 1336, 0: 1336, 3: 1477, 6: 1477, 9: 1477, '#': 1477, A: 1633, B: 1633, C: 1633, D: 1633 };
const EVENT_CODE = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };

/** G.711 µ-law encoding of one 16-bit sample (ITU-T G.711, with the usual bias). */
export function muLaw(sample) {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A voiced, syllabic speech-like signal at 8 kHz, free of DTMF pairs. */
export function speech8k(ms) {
  const out = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    const f0 = 120 + 20 * Math.sin(t * 1.3);
    const env = (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)) ** 2;
    let s = 0;
    for (let k = 1; k * f0 < 3400; k++) s += Math.sin(2 * Math.PI * f0 * k * t) / k;
    out[i] = Math.round(s * env * 4000);
  }
  return out;
}

/** A key's tone pair (each tone -10 dBm0-ish), `ms` long, at 8 kHz. */
export function tonePair(key, ms) {
  const out = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    out[i] = Math.round(5000 * (Math.sin(2 * Math.PI * LOW[key] * t) + Math.sin(2 * Math.PI * HIGH[key] * t)));
  }
  return out;
}

/** The caller's RTP stream: 20 ms PCMU packets and telephone events, with send times. */
export class CallerStream {
  constructor() {
    this.packets = []; // [{ atUs, bytes }]
    this.pcm = []; // Int16Array chunks: what the caller's audio was (events: silence)
    this.seq = 4000;
    this.ts = 80000;
    this.atUs = 0;
  }

  get ms() { return this.atUs / 1000; }

  push(pt, marker, ts, payload) {
    const rtp = Buffer.alloc(12 + payload.length);
    rtp[0] = 0x80;
    rtp[1] = (marker ? 0x80 : 0) | pt;
    rtp.writeUInt16BE(this.seq, 2);
    rtp.writeUInt32BE(ts >>> 0, 4);
    rtp.writeUInt32BE(0x0ca11e55, 8);
    Buffer.from(payload).copy(rtp, 12);
    this.packets.push({ atUs: this.atUs, bytes: rtp });
    this.seq = (this.seq + 1) & 0xffff;
  }

  /** 8 kHz audio in 20 ms PCMU packets (padded to whole packets with silence). */
  audio(pcm) {
    const padded = new Int16Array(Math.ceil(pcm.length / FRAME) * FRAME);
    padded.set(pcm);
    for (let at = 0; at < padded.length; at += FRAME) {
      const frame = padded.subarray(at, at + FRAME);
      this.push(0, false, this.ts, Uint8Array.from(frame, muLaw));
      this.pcm.push(Int16Array.from(frame));
      this.ts = (this.ts + FRAME) >>> 0;
      this.atUs += 20000;
    }
  }

  silence(ms) { this.audio(new Int16Array((ms * RATE) / 1000)); }

  /** A key as RFC 4733 events (one per 20 ms, the end sent three times), silence meanwhile. */
  eventKey(key, ms) {
    const code = EVENT_CODE[key] ?? Number(key);
    const start = this.ts;
    const event = (end, duration) => Uint8Array.of(code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff);
    for (let i = 0; i < ms / 20; i++) {
      this.push(EVENT_PT, i === 0, start, event(false, FRAME * (i + 1)));
      this.silence(20);
    }
    for (let i = 0; i < 3; i++) this.push(EVENT_PT, false, start, event(true, (FRAME * ms) / 20));
  }

  /** Keys `keys` one per `slotMs`, 100 ms each: in-band tones at even positions, RFC 4733
   *  events at odd ones (so both paths carry the card). Returns the in-band ones. */
  keys(keys, slotMs = 400) {
    let inBand = '';
    [...keys].forEach((k, i) => {
      if (i % 2 === 0 && /[0-9]/.test(k)) {
        inBand += k;
        const slot = new Int16Array((slotMs * RATE) / 1000);
        slot.set(tonePair(k, 100));
        this.audio(slot);
      } else {
        this.eventKey(k, 100);
        this.silence(slotMs - 100);
      }
    });
    return inBand;
  }

  /** Everything the caller said, 8 kHz. */
  allPcm() {
    const out = new Int16Array(this.pcm.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.pcm) { out.set(c, at); at += c.length; }
    return out;
  }

  /** The stream as a pcap (Ethernet, IPv4, UDP) for SIPp's `play_pcap_audio`. */
  writePcap(path) {
    const chunks = [];
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(1, 20); // Ethernet
    chunks.push(header);
    for (const { atUs, bytes } of this.packets) {
      const udpLen = 8 + bytes.length;
      const ip = Buffer.from([0x45, 0, (20 + udpLen) >> 8, (20 + udpLen) & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
      sum = (sum & 0xffff) + (sum >> 16);
      ip.writeUInt16BE(~sum & 0xffff, 10);
      const udp = Buffer.alloc(8);
      udp.writeUInt16BE(6000, 0);
      udp.writeUInt16BE(6002, 2);
      udp.writeUInt16BE(udpLen, 4);
      const frame = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), ip, udp, bytes]);
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(Math.floor(atUs / 1e6), 0);
      rec.writeUInt32LE(atUs % 1e6, 4);
      rec.writeUInt32LE(frame.length, 8);
      rec.writeUInt32LE(frame.length, 12);
      chunks.push(rec, frame);
    }
    writeFileSync(path, Buffer.concat(chunks));
  }
}

/** A UDP port free on 127.0.0.1 (and, by the same number, most likely TCP too). */
export async function freeUdpPort() {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs a SIPp scenario (`xml`, with `caller.pcap` in `dir`) as one call to `target`, `pauseMs`
 *  for the scenario's plain `<pause/>`; resolves with `{ ok, out }` when SIPp exits. */
export async function sippCall({ xml, dir, target, service, pauseMs, timeoutSecs = 90 }) {
  const args = ['-sf', xml, '-m', '1', '-i', '127.0.0.1', '-s', service, '-t', 'u1',
    '-p', String(await freeUdpPort()), '-mp', String(await freeUdpPort()),
    '-d', String(pauseMs), '-timeout', `${timeoutSecs}s`, '-timeout_error', '-nostdin', '-trace_err', target];
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ ok: false, out: `sipp: ${e.message} (scripts/setup.sh installs sip-tester)` }));
    child.on('exit', (code) => resolve({ ok: code === 0, out }));
  });
}

/** `pcm` (Int16Array at `rate`) resampled linearly to `to` Hz. */
export function resampleLinear(pcm, rate, to) {
  const out = new Int16Array(Math.floor((pcm.length * to) / rate));
  for (let i = 0; i < out.length; i++) {
    const x = (i * rate) / to;
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, pcm.length - 1);
    out[i] = Math.round(pcm[i0] + (pcm[i1] - pcm[i0]) * (x - i0));
  }
  return out;
}

/** The digits multimon-ng's DTMF decoder hears in `pcm` (Int16Array at `rate`). */
export function multimon(pcm, rate) {
  const audio = resampleLinear(pcm, rate, 22050);
  const input = Buffer.concat([Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength), Buffer.alloc(44100)]);
  const out = execFileSync('multimon-ng', ['-q', '-a', 'DTMF', '-t', 'raw', '-'], { input, encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith('DTMF: ')).map((l) => l.slice(6).trim()).join('');
}

/** `pcm` (Int16Array) as a mono 16-bit WAV at `rate`. */
export function wav(pcm, rate) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.byteLength, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([h, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]);
}

/** The stretches `hushpay media flag` (the masker's flagger, payment thresholds) flags in
 *  `pcm` (Int16Array at 8, 16 or 48 kHz), as `[{ start_ms, end_ms }]`. */
export function sensitiveFlags(bin, pcm, rate, dir) {
  const path = join(dir, `flag-${Date.now()}.wav`);
  writeFileSync(path, wav(pcm, rate));
  return execFileSync(bin, ['media', 'flag', path], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Root mean square of `pcm`. */
export function rms(pcm) {
  if (pcm.length === 0) return 0;
  let s = 0;
  for (const x of pcm) s += x * x;
  return Math.sqrt(s / pcm.length);
}

/** An init script for a page: every remote track an RTCPeerConnection receives is captured
 *  at 48 kHz (WebAudio) into `window.__heard` (Int16 chunks); `window.__heardLength()` is the
 *  samples so far, `window.__heardBase64(from)` the samples from `from` on as base64. */
export function captureRemoteAudio() {
  window.__heard = [];
  window.__heardLength = () => window.__heard.reduce((n, c) => n + c.length, 0);
  window.__heardBase64 = (from = 0) => {
    const all = new Int16Array(window.__heardLength());
    let at = 0;
    for (const c of window.__heard) { all.set(c, at); at += c.length; }
    const bytes = new Uint8Array(all.buffer, from * 2);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (ev) => {
        // A stream of its own kept flowing by a muted <audio> element (remote WebRTC audio
        // reaches WebAudio only while an element plays it), then tapped.
        const stream = new MediaStream([ev.track]);
        const el = new Audio();
        el.srcObject = stream;
        el.muted = true;
        el.play().catch(() => {});
        const ctx = new AudioContext({ sampleRate: 48000 });
        window.__heardContexts = [...(window.__heardContexts ?? []), ctx];
        const src = ctx.createMediaStreamSource(stream);
        const tap = ctx.createScriptProcessor(4096, 1, 1);
        tap.onaudioprocess = (e) => {
          const x = e.inputBuffer.getChannelData(0);
          window.__heard.push(Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767)))));
        };
        src.connect(tap);
        tap.connect(ctx.destination);
        ctx.resume();
      });
    }
  };
}
