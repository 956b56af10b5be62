// Tracer search for browser tests: does a string contain a card number in any of the forms
// a leak could take (plain, separated, JSON \u escapes, %-encoding, UTF-16, hex, base64 in
// all three alignments)? Mirrors hushpay_card::leak_scan for what a browser can send.

function base64Forms(digits) {
  const out = [];
  for (let pad = 0; pad < 3; pad++) {
    const enc = Buffer.from('\0'.repeat(pad) + digits).toString('base64');
    // Characters fully determined by the tracer: skip the ones mixing in padding bytes.
    const start = Math.ceil((pad * 8) / 6);
    const end = Math.floor(((pad + digits.length) * 8) / 6);
    const core = enc.slice(start, end);
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** The forms of `digits` searched for. */
export function tracerForms(digits) {
  const sep = digits.split('').join('[^0-9A-Za-z]{0,3}');
  return {
    plainOrSeparated: new RegExp(sep),
    jsonEscaped: new RegExp(digits.split('').map((d) => `(?:${d}|\\\\u003${d})`).join('[ -]?')),
    urlEncoded: new RegExp(digits.split('').map((d) => `(?:${d}|%3${d})`).join('(?:\\+|%20|%2D|-)?'), 'i'),
    utf16: new RegExp(digits.split('').map((d) => `${d}\\u0000`).join('')),
    hex: new RegExp(Buffer.from(digits).toString('hex'), 'i'),
    base64: base64Forms(digits),
  };
}

/** Names of the forms in which `digits` occurs in `text` (empty when clean). */
export function findTracer(text, digits) {
  if (!text) return [];
  const f = tracerForms(digits);
  const hits = [];
  for (const [name, re] of Object.entries(f)) {
    if (name === 'base64') continue;
    if (re.test(text)) hits.push(name);
  }
  if (f.base64.some((b) => b.length >= 8 && text.includes(b))) hits.push('base64');
  return hits;
}
