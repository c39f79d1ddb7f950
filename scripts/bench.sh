#!/usr/bin/env bash
# Reproduces docs/benchmarks.md: builds the server and the load tool in
# release, runs the idle and load scenarios against the server on SQLite and
# then on PostgreSQL, then the criterion micro-benchmarks. Raw JSON reports
# and logs go to target/bench/<scale>-<time>/.
#
#   scripts/bench.sh            # the full report (about 25 minutes)
#   scripts/bench.sh smoke      # a small run proving the tools work (about 3 minutes)
#
# Every server and load generator listens on / talks to loopback only, and
# every step is bounded by `timeout`. Run it on a quiet machine: the server
# and the load generator share the cores, and anything else running skews
# the tail latencies (the report records the load average at each start).
#
# Environment:
#   BENCH_SKIP_BUILD=1       use the binaries already built
#   BENCH_SKIP_POSTGRES=1    SQLite only
#   BENCH_SKIP_CRITERION=1   no micro-benchmarks
#   BENCH_RUNS=3             repetitions of each latency scenario (quote medians)
#   BENCH_PORT=28080         first of the four loopback ports the servers use
#   BENCH_POSTGRES_URL       admin URL used to (re)create the bench database
#                            (default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${1:-full}
case "$SCALE" in
smoke | full) ;;
*)
    echo "usage: $0 [smoke|full]" >&2
    exit 2
    ;;
esac

TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release
OUT=target/bench/$SCALE-$(date +%Y%m%d-%H%M%S)
RUNS=${BENCH_RUNS:-3}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BENCH_DB=notification_bench
# Loopback ports FIRST_PORT (one node) and FIRST_PORT + 1 … + 3 (three nodes).
FIRST_PORT=${BENCH_PORT:-28080}
# A fresh secret per run; the server and the load tool get the same one.
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export JWT_SECRET

# Both the server and the load tool hold one descriptor per socket; the
# hard limit (20,000 here) cannot be raised, only reached.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$OUT/db"
echo "writing to $OUT"
{
    echo "date: $(date -Is)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "kernel: $(uname -r)"
    echo "cores: $(nproc)"
    grep -m1 'model name' /proc/cpuinfo || true
    grep MemTotal /proc/meminfo || true
    echo "open files: soft $(ulimit -Sn), hard $(ulimit -Hn)"
    echo "load average: $(cat /proc/loadavg)"
} >"$OUT/machine.txt"

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    timeout 3600 cargo build --release -p notification-bench -p notification-api
fi

SERVER_PIDS=()

start_server() { # name database-url port
    local name=$1 database=$2 port=$3
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "error: port $port is taken; set BENCH_PORT to a free range" >&2
        return 1
    fi
    BIND_ADDR="127.0.0.1:$port" DATABASE_URL="$database" RUST_LOG=warn \
        "$BIN/notification-api" serve >"$OUT/server-$name.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            SERVER_PIDS+=("$pid")
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "error: server $name did not start; see $OUT/server-$name.log" >&2
    kill "$pid" 2>/dev/null || true
    return 1
}

stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${SERVER_PIDS[@]}"; do
        # SHUTDOWN_TIMEOUT is 10 s; past 20 s the process is stuck.
        timeout 20 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
}
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

pids_args() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        printf -- '--server-pid %s ' "$pid"
    done
}

fresh_postgres() {
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $PG_BENCH_DB WITH (FORCE)" \
        -c "CREATE DATABASE $PG_BENCH_DB"
    echo "${PG_ADMIN_URL%/*}/$PG_BENCH_DB"
}

if [ "$SCALE" = smoke ]; then
    IDLE_SOCKETS=1000
    IDLE_HOLD=0
    LOAD_USERS=1000
    LOAD_RATE=500
    LOAD_SECONDS=10
    STEP_RATES=()
    MULTI_NODE_SOCKETS=0
    RUNS=1
else
    IDLE_SOCKETS=19000
    # Past WS_PING_INTERVAL (54 s): the memory after the first ping/pong.
    IDLE_HOLD=60
    LOAD_USERS=10000
    LOAD_RATE=2000
    LOAD_SECONDS=30
    STEP_RATES=(1000 1500 3000 4000 5000 8000 10000)
    MULTI_NODE_SOCKETS=50000
fi

# --- SQLite ------------------------------------------------------------------
start_server sqlite "sqlite://$OUT/db/sqlite.db" "$FIRST_PORT"
URL=http://127.0.0.1:$FIRST_PORT
# shellcheck disable=SC2046 # one word per flag
bench idle-sqlite-$IDLE_SOCKETS 900 idle --url "$URL" $(pids_args) \
    --users "$IDLE_SOCKETS" --devices 1 --hold "$IDLE_HOLD"
for run in $(seq 1 "$RUNS"); do
    # shellcheck disable=SC2046
    bench "load-sqlite-$LOAD_USERS-at-$LOAD_RATE-run$run" 600 load --url "$URL" $(pids_args) \
        --users "$LOAD_USERS" --devices 1 --rate "$LOAD_RATE" --duration "$LOAD_SECONDS"
done
for rate in "${STEP_RATES[@]}"; do
    # shellcheck disable=SC2046
    bench "max-rate-sqlite-at-$rate" 600 load --url "$URL" $(pids_args) \
        --users "$LOAD_USERS" --devices 1 --rate "$rate" --duration 15
done
stop_servers

# 50,000 idle sockets: more than one server process can hold (20,000 open
# files each), so three nodes with a third each, and three load processes.
if [ "$MULTI_NODE_SOCKETS" -gt 0 ]; then
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
fi

# --- PostgreSQL --------------------------------------------------------------
if [ -z "${BENCH_SKIP_POSTGRES:-}" ]; then
    scripts/services.sh >/dev/null
    PG_URL=$(fresh_postgres)
    start_server postgres "$PG_URL" "$FIRST_PORT"
    for run in $(seq 1 "$RUNS"); do
        # shellcheck disable=SC2046
        bench "load-postgres-$LOAD_USERS-at-$LOAD_RATE-run$run" 600 load --url "$URL" $(pids_args) \
            --users "$LOAD_USERS" --devices 1 --rate "$LOAD_RATE" --duration "$LOAD_SECONDS"
    done
    for rate in "${STEP_RATES[@]}"; do
        # shellcheck disable=SC2046
        bench "max-rate-postgres-at-$rate" 600 load --url "$URL" $(pids_args) \
            --users "$LOAD_USERS" --devices 1 --rate "$rate" --duration 15
    done
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
    if [ -d "$TARGET/criterion" ]; then
        cp -r "$TARGET/criterion" "$OUT/criterion"
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
