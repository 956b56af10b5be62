// Network namespaces for the reachability tests: a patient host behind a NAT
// (tests/netns/setup.sh), Chromium started inside it, a real coturn (Debian `coturn`) in the
// root namespace, and checks of what the NAT lets through. Needs root, `ip`, `iptables` and
// `turnserver`; without them `requireNetns` throws with what is missing (a failure, not a
// skip: CI runs as root). `HUSHPAY_SKIP_NETNS=1` skips these tests on purpose, visibly.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { root } from './gateway.mjs';

const SCRIPTS = join(root, 'tests', 'netns');

/** Why these tests cannot run here, or null. */
export function netnsUnavailable() {
  if (process.getuid?.() !== 0) return 'they need root (network namespaces, veth, iptables); CI runs as root';
  for (const tool of ['ip', 'iptables', 'turnserver']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `\`${tool}\` is missing (scripts/setup.sh installs iproute2, iptables and coturn)`;
  }
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` does not work here';
  return null;
}

/** Throws (the test fails) when the namespaces cannot be made; returns false to skip when
 * HUSHPAY_SKIP_NETNS=1 asks for it. */
export function requireNetns(t) {
  if (process.env.HUSHPAY_SKIP_NETNS === '1') {
    t.skip('HUSHPAY_SKIP_NETNS=1');
    return false;
  }
  const why = netnsUnavailable();
  if (why) throw new Error(`network-namespace test cannot run: ${why}`);
  return true;
}

/** Builds the patient network (`policy`: `no-udp` or `one-to-one`, see setup.sh); its `close()` tears it down,
 * and so does the process's exit if the test never gets there. */
export function patientNetwork(policy) {
  const id = String(process.pid);
  const out = execFileSync(join(SCRIPTS, 'setup.sh'), [id, policy], { encoding: 'utf8' });
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=')));
  const teardown = () => spawnSync(join(SCRIPTS, 'teardown.sh'), [id]);
  process.once('exit', teardown);
  return {
    id, pat: env.NS_PAT, nat: env.NS_NAT, gwIp: env.GW_IP, natIp: env.NAT_IP, patIp: env.PAT_IP,
    close() { teardown(); process.removeListener('exit', teardown); },
  };
}

/** An executable in `dir` that runs `program` inside namespace `ns` with its arguments
 * (file descriptors, such as playwright's pipes, are inherited). */
export function inNamespace(ns, program, dir) {
  const wrapper = join(dir, `${program.split('/').pop()}-in-${ns}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${program} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** A Chromium launcher that runs inside namespace `ns`. */
export const chromiumIn = (ns, dir) => inNamespace(ns, '/usr/bin/chromium', dir);

/** What the NAT lets the patient send to `ip`: a UDP datagram and a TCP connection, each
 * tried from inside namespace `ns`. Resolves with { udp, tcp } booleans. */
export async function probeFrom(ns, ip) {
  const udpServer = createSocket('udp4');
  await new Promise((r) => udpServer.bind(0, ip, r));
  let udp = false;
  udpServer.on('message', () => { udp = true; });
  let tcp = false;
  const tcpServer = (await import('node:net')).createServer((s) => { tcp = true; s.destroy(); });
  await new Promise((r) => tcpServer.listen(0, ip, r));
  const script = `
    const d = require('node:dgram').createSocket('udp4');
    d.send('probe', ${udpServer.address().port}, '${ip}', () => d.close());
    const s = require('node:net').connect(${tcpServer.address().port}, '${ip}', () => s.end());
    s.on('error', () => {}); setTimeout(() => process.exit(0), 1000);`;
  spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 300));
  udpServer.close();
  tcpServer.close();
  return { udp, tcp };
}

/** Starts coturn on `ip:port` (TCP and UDP; not 3478, which a system coturn may hold on every
 * address) with the TURN REST shared secret (and `extra` arguments); resolves once it accepts
 * TCP. `logs()` is what it printed. */
export async function startCoturn({ ip, port = 20000 + (process.pid % 10000), secret, dir, extra = [] }) {
  const child = spawn('turnserver', [
    '-n', '--log-file', 'stdout', '--simple-log', '--verbose',
    '--listening-ip', ip, '--relay-ip', ip, '--listening-port', String(port),
    '--use-auth-secret', '--static-auth-secret', secret, '--realm', 'hushpay.test',
    '--no-tls', '--no-dtls', '--no-cli', '--no-rfc5780', '--no-multicast-peers', '--fingerprint',
    '--userdb', join(dir, 'turndb'), '--pidfile', join(dir, 'turnserver.pid'),
    '--min-port', '40000', '--max-port', '40999', ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`turnserver exited ${child.exitCode}: ${out}`);
    const ok = await new Promise((r) => {
      const s = connect(port, ip, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    logs: () => out,
    async stop() { child.kill('SIGTERM'); await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]); child.kill('SIGKILL'); },
  };
}

/** A function minting participant tokens for `room` from the gateway at `addr` (host:port). */
export function minter(addr, apiKey, room, assert) {
  return async (identity, role) => {
    const r = await fetch(`http://${addr}/v1/access-tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity, room, role }),
    });
    assert.equal(r.status, 201);
    return (await r.json()).token;
  };
}

/** Asserts the agent's page (tests/browser/pages/call.html) hears the patient's voice: over
 *  150 frames once audio flows (the first are the set-up's silence), more than 30 % loud. */
export async function assertAgentHears(t, assert, agent, how) {
  await agent.waitForFunction(() => (window.hp.remote?.frames ?? 0) > 50, null, { timeout: 20000, polling: 100 });
  const before = await agent.evaluate(() => ({ ...window.hp.remote }));
  await agent.waitForFunction((n) => window.hp.remote.frames > n + 150, before.frames, { timeout: 20000, polling: 100 });
  const after = await agent.evaluate(() => ({ ...window.hp.remote }));
  const frames = after.frames - before.frames;
  const loud = after.loud - before.loud;
  t.diagnostic(`agent hears: ${loud} loud of ${frames} frames`);
  assert.ok(loud > frames * 0.3, `the agent hears the patient ${how} (${loud}/${frames} loud frames)`);
}
