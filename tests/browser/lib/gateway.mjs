// Starting the real gateway for browser tests: the binary (built by cargo when missing or
// stale), a private data directory on SQLite, admin CLI calls against the same store.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let copied = null;

/** The `hushpay` binary: $HUSHPAY_BIN when set (scripts/test.sh passes the one `cargo test`
 *  has just built), else built by cargo (a quick no-op when up to date) and copied away at
 *  once: a target directory shared with other checkouts may replace it under the test. One
 *  copy per test process, removed when the process exits (copies left behind filled the
 *  disk once). */
export function gatewayBinary() {
  if (process.env.HUSHPAY_BIN) return process.env.HUSHPAY_BIN;
  if (copied) return copied;
  execFileSync('cargo', ['build', '--quiet', '-p', 'hushpay'], { cwd: root, stdio: 'inherit' });
  const target = process.env.CARGO_TARGET_DIR || join(root, 'target');
  const dir = mkdtempSync(join(tmpdir(), 'hushpay-bin-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  copied = join(dir, 'hushpay');
  copyFileSync(join(target, 'debug', 'hushpay'), copied);
  return copied;
}

function env(dataDir, extra = {}) {
  return {
    ...process.env,
    HUSHPAY__DATA_DIR: dataDir,
    HUSHPAY__WIDGET__ASSETS_DIR: join(root, 'web-sdk', 'dist', 'frame'),
    HUSHPAY__WIDGET__PAGES_DIR: join(root, 'web-sdk', 'dist', 'pages'),
    HUSHPAY__WIDGET__PORTAL_DIR: join(root, 'examples', 'patient-portal'),
    HUSHPAY_LOG: process.env.HUSHPAY_LOG || 'warn',
    ...extra,
  };
}

/** Runs an admin command (`tenant create ...`) against the data dir; returns its stdout. */
export function admin(bin, dataDir, args) {
  return execFileSync(bin, args, { cwd: dataDir, env: env(dataDir), encoding: 'utf8' }).trim();
}

/** Starts `hushpay serve --listen 127.0.0.1:0` (with `extraEnv` added to its environment;
 *  `listen` picks another address); resolves with the child, its address and logs. */
export function startGateway(bin, dataDir, extraEnv = {}, { listen = '127.0.0.1:0' } = {}) {
  const child = spawn(bin, ['serve', '--listen', listen], {
    cwd: dataDir, env: env(dataDir, extraEnv), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = { stdout: '', stderr: '' };
  child.stderr.on('data', (d) => { logs.stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${logs.stdout}${logs.stderr}`)));
    child.stdout.on('data', (d) => {
      logs.stdout += d;
      const addr = logs.stdout.match(/listening on http:\/\/(\S+)/)?.[1];
      if (addr) resolve({ child, addr, logs });
    });
  });
}
