// The demo patient portal with its own tiny backend (Node standard library only).
//
//   HUSHPAY_URL=http://127.0.0.1:8080 HUSHPAY_API_KEY=hpk_... HUSHPAY_TENANT=ten_... \
//     ROOM=demo-visit node examples/patient-portal/server.mjs   # then open http://127.0.0.1:3001
//
// The backend holds the tenant API key and mints the patient's access token for the visit's
// room (POST /v1/access-tokens); the page gets only that token. Add this portal's origin to
// the tenant's allowed origins (`hushpay tenant create --allowed-origin http://127.0.0.1:3001`)
// so that the card iframe may load in it. In development `hushpay serve` also serves this
// portal itself at /portal/ for the demo tenant (no backend of your own needed).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const gateway = process.env.HUSHPAY_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.HUSHPAY_API_KEY;
const tenant = process.env.HUSHPAY_TENANT;
const room = process.env.ROOM ?? 'demo-visit';
const widget = process.env.HUSHPAY_WIDGET_ORIGIN ?? gateway.replace('://127.0.0.1', '://localhost');
const port = Number(process.env.PORT ?? 3001);
if (!apiKey || !tenant) {
  console.error('set HUSHPAY_API_KEY and HUSHPAY_TENANT (see README: patient portal)');
  process.exit(1);
}

/** The tenant backend's call: a patient token for the visit's room. */
async function patientToken() {
  const res = await fetch(`${gateway}/v1/access-tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ identity: 'patient', room, role: 'patient' }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`POST /v1/access-tokens: ${res.status} ${body.error?.code}`);
  return body.token;
}

const files = {
  '/': ['text/html; charset=utf-8', join(here, 'index.html')],
  '/portal.js': ['text/javascript', join(here, 'portal.js')],
  '/portal.css': ['text/css', join(here, 'portal.css')],
  '/hushpay-web.js': ['text/javascript', join(here, '..', '..', 'web-sdk', 'dist', 'index.js')],
};

const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (req.method === 'POST' && path === '/session') {
      const token = await patientToken();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ token, gateway, tenant, widgetOrigin: widget, room }));
      return;
    }
    const file = files[path];
    if (!file) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' });
    res.end(readFileSync(file[1]));
  } catch (e) {
    res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { message: String(e.message) } }));
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`patient portal on http://127.0.0.1:${server.address().port} (room ${room})`);
});
