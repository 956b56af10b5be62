"""A Hushpay cluster on this machine for bench/cluster.sh: a private nats-server (JetStream,
monitoring port for /varz), a PostgreSQL database of its own, and `hushpay serve` nodes sharing
both and one data directory (the development keys every node must share), as the test
harness server/gateway/tests/cluster/nodes.rs does. Standard library only."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Http:
    """One keep-alive HTTP/1.1 connection to a node (one per thread)."""

    def __init__(self, base, api_key=None, timeout=30):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.api_key = api_key
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, idempotent=False):
        headers = {}
        if self.api_key:
            headers["authorization"] = "Bearer " + self.api_key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if idempotent:
            headers["idempotency-key"] = str(uuid.uuid4())
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                try:
                    doc = json.loads(raw) if raw else None
                except ValueError:
                    doc = None
                return resp.status, doc
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


class Nats:
    def __init__(self, root):
        self.port = free_port()
        self.mport = free_port()
        self.dir = os.path.join(root, "nats")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(
            ["nats-server", "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.mport),
             "-js", "-sd", self.dir],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "nats.log"), "w"))
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("nats-server did not start")
                time.sleep(0.05)

    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def varz(self):
        c = http.client.HTTPConnection("127.0.0.1", self.mport, timeout=5)
        c.request("GET", "/varz")
        v = json.loads(c.getresponse().read())
        c.close()
        return v

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Database:
    """A database of its own on the PostgreSQL server of HUSHPAY_TEST_POSTGRES (its
    transactions and table statistics are the nodes' alone), dropped by drop()."""

    def __init__(self, tag):
        server = os.environ.get("HUSHPAY_TEST_POSTGRES",
                                "postgres://postgres@127.0.0.1:5432/test")
        self.admin = server
        self.name = "hushpay_bench_%s_%d_%d" % (tag, os.getpid(), time.time_ns() % 10**9)
        self.psql(self.admin, "CREATE DATABASE %s" % self.name)
        u = urllib.parse.urlparse(server)
        self.url = urllib.parse.urlunparse(u._replace(path="/" + self.name))

    @staticmethod
    def psql(url, sql):
        out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                              url, "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout

    def stats(self):
        """The database's transactions (each a client round trip at least: the stores run
        single statements in autocommit or explicit transactions), table accesses (sequential
        plus index scans) and rows written, as PostgreSQL's statistics count them. The query
        reading them is one transaction of its own."""
        row = self.psql(self.url, (
            "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()), "
            "coalesce(sum(seq_scan),0) + coalesce(sum(idx_scan),0), "
            "coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del),0) FROM pg_stat_user_tables")).strip()
        xacts, scans, written = (int(x) for x in row.split("|"))
        return {"xacts": xacts, "scans": scans, "written": written}

    def drop(self):
        try:
            self.psql(self.admin, "DROP DATABASE %s WITH (FORCE)" % self.name)
        except subprocess.CalledProcessError:
            pass


class Node:
    def __init__(self, proc, url, node_id, api_key, log_dir):
        self.proc, self.url, self.node_id, self.api_key = proc, url, node_id, api_key
        self.log_dir = log_dir

    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None


class Cluster:
    """`hushpay serve` nodes node-1.. on one NATS server and one PostgreSQL database."""

    def __init__(self, binary, tag, lease_secs=6, extra_env=None, nice=0):
        self.binary = binary
        self.root = tempfile.mkdtemp(prefix="hushpay-cluster-bench-")
        self.nats = Nats(self.root)
        self.schema = Database(tag)
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.data)
        self.name = "b" + uuid.uuid4().hex[:12]
        self.lease_secs = lease_secs
        self.extra_env = dict(extra_env or {})
        self.nice = nice
        self.nodes = {}
        self.runs = {}
        self.api_key = None

    def env(self, i, overrides=None):
        env = dict(os.environ)
        env.update({
            "HUSHPAY__STORE": self.schema.url,
            "HUSHPAY__DATA_DIR": self.data,
            "HUSHPAY__DEMO__TENANT": "true" if i == 1 and self.api_key is None else "false",
            "HUSHPAY__RTC__UDP_PORT": str(free_port(socket.SOCK_DGRAM)),
            "HUSHPAY__RECORDING__ENABLED": "true",
            "HUSHPAY__CLUSTER__NODE_ID": "node-%d" % i,
            "HUSHPAY__CLUSTER__NATS_URL": self.nats.url(),
            "HUSHPAY__CLUSTER__NAME": self.name,
            "HUSHPAY__CLUSTER__NODE_LEASE_SECS": str(self.lease_secs),
            "HUSHPAY_LOG": "warn",
        })
        env.update(self.extra_env)
        env.update(overrides or {})
        return env

    def start(self, i, overrides=None, timeout=60):
        run = self.runs.get(i, 0)
        self.runs[i] = run + 1
        d = os.path.join(self.root, "node-%d" % i)
        os.makedirs(d, exist_ok=True)
        out_path = os.path.join(d, "stdout-%d.log" % run)
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:0"]
        if self.nice:
            cmd = ["nice", "-n", str(self.nice)] + cmd
        proc = subprocess.Popen(cmd, cwd=d, env=self.env(i, overrides),
                                stdout=open(out_path, "w"),
                                stderr=open(os.path.join(d, "stderr-%d.log" % run), "w"))
        deadline = time.time() + timeout
        url = None
        while url is None:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("node-%d did not start; see %s" % (i, d))
            for line in open(out_path).read().splitlines():
                if line.startswith("Hushpay listening on "):
                    url = line.split(" on ", 1)[1].strip()
                if line.startswith("Demo tenant API key (shown once, store it now): "):
                    self.api_key = line.split(": ", 1)[1].strip()
            time.sleep(0.05)
        time.sleep(0.1)
        for line in open(out_path).read().splitlines():
            if line.startswith("Demo tenant API key (shown once, store it now): "):
                self.api_key = line.split(": ", 1)[1].strip()
        node = Node(proc, url, "node-%d" % i, self.api_key, d)
        self.nodes[i] = node
        probe = Http(url)
        while True:
            try:
                status, doc = probe.request("GET", "/readyz")
                if status == 200 and doc and doc.get("node") == node.node_id:
                    return node
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("node-%d not ready; see %s" % (i, d))
            time.sleep(0.05)

    def kill(self, i):
        """SIGKILL: no drain, no goodbye. Returns the instant the process was reaped."""
        node = self.nodes.pop(i)
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait()
        return time.monotonic()

    def http(self, i):
        return Http(self.nodes[i].url, self.api_key)

    def stop(self, keep_logs=False):
        for i in list(self.nodes):
            self.kill(i)
        self.nats.stop()
        self.schema.drop()
        if not keep_logs:
            shutil.rmtree(self.root, ignore_errors=True)
