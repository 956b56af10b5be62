"""The cluster measurements of issue 14 (bench/cluster.sh runs this; docs/benchmarks.md):

  failover  SIGKILL of the node holding a room, then how long until the room is placeable on
            the survivor (`POST /v1/rooms` through it answers 201, the same `place` a join
            runs, and `GET /v1/rooms/{id}` there names it), per node lease;
  payments  concurrent keypad `POST /v1/payments` for rooms on node-1 sent through node-2 and
            node-3 (a NATS `prepare` round trip to node-1 each) against the same load sent to
            node-1 itself; throughput, p50/p99, and NATS messages and PostgreSQL table
            accesses/rows written per payment;
  call      a call's control plane without media (room placed, a payment through another
            node, cancelled, room ended): NATS messages and PostgreSQL work per call;
  webhooks  a backlog of `payment.cancelled` events drained by one node, then by two;
  pairs     masked call pairs through two nodes (`hushpay loadgen` against each node, each
            room's participants on the node that holds it) against one node.

Prints `result ...` lines (key=value) and markdown tables. Standard library only."""

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, Http  # noqa: E402

RESULTS = []


def result(**kv):
    line = "result " + " ".join("%s=%s" % (k, v) for k, v in kv.items())
    print(line, flush=True)
    RESULTS.append(kv)


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def keypad(room):
    return {"amount": 4200, "currency": "USD", "reference": "bench", "mode": "charge",
            "method": "keypad", "room": room}


def create_room(c, i, name):
    status, doc = c.http(i).request("POST", "/v1/rooms", {"name": name})
    if status != 201:
        raise RuntimeError("POST /v1/rooms %s through node-%d: %s %s" % (name, i, status, doc))


def holder(c, i, room):
    status, doc = c.http(i).request("GET", "/v1/rooms/" + room)
    return doc.get("node") if status == 200 and doc else None


# --- 1. failover -------------------------------------------------------------------------

def failover(args):
    for lease in args.leases:
        c = Cluster(args.binary, "fo", lease_secs=lease, extra_env=GRACE)
        try:
            c.start(1)
            c.start(2)
            times = []
            for rep in range(args.reps):
                room = "fo-%d-%d" % (lease, rep)
                create_room(c, 1, room)
                assert holder(c, 2, room) == "node-1", "room on node-1"
                # the kill lands at a random point of node-1's heartbeat period
                time.sleep((rep * 0.37) % (lease / 3.0))
                t0 = c.kill(1)
                probe = c.http(2)
                while True:
                    status, doc = probe.request("POST", "/v1/rooms", {"name": room})
                    if status == 201:
                        break
                    if status != 409:
                        raise RuntimeError("survivor answered %s %s" % (status, doc))
                    time.sleep(0.02)
                took = time.monotonic() - t0
                node = holder(c, 2, room)
                if node != "node-2":
                    raise RuntimeError("room %s placed but GET names %s" % (room, node))
                times.append(took)
                print("failover lease=%d rep=%d %.2f s" % (lease, rep, took), flush=True)
                c.start(1)
            result(test="failover", lease_s=lease, reps=len(times),
                   min_s="%.2f" % min(times), median_s="%.2f" % statistics.median(times),
                   max_s="%.2f" % max(times))
        finally:
            c.stop()


# --- 2. payments -------------------------------------------------------------------------

