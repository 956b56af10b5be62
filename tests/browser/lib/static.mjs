// A tiny static server (on 127.0.0.1:0 unless told otherwise) standing in for a tenant's patient portal (or for a
// hostile site): serves the test pages and the built SDK, with a strict CSP of its own.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json' };

/** `routes` maps URL paths to files; `host` is where it listens. Resolves with { server, origin }. */
export function serveStatic(routes, host = '127.0.0.1') {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = routes[path];
    if (!file) { res.writeHead(404); res.end('not found'); return; }
    const ext = normalize(file).match(/\.[a-z]+$/)?.[0] ?? '';
    res.writeHead(200, { 'Content-Type': TYPES[ext] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, host, () => {
    resolve({ server, origin: `http://${host}:${server.address().port}` });
  }));
}

export const sdkRoutes = (root) => ({
  '/sdk/index.js': join(root, 'web-sdk', 'dist', 'index.js'),
});
