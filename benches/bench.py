#!/usr/bin/env python3
"""The benchmark harness behind benches/run.sh (which builds everything first).

Runs each server one after another on a free loopback port, checks its answers, measures it
with wrk (a separate process, on loopback), stops it by PID, and prints tables with absolute
figures and ratios. Everything is bounded in time; nothing leaves 127.0.0.1.

    python3 benches/bench.py [--duration S] [--rounds N] [--quick] [--only SECTION,...]
    python3 benches/bench.py --smoke   # the servers start and answer; nothing measured (CI)

Sections: servers (mcp-actions, with and without direct dispatch, vs rmcp vs raw axum vs TS SDK), jwt
(tools/call with a JWT vs a static token, and a token's first-use cost), startup (time to first served
request, RSS), scaling (1..5,000 actions), instructions (per call, under callgrind: mcp-actions,
rmcp, raw axum, 100..5,000 actions), compile (200 #[action] vs 200 #[tool]), backstage (the same
action on a real Backstage backend's MCP endpoint vs mcp-actions; needs tests/backstage's npm
packages, which benches/run.sh installs).
Results also go to benches/results/results.json and benches/results/results.md.
"""

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))
# The binaries under test: release builds, except for `--smoke` (run.sh builds those in debug).
RELEASE = os.environ.get("BENCH_BIN_DIR", os.path.join(TARGET, "release"))
RESULTS = os.path.join(HERE, "results")
PATH = "/api/mcp-actions/v1"
TOKEN = "bench-token-0123456789"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONCURRENCY = [1, 8, 32, 128]
ACTION_COUNTS = [1, 100, 1000, 5000]
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
    "Authorization": f"Bearer {TOKEN}",
}
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "greet_user", "arguments": {"name": "World"}}}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
# The 2026-07-28 wire: per-request `_meta` and the SEP-2243 headers (servers labelled with it).
V2026 = "2026-07-28"
META_2026 = {"io.modelcontextprotocol/protocolVersion": V2026,
             "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
             "io.modelcontextprotocol/clientCapabilities": {}}


def wire(revision, body):
    """`body` (CALL or LIST) and the headers to send it with, on `revision`."""
    if revision != V2026:
        return body, HEADERS
    body = json.loads(json.dumps(body))
    body.setdefault("params", {})["_meta"] = META_2026
    headers = dict(HEADERS, **{"MCP-Protocol-Version": V2026, "Mcp-Method": body["method"]})
    if "name" in body["params"]:
        headers["Mcp-Name"] = body["params"]["name"]
    return body, headers
EXPECTED = {"greeting": "Hello World!"}
# What every successful tools/call body contains, JSON or SSE (wrk checks it with MCP_EXPECT).
EXPECTED_BODY = '"structuredContent":{"greeting":"Hello World!"}'


