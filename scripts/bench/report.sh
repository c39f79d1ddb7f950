#!/usr/bin/env bash
# The lab-notebook report (docs/benchmarks/report-*.md): idle sockets and
# memory per socket, 10,000 users at 2,000/s, the rate steps, 50,000 sockets
# over three nodes, then the criterion micro-benchmarks, on SQLite and then
# on PostgreSQL. Server and load tool share both cores (not pinned): use
# `scripts/bench.sh pinned` to compare versions. About 25 minutes.
#
# Environment: BENCH_SKIP_BUILD, BENCH_SKIP_POSTGRES, BENCH_SKIP_CRITERION,
# BENCH_RUNS (3), BENCH_PORT (28080), BENCH_POSTGRES_URL; see scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

RUNS=${BENCH_RUNS:-3}
# Loopback ports FIRST_PORT (one node) and FIRST_PORT + 1 … + 3 (three nodes).
FIRST_PORT=${BENCH_PORT:-28080}

make_output full
build_release
trap stop_servers EXIT

# One run of the load tool, bounded; its JSON report goes to $OUT/<name>.json.
bench() { # name seconds-limit scenario args…
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    # A failed scenario is reported and the others still run.
    if ! timeout "$limit" "$BIN/notification-bench" "$@" --output "$OUT/$name.json" |
        tee "$OUT/$name.txt"; then
        echo "warning: $name failed; see above" | tee -a "$OUT/failures.txt" >&2
    fi
}

IDLE_SOCKETS=19000
# Past WS_PING_INTERVAL (54 s): the memory after the first ping/pong.
IDLE_HOLD=60
LOAD_USERS=10000
LOAD_RATE=2000
LOAD_SECONDS=30
STEP_RATES=(1000 1500 3000 4000 5000 8000 10000)
MULTI_NODE_SOCKETS=50000

# The load runs at LOAD_RATE, then the rate steps, against the server at $URL.
load_and_steps() {
    local db=$1 run rate
    for run in $(seq 1 "$RUNS"); do
        # shellcheck disable=SC2046 # one word per flag
        bench "load-$db-$LOAD_USERS-at-$LOAD_RATE-run$run" 600 load --url "$URL" $(pids_args) \
            --users "$LOAD_USERS" --devices 1 --rate "$LOAD_RATE" --duration "$LOAD_SECONDS"
    done
    for rate in "${STEP_RATES[@]}"; do
        # shellcheck disable=SC2046
        bench "max-rate-$db-at-$rate" 600 load --url "$URL" $(pids_args) \
            --users "$LOAD_USERS" --devices 1 --rate "$rate" --duration 15
    done
}

# --- SQLite ------------------------------------------------------------------
start_server sqlite "sqlite://$OUT/db/sqlite.db" "$FIRST_PORT"
URL=http://127.0.0.1:$FIRST_PORT
# shellcheck disable=SC2046 # one word per flag
bench idle-sqlite-$IDLE_SOCKETS 900 idle --url "$URL" $(pids_args) \
    --users "$IDLE_SOCKETS" --devices 1 --hold "$IDLE_HOLD"
load_and_steps sqlite
stop_servers

# 50,000 idle sockets: more than one server process can hold (20,000 open
# files each), so three nodes with a third each, and three load processes.
NODE_ARGS=()
for node in 0 1 2; do
    port=$((FIRST_PORT + 1 + node))
    start_server "sqlite-node$node" "sqlite://$OUT/db/node$node.db" "$port"
    NODE_ARGS+=(--url "http://127.0.0.1:$port")
done
# shellcheck disable=SC2046
bench idle-3-nodes-$MULTI_NODE_SOCKETS 900 idle "${NODE_ARGS[@]}" $(pids_args) \
    --users "$MULTI_NODE_SOCKETS" --devices 1 --processes 3
stop_servers

# --- PostgreSQL --------------------------------------------------------------
if [ -z "${BENCH_SKIP_POSTGRES:-}" ]; then
    scripts/services.sh >/dev/null
    PG_URL=$(fresh_postgres)
    start_server postgres "$PG_URL" "$FIRST_PORT"
    load_and_steps postgres
    stop_servers
fi

# --- Micro-benchmarks --------------------------------------------------------
if [ -z "${BENCH_SKIP_CRITERION:-}" ]; then
    for target in "notification-infrastructure hub_fanout" \
        "notification-protocol encode" \
        "notification-presentation jwt_verify" \
        "notification-infrastructure sqlite_insert"; do
        set -- $target
        echo "== criterion $2"
        timeout 1800 cargo bench -p "$1" --bench "$2" 2>&1 | tee "$OUT/criterion-$2.txt"
    done
    # Criterion's own JSON estimates, next to the load reports.
    if [ -d "$TARGET_DIR/criterion" ]; then
        cp -r "$TARGET_DIR/criterion" "$OUT/criterion"
    fi
fi

# --- One line per load report ------------------------------------------------
if command -v jq >/dev/null 2>&1; then
    echo
    printf '%-40s %8s %10s %9s %9s %9s %8s\n' report creates/s delivered p50_ms p99_ms p99.9_ms missing
    for file in "$OUT"/load-*.json "$OUT"/max-rate-*.json; do
        [ -e "$file" ] || continue
        jq -r --arg name "$(basename "$file" .json)" \
            '[$name, (.load.creates_per_sec|floor), .load.delivered, .load.latency.p50_ms, .load.latency.p99_ms, .load.latency.p999_ms, .load.missing] | @tsv' \
            "$file" | awk -F'\t' '{ printf "%-40s %8s %10s %9.2f %9.2f %9.2f %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
    done | tee "$OUT/summary.txt"
    for file in "$OUT"/idle-*.json; do
        [ -e "$file" ] || continue
        jq -r --arg name "$(basename "$file" .json)" \
            'def kib: if . == null then "-" else "\(. / 1024 * 100 | floor / 100) KiB" end;
             "\($name): \(.connect.opened) sockets; per socket: \(.server.rss_per_socket_bytes | kib) connected, \(.server.rss_per_socket_at_end_bytes | kib) at the end"' \
            "$file"
    done | tee -a "$OUT/summary.txt"
fi
echo "reports in $OUT"