def load(c, via, rooms, seconds, concurrency):
    """`concurrency` threads posting keypad payments through the nodes `via` (round robin)
    for `seconds`; returns (latencies, statuses, elapsed)."""
    lat, statuses = [], {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(k):
        conns = {i: c.http(i) for i in via}
        n = k
        mine, st = [], {}
        while time.monotonic() < stop_at:
            i = via[n % len(via)]
            room = rooms[n % len(rooms)]
            n += concurrency
            t = time.monotonic()
            status, _ = conns[i].request("POST", "/v1/payments", keypad(room), idempotent=True)
            mine.append(time.monotonic() - t)
            st[status] = st.get(status, 0) + 1
        with lock:
            lat.extend(mine)
            for s, v in st.items():
                statuses[s] = statuses.get(s, 0) + v

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, statuses, time.monotonic() - start


def proc_cpu(pid):
    """User + system CPU seconds of process `pid` (all threads)."""
    try:
        fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu(c):
    """CPU seconds so far: the nodes together, nats-server, this driver."""
    nodes = sum(proc_cpu(n.pid()) for n in c.nodes.values())
    own = os.times()
    return nodes, proc_cpu(c.nats.proc.pid), own.user + own.system


def counters(c):
    v = c.nats.varz()
    s = c.schema.stats()
    return {"in_msgs": v["in_msgs"], "out_msgs": v["out_msgs"], "xacts": s["xacts"],
            "scans": s["scans"], "written": s["written"], "t": time.monotonic()}


def idle_rates(c, seconds=6.0):
    """NATS messages per second the cluster exchanges with nothing to do (heartbeats, the
    reaper's scans), subtracted from the measured runs."""
    time.sleep(1.5)
    a = counters(c)
    time.sleep(seconds)
    b = counters(c)
    dt = b["t"] - a["t"]
    return {k: (b[k] - a[k]) / dt for k in KEYS}


def per_op(c, before, idle, ops):
    time.sleep(1.2)  # PostgreSQL publishes table statistics about once a second
    after = counters(c)
    dt = after["t"] - before["t"]
    return {k: (after[k] - before[k] - idle[k] * dt) / ops
            for k in KEYS}


def payments(args):
    for nodes in args.payment_nodes:
        c = Cluster(args.binary, "pay", extra_env=GRACE)
        try:
            for i in range(1, nodes + 1):
                c.start(i)
            rooms = ["pay-%d" % k for k in range(args.rooms)]
            for r in rooms:
                create_room(c, 1, r)
            idle = idle_rates(c)
            via = [1] if nodes == 1 else list(range(2, nodes + 1))
            # warm-up (connections, pools), not measured
            load(c, via, rooms, 2, args.concurrency)
            for conc in args.concurrency_levels:
                before = counters(c)
                cpu0 = cluster_cpu(c)
                lat, statuses, elapsed = load(c, via, rooms, args.seconds, conc)
                cpu1 = cluster_cpu(c)
                ok = statuses.get(201, 0)
                cost = per_op(c, before, idle, max(ok, 1))
                node_cpu, nats_cpu, client_cpu = (b - a for a, b in zip(cpu0, cpu1))
                result(test="payments", nodes=nodes,
                       via="+".join("node-%d" % i for i in via), rooms_on="node-1",
                       concurrency=conc, ok=ok,
                       refused=sum(v for s, v in statuses.items() if s != 201),
                       statuses=",".join("%s:%s" % kv for kv in sorted(statuses.items())),
                       per_s="%.0f" % (ok / elapsed),
                       p50_ms="%.1f" % (1000 * pct(lat, 50)),
                       p99_ms="%.1f" % (1000 * pct(lat, 99)),
                       nats_in_per_payment="%.1f" % cost["in_msgs"],
                       nats_out_per_payment="%.1f" % cost["out_msgs"],
                       pg_xacts_per_payment="%.1f" % cost["xacts"],
                       pg_scans_per_payment="%.1f" % cost["scans"],
                       pg_rows_written_per_payment="%.1f" % cost["written"],
                       node_cpu_ms_per_payment="%.2f" % (1000 * node_cpu / max(ok, 1)),
                       nats_cpu_ms_per_payment="%.3f" % (1000 * nats_cpu / max(ok, 1)),
                       nodes_cpu_pct="%.0f" % (100 * node_cpu / elapsed),
                       client_cpu_pct="%.0f" % (100 * client_cpu / elapsed),
                       load1=open("/proc/loadavg").read().split()[0])
            if args.scan_window > 0:
                # The open payments stay in the directory (keypad, never keyed): what the
                # cluster exchanges idle now, with every node's reaper scanning them in full
                # every 5 leases.
                after = idle_rates(c, args.scan_window)
                result(test="idle_with_open_payments", nodes=nodes,
                       nats_in_per_s_before="%.1f" % idle["in_msgs"],
                       nats_in_per_s_after="%.1f" % after["in_msgs"],
                       pg_xacts_per_s_before="%.1f" % idle["xacts"],
                       pg_xacts_per_s_after="%.1f" % after["xacts"],
                       open_payments=open_payment_count(c), window_s=args.scan_window)
        finally:
            c.stop()


def open_payment_count(c):
    out = c.schema.psql(c.schema.url, "SELECT count(*) FROM payments WHERE state NOT IN "
                        "('succeeded', 'failed', 'expired', 'cancelled')")
    return int(out.strip())


# --- the control plane of a call ---------------------------------------------------------

def call_cost(args):
    c = Cluster(args.binary, "call", extra_env={"HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS": "3600000"})
    try:
        for i in (1, 2):
            c.start(i)
        idle = idle_rates(c)
        n = args.calls
        steps = {}

        def step(name, fn):
            before = counters(c)
            for k in range(n):
                fn(k)
            steps[name] = per_op(c, before, idle, n)

        one, two = c.http(1), c.http(2)
        ids = {}

        def mk_room(k):
            create_room(c, 1, "call-%d" % k)

        def pay(k):
            status, doc = two.request("POST", "/v1/payments", keypad("call-%d" % k),
                                      idempotent=True)
            assert status == 201, (status, doc)
            ids[k] = doc["payment"]["id"]

        def cancel(k):
            status, doc = two.request("POST", "/v1/payments/%s/cancel" % ids[k],
                                      idempotent=True)
            assert status == 200, (status, doc)

        def end(k):
            status, doc = two.request("DELETE", "/v1/rooms/call-%d" % k)
            assert status in (200, 204), (status, doc)

        step("room placed (POST /v1/rooms, node-1)", mk_room)
        step("keypad payment through node-2", pay)
        step("cancel through node-2", cancel)
        step("room ended through node-2", end)
        del one
        total = {k: sum(s[k] for s in steps.values()) for k in idle}
        for name, s in list(steps.items()) + [("call total", total)]:
            result(test="call", step=name.replace(" ", "_"),
                   nats_in="%.1f" % s["in_msgs"], nats_out="%.1f" % s["out_msgs"],
                   pg_xacts="%.1f" % s["xacts"],
                   pg_scans="%.1f" % s["scans"], pg_rows_written="%.1f" % s["written"])
        result(test="idle", nodes=2, nats_in_per_s="%.1f" % idle["in_msgs"],
               nats_out_per_s="%.1f" % idle["out_msgs"],
               pg_xacts_per_s="%.1f" % idle["xacts"], pg_scans_per_s="%.1f" % idle["scans"])
    finally:
        c.stop()


# --- 3. webhooks -------------------------------------------------------------------------

class Receiver:
    """A webhook receiver on loopback answering 204, keeping (arrival, webhook-id)."""

    def __init__(self):
        got = self.got = []
        lock = self.lock = threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                self.rfile.read(n)
                with lock:
                    got.append((time.monotonic(), self.headers.get("webhook-id")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


WEBHOOK_ENV = {"HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true"}


def webhooks(args):
    for nodes in args.webhook_nodes:
        env = dict(WEBHOOK_ENV)
        env.update(kv.split("=", 1) for kv in args.webhook_env)
        c = Cluster(args.binary, "wh", extra_env=env)
        rx = Receiver()
        try:
            # Backlog: the nodes' workers look for deliveries once at start, then every 60 s.
            hold = {"HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS": "60000"}
            for i in range(1, nodes + 1):
                c.start(i, hold)
            status, doc = c.http(1).request("POST", "/v1/webhooks", {"url": rx.url})
            assert status == 201, (status, doc)
            made = [0]
            lock = threading.Lock()

            def gen(k):
                h = c.http(1 + k % nodes)
                while True:
                    with lock:
                        if made[0] >= args.events:
                            return
                        made[0] += 1
                    body = {"amount": 100, "currency": "USD", "reference": "wh",
                            "mode": "charge", "method": "card-form"}
                    s, d = h.request("POST", "/v1/payments", body, idempotent=True)
                    assert s == 201, (s, d)
                    s, d = h.request("POST", "/v1/payments/%s/cancel" % d["payment"]["id"],
                                     idempotent=True)
                    assert s == 200, (s, d)

            t = time.monotonic()
            threads = [threading.Thread(target=gen, args=(k,)) for k in range(8)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            made_in = time.monotonic() - t
            early = len(rx.got)
            # The nodes go (nothing was claimed), and come back with the default poll interval:
            # they find the backlog at start.
            for i in range(1, nodes + 1):
                c.kill(i)
            with rx.lock:
                rx.got.clear()
            for i in range(1, nodes + 1):
                c.start(i)
            deadline = time.monotonic() + 600
            while len(rx.got) < args.events - early and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)
            got = list(rx.got)
            ids = [g[1] for g in got]
            span = got[-1][0] - got[0][0] if len(got) > 1 else float("nan")
            result(test="webhooks", nodes=nodes, events=args.events,
                   settings=" ".join(args.webhook_env) or "defaults",
                   delivered=len(set(ids)), duplicates=len(ids) - len(set(ids)),
                   delivered_before_drain=early, drain_s="%.2f" % span,
                   per_s="%.0f" % ((len(got) - 1) / span if span else 0),
                   backlog_made_s="%.1f" % made_in,
                   load1=open("/proc/loadavg").read().split()[0])
        finally:
            rx.server.shutdown()
            c.stop()


# --- 4. masked pairs ---------------------------------------------------------------------

def pairs(args):
    for nodes in args.pair_nodes:
        for total in args.pairs:
            c = Cluster(args.binary, "pairs", extra_env={
                "HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS": "200",
                "HUSHPAY__RECORDING__ENABLED": "false"})
            try:
                for i in range(1, nodes + 1):
                    c.start(i)
                idle = idle_rates(c, 3)
                before = counters(c)
                procs = []
                share = [total // nodes + (1 if k < total % nodes else 0) for k in range(nodes)]
                for i in range(1, nodes + 1):
                    node = c.nodes[i]
                    addr = node.url.replace("http://", "")
                    env = dict(os.environ)
                    env.update({"HUSHPAY__STORE": c.schema.url, "HUSHPAY__DATA_DIR": c.data,
                                "HUSHPAY_LOG": "warn"})
                    out = open(os.path.join(node.log_dir, "loadgen.log"), "w")
                    err = open(os.path.join(node.log_dir, "loadgen.err"), "w")
                    procs.append((i, share[i - 1], out.name, subprocess.Popen(
                        [args.binary, "loadgen", "--gateway", addr, "--tenant", "demo",
                         "--pairs", str(share[i - 1]), "--seconds", str(args.pair_seconds),
                         "--warmup", "3", "--ramp-ms", "0", "--gateway-pid", str(node.pid()),
                         "--max-load", "100"],
                        cwd=node.log_dir, env=env, stdout=out, stderr=err)))
                lines = []
                for i, n, out, p in procs:
                    p.wait()
                    line = [x for x in open(out).read().splitlines()
                            if x.startswith("result ")]
                    lines.append((i, n, p.returncode, line[0] if line else None))
                cost = per_op(c, before, idle, total)
                for i, n, rc, line in lines:
                    kv = dict(x.split("=", 1) for x in (line or "").split()[1:] if "=" in x)
                    result(test="pairs", nodes=nodes, total_pairs=total, node="node-%d" % i,
                           pairs=n, ok=rc == 0 and line is not None,
                           lost=kv.get("lost", "?"), p2a_p50_ms=kv.get("p2a_p50_ms", "?"),
                           p2a_p99_ms=kv.get("p2a_p99_ms", "?"),
                           a2p_p99_ms=kv.get("a2p_p99_ms", "?"),
                           node_cpu_pct=kv.get("cpu_pct", "?"),
                           nats_in_per_pair="%.1f" % cost["in_msgs"],
                           pg_xacts_per_pair="%.1f" % cost["xacts"],
                           pg_scans_per_pair="%.1f" % cost["scans"],
                           load1=open("/proc/loadavg").read().split()[0])
            finally:
                c.stop()


KEYS = ("in_msgs", "out_msgs", "xacts", "scans", "written")
GRACE = {"HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS": "3600000"}


def ints(s):
    return [int(x) for x in s.split()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--only", default="failover payments call webhooks pairs")
    ap.add_argument("--leases", type=ints, default=[6, 2])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--payment-nodes", type=ints, default=[1, 2, 3])
    ap.add_argument("--rooms", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--concurrency-levels", type=ints, default=[1, 16])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--scan-window", type=float, default=31)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--webhook-env", action="append", default=[],
                    help="HUSHPAY__WEBHOOKS__...=value for the webhook runs (repeatable)")
    ap.add_argument("--webhook-nodes", type=ints, default=[1, 2])
    ap.add_argument("--pair-nodes", type=ints, default=[1, 2])
    ap.add_argument("--pairs", type=ints, default=[100, 200])
    ap.add_argument("--pair-seconds", type=int, default=10)
    args = ap.parse_args()
    steps = {"failover": failover, "payments": payments, "call": call_cost,
             "webhooks": webhooks, "pairs": pairs}
    for name in args.only.split():
        steps[name](args)
    tables()


def tables():
    """One markdown table per measurement, columns as in the result lines."""
    tests = []
    for r in RESULTS:
        if r["test"] not in tests:
            tests.append(r["test"])
    for t in tests:
        rows = [r for r in RESULTS if r["test"] == t]
        cols = [k for k in rows[0] if k != "test"]
        print()
        print("%s:" % t)
        print()
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(str(r.get(k, "")) for k in cols) + " |")


if __name__ == "__main__":
    main()