def call_of(tool):
    """CALL, for the tool named `tool`."""
    return dict(CALL, params=dict(CALL["params"], name=tool))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """VmRSS, RssAnon (the process's own memory; the rest of VmRSS is the binary's and the
    libraries' file pages, shared with the page cache) and VmHWM (peak), in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def post(port, body, timeout=10.0, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode()
        conn.request("POST", PATH, body=data, headers=headers or HEADERS)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def parse_body(content_type, raw):
    """A JSON-RPC message from a JSON or (single-event) SSE response."""
    text = raw.decode()
    if content_type.startswith("text/event-stream"):
        datas = [l[5:].strip() for l in text.splitlines() if l.startswith("data:")]
        datas = [d for d in datas if d]
        text = datas[-1]
    return json.loads(text)


class Server:
    """One server process: started, checked ready, measured, stopped by PID."""

    def __init__(self, label, argv, env=None, cwd=None, log_name=None, revision="2025-11-25",
                 tool="greet_user", poll=0.001):
        self.label = label
        # The name it serves greet_user under, and how often start() asks whether it is up.
        self.tool = tool
        self.poll = poll
        # The protocol revision its clients (the checks, wrk) speak.
        self.revision = revision
        self.argv = argv
        self.env = dict(os.environ, MCP_TOKEN=TOKEN)
        self.env.pop("RUST_LOG", None)
        self.env.update(env or {})
        self.cwd = cwd
        self.proc = None
        self.port = None
        os.makedirs(RESULTS, exist_ok=True)
        self.log_path = os.path.join(RESULTS, f"{log_name or label}.log")

    def start(self, port_arg, timeout=60.0):
        """Starts the server; returns the milliseconds until the first tools/call answered."""
        self.port = free_port()
        argv = port_arg(self.argv, self.port)
        logf = open(self.log_path, "w")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=self.env, cwd=self.cwd, stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL)
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                body, headers = wire(self.revision, call_of(self.tool))
                status, _, _ = post(self.port, body, timeout=5, headers=headers)
                if status == 200:
                    return (time.perf_counter() - t0) * 1000
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                pass
            time.sleep(self.poll)
        self.stop()
        raise RuntimeError(f"{self.label} did not answer within {timeout} s; see {self.log_path}")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def memory(self):
        return proc_status(self.proc.pid)

    def cpu(self):
        return cpu_seconds(self.proc.pid)


def port_after_config(config_dir, more_access="", more=""):
    """mcp-actions binaries: a YAML config with the port and a static token (and
    `more_access`: further `externalAccess` entries, as YAML lines; `more`: further top-level
    YAML)."""

    def make(argv, port):
        # one server runs at a time, so one file (rewritten with each start's port)
        path = os.path.join(config_dir, "bench-config.yaml")
        with open(path, "w") as f:
            f.write(
                "backend:\n"
                f"  listen: {{ host: 127.0.0.1, port: {port} }}\n"
                "  auth:\n"
                "    externalAccess:\n"
                "      - type: static\n"
                f"        options: {{ token: {TOKEN}, subject: bench }}\n"
                + more_access
                + more
            )
        return argv + ["--config", path]

    return make


def port_as_arg(argv, port):
    return argv + [str(port)]


# ---------------------------------------------------------------------------------------------
# Checks and load


def check_server(server):
    """Verifies the answers wrk will get, and returns the tools/list size and response notes."""
    port = server.port
    call, call_headers = wire(server.revision, call_of(server.tool))
    status, ctype, raw = post(port, call, headers=call_headers)
    msg = parse_body(ctype, raw)
    result = msg.get("result") or {}
    if status != 200 or result.get("structuredContent") != EXPECTED or result.get("isError"):
        raise RuntimeError(f"{server.label}: unexpected tools/call answer {status} {raw[:300]!r}")
    text = result["content"][0]["text"]
    if json.loads(text) != EXPECTED:
        raise RuntimeError(f"{server.label}: unexpected text block {text!r}")
    call_bytes = len(raw)
    body, headers = wire(server.revision, LIST)
    status, ctype, raw = post(port, body, headers=headers)
    msg = parse_body(ctype, raw)
    tools = (msg.get("result") or {}).get("tools") or []
    if status != 200 or server.tool not in [t["name"] for t in tools]:
        raise RuntimeError(f"{server.label}: unexpected tools/list answer {status} {raw[:300]!r}")
    list_bytes = len(raw)
    bad = dict(call_headers, Authorization="Bearer wrong-token")
    status, _, _ = post(port, call, headers=bad)
    if status != 401:
        raise RuntimeError(f"{server.label}: a wrong token got {status}, not 401")
    return {"call_bytes": call_bytes, "list_bytes": list_bytes, "tools": len(tools),
            "content_type": ctype.split(";")[0]}


def run_wrk(server, concurrency, method="call", duration=5, tool="greet_user", token=TOKEN, expect=None):
    """One wrk run; `expect`: a string every response body must contain (checked by wrk's
    script, which then reads every body: more load-generator CPU, so only where asked)."""
    threads = min(concurrency, 2)
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--timeout", "10s",
            "-s", os.path.join(HERE, "wrk", "mcp.lua"), f"http://127.0.0.1:{server.port}{PATH}"]
    env = dict(os.environ, MCP_METHOD=method, MCP_TOKEN=token, MCP_TOOL=tool, MCP_REVISION=server.revision,
               MCP_EXPECT=expect or "")
    cpu0 = server.cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait4 gives the load generator's own CPU time
    deadline = time.time() + duration + 30
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.time() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    server_cpu = server.cpu() - cpu0
    out = proc.stdout.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    m = re.search(r"WRK_JSON (\{.*\})", out)
    if not m:
        raise RuntimeError(f"wrk printed no result for {server.label}: {out[-500:]}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    errors = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return {
        "concurrency": concurrency,
        "method": method,
        "requests": r["requests"],
        "rps": r["requests"] / secs,
        "p50_ms": r["p50_us"] / 1000,
        "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": errors,
        "status_errors": r["status_errors"],
        "checked": r["checked"],
        "unexpected": r["unexpected"],
        "server_cpu_pct": 100 * server_cpu / wall,
        "server_cpu_us_per_req": 1e6 * server_cpu / max(r["requests"], 1),
        "wrk_cpu_pct": 100 * (usage.ru_utime + usage.ru_stime) / wall,
    }


# ---------------------------------------------------------------------------------------------
# Sections


HTTP_ONLY = "mcp-actions (HTTP only)"
AUDIT_OFF = "mcp-actions (audit off)"
TRACED = "mcp-actions (traces 100%)"


class OtlpSink:
    """A stand-in OTLP/HTTP collector on loopback: answers every export 200 at once and counts
    what it received (a real collector's work is not the server's cost)."""

    def __init__(self):
        import http.server
        import threading
        sink = self
        self.requests = 0
        self.bytes = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                self.rfile.read(n)
                sink.requests += 1
                sink.bytes += n
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


_SINK = None


def otlp_sink():
    global _SINK
    if _SINK is None:
        _SINK = OtlpSink()
    return _SINK
# The label of a server measured with its clients on the 2026-07-28 wire.
MODERN = {name: f"{name} @{V2026}" for name in ("mcp-actions", "mcp-actions via rmcp", "rmcp")}


def server_defs():
    node = shutil.which("node") or "node"
    cfg = port_after_config(RESULTS)
    return {
        "mcp-actions": (Server("mcp-actions", [os.path.join(RELEASE, "greet-user")],
                               env={"RUST_LOG": "warn"}), cfg),
        "mcp-actions (log=info)": (Server("mcp-actions (log=info)", [os.path.join(RELEASE, "greet-user")],
                                          log_name="mcp-actions-info"), cfg),
        # The audit trail off (it is on by default: a JSON line per call on stderr, here the
        # server's log file); metrics are always counted.
        AUDIT_OFF: (Server(AUDIT_OFF, [os.path.join(RELEASE, "greet-user")], env={"RUST_LOG": "warn"},
                           log_name="mcp-actions-audit-off"),
                    port_after_config(RESULTS, more="mcpActions:\n  audit: { enabled: false }\n")),
        "mcp-actions via rmcp": (Server("mcp-actions via rmcp", [os.path.join(RELEASE, "greet-user-via-rmcp")],
                                        env={"RUST_LOG": "warn"}, log_name="mcp-actions-via-rmcp"), cfg),
        # Every request's spans (the request's and the action's) exported over OTLP/HTTP to a
        # loopback sink, with the OpenTelemetry SDK's default batching; metrics over OTLP too.
        TRACED: (Server(TRACED, [os.path.join(RELEASE, "greet-user")],
                        env={"RUST_LOG": "warn", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_sink().endpoint,
                             "OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "bench"},
                        log_name="mcp-actions-traced"), cfg),
        # `default-features = false`: Streamable HTTP only (no SSE, stdio or CLI); start-up, memory
        # and size only (its calls are those of "mcp-actions").
        HTTP_ONLY: (Server(HTTP_ONLY, [os.path.join(RELEASE, "greet-user-http-only")],
                           log_name="mcp-actions-http-only"), cfg),
        "rmcp": (Server("rmcp", [os.path.join(RELEASE, "rmcp-server")]), port_as_arg),
        # The same three servers, their clients on the 2026-07-28 wire.
        MODERN["mcp-actions"]: (Server(MODERN["mcp-actions"], [os.path.join(RELEASE, "greet-user")],
                                       env={"RUST_LOG": "warn"}, log_name="mcp-actions-2026",
                                       revision=V2026), cfg),
        MODERN["mcp-actions via rmcp"]: (Server(MODERN["mcp-actions via rmcp"],
                                                [os.path.join(RELEASE, "greet-user-via-rmcp")],
                                                env={"RUST_LOG": "warn"}, log_name="mcp-actions-via-rmcp-2026",
                                                revision=V2026), cfg),
        MODERN["rmcp"]: (Server(MODERN["rmcp"], [os.path.join(RELEASE, "rmcp-server")], log_name="rmcp-2026",
                                revision=V2026), port_as_arg),
        "raw axum": (Server("raw axum", [os.path.join(RELEASE, "axum-raw")], log_name="axum-raw"),
                     port_as_arg),
        "TS SDK": (Server("TS SDK", [node, "server.mjs"], cwd=os.path.join(HERE, "ts-server"),
                          log_name="ts-sdk"), port_as_arg),
    }


def best_run(runs):
    """The run with the highest throughput (its latencies and CPU figures come with it): on a
    shared machine other work only ever slows a run down, so the best round is the one least
    disturbed."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    best = ordered[-1]
    # how far apart the rounds were: the noise of this machine for this figure
    spread = (best["rps"] - ordered[0]["rps"]) / best["rps"] if best["rps"] else 0.0
    return dict(best, rounds=len(runs), spread=spread)


# The servers measured `rounds` times: those whose ratios have a 5% or 10% target. The others
# (the raw axum ceiling, the TS SDK 10-40x away, traces) are measured once.
ROUNDS_FOR = ("mcp-actions", "mcp-actions (log=info)", AUDIT_OFF, "mcp-actions via rmcp", "rmcp",
              *MODERN.values())


def section_servers(args):
    """Each server in turn, mcp-actions and rmcp `rounds` times over (so a slow spell of a shared
    machine hits both alike rather than one); each of their figures is the best round."""
    # The HTTP-only build makes the same calls as mcp-actions: start-up, memory and size only.
    defs = {label: d for label, d in server_defs().items() if label != HTTP_ONLY
            and (not args.servers or label in args.servers)}
    acc = {label: {"calls": {c: [] for c in args.concurrency},
                   "lists": {c: [] for c in args.list_concurrency}, "peak": 0}
           for label in defs}
    for rnd in range(args.rounds):
        for label, (server, port_arg) in defs.items():
            if rnd > 0 and label not in ROUNDS_FOR:
                continue  # one round: the comparison with these is not within 10%
            log(f"== {label} (round {rnd + 1} of {args.rounds})")
            a = acc[label]
            startup = server.start(port_arg)
            try:
                if rnd == 0:
                    time.sleep(0.3)
                    a["startup"], a["idle"] = startup, server.memory()
                    a["info"] = check_server(server)
                run_wrk(server, 32, duration=1)  # warm-up, not recorded
                for c in args.concurrency:
                    r = run_wrk(server, c, "call", args.duration)
                    log(f"   call c={c:<3} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
                        f"  server {r['server_cpu_pct']:.0f}% ({r['server_cpu_us_per_req']:.0f} µs/req)"
                        f"  wrk {r['wrk_cpu_pct']:.0f}%  errors {r['errors']}")
                    a["calls"][c].append(r)
                for c in args.list_concurrency:
                    r = run_wrk(server, c, "list", args.duration)
                    log(f"   list c={c:<3} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms")
                    a["lists"][c].append(r)
                a["peak"] = max(a["peak"], server.memory()["VmHWM"])
            finally:
                server.stop()
    results = {}
    for label, a in acc.items():
        results[label] = {"startup_ms": a["startup"], "idle_rss_kib": a["idle"]["VmRSS"],
                          "idle_anon_kib": a["idle"]["RssAnon"], "peak_rss_kib": a["peak"],
                          "calls": [best_run(a["calls"][c]) for c in args.concurrency],
                          "lists": [best_run(a["lists"][c]) for c in args.list_concurrency],
                          **a["info"]}
    return results


