#!/usr/bin/env python3
"""Soak test: minutes of mixed MCP load against a running example server, from a second process.

Bounded in time (--minutes) and count (--max-requests). Every --report-every seconds it prints
requests, outcomes (ok / intended errors by kind / unexpected) and the server's memory (VmRSS,
VmHWM from /proc/<pid>/status), threads and open file descriptors. Exits 1 on any unexpected
outcome or when the server does not exit 0 on SIGTERM. Python 3 standard library only.

    cargo build --release -p greet-user
    python3 tests/soak/soak.py --spawn target/release/greet-user --minutes 10

or against a server already running (its pid for the memory figures):

    python3 tests/soak/soak.py --url http://127.0.0.1:7007/api/mcp-actions/v1 \
        --token "$MCP_TOKEN" --pid "$(pgrep -n greet-user)" --minutes 10
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TOKEN = "soak-token-0123456789"
RESTRICTED_TOKEN = "soak-restricted-9876543210"
CONFIG = f"""
backend:
  listen: {{ host: 127.0.0.1, port: 0 }}
  auth:
    externalAccess:
      - type: static
        options: {{ token: {TOKEN}, subject: soak }}
      - type: static
        options: {{ token: {RESTRICTED_TOKEN}, subject: soak-restricted }}
        accessRestrictions: [ {{ plugin: no-such-plugin }} ]
