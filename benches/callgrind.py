#!/usr/bin/env python3
"""Instruction counts per tools/call under callgrind: stable on a busy machine, where wall-clock
figures are not. Needs the release binaries of benches/run.sh (or `cargo build --release` in
benches/) and valgrind (`apt-get install -y valgrind`).

    python3 benches/callgrind.py [--requests N] [--servers mcp-actions,rmcp,raw-axum] [--top K]

bench.py uses `measure()` for its "instructions" section.

For each server: start it under `valgrind --tool=callgrind`, send warm-up requests, zero the
counters, send N sequential tools/call requests on one keep-alive
connection (each with its own JSON-RPC id), dump, and report instructions per request
plus the functions with the largest inclusive cost per request. Output files are kept in
benches/results/callgrind.*.out for `callgrind_annotate`.
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SERVERS = {
    "mcp-actions": (["greet-user"], {"RUST_LOG": "warn"}, "config"),
    "mcp-actions-log-info": (["greet-user"], {}, "config"),
    "mcp-actions-via-rmcp": (["greet-user-via-rmcp"], {"RUST_LOG": "warn"}, "config"),
    "rmcp": (["rmcp-server"], {}, "arg"),
    "raw-axum": (["axum-raw"], {}, "arg"),
}
for _n in (100, 1000, 5000):
    SERVERS[f"actions-{_n}"] = ([f"gen-actions-{_n}"], {"RUST_LOG": "warn"}, "config")


def control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)


def requests(port, n, method="call", revision="2025-11-25"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    template, headers = bench.wire(revision, bench.CALL if method == "call" else bench.LIST)
    for i in range(n):
        body = dict(template, id=1000 + i)
        conn.request("POST", bench.PATH, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}: {data[:200]!r}")
    conn.close()


def measure(name, n, method="call", revision="2025-11-25"):
    """Instructions per request of server `name` over `n` requests, and the functions with the
    largest inclusive cost per request: [(instructions, function), ...]."""
    binary, env, port_mode = SERVERS[name]
    out = os.path.join(bench.RESULTS, f"callgrind.{name}.{method}.{revision}.out")
    os.makedirs(bench.RESULTS, exist_ok=True)
    for stale in os.listdir(bench.RESULTS):
        if stale.startswith(os.path.basename(out)):
            os.remove(os.path.join(bench.RESULTS, stale))
    port = bench.free_port()
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            os.path.join(bench.RELEASE, *binary)]
    if port_mode == "config":
        argv = bench.port_after_config(bench.RESULTS)(argv, port)
    else:
        argv = argv + [str(port)]
    full_env = dict(os.environ, MCP_TOKEN=bench.TOKEN)
    full_env.pop("RUST_LOG", None)
    full_env.update(env)
    log = open(os.path.join(bench.RESULTS, f"callgrind.{name}.log"), "w")
    proc = subprocess.Popen(argv, env=full_env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                requests(port, 1, method, revision)
                break
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{name} did not start under valgrind")
                time.sleep(0.2)
        requests(port, 50, method, revision)  # warm-up: lazy statics, allocator pools
        control(proc.pid, "--zero")
        requests(port, n, method, revision)
        control(proc.pid, "--dump")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # callgrind_control --dump writes out.1 (the dump) next to the final file
    dumps = sorted(f for f in os.listdir(bench.RESULTS) if f.startswith(os.path.basename(out) + "."))
    dump = os.path.join(bench.RESULTS, dumps[-1]) if dumps else out
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"--threshold=100", dump],
                         capture_output=True, text=True, check=True).stdout
    total = None
    rows = []
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)", line)
        if m and total:
            rows.append((int(m.group(1).replace(",", "")), m.group(3)))
    return total / n, [(ir / n, fn) for ir, fn in rows]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--servers", default="mcp-actions,rmcp,raw-axum",
                   help="any of: " + ",".join(SERVERS))
    p.add_argument("--method", default="call", choices=["call", "list"])
    p.add_argument("--revision", default="2025-11-25", choices=["2025-11-25", bench.V2026],
                   help="the protocol revision the requests speak")
    p.add_argument("--top", type=int, default=40)
    args = p.parse_args()
    results = {}
    for name in args.servers.split(","):
        per_request, rows = measure(name, args.requests, args.method, args.revision)
        print(f"== {name} ({args.method}, {args.revision}): {per_request:,.0f} instructions per request ({args.requests} requests)")
        for ir, fn in rows[:args.top]:
            fn = re.sub(r"^\S+:", "", fn, count=1) if fn.startswith("/") else fn
            print(f"   {ir:>10,.0f}  {fn[:150]}")
        results[name] = per_request
    if "rmcp" in results:
        for name, ir in results.items():
            print(f"{name}: {ir:,.0f} instr/request = {ir / results['rmcp']:.2f}× rmcp")


if __name__ == "__main__":
    main()
