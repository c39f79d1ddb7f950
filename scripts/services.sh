#!/usr/bin/env bash
# Makes sure the servers the tests talk to are up: PostgreSQL on 127.0.0.1:5432
# (unless TEST_POSTGRES_URL names another) and Redis at TEST_REDIS_URL (default
# redis://127.0.0.1:6379). Starts a local one that is down when this machine has
# it installed and the URL points at this machine; otherwise fails loudly.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() { # name host port
    for _ in $(seq 1 60); do
        port_open "$2" "$3" && return 0
        sleep 0.5
    done
    echo "error: $1 is not reachable on $2:$3" >&2
    return 1
}

ensure_postgres() {
    port_open 127.0.0.1 5432 && return 0
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        echo "starting PostgreSQL…"
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
    else
        echo "error: PostgreSQL is not running on 127.0.0.1:5432 and cannot be started here." >&2
        echo "       Start one (e.g. docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16)" >&2
        echo "       or point TEST_POSTGRES_URL at one." >&2
        return 1
    fi
    wait_for PostgreSQL 127.0.0.1 5432
}

# Host and port of a redis:// URL (user, password and database left out).
redis_address() { # url -> "host port"
    local rest=${1#*://}
    rest=${rest##*@}
    rest=${rest%%/*}
    local host=${rest%:*} port=6379
    [ "$host" != "$rest" ] && port=${rest##*:}
    echo "${host:-127.0.0.1} $port"
}

is_local() { [ "$1" = 127.0.0.1 ] || [ "$1" = localhost ]; }

ensure_redis() {
    local url=${TEST_REDIS_URL:-redis://127.0.0.1:6379} host port
    read -r host port <<<"$(redis_address "$url")"
    port_open "$host" "$port" && return 0
    if ! is_local "$host"; then
        echo "error: Redis is not reachable at $host:$port (TEST_REDIS_URL)." >&2
        return 1
    fi
    if command -v redis-server >/dev/null 2>&1; then
        echo "starting Redis on port $port…"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no
    else
        echo "error: Redis is not running on $host:$port and redis-server is not installed." >&2
        echo "       Install it (Debian: apt install redis-server) or point TEST_REDIS_URL at one." >&2
        return 1
    fi
    wait_for Redis 127.0.0.1 "$port"
}

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    echo "using TEST_POSTGRES_URL for PostgreSQL tests"
else
    ensure_postgres
fi
if [ -n "${TEST_REDIS_URL:-}" ]; then
    echo "using TEST_REDIS_URL for Redis tests"
fi
ensure_redis