"""

# --- the request mix ------------------------------------------------------------------------
# Each kind: (weight, build(rng) -> (headers, body bytes, method), check(status, headers, body)
# -> outcome). An outcome is "ok", "intended:<what>" or "unexpected:<why>".

def rpc(method, params=None, rid=1):
    message = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


def headers(token=TOKEN, version="2025-11-25", extra=None):
    h = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": version,
    }
    if token is not None:
        h["authorization"] = f"Bearer {token}"
    h.update(extra or {})
    return h


META_2026 = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "soak", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def parse(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def expect_result(check):
    def inner(status, _headers, body):
        if status != 200:
            return f"unexpected:status {status}: {body[:200]!r}"
        message = parse(body)
        if not isinstance(message, dict) or "result" not in message:
            return f"unexpected:not a result: {body[:200]!r}"
        return check(message["result"])
    return inner


def tool_ok(result):
    if result.get("isError"):
        return f"unexpected:tool error {result.get('content')!r}"
    if not str(result.get("structuredContent", {}).get("greeting", "")).startswith("Hello "):
        return f"unexpected:no greeting {result!r}"
    return "ok"


def tool_error(prefix):
    def check(result):
        text = (result.get("content") or [{}])[0].get("text", "")
        if result.get("isError") and text.startswith(prefix):
            return "intended:" + prefix.rstrip(":")
        return f"unexpected:wanted {prefix} got {result!r}"
    return check


def expect_status(code, what):
    def inner(status, _headers, body):
        if status == code:
            return f"intended:{what}"
        return f"unexpected:wanted {code} got {status}: {body[:200]!r}"
    return inner


def expect_status_rpc(status_code, code, what):
    def inner(status, _headers, body):
        message = parse(body)
        if status == status_code and isinstance(message, dict) and message.get("error", {}).get("code") == code:
            return f"intended:{what}"
        return f"unexpected:wanted {status_code} with JSON-RPC {code} got {status}: {body[:200]!r}"
    return inner


def expect_rpc_error(code, what):
    def inner(status, _headers, body):
        message = parse(body)
        if status == 200 and isinstance(message, dict) and message.get("error", {}).get("code") == code:
            return f"intended:{what}"
        return f"unexpected:wanted JSON-RPC {code} got {status}: {body[:200]!r}"
    return inner


def name(rng):
    return rng.choice(["World", "Ada", "Grace", "Linus", "Émilie", "世界"]) + str(rng.randrange(1000))


MIX = {
    "list": (20, lambda rng: ("POST", headers(), rpc("tools/list")),
             expect_result(lambda r: "ok" if any(t.get("name") == "greet_user" for t in r.get("tools", []))
                           else f"unexpected:tools {r!r}")),
    "call": (35, lambda rng: ("POST", headers(), rpc("tools/call", {"name": "greet_user", "arguments": {"name": name(rng)}})),
             expect_result(tool_ok)),
    "call-2026": (10, lambda rng: ("POST",
                                   headers(version="2026-07-28", extra={"mcp-method": "tools/call", "mcp-name": "greet_user"}),
                                   rpc("tools/call", {"name": "greet_user", "arguments": {"name": name(rng)}, "_meta": META_2026})),
                  expect_result(tool_ok)),
    "initialize": (5, lambda rng: ("POST", headers(), rpc("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "soak", "version": "1"}})),
        expect_result(lambda r: "ok" if r.get("protocolVersion") == "2025-11-25" else f"unexpected:{r!r}")),
    "input-error": (8, lambda rng: ("POST", headers(), rpc("tools/call", {"name": "greet_user", "arguments": {"name": " "}})),
                    expect_result(tool_error("InputError:"))),
    "bad-arguments": (4, lambda rng: ("POST", headers(), rpc("tools/call", {"name": "greet_user", "arguments": {"name": 42, "x": [1]}})),
                      expect_result(tool_error("InputError:"))),
    "unknown-tool": (4, lambda rng: ("POST", headers(), rpc("tools/call", {"name": "no_such_tool", "arguments": {}})),
                     expect_rpc_error(-32602, "unknown-tool")),
    "restricted": (3, lambda rng: ("POST", headers(token=RESTRICTED_TOKEN), rpc("tools/call", {"name": "greet_user", "arguments": {"name": "x"}})),
                   expect_rpc_error(-32602, "hidden-tool")),
    "unknown-method": (3, lambda rng: ("POST", headers(), rpc("no/such/method")),
                       expect_rpc_error(-32601, "method-not-found")),
    "bad-token": (3, lambda rng: ("POST", headers(token="not-the-token-" + str(rng.randrange(1000))), rpc("tools/list")),
                  expect_status(401, "unauthenticated")),
    "no-token": (1, lambda rng: ("POST", headers(token=None), rpc("tools/list")),
                 expect_status(401, "unauthenticated")),
    "not-json": (2, lambda rng: ("POST", headers(), b"{\"jsonrpc\": " + bytes(rng.randrange(256) for _ in range(16))),
                 expect_status_rpc(400, -32700, "parse-error")),
    "bad-version": (1, lambda rng: ("POST", headers(version="1999-01-01"), rpc("tools/list")),
                    expect_status(400, "bad-protocol-version")),
    "get": (1, lambda rng: ("GET", {"authorization": f"Bearer {TOKEN}", "accept": "text/event-stream"}, None),
            expect_status(405, "get-not-allowed")),
}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0
        self.outcomes = collections.Counter()
        self.kinds = collections.Counter()
        self.unexpected_examples = []
        self.latencies = []

    def record(self, kind, outcome, seconds):
        with self.lock:
            self.total += 1
            self.kinds[kind] += 1
            self.outcomes[outcome.split(":", 1)[0] if not outcome.startswith("intended") else outcome] += 1
            if outcome.startswith("unexpected") and len(self.unexpected_examples) < 20:
                self.unexpected_examples.append(f"{kind}: {outcome}")
            self.latencies.append(seconds)

    def snapshot(self):
        with self.lock:
            latencies, self.latencies = self.latencies, []
            return self.total, dict(self.outcomes), latencies


def worker(url, stats, deadline, budget, seed, stop, reuse_after_401):
    rng = random.Random(seed)
    parsed = urllib.parse.urlsplit(url)
    kinds = list(MIX)
    weights = [MIX[k][0] for k in kinds]
    connection = None
    previous = None  # the kind of the last request on this connection, for diagnostics
    served = 0  # requests served on this connection
    while not stop.is_set() and time.monotonic() < deadline:
        with budget["lock"]:
            if budget["left"] <= 0:
                return
            budget["left"] -= 1
        kind = rng.choices(kinds, weights)[0]
        _, build, check = MIX[kind]
        method, request_headers, body = build(rng)
        start = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
                previous, served = None, 0
            connection.request(method, parsed.path, body=body, headers=request_headers)
            response = connection.getresponse()
            response_body = response.read()
            outcome = check(response.status, response.headers, response_body)
            previous, served = kind, served + 1
            # The server may close the connection after a 401 without saying so (it answers before
            # reading the body; see tests/soak/README.md), so reconnect unless told not to.
            closing = response.getheader("connection", "").lower() == "close"
            if closing or (response.status == 401 and not reuse_after_401):
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            outcome = (f"unexpected:{type(error).__name__}: {error} (request {served + 1} on its "
                       f"connection, after a {previous!r} request)")
            if connection is not None:
                connection.close()
            connection = None
        stats.record(kind, outcome, time.monotonic() - start)
    if connection is not None:
        connection.close()


def proc_status(pid):
    figures = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    figures[key] = value.strip()
        figures["fds"] = str(len(os.listdir(f"/proc/{pid}/fd")))
    except OSError as error:
        figures["error"] = str(error)
    return figures


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def spawn(command):
    config = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="soak-", delete=False)
    config.write(CONFIG)
    config.close()
    env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "info"), NO_COLOR="1")
    process = subprocess.Popen(command + ["--config", config.name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env, text=True, errors="replace")
    found = {}
    ready = threading.Event()
    log_lines = collections.Counter()

    def read_logs():
        ansi = re.compile(r"\x1b\[[0-9;]*m")
        for line in process.stderr:
            line = ansi.sub("", line)
            log_lines[("ERROR" if " ERROR " in line else "WARN" if " WARN " in line else "other")] += 1
            if " ERROR " in line and log_lines["ERROR"] <= 5:
                print(f"server log: {line.rstrip()}", flush=True)
            match = re.search(r"serving MCP actions.*?url=(\S+)", line)
            if match and not ready.is_set():
                found["url"] = match.group(1)
                ready.set()
        ready.set()  # the server exited before it was ready

    threading.Thread(target=read_logs, daemon=True).start()
    # Wait for the "serving" log line (a condition, bounded as a hang guard).
    if not ready.wait(120) or "url" not in found:
        process.kill()
        sys.exit(f"the server did not start: exit code {process.poll()}")
    return process, found["url"], config.name, log_lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spawn", nargs="+", metavar="CMD", help="start this server binary (with a generated --config)")
    parser.add_argument("--url", help="the MCP endpoint of a running server")
    parser.add_argument("--token", default=os.environ.get("MCP_TOKEN"), help="its token (default: $MCP_TOKEN)")
    parser.add_argument("--pid", type=int, help="its pid, for the memory figures")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=5_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--report-every", type=float, default=30.0, help="seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse-after-401", action="store_true",
                        help="keep using a connection after a 401 (shows the server closing it unannounced)")
    args = parser.parse_args()

    global TOKEN
    process = config_path = None
    log_lines = collections.Counter()
    if args.spawn:
        process, url, config_path, log_lines = spawn(args.spawn)
        pid = process.pid
    elif args.url and args.token:
        url, pid = args.url, args.pid
        TOKEN = args.token
        for kind in ("restricted",):  # needs the soak config's restricted token
            MIX.pop(kind)
    else:
        parser.error("give --spawn CMD, or --url and --token (and --pid)")

    print(f"soak: {url}, {args.concurrency} clients, {args.minutes} min or {args.max_requests} requests, "
          f"server pid {pid}", flush=True)
    start = time.monotonic()
    deadline = start + args.minutes * 60
    stats = Stats()
    stop = threading.Event()
    budget = {"left": args.max_requests, "lock": threading.Lock()}
    threads = [threading.Thread(target=worker, args=(url, stats, deadline, budget, args.seed + i, stop, args.reuse_after_401), daemon=True)
               for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    rss = []
    last_total = 0
    last_time = start

    def report(final=False):
        nonlocal last_total, last_time
        now = time.monotonic()
        total, outcomes, latencies = stats.snapshot()
        figures = proc_status(pid) if pid else {}
        if "VmRSS" in figures:
            rss.append(int(figures["VmRSS"].split()[0]))
        rate = (total - last_total) / max(now - last_time, 1e-9)
        last_total, last_time = total, now
        intended = sum(v for k, v in outcomes.items() if k.startswith("intended"))
        print(f"{'final' if final else 't=%4.0fs' % (now - start)}: requests {total} ({rate:.0f}/s), "
              f"ok {outcomes.get('ok', 0)}, intended errors {intended}, unexpected {outcomes.get('unexpected', 0)}, "
              f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
              + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)

    try:
        while any(t.is_alive() for t in threads):
            # Wake at the next report time, or as soon as the workers are done.
            next_report = last_time + args.report_every
            for thread in threads:
                thread.join(max(0.0, next_report - time.monotonic()))
            if time.monotonic() >= next_report:
                report()
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join(120)
    report(final=True)
    total, outcomes, _ = stats.snapshot()
    print("outcomes:", json.dumps(dict(sorted(outcomes.items())), ensure_ascii=False))
    print("requests by kind:", json.dumps(dict(sorted(stats.kinds.items()))))
    if stats.unexpected_examples:
        print("unexpected (first 20):")
        for example in stats.unexpected_examples:
            print("  ", example)
    if len(rss) >= 3:
        first, peak, last = rss[1], max(rss[1:]), rss[-1]  # skip the warm-up sample
        print(f"RSS after warm-up {first} kB, peak {peak} kB, last {last} kB ({(last - first) / first * 100:+.1f}%)")
    failed = outcomes.get("unexpected", 0) > 0
    if process is not None:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            code = "killed after 60 s"
        print(f"server exit after SIGTERM: {code}; server log lines: {dict(log_lines)}")
        failed |= code != 0 or log_lines.get("ERROR", 0) > 0
        os.unlink(config_path)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