JWT_AUDIENCE = "https://mcp.example.com/api/mcp-actions/v1"


def section_jwt(args):
    """tools/call with a JWT next to the same call with a static token, on one mcp-actions server
    (it accepts both), in turn for `rounds` rounds; each figure is the best round. A JWT is
    verified once (signature, claims) and then found in the server's cache by digest. Also the
    first-use cost: the mean latency of calls each with a new token (verified then) minus that
    of calls with one cached token, sequential, on one connection each."""
    import http.server
    import threading
    jwks_port = free_port()
    issuer = f"http://127.0.0.1:{jwks_port}"
    fixture = json.loads(subprocess.check_output(
        [os.path.join(RELEASE, "jwt-fixture"), issuer, JWT_AUDIENCE, str(args.jwt_tokens + 1)]))
    jwks = json.dumps(fixture["jwks"]).encode()
    fetches = []

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", jwks_port), Jwks)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    config = port_after_config(RESULTS, "      - type: jwks\n"
                               f"        options: {{ url: '{issuer}/jwks', issuer: '{issuer}', "
                               f"audience: '{JWT_AUDIENCE}' }}\n")

    jwt, fresh = fixture["tokens"][0], fixture["tokens"][1:]
    jwt_headers = lambda token: dict(HEADERS, Authorization=f"Bearer {token}")
    server = Server("mcp-actions (JWT)", [os.path.join(RELEASE, "greet-user")], env={"RUST_LOG": "warn"},
                    log_name="mcp-actions-jwt")
    runs = {"static": {c: [] for c in args.concurrency}, "jwt": {c: [] for c in args.concurrency}}
    try:
        server.start(config)
        status, _, raw = post(server.port, CALL, headers=jwt_headers(jwt))
        if status != 200:
            raise RuntimeError(f"a JWT call got {status}: {raw[:300]!r}")
        run_wrk(server, 32, duration=1)  # warm-up, not recorded
        for rnd in range(args.rounds):
            for c in args.concurrency:
                for kind, token in (("static", TOKEN), ("jwt", jwt)):
                    r = run_wrk(server, c, "call", args.duration, token=token)
                    log(f"   {kind:6} c={c:<3} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
                        f"  errors {r['errors']}")
                    runs[kind][c].append(r)

        def per_call_us(tokens):
            """Mean latency and server CPU time per call, sequential calls."""
            cpu0, total = server.cpu(), 0.0
            for token in tokens:
                t = time.perf_counter()
                status, _, raw = post(server.port, CALL, headers=jwt_headers(token))
                total += time.perf_counter() - t
                if status != 200:
                    raise RuntimeError(f"a JWT call got {status}: {raw[:300]!r}")
            return 1e6 * total / len(tokens), 1e6 * (server.cpu() - cpu0) / len(tokens)

        cached_us, cached_cpu_us = per_call_us([jwt] * len(fresh))
        first_use_us, first_use_cpu_us = per_call_us(fresh)
    finally:
        server.stop()
        httpd.shutdown()
    return {"static": [best_run(runs["static"][c]) for c in args.concurrency],
            "jwt": [best_run(runs["jwt"][c]) for c in args.concurrency],
            "cached_call_us": cached_us, "first_use_call_us": first_use_us,
            "cached_cpu_us": cached_cpu_us, "first_use_cpu_us": first_use_cpu_us,
            "tokens": len(fresh), "jwks_fetches": len(fetches)}


# The real Backstage backend of tests/backstage (its npm packages; benches/run.sh installs them),
# started as bench.js: Backstage's MCP actions backend and plugins/greet-user.js, which registers
# the same greet_user action. Backstage names the tool `<plugin id>.<action name>`.
BACKSTAGE_APP = os.path.join(REPO, "tests", "backstage")
BACKSTAGE = "Backstage"
BACKSTAGE_TOOL = "greet-user.greet_user"
# How long Backstage may take to answer its first tools/call (5-7 s on an idle machine).
BACKSTAGE_READY_S = 120.0


def backstage_versions():
    """The versions of the Backstage packages and of the MCP SDK they run (from
    tests/backstage/node_modules)."""
    def version(*path):
        with open(os.path.join(BACKSTAGE_APP, "node_modules", *path, "package.json")) as f:
            return json.load(f)["version"]

    mcp = ("@backstage", "plugin-mcp-actions-backend")
    # the MCP SDK the plugin resolves: its own copy if it has one, else the hoisted one
    nested = ("@backstage", "plugin-mcp-actions-backend", "node_modules", "@modelcontextprotocol", "sdk")
    sdk = nested if os.path.exists(os.path.join(BACKSTAGE_APP, "node_modules", *nested)) \
        else ("@modelcontextprotocol", "sdk")
    return {"@backstage/backend-defaults": version("@backstage", "backend-defaults"),
            "@backstage/plugin-mcp-actions-backend": version(*mcp),
            "@backstage/backend-plugin-api": version("@backstage", "backend-plugin-api"),
            "@modelcontextprotocol/sdk": version(*sdk)}


def backstage_installed():
    return os.path.exists(os.path.join(BACKSTAGE_APP, "node_modules", "@backstage", "backend-defaults"))


