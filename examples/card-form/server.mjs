// A minimal patient portal embedding the Hushpay card form, with its own tiny backend.
//
//   HUSHPAY_URL=http://127.0.0.1:8080 HUSHPAY_API_KEY=hpk_... HUSHPAY_TENANT=ten_... \
//     node examples/card-form/server.mjs            # then open http://127.0.0.1:3000
//
// The backend half holds the tenant API key and creates the payment (POST /v1/payments,
// method card-form); the page receives only the payment id and its client secret, mounts the
// CardForm from @hushpay/web and shows the token's brand and last 4 when the card is taken.
// Uses Node's standard library only; serves the SDK from web-sdk/dist (npm run build).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const gateway = process.env.HUSHPAY_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.HUSHPAY_API_KEY;
const tenant = process.env.HUSHPAY_TENANT;
// The card iframe's origin: in development the gateway's other loopback name (see docs/card-form.md).
const widget = process.env.HUSHPAY_WIDGET_ORIGIN ?? gateway.replace('://127.0.0.1', '://localhost');
const port = Number(process.env.PORT ?? 3000);
if (!apiKey || !tenant) {
  console.error('set HUSHPAY_API_KEY and HUSHPAY_TENANT (see docs/card-form.md)');
  process.exit(1);
}

/** The tenant backend's call: a card-form payment for the bill. */
async function createPayment() {
  const res = await fetch(`${gateway}/v1/payments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
    body: JSON.stringify({ method: 'card-form', mode: 'charge', amount: 4200, currency: 'USD', reference: 'bill-42' }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`POST /v1/payments: ${res.status} ${body.error?.code}`);
  return { id: body.payment.id, clientSecret: body.client_secret };
}

const files = {
  '/': ['index.html', 'text/html; charset=utf-8', join(here, 'index.html')],
  '/sdk/index.js': ['', 'text/javascript', join(here, '..', '..', 'web-sdk', 'dist', 'index.js')],
};

const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (req.method === 'POST' && path === '/payments') {
      const payment = await createPayment();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ...payment, tenant, widgetOrigin: widget }));
      return;
    }
    const file = files[path];
    if (!file) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': file[1], 'Cache-Control': 'no-store' });
    res.end(readFileSync(file[2]));
  } catch (e) {
    res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: String(e.message) }));
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`patient portal on http://127.0.0.1:${server.address().port}`);
});
