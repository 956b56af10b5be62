// A voiced, syllabic speech-like signal as a 48 kHz mono WAV (the fake microphone of the
// reachability tests): loud enough for the call page's analyser, free of DTMF tones.
export function speechWav(seconds) {
  const n = seconds * 48000;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(48000, 24); buf.writeUInt32LE(96000, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / 48000;
    const f0 = 120 + 20 * Math.sin(t * 1.3);
    const env = (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)) ** 2;
    let s = 0;
    for (let k = 1; k <= 12; k++) s += Math.sin(2 * Math.PI * f0 * k * t) / k;
    buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * env * 4000))), 44 + i * 2);
  }
  return buf;
}