def section_backstage(args):
    """The same greet_user action, the same wrk load: Backstage's own MCP endpoint (a real
    backend from npm: `@backstage/plugin-mcp-actions-backend`, the action registered by a plugin
    in the same process, a static token) vs mcp-actions (the greet-user example, RUST_LOG=warn).
    Both run side by side (an idle server costs the other nothing) and are measured in turn, cell
    by cell, `rounds` times over; each figure is the best round. A run with a non-2xx answer
    fails the section, and a checked run (wrk reads every body) comes first: a benchmark of error
    answers would be worthless."""
    node = shutil.which("node") or "node"
    ours = Server("mcp-actions", [os.path.join(RELEASE, "greet-user")], env={"RUST_LOG": "warn"},
                  log_name="mcp-actions-vs-backstage")
    # LOG_LEVEL=warn: Backstage's counterpart of RUST_LOG=warn. Both still write their audit
    # events (a line per call; Backstage's auditor logs at its own level).
    backstage = Server(BACKSTAGE, [node, "bench.js", "--config", "app-config.bench.yaml"], cwd=BACKSTAGE_APP,
                       env={"BACKSTAGE_TOKEN": TOKEN, "LOG_LEVEL": "warn", "NO_COLOR": "1"},
                       log_name="backstage", tool=BACKSTAGE_TOOL, poll=0.05)

    def port_in_env(argv, port):
        backstage.env["BACKSTAGE_PORT"] = str(port)  # app-config.bench.yaml reads it
        return argv

    servers = [(ours, port_after_config(RESULTS)), (backstage, port_in_env)]
    acc = {s.label: {"calls": {c: [] for c in args.concurrency}} for s, _ in servers}

    def measured(server, concurrency, duration, expect=None):
        r = run_wrk(server, concurrency, "call", duration, tool=server.tool, expect=expect)
        if r["status_errors"] or r["unexpected"] or r["checked"] != (r["requests"] if expect else 0):
            raise RuntimeError(f"{server.label}: {r['status_errors']} non-2xx answers, {r['unexpected']} of "
                               f"{r['checked']} bodies checked without the greeting, at c={concurrency}; "
                               f"see {server.log_path}")
        return r

    try:
        for server, port_arg in servers:
            log(f"== mcp-actions vs Backstage: starting {server.label}")
            a = acc[server.label]
            a["startup_ms"] = server.start(port_arg, timeout=BACKSTAGE_READY_S)
            a["info"] = check_server(server)
            a["ready"] = server.memory()
        for server, _ in servers:
            # Warm-up (Node's JIT too), not recorded; every body checked.
            r = measured(server, 32, max(2, args.duration), expect=EXPECTED_BODY)
            acc[server.label]["warmup_checked"] = r["checked"]
            log(f"   {server.label}: warm-up c=32, {r['checked']} bodies checked, all the greeting")
        for rnd in range(args.rounds):
            log(f"== mcp-actions vs Backstage (round {rnd + 1} of {args.rounds})")
            for c in args.concurrency:
                for server, _ in servers:
                    r = measured(server, c, args.duration)
                    log(f"   {server.label:11} c={c:<3} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.3f} ms  "
                        f"p99 {r['p99_ms']:.3f} ms  server {r['server_cpu_pct']:.0f}% "
                        f"({r['server_cpu_us_per_req']:.0f} µs/req)  errors {r['errors']}")
                    acc[server.label]["calls"][c].append(r)
        for server, _ in servers:
            acc[server.label]["after"] = server.memory()
            check_server(server)  # still the same answers after the load
    finally:
        for server, _ in servers:
            server.stop()
    results = {"versions": backstage_versions(), "tools": {s.label: s.tool for s, _ in servers}}
    for label, a in acc.items():
        results[label] = {"startup_ms": a["startup_ms"], "ready_rss_kib": a["ready"]["VmRSS"],
                          "after_rss_kib": a["after"]["VmRSS"], "peak_rss_kib": a["after"]["VmHWM"],
                          "warmup_checked": a["warmup_checked"],
                          "calls": [best_run(a["calls"][c]) for c in args.concurrency], **a["info"]}
    return results


def smoke(args):
    """Checks the harness and the comparison servers without measuring anything: each Rust
    server starts, gives the exact expected answers to tools/call and tools/list, refuses a wrong
    token with 401, and is stopped by PID. What CI runs (`benches/run.sh --smoke`), so the bench
    servers keep compiling and answering as the crates under test change. Returns the number of
    servers that passed and failed."""
    passed = failed = 0
    for label, (server, port_arg) in server_defs().items():
        if label in ("mcp-actions (log=info)", "TS SDK"):
            continue  # the same binary as mcp-actions; Node packages not installed for a smoke run
        try:
            startup = server.start(port_arg)
            try:
                info = check_server(server)
            finally:
                server.stop()
            passed += 1
            log(f"ok   {label}: answered in {startup:.0f} ms after start, tools/call {info['call_bytes']} B, "
                f"tools/list {info['list_bytes']} B, 401 for a wrong token")
        except Exception as error:  # noqa: BLE001 (reported, counted, the others still run)
            failed += 1
            log(f"FAIL {label}: {error}")
    return passed, failed


def section_scaling(args):
    """The same server with 1 (the greet-user example), 100, 1,000 and 5,000 linked actions,
    each in turn, `scaling_rounds` times over; figures are the best round."""
    cfg = port_after_config(RESULTS)
    acc = {}
    for rnd in range(args.scaling_rounds):
        for n in args.actions:
            label = f"{n} actions"
            log(f"== {label} (round {rnd + 1} of {args.scaling_rounds})")
            binary = "greet-user" if n == 1 else f"gen-actions-{n}"  # the example is the 1-action server
            server = Server(label, [os.path.join(RELEASE, binary)], env={"RUST_LOG": "warn"},
                            log_name=f"gen-actions-{n}")
            a = acc.setdefault(label, {"n": n, "startups": [], "call32": [], "call_last": [],
                                       "list1": [], "peak": 0})
            if rnd == 0:
                for _ in range(args.starts - 1):
                    a["startups"].append(server.start(cfg))
                    server.stop()
            a["startups"].append(server.start(cfg))
            try:
                if rnd == 0:
                    time.sleep(0.3)
                    a["idle"] = server.memory()
                    a["info"] = check_server(server)
                    if a["info"]["tools"] != n:
                        raise RuntimeError(f"{label}: tools/list has {a['info']['tools']} tools, expected {n}")
                run_wrk(server, 32, duration=1)
                a["call32"].append(run_wrk(server, 32, "call", args.duration))
                # the last tool too, in case lookup depended on position
                last = "greet_user" if n == 1 else f"greet_user_{n - 1:05}"
                a["call_last"].append(run_wrk(server, 32, "call", args.duration, tool=last))
                a["list1"].append(run_wrk(server, 1, "list", args.duration))
                a["peak"] = max(a["peak"], server.memory()["VmHWM"])
            finally:
                server.stop()
            log(f"   start-up {a['startups'][-1]:.1f} ms, call c=32 {a['call32'][-1]['rps']:.0f} req/s "
                f"({a['call32'][-1]['server_cpu_us_per_req']:.0f} µs/req), last tool {a['call_last'][-1]['rps']:.0f} req/s,"
                f" list {a['list1'][-1]['p50_ms']:.2f} ms / {a['info']['list_bytes']} B")
    results = {}
    for label, a in acc.items():
        results[label] = {"n": a["n"], "startup_ms": statistics.median(a["startups"]), "startups_ms": a["startups"],
                          "idle_rss_kib": a["idle"]["VmRSS"], "idle_anon_kib": a["idle"]["RssAnon"],
                          "peak_rss_kib": a["peak"], "call32": best_run(a["call32"]),
                          "call_last": best_run(a["call_last"]),
                          "list1": best_run(a["list1"]), **a["info"]}
    return results


def section_startup(args):
    """Start-up to first served request and idle RSS, repeated, for the comparison servers."""
    results = {}
    for label, (server, port_arg) in server_defs().items():
        if label == "mcp-actions (log=info)":
            continue
        times, rss, anon = [], [], []
        for _ in range(args.starts):
            times.append(server.start(port_arg))
            time.sleep(0.2)
            mem = server.memory()
            rss.append(mem["VmRSS"])
            anon.append(mem["RssAnon"])
            server.stop()
        results[label] = {"startup_ms": statistics.median(times), "startups_ms": times,
                          "idle_rss_kib": statistics.median(rss), "idle_anon_kib": statistics.median(anon)}
        log(f"== {label}: start-up median {statistics.median(times):.1f} ms, idle RSS "
            f"{statistics.median(rss) / 1024:.1f} MiB ({statistics.median(anon) / 1024:.1f} MiB anonymous)")
    return results


