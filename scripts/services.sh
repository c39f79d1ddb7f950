#!/usr/bin/env bash
# Makes sure the servers the tests talk to are up: PostgreSQL on 127.0.0.1:5432
# (or TEST_POSTGRES_URL's host) and Redis on 127.0.0.1:6379. Starts a local one
# that is down when this machine has it installed; otherwise fails loudly.
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

ensure_redis() {
    port_open 127.0.0.1 6379 && return 0
    if command -v redis-server >/dev/null 2>&1; then
        echo "starting Redis…"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    else
        echo "error: Redis is not running on 127.0.0.1:6379 and redis-server is not installed." >&2
        return 1
    fi
    wait_for Redis 127.0.0.1 6379
}

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    echo "using TEST_POSTGRES_URL for PostgreSQL tests"
else
    ensure_postgres
fi
ensure_redis
