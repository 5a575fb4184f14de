#!/usr/bin/env bash
# The benchmark suite: mcp-actions vs plain rmcp vs a raw axum handler vs the official TypeScript
# SDK, in one run on this machine. Prints tables with absolute figures and ratios (also written to
# benches/results/results.md and results.json).
#
#   benches/run.sh                 # everything (about 10-15 min on 2 cores from a cold cache)
#   benches/run.sh --quick         # 2 s load runs, fewer repetitions: a smoke test
#   benches/run.sh --only servers  # sections: servers,startup,scaling,compile
#   benches/run.sh --compile-profiles release   # skip the debug-profile compile timings
#
# It installs what it needs (wrk from Debian, the TS server's npm packages with `npm ci`), builds
# every Rust server in release mode in its own workspace (benches/Cargo.toml, target dir
# benches/target), then runs benches/bench.py. Servers bind 127.0.0.1 only and are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (apt)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "Node >= 20 is needed for the TypeScript SDK server (found $(node --version))" >&2
    exit 1
fi
if [ ! -d ts-server/node_modules/@modelcontextprotocol/sdk ] || \
   [ ts-server/package-lock.json -nt ts-server/node_modules/.package-lock.json ]; then
    echo "== npm ci (ts-server)" >&2
    (cd ts-server && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== generating the N-action and compile-time crates" >&2
python3 gen_crates.py >&2

echo "== cargo build --release (bench workspace)" >&2
start=$(date +%s.%N)
cargo build --release --workspace --exclude compile-actions-200 --exclude compile-rmcp-200
end=$(date +%s.%N)
build_s=$(python3 -c "print($end - $start)")

exec python3 bench.py --build-seconds "$build_s" "$@"