def section_instructions(args):
    """Instructions per tools/call under callgrind (valgrind): unlike wall-clock figures these do
    not move with the machine's load, so they settle the framework's overhead and whether
    dispatch stays O(1) as actions are added."""
    import callgrind  # noqa: PLC0415 (needs this module's constants)

    results = {}
    for name in ["mcp-actions", "mcp-actions-via-rmcp", "rmcp", "raw-axum", "actions-100", "actions-1000",
                 "actions-5000"]:
        per_request, _ = callgrind.measure(name, args.callgrind_requests)
        results[name] = per_request
        log(f"== callgrind {name}: {per_request:,.0f} instructions per tools/call")
    return results


def cargo(*argv, profile="release"):
    """Runs `cargo build`; returns (wall seconds, CPU seconds of cargo, rustc and the linker)."""
    cmd = ["cargo", "build", "--quiet"] + (["--release"] if profile == "release" else []) + list(argv)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=HERE, check=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def section_compile(args):
    """200 #[action]s vs the same 200 rmcp #[tool]s, per profile: a clean build of the crate alone
    (`cargo clean -p`, its dependencies already built) and the rebuild after editing one action's
    body. Then release binary sizes."""
    crates = {"mcp-actions": "compile-actions-200", "rmcp": "compile-rmcp-200"}
    results = {}
    for profile in args.compile_profiles:
        release = ["--release"] if profile == "release" else []
        # The dependencies both crates declare, built by an empty crate with the same list (so
        # the same features: building several packages in one cargo call would unify features
        # and make a timed build rebuild a dependency).
        log(f"== compile: dependencies of the compile-time crates ({profile})")
        cargo("-p", "compile-deps", profile=profile)
        for label, crate in crates.items():
            clean, incr = [], []
            for _ in range(args.compile_reps):
                subprocess.run(["cargo", "clean", "--quiet", "-p", crate] + release, cwd=HERE, check=True)
                clean.append(cargo("-p", crate, profile=profile))
            for rep in range(args.incremental_reps):
                subprocess.run([sys.executable, os.path.join(HERE, "gen_crates.py"), "touch", crate,
                                str(rep + 1)], check=True)
                incr.append(cargo("-p", crate, profile=profile))
            subprocess.run([sys.executable, os.path.join(HERE, "gen_crates.py"), "touch", crate, "0"], check=True)
            if profile == "release":
                cargo("-p", crate, profile=profile)  # the binary as generated, for its size
            med_clean, med_incr = min(clean), min(incr)
            results[f"{label} {profile}"] = {"label": label, "profile": profile,
                                             "clean_s": med_clean[0], "clean_cpu_s": med_clean[1],
                                             "incremental_s": med_incr[0], "incremental_cpu_s": med_incr[1],
                                             "clean_all": clean, "incremental_all": incr}
            log(f"   {label} ({profile}): clean {med_clean[0]:.1f} s ({med_clean[1]:.1f} s CPU), "
                f"one action edited {med_incr[0]:.1f} s ({med_incr[1]:.1f} s CPU)")
    sizes = {}
    for label, binary in [("greet-user (mcp-actions, 1 action)", "greet-user"),
                          ("greet-user-http-only (mcp-actions, default-features = false)",
                           "greet-user-http-only"),
                          ("rmcp-server (rmcp, 1 tool)", "rmcp-server"),
                          ("axum-raw (no MCP library)", "axum-raw"),
                          ("compile-actions-200 (mcp-actions, 200 actions)", "compile-actions-200"),
                          ("compile-rmcp-200 (rmcp, 200 tools)", "compile-rmcp-200"),
                          ("gen-actions-1000 (mcp-actions, 1,000 actions)", "gen-actions-1000"),
                          ("gen-actions-5000 (mcp-actions, 5,000 actions)", "gen-actions-5000")]:
        path = os.path.join(RELEASE, binary)
        if os.path.exists(path):
            sizes[label] = os.path.getsize(path)
    results["sizes"] = sizes
    return results


# ---------------------------------------------------------------------------------------------
# Report


