#!/usr/bin/env bash
# The pinned benchmark (docs/benchmarks/pinned-benchmark.md): the server on
# core 0, the load tool on core 1, a fresh server and a fresh database for
# every run, three runs of each scenario, and the medians in one table.
#
#   S1  10,000 users x 1 socket, 20,000 creates at 2,000/s
#   S2   1,000 users x 4 sockets, 20,000 creates at 5,000/s
#
# Usage: pinned.sh pinned|smoke [sqlite|postgres|nchan|all]   (see scripts/bench.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

MODE=$1
WHICH=${2:-all}
case "$WHICH" in
sqlite | postgres | nchan) TARGETS=("$WHICH") ;;
all) TARGETS=(sqlite postgres nchan) ;;
*)
    echo "usage: scripts/bench.sh $MODE [sqlite|postgres|nchan|all]" >&2
    exit 2
    ;;
esac

PORT=${BENCH_PORT:-28080}
SERVER_CORE=0
LOAD_CORE=1
# name users devices rate seconds, per scenario.
if [ "$MODE" = smoke ]; then
    RUNS=${BENCH_RUNS:-1}
    SCENARIOS=("S1 200 1 200 2" "S2 50 4 500 1")
    SETTLE=0.5
else
    RUNS=${BENCH_RUNS:-3}
    SCENARIOS=("S1 10000 1 2000 10" "S2 1000 4 5000 4")
    SETTLE=2
fi

make_output "$MODE"
build_release

# The binaries are copied first, so a build during the series changes nothing.
mkdir -p "$OUT/bin"
cp "$BIN/notification-bench" "$OUT/bin/"
LOAD_TOOL=$OUT/bin/notification-bench
# SERVER_BINS="before=path after=path" compares server binaries in one
# series, run by run in turn; by default the one just built.
LABELS=()
for entry in ${SERVER_BINS:-"=$BIN/notification-api"}; do
    label=${entry%%=*}
    path=${entry#*=}
    if [ ! -x "$path" ]; then
        echo "error: server binary $path (SERVER_BINS) is not executable" >&2
        exit 2
    fi
    cp "$path" "$OUT/bin/server${label:+-$label}"
    LABELS+=("$label")
    echo "server${label:+ $label}: $path ($(sha256sum "$path" | cut -c1-12))" >>"$OUT/machine.txt"
done

NGINX_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
if [[ " ${TARGETS[*]} " == *" nchan "* ]] && ! { command -v nginx >/dev/null && [ -f "$NGINX_MODULE" ]; }; then
    echo "nchan: not installed (apt-get install nginx-light libnginx-mod-nchan); skipped" | tee -a "$OUT/machine.txt"
    mapfile -t TARGETS < <(printf '%s\n' "${TARGETS[@]}" | grep -vx nchan)
fi
if [[ " ${TARGETS[*]} " == *" postgres "* ]]; then
    scripts/services.sh >/dev/null
fi
trap stop_servers EXIT

# nginx with nchan, one worker process (no master) so its pid is the server's.
# Stopped that way it aborts at exit (bash reports "Aborted"): the run is over
# by then and its figures are already written.
start_nchan() { # name
    local dir=$PWD/$OUT/nginx
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $(ulimit -Hn);
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 19500; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT;
        location = /healthz { return 200 "ok\n"; }
        location ~ ^/pub/([^/]+)\$ {
            nchan_publisher;
            nchan_channel_id \$1;
        }
        location ~ ^/ws/([^/]+)\$ {
            nchan_subscriber websocket;
            nchan_channel_id \$1;
        }
    }
}
CONF
    taskset -c "$SERVER_CORE" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$OUT/server-$1.log" 2>&1 &
    await_listening "$1" $! "$PORT" "$OUT/server-$1.log"
}

# One run: a fresh server (and database), the load tool, the server stopped.
run_once() { # target label scenario run
    local target=$1 label=$2 scenario=$3 run=$4
    local name users devices rate seconds
    read -r name users devices rate seconds <<<"$scenario"
    local server=$target${label:+-$label}
    local report=$name.$server.run$run
    local binary=$OUT/bin/server${label:+-$label}
    echo "== $report"
    case "$target" in
    sqlite) start_server "$report" "sqlite://$OUT/db/$report.db" "$PORT" "$binary" taskset -c "$SERVER_CORE" ;;
    postgres) start_server "$report" "$(fresh_postgres)" "$PORT" "$binary" taskset -c "$SERVER_CORE" ;;
    nchan) start_nchan "$report" ;;
    esac
    local kind=service
    [ "$target" = nchan ] && kind=nchan
    # A failed run is reported and the others still run; the table counts runs.
    # shellcheck disable=SC2046 # one word per flag
    if ! timeout 300 taskset -c "$LOAD_CORE" "$LOAD_TOOL" load --target "$kind" \
        --url "http://127.0.0.1:$PORT" $(pids_args) --settle "$SETTLE" \
        --users "$users" --devices "$devices" --rate "$rate" --duration "$seconds" \
        --output "$OUT/$report.json" >"$OUT/$report.txt" 2>"$OUT/$report.log"; then
        echo "warning: $report failed; see $OUT/$report.log" | tee -a "$OUT/failures.txt" >&2
        rm -f "$OUT/$report.json"
    fi
    grep -E '^(publish|delivery|latency) ' "$OUT/$report.txt" || true
    stop_servers
}

STARTED=$(date +%s)
for target in "${TARGETS[@]}"; do
    for scenario in "${SCENARIOS[@]}"; do
        for run in $(seq 1 "$RUNS"); do
            if [ "$target" = nchan ]; then
                run_once nchan "" "$scenario" "$run"
                continue
            fi
            # Interleaved: run k of every binary before run k + 1 of any.
            for label in "${LABELS[@]}"; do
                run_once "$target" "$label" "$scenario" "$run"
            done
        done
    done
done
echo "series took $(($(date +%s) - STARTED)) s" | tee -a "$OUT/machine.txt"

echo
"$LOAD_TOOL" table "$OUT" --output "$OUT/table.md"
echo "table in $OUT/table.md"
