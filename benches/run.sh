#!/usr/bin/env bash
# The benchmark suite: mcp-actions vs plain rmcp vs a raw axum handler vs the official TypeScript
# SDK, in one run on this machine. Prints tables with absolute figures and ratios (also written to
# benches/results/results.md and results.json).
#
#   benches/run.sh                 # everything: about 12 min on 2 cores from a cold target dir, 7 warm
#   benches/run.sh --quick         # 1 s load runs, one round: a quick run of every section
#   benches/run.sh --smoke         # only: each Rust server builds (debug), starts and answers (CI)
#   benches/run.sh --only servers  # sections: servers,jwt,startup,scaling,instructions,compile,backstage
#   benches/run.sh --help          # every option
#   BENCH_BIN_DIR=dir benches/run.sh --only backstage   # measure the release binaries in dir, build none
#
# It installs what it needs (wrk and valgrind from Debian, the TS server's npm packages with
# `npm ci`, and for the backstage section the real Backstage backend of tests/backstage as .ci/run
# does), builds every Rust server in release mode in its own workspace (benches/Cargo.toml,
# target dir benches/target), then runs benches/bench.py. Servers bind 127.0.0.1 only and are
# stopped by PID.
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-}" in -h|--help) exec python3 bench.py --help ;; esac

if [ "${1:-}" = "--smoke" ]; then
    # CI's check that the harness and the comparison servers still build and answer: debug
    # builds in the root workspace's target dir (its dependencies are already built there), no
    # wrk, valgrind or npm, nothing measured.
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}"
    python3 gen_crates.py >&2  # the workspace lists them; only the four servers below are built
    echo "== cargo build (bench servers, debug)" >&2
    cargo build --quiet -p greet-user-bench -p greet-user-via-rmcp -p rmcp-server -p axum-raw
    cargo build --quiet -p greet-user-http-only  # alone: without the others' server features
    BENCH_BIN_DIR="$CARGO_TARGET_DIR/debug" exec python3 bench.py --smoke
fi

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (apt)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
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

# The backstage section (in the default sections, or named by --only) runs the Backstage backend
# of tests/backstage (~380 MB of npm packages, 2-8 min): installed as .ci/run does, when missing.
only="servers,jwt,startup,scaling,instructions,compile,backstage"
prev=""
for arg in "$@"; do
    case "$arg" in --only=*) only="${arg#--only=}" ;; esac
    if [ "$prev" = "--only" ]; then only="$arg"; fi
    prev="$arg"
done
case ",$only," in
    *,backstage,*)
        if [ ! -f ../tests/backstage/node_modules/@backstage/backend-defaults/package.json ]; then
            echo "== npm ci (tests/backstage: the real Backstage backend; better-sqlite3 from source)" >&2
            node_prefix="$(dirname "$(dirname "$(command -v node)")")"
            npm_config_build_from_source=true npm_config_nodedir="$node_prefix" \
                npm ci --prefix ../tests/backstage --no-audit --no-fund
        fi
        ;;
esac

if [ -n "${BENCH_BIN_DIR:-}" ]; then
    # bench.py measures the binaries there (the compile section still builds its own crates).
    echo "== no build: the release binaries of $BENCH_BIN_DIR" >&2
    python3 gen_crates.py >&2
    exec python3 bench.py "$@"
fi

echo "== generating the N-action and compile-time crates" >&2
python3 gen_crates.py >&2

echo "== cargo build --release (bench workspace)" >&2
start=$(date +%s.%N)
cargo build --release --workspace --exclude compile-actions-200 --exclude compile-rmcp-200 --exclude compile-deps
# Again alone, so that the HTTP-only binary has only its own features of the server crate (one
# cargo call unifies the features of every package it builds).
cargo build --release -p greet-user-http-only
end=$(date +%s.%N)
build_s=$(python3 -c "print($end - $start)")

exec python3 bench.py --build-seconds "$build_s" "$@"