def machine():
    info = {"nproc": os.cpu_count()}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        info["mem_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    info["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    info["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    info["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    info["wrk"] = info["wrk"].split(" Copyright")[0]
    info["kernel"] = platform.release()
    info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
    return info


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


def targets(res):
    """The issue's targets, each with the figure that decides it."""
    rows = []

    def row(target, figure, met, noise=None):
        verdict = "met" if met else "**missed**"
        if noise is not None:
            figure += f"; rounds of one server differed by up to {noise:.0%}"
            if not met and noise >= 0.1:
                verdict = "missed, within this run's noise"
        rows.append(f"| {target} | {figure} | {verdict} |")

    def cost_of(target, name, base, limit, of=""):
        """`name`'s throughput at least (1 - limit)× `base`'s at every concurrency."""
        calls, ref = srv[name]["calls"], srv[base]["calls"]
        ratios = [a["rps"] / b["rps"] for a, b in zip(calls, ref)]
        cpu = [a["server_cpu_us_per_req"] / b["server_cpu_us_per_req"] for a, b in zip(calls, ref)]
        noise = max(r.get("spread", 0) for r in calls + ref)
        row(target,
            f"throughput {min(ratios):.2f}–{max(ratios):.2f}×{of}, CPU per call {min(cpu):.2f}–{max(cpu):.2f}×",
            min(ratios) >= 1 - limit, noise if calls[0].get("rounds", 1) > 1 else None)

    def overhead_vs_rmcp(target, name, rmcp="rmcp"):
        cost_of(target, name, rmcp, 0.10, " rmcp")

    def instructions_vs_rmcp(target, name):
        r = ins[name] / ins["rmcp"]
        row(target, f"{ins[name]:,.0f} vs {ins['rmcp']:,.0f} ({r:.2f}×)", r <= 1.1)

    srv, sc, co, ins = res.get("servers"), res.get("scaling"), res.get("compile"), res.get("instructions")
    if srv and "rmcp" in srv:
        overhead_vs_rmcp("framework overhead ≤ 10% vs plain rmcp, every concurrency", "mcp-actions")
        if "mcp-actions via rmcp" in srv:
            overhead_vs_rmcp("same, with direct dispatch off (every request through rmcp's service)",
                             "mcp-actions via rmcp")
        if MODERN["mcp-actions"] in srv and MODERN["rmcp"] in srv:
            overhead_vs_rmcp("framework overhead ≤ 10% vs plain rmcp on 2026-07-28, every concurrency",
                             MODERN["mcp-actions"], MODERN["rmcp"])
            conc = res["args"]["concurrency"]
            pairs = [(c, a["rps"] / b["rps"]) for c, a, b in
                     zip(conc, srv[MODERN["mcp-actions"]]["calls"], srv[MODERN["rmcp"]]["calls"]) if c >= 8]
            if pairs:
                worst = min(r for _, r in pairs)
                row("tools/call on 2026-07-28 ≥ 1.5× plain rmcp on the same revision, from concurrency 8 up",
                    ", ".join(f"c={c}: {r:.2f}×" for c, r in pairs), worst >= 1.5)
    if srv and "mcp-actions" in srv and "mcp-actions (log=info)" in srv:
        cost_of("logging at the default level (info) costs ≤ 5% vs RUST_LOG=warn, every concurrency",
                "mcp-actions (log=info)", "mcp-actions", 0.05)
    if srv and "mcp-actions" in srv and AUDIT_OFF in srv:
        cost_of("the audit trail and metrics cost ≤ 10% (mcp-actions vs audit off), every concurrency",
                "mcp-actions", AUDIT_OFF, 0.10)
    if srv and "raw axum" in srv and 32 in res["args"]["concurrency"]:
        i = res["args"]["concurrency"].index(32)
        for name in ("mcp-actions", MODERN["mcp-actions"]):
            if name in srv:
                r = srv[name]["calls"][i]["rps"] / srv["raw axum"]["calls"][i]["rps"]
                row(f"tools/call ≥ 0.9× raw axum at concurrency 32 ({name})", f"{r:.2f}×", r >= 0.9)
    if ins:
        instructions_vs_rmcp("framework overhead ≤ 10% vs plain rmcp (instructions per call)", "mcp-actions")
        if "mcp-actions-via-rmcp" in ins:
            instructions_vs_rmcp("same, with direct dispatch off (instructions per call)", "mcp-actions-via-rmcp")
        n = [ins[k] / ins["mcp-actions"] for k in ("actions-100", "actions-1000", "actions-5000") if k in ins]
        if n:
            row("dispatch O(1) from 1 to 5,000 actions (instructions per call)",
                f"{min(n):.3f}–{max(n):.3f}× the 1-action server", max(n) <= 1.1)
    if srv and "TS SDK" in srv:
        ratios = [a["rps"] / b["rps"] for a, b in zip(srv["mcp-actions"]["calls"], srv["TS SDK"]["calls"])]
        row("≥ 10× the TypeScript SDK's throughput", f"{min(ratios):.1f}–{max(ratios):.1f}×", min(ratios) >= 10)
    if sc:
        runs = list(sc.values())
        base = runs[0]["call32"]["rps"]
        rel = [r["call32"]["rps"] / base for r in runs] + [r["call_last"]["rps"] / base for r in runs]
        noise = max(r[k].get("spread", 0) for r in runs for k in ("call32", "call_last"))
        cpu = [r["call32"]["server_cpu_us_per_req"] / runs[0]["call32"]["server_cpu_us_per_req"] for r in runs]
        row(f"call throughput flat (±10%) from {runs[0]['n']:,} to {runs[-1]['n']:,} actions",
            f"{min(rel):.2f}–{max(rel):.2f}× the 1-action server (c=32, first and last tool), "
            f"CPU per call {min(cpu):.2f}–{max(cpu):.2f}×",
            min(rel) >= 0.9 and max(rel) <= 1.1, noise if runs[0]["call32"].get("rounds", 1) > 1 else None)
        for n in (1000, 5000):
            k = next((r for r in runs if r["n"] == n), None)
            if k:
                one = next((r for r in runs if r["n"] == 1), None)
                beside = f" (1 action: {one['startup_ms']:.1f} ms)" if one else ""
                row(f"start-up < 50 ms with {n:,} actions", f"{k['startup_ms']:.1f} ms{beside}",
                    k["startup_ms"] < 50)
    idle = (res.get("startup") or {}).get("mcp-actions") or (srv or {}).get("mcp-actions")
    if idle:
        row("idle RSS < 15 MB (1 action)",
            f"{idle['idle_rss_kib'] * 1024 / 1e6:.1f} MB ({idle['idle_anon_kib'] * 1024 / 1e6:.1f} MB anonymous)",
            idle["idle_rss_kib"] * 1024 < 15e6)
    if co:
        for profile in res["args"]["compile_profiles"]:
            a, b = co.get(f"mcp-actions {profile}"), co.get(f"rmcp {profile}")
            if a and b:
                row(f"200 actions compile no slower than rmcp ({profile}, clean)",
                    f"{a['clean_s']:.1f} s vs {b['clean_s']:.1f} s ({a['clean_s'] / b['clean_s']:.2f}×)",
                    a["clean_s"] <= b["clean_s"])
                row(f"200 actions compile no slower than rmcp ({profile}, one action edited)",
                    f"{a['incremental_s']:.1f} s vs {b['incremental_s']:.1f} s "
                    f"({a['incremental_s'] / b['incremental_s']:.2f}×)",
                    a["incremental_s"] <= b["incremental_s"])
    if not rows:
        return []
    return ["### Targets", "", "| target | this run | |", "|---|---|---|"] + rows + [""]


# The ratio columns of the tools/call tables: (numerator, denominator) server labels.
RATIO_COLUMNS = [("mcp-actions (log=info)", "mcp-actions"), ("mcp-actions", AUDIT_OFF), (TRACED, "mcp-actions"), ("mcp-actions", "rmcp"), ("mcp-actions", "raw axum"), ("mcp-actions", "TS SDK"),
                 ("mcp-actions via rmcp", "rmcp"),
                 (MODERN["mcp-actions"], MODERN["rmcp"]), (MODERN["mcp-actions"], "raw axum"),
                 (MODERN["mcp-actions via rmcp"], MODERN["rmcp"])]


def render(res):
    out = []
    m = res["machine"]
    out.append(f"Machine: {m['nproc']} CPUs, {m.get('cpu', '?')}, {m['mem_gib']} GiB RAM, {m['rustc']}, "
               f"Node {m['node']}, {m['wrk']}; load average at start {' / '.join(m['loadavg_start'])}, "
               f"at end {' / '.join(res.get('loadavg_end', ['?']))}.")
    out.append("")
    srv = res.get("servers")
    jwt = res.get("jwt")
    if jwt:
        a = res["args"]
        out.append(f"### tools/call with a JWT vs a static token (one mcp-actions server, in turn; best of "
                   f"{a.get('rounds', 1)} rounds of {a['duration']} s)")
        out.append("")
        out.append("| concurrency | static token | JWT (cached verification) | JWT / static |")
        out.append("|---|---|---|---|")
        for i, c in enumerate(a["concurrency"]):
            st, jw = jwt["static"][i], jwt["jwt"][i]
            out.append(f"| {c} | {st['rps']:,.0f} ({st['p50_ms']:.2f} / {st['p99_ms']:.2f}) | "
                       f"{jw['rps']:,.0f} ({jw['p50_ms']:.2f} / {jw['p99_ms']:.2f}) | "
                       f"{fmt_ratio(jw['rps'], st['rps'])} thr |")
        out.append("")
        out.append(f"First use of a token (ES256 signature and claims checked, then cached), {jwt['tokens']} "
                   f"sequential calls each with a new token vs as many with one cached token: server CPU "
                   f"{jwt['first_use_cpu_us']:.0f} vs {jwt['cached_cpu_us']:.0f} µs per call "
                   f"(+{jwt['first_use_cpu_us'] - jwt['cached_cpu_us']:.0f} µs), latency "
                   f"{jwt['first_use_call_us']:.0f} vs {jwt['cached_call_us']:.0f} µs; "
                   f"{jwt['jwks_fetches']} JWKS fetch(es) in all.")
        out.append("")
    if srv:
        names = list(srv)
        pairs = [p for p in RATIO_COLUMNS if p[0] in srv]
        ratio_heads = " | ".join(f"{a} / {b}" for a, b in pairs)
        a = res["args"]
        out.append(f"### tools/call: throughput (req/s) and latency (p50 / p99, ms); best of {a.get('rounds', 1)} "
                   f"rounds of {a['duration']} s per cell")
        out.append("")
        heads = [n + (" (1 round)" if srv[n]["calls"][0].get("rounds", 1) < a.get("rounds", 1) else "")
                 for n in names]
        out.append("| concurrency | " + " | ".join(heads) + " | " + ratio_heads + " |")
        out.append("|---|" + "---|" * (len(names) + len(pairs)))
        for i, c in enumerate(res["args"]["concurrency"]):
            cells = []
            for n in names:
                r = srv[n]["calls"][i]
                err = f" **{r['errors']} errors**" if r["errors"] else ""
                cells.append(f"{r['rps']:,.0f} ({r['p50_ms']:.2f} / {r['p99_ms']:.2f}){err}")
            ratios = []
            for x, y in pairs:
                if y in srv:
                    a, o = srv[x]["calls"][i], srv[y]["calls"][i]
                    ratios.append(f"{fmt_ratio(a['rps'], o['rps'])} thr, {fmt_ratio(a['p50_ms'], o['p50_ms'])} p50")
                else:
                    ratios.append("n/a")
            out.append(f"| {c} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        out.append("")
        out.append("CPU per request (server process, µs of CPU time per tools/call; lower is better) and the load generator's CPU:")
        out.append("")
        out.append("| concurrency | " + " | ".join(names) + " | " + ratio_heads + " |")
        out.append("|---|" + "---|" * (len(names) + len(pairs)))
        for i, c in enumerate(res["args"]["concurrency"]):
            cells = [f"{srv[n]['calls'][i]['server_cpu_us_per_req']:.0f} µs (server {srv[n]['calls'][i]['server_cpu_pct']:.0f}%, wrk {srv[n]['calls'][i]['wrk_cpu_pct']:.0f}%)" for n in names]
            ratios = [fmt_ratio(srv[x]["calls"][i]["server_cpu_us_per_req"], srv[y]["calls"][i]["server_cpu_us_per_req"])
                      if y in srv else "n/a" for x, y in pairs]
            out.append(f"| {c} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        out.append("")
        out.append("### tools/list (1 tool): throughput (req/s) and latency (p50 / p99, ms); response size")
        out.append("")
        out.append("| concurrency | " + " | ".join(names) + " |")
        out.append("|---|" + "---|" * len(names))
        for i, c in enumerate(res["args"]["list_concurrency"]):
            cells = [f"{srv[n]['lists'][i]['rps']:,.0f} ({srv[n]['lists'][i]['p50_ms']:.2f} / {srv[n]['lists'][i]['p99_ms']:.2f})" for n in names]
            out.append(f"| {c} | " + " | ".join(cells) + " |")
        out.append("| bytes | " + " | ".join(f"{srv[n]['list_bytes']:,} list, {srv[n]['call_bytes']:,} call" for n in names) + " |")
        out.append("")
        out.append("### Memory and start-up")
        out.append("")
        st = res.get("startup", {})
        out.append("| server | start-up to first tools/call (ms, median) | idle RSS (MiB) | of which anonymous (MiB) | peak RSS under load (MiB) |")
        out.append("|---|---|---|---|---|")
        for n in names:
            s = st.get(n, {})
            startup = s.get("startup_ms", srv[n]["startup_ms"])
            idle = s.get("idle_rss_kib", srv[n]["idle_rss_kib"])
            anon = s.get("idle_anon_kib", srv[n]["idle_anon_kib"])
            out.append(f"| {n} | {startup:.1f} | {idle / 1024:.1f} | {anon / 1024:.1f} | {srv[n]['peak_rss_kib'] / 1024:.1f} |")
        if HTTP_ONLY in st:
            h = st[HTTP_ONLY]
            out.append(f"| {HTTP_ONLY} | {h['startup_ms']:.1f} | {h['idle_rss_kib'] / 1024:.1f} | "
                       f"{h['idle_anon_kib'] / 1024:.1f} | not loaded |")
        out.append("")
        out.append("Idle RSS includes the pages of the binary and its libraries that were read (shared with the page "
                   "cache); \"anonymous\" is the process's own memory.")
        a = srv["mcp-actions"]
        row = []
        for o in ["rmcp", "raw axum", "TS SDK"]:
            if o in srv:
                sa, so = st.get("mcp-actions", a), st.get(o, srv[o])
                row.append(f"mcp-actions / {o}: start-up {fmt_ratio(sa['startup_ms'], so['startup_ms'])}, "
                           f"idle RSS {fmt_ratio(sa['idle_rss_kib'], so['idle_rss_kib'])}, "
                           f"peak RSS {fmt_ratio(a['peak_rss_kib'], srv[o]['peak_rss_kib'])}")
        out.append("")
        out += [f"- {r}" for r in row]
        out.append("")
    sc = res.get("scaling")
    if sc:
        out.append(f"### Dispatch cost vs number of linked actions (mcp-actions, RUST_LOG=warn; 1 = the greet-user example); "
                   f"best of {res['args'].get('scaling_rounds', res['args'].get('rounds', 1))} rounds")
        out.append("")
        out.append("| actions | tools/call c=32 (req/s) | µs CPU/call | call c=32 p50 / p99 (ms) | call of the last tool c=32 (req/s) | tools/list c=1 p50 / p99 (ms) | tools/list size | start-up (ms, median) | idle RSS (MiB) | anonymous (MiB) | peak RSS (MiB) |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        base = None
        for label, r in sc.items():
            base = base or r
            out.append(
                f"| {r['n']:,} | {r['call32']['rps']:,.0f} ({fmt_ratio(r['call32']['rps'], base['call32']['rps'])}) | "
                f"{r['call32']['server_cpu_us_per_req']:.0f} | {r['call32']['p50_ms']:.2f} / {r['call32']['p99_ms']:.2f} | "
                f"{r['call_last']['rps']:,.0f} | "
                f"{r['list1']['p50_ms']:.2f} / {r['list1']['p99_ms']:.2f} | {r['list_bytes']:,} B | "
                f"{r['startup_ms']:.1f} | {r['idle_rss_kib'] / 1024:.1f} | {r['idle_anon_kib'] / 1024:.1f} | "
                f"{r['peak_rss_kib'] / 1024:.1f} |")
        out.append("")
    ins = res.get("instructions")
    if ins:
        out.append("### Instructions per tools/call (callgrind; the same on a quiet or a busy machine)")
        out.append("")
        out.append("| server | instructions per call | / rmcp | / mcp-actions with 1 action |")
        out.append("|---|---|---|---|")
        labels = {"mcp-actions": "mcp-actions (1 action)", "mcp-actions-via-rmcp": "mcp-actions via rmcp",
                  "rmcp": "rmcp", "raw-axum": "raw axum",
                  "actions-100": "mcp-actions, 100 actions", "actions-1000": "mcp-actions, 1,000 actions",
                  "actions-5000": "mcp-actions, 5,000 actions"}
        for name, ir in ins.items():
            out.append(f"| {labels.get(name, name)} | {ir:,.0f} | {fmt_ratio(ir, ins['rmcp'])} | "
                       f"{fmt_ratio(ir, ins['mcp-actions'])} |")
        out.append("")
    co = res.get("compile")
    if co:
        out.append("### Compile time: 200 tools, `#[action]` vs rmcp `#[tool]` (crate only, dependencies already built; "
                   "best of runs)")
        out.append("")
        out.append("| crate | profile | clean build: wall s (CPU s) | after editing one action: wall s (CPU s) |")
        out.append("|---|---|---|---|")
        for key, r in co.items():
            if key == "sizes":
                continue
            out.append(f"| {r['label']} | {r['profile']} | {r['clean_s']:.1f} ({r['clean_cpu_s']:.1f}) | "
                       f"{r['incremental_s']:.1f} ({r['incremental_cpu_s']:.1f}) |")
        for profile in res["args"]["compile_profiles"]:
            a, b = co.get(f"mcp-actions {profile}"), co.get(f"rmcp {profile}")
            if a and b:
                out.append(f"| **mcp-actions / rmcp** | {profile} | {fmt_ratio(a['clean_s'], b['clean_s'])} "
                           f"({fmt_ratio(a['clean_cpu_s'], b['clean_cpu_s'])}) | "
                           f"{fmt_ratio(a['incremental_s'], b['incremental_s'])} "
                           f"({fmt_ratio(a['incremental_cpu_s'], b['incremental_cpu_s'])}) |")
        out.append("")
        out.append("| release binary | size (MiB) |")
        out.append("|---|---|")
        for label, size in co["sizes"].items():
            out.append(f"| {label} | {size / 1048576:.2f} |")
        out.append("")
    bs = res.get("backstage")
    if bs:
        a = res["args"]
        v = bs["versions"]
        ours, theirs = bs["mcp-actions"], bs[BACKSTAGE]
        out.append(f"### tools/call: mcp-actions vs Backstage's MCP actions backend (the same action, the same load; "
                   f"best of {a.get('rounds', 1)} rounds of {a['duration']} s per cell)")
        out.append("")
        out.append(f"Backstage: `@backstage/plugin-mcp-actions-backend` {v['@backstage/plugin-mcp-actions-backend']} "
                   f"(MCP SDK {v['@modelcontextprotocol/sdk']}) on `@backstage/backend-defaults` "
                   f"{v['@backstage/backend-defaults']}, Node {m['node']}, `LOG_LEVEL=warn`; the action "
                   f"`{bs['tools'][BACKSTAGE]}` registered by a plugin in the same process "
                   f"(`tests/backstage/plugins/greet-user.js`). mcp-actions: the greet-user example "
                   f"(`{bs['tools']['mcp-actions']}`), `RUST_LOG=warn`. Both behind a static token; both "
                   f"answered `{{\"greeting\":\"Hello World!\"}}` to a checked warm-up "
                   f"({ours['warmup_checked']:,} and {theirs['warmup_checked']:,} bodies) and no "
                   f"measured run had a non-2xx answer. Throughput in req/s (p50 / p99, ms):")
        out.append("")
        out.append("| concurrency | mcp-actions | Backstage | throughput: mcp-actions / Backstage | "
                   "latency: Backstage / mcp-actions | CPU per call: mcp-actions | Backstage |")
        out.append("|---|---|---|---|---|---|---|")
        for i, c in enumerate(a["concurrency"]):
            cells = []
            for r in (ours["calls"][i], theirs["calls"][i]):
                err = f" **{r['errors']} errors**" if r["errors"] else ""
                cells.append(f"{r['rps']:,.0f} ({r['p50_ms']:.2f} / {r['p99_ms']:.2f}){err}")
            o, t = ours["calls"][i], theirs["calls"][i]
            out.append(f"| {c} | {cells[0]} | {cells[1]} | {fmt_ratio(o['rps'], t['rps'])} | "
                       f"{fmt_ratio(t['p50_ms'], o['p50_ms'])} p50, {fmt_ratio(t['p99_ms'], o['p99_ms'])} p99 | "
                       f"{o['server_cpu_us_per_req']:,.0f} µs (server {o['server_cpu_pct']:.0f}%) | "
                       f"{t['server_cpu_us_per_req']:,.0f} µs (server {t['server_cpu_pct']:.0f}%) |")
        out.append("")
        out.append("| server | start-up to first tools/call (ms) | RSS when ready (MiB) | peak RSS (MiB) | "
                   "RSS after the load (MiB) | tools/call answer |")
        out.append("|---|---|---|---|---|---|")
        for label, r in (("mcp-actions", ours), (BACKSTAGE, theirs)):
            out.append(f"| {label} | {r['startup_ms']:,.0f} | {r['ready_rss_kib'] / 1024:.1f} | "
                       f"{r['peak_rss_kib'] / 1024:.1f} | {r['after_rss_kib'] / 1024:.1f} | "
                       f"{r['call_bytes']:,} B {r['content_type']} |")
        out.append(f"| **Backstage / mcp-actions** | {fmt_ratio(theirs['startup_ms'], ours['startup_ms'])} | "
                   f"{fmt_ratio(theirs['ready_rss_kib'], ours['ready_rss_kib'])} | "
                   f"{fmt_ratio(theirs['peak_rss_kib'], ours['peak_rss_kib'])} | "
                   f"{fmt_ratio(theirs['after_rss_kib'], ours['after_rss_kib'])} | |")
        out.append("")
    out += targets(res)
    if "build_s" in res:
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in res.get("section_s", {}).items())
        out.append(f"Build of the whole bench workspace in this run: {res['build_s']:.0f} s; then {parts}. "
                   f"Total run: {res['total_s']:.0f} s.")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=3, help="seconds per wrk run (default 3)")
    p.add_argument("--rounds", type=int, default=2,
                   help="times mcp-actions, mcp-actions via rmcp and rmcp are measured, in turn; "
                        "figures are the best round (default 2)")
    p.add_argument("--scaling-rounds", type=int, default=3,
                   help="times each N-action server is measured, in turn; figures are the best round (default 3)")
    p.add_argument("--starts", type=int, default=5, help="start-up repetitions (default 5)")
    p.add_argument("--servers", default="",
                   help="comma-separated labels of the servers section to run (default: all of them)")
    p.add_argument("--jwt-tokens", type=int, default=2000,
                   help="distinct tokens for the JWT first-use cost (default 2000)")
    p.add_argument("--only", default="servers,jwt,startup,scaling,instructions,compile,backstage",
                   help="comma-separated sections to run (default: all of them)")
    p.add_argument("--callgrind-requests", type=int, default=300,
                   help="requests counted under callgrind per server (default 300)")
    p.add_argument("--compile-profiles", default="dev", help="dev, release or dev,release (default dev)")
    p.add_argument("--compile-reps", type=int, default=1, help="clean builds per crate (default 1)")
    p.add_argument("--incremental-reps", type=int, default=3,
                   help="rebuilds after editing one action, per crate; the best counts (default 3)")
    p.add_argument("--quick", action="store_true", help="1 s runs, one round (a smoke test of the harness)")
    p.add_argument("--smoke", action="store_true",
                   help="only check that each Rust server starts and answers as expected (no measurement)")
    p.add_argument("--build-seconds", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.smoke:
        passed, failed = smoke(args)
        print(f"smoke: {passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    if args.quick:
        args.duration, args.starts, args.rounds, args.incremental_reps = 1, 2, 1, 1
        args.scaling_rounds = 1
    args.servers = [x for x in args.servers.split(",") if x]
    args.concurrency = CONCURRENCY
    args.list_concurrency = [1, 32]
    args.actions = ACTION_COUNTS
    args.compile_profiles = [x for x in args.compile_profiles.split(",") if x]
    sections = args.only.split(",")
    if "backstage" in sections and not backstage_installed():
        # checked first, not after the other sections' minutes
        sys.exit("the backstage section needs tests/backstage/node_modules: benches/run.sh installs it "
                 "(npm ci, as .ci/run does), or leave the section out with --only")
    t0 = time.perf_counter()
    res = {"machine": machine(), "args": {"duration": args.duration, "concurrency": args.concurrency,
                                          "list_concurrency": args.list_concurrency, "rounds": args.rounds,
                                          "scaling_rounds": args.scaling_rounds,
                                          "compile_profiles": args.compile_profiles}}
    res["section_s"] = {}
    for name, run in [("servers", section_servers), ("jwt", section_jwt), ("startup", section_startup),
                      ("scaling", section_scaling), ("instructions", section_instructions),
                      ("compile", section_compile), ("backstage", section_backstage)]:
        if name in sections:
            t = time.perf_counter()
            res[name] = run(args)
            res["section_s"][name] = time.perf_counter() - t
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    if args.build_seconds is not None:
        res["build_s"] = args.build_seconds
        res["total_s"] = args.build_seconds + time.perf_counter() - t0
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    text = render(res)
    with open(os.path.join(RESULTS, "results.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
