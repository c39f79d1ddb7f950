# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): the output folder,
# the machine description, building, starting and stopping servers, and a
# fresh PostgreSQL database. Every server listens on loopback only, and
# every step is bounded by `timeout`.

TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BENCH_DB=notification_bench
# A fresh secret per series; every server and the load tool get the same one.
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export JWT_SECRET

# Both the servers and the load tool hold one descriptor per socket; the
# hard limit (20,000 here) cannot be raised, only reached.
ulimit -n "$(ulimit -Hn)"

SERVER_PIDS=()

# Creates $OUT (target/bench/<name>-<time>) and describes the machine in it.
make_output() { # name
    OUT=target/bench/$1-$(date +%Y%m%d-%H%M%S)
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
}

build_release() {
    if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
        timeout 3600 cargo build --release -p notification-bench -p notification-api
    fi
}

port_taken() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits until `pid` listens on `port`; on failure kills it and points at `log`.
await_listening() { # name pid port log
    local name=$1 pid=$2 port=$3 log=$4
    for _ in $(seq 1 150); do
        if port_taken "$port"; then
            SERVER_PIDS+=("$pid")
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "error: server $name did not start; see $log" >&2
    kill "$pid" 2>/dev/null || true
    return 1
}

# Starts the notification server `binary` (prefixed by `pin`, e.g.
# `taskset -c 0`, or nothing) on `port` with `database`.
start_server() { # name database-url port [binary [pin…]]
    local name=$1 database=$2 port=$3 binary=${4:-$BIN/notification-api}
    shift $(($# < 4 ? $# : 4))
    if port_taken "$port"; then
        echo "error: port $port is taken; set BENCH_PORT to a free range" >&2
        return 1
    fi
    BIND_ADDR="127.0.0.1:$port" DATABASE_URL="$database" RUST_LOG=warn \
        "$@" "$binary" serve >"$OUT/server-$name.log" 2>&1 &
    await_listening "$name" $! "$port" "$OUT/server-$name.log"
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

pids_args() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        printf -- '--server-pid %s ' "$pid"
    done
}

# Drops and recreates the bench database; prints its URL. Plain TCP: the
# server speaks TLS when the database offers it (sslmode=prefer, the default),
# and a handshake and encryption on loopback would shift the figures against
# those measured before TLS existed.
fresh_postgres() {
    PGOPTIONS="-c client_min_messages=warning" psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $PG_BENCH_DB WITH (FORCE)" \
        -c "CREATE DATABASE $PG_BENCH_DB"
    local admin=${PG_ADMIN_URL%%\?*}
    echo "${admin%/*}/$PG_BENCH_DB?sslmode=disable"
}
