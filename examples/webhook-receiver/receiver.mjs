// A Hushpay webhook receiver: verifies Standard Webhooks signatures with nothing but
// node:crypto, refuses stale timestamps (replay protection) and handles each event id once.
//
//   WEBHOOK_SECRET=whsec_... PORT=8787 node receiver.mjs
//
// Options (environment): WEBHOOK_SECRET or SECRET_FILE (read at each request), PORT (0 picks
// a free one; the port is printed as `listening <port>`), OUT (append each verified event as
// a JSON line), FAIL_FIRST=n (answer 503 to the first n valid deliveries, to see retries).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

export const TOLERANCE_SECONDS = 5 * 60;

/**
 * Verifies one delivery. `headers` holds `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (lower-case names); `body` is the raw request body (string or Buffer).
 * Returns the parsed event or throws an Error saying why it was refused.
 */
export function verify(secret, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) throw new Error('missing webhook headers');
  if (!/^\d+$/.test(timestamp)) throw new Error('malformed timestamp');
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new Error('timestamp outside the tolerance');
  }
  if (!secret.startsWith('whsec_')) throw new Error('secret must start with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest();
  const ok = signatures.split(' ').some((sig) => {
    if (!sig.startsWith('v1,')) return false;
    const got = Buffer.from(sig.slice(3), 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  if (!ok) throw new Error('signature does not match');
  return JSON.parse(body.toString());
}

function secretNow() {
  if (process.env.SECRET_FILE) return readFileSync(process.env.SECRET_FILE, 'utf8').trim();
  return process.env.WEBHOOK_SECRET ?? '';
}

export function serve({ port = 0, out, failFirst = 0 } = {}) {
  const seen = new Set();
  let failuresLeft = failFirst;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let event;
      try {
        event = verify(secretNow(), req.headers, body);
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`refused: ${e.message}\n`);
        return;
      }
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        res.writeHead(503).end();
        return;
      }
      const id = req.headers['webhook-id'];
      if (!seen.has(id)) {
        seen.add(id);
        if (out) appendFileSync(out, `${JSON.stringify({ id, event, content_type: req.headers['content-type'] })}\n`);
      }
      res.writeHead(204).end();
    });
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  serve({
    port: Number(process.env.PORT ?? 8787),
    out: process.env.OUT,
    failFirst: Number(process.env.FAIL_FIRST ?? 0),
  });
}
