#!/usr/bin/env bash
# Benchmarks of the notification service (docs/benchmarks.md). Builds the
# server and the load tool in release (BENCH_SKIP_BUILD=1: use those built),
# then runs one of:
#
#   scripts/bench.sh pinned [sqlite|postgres|nchan|all]
#       The pinned benchmark: scenarios S1 and S2, server on core 0, load
#       tool on core 1, a fresh server and database per run, three runs,
#       medians in target/bench/pinned-<time>/table.md. `all` (18 runs)
#       takes about 4 minutes after the build. Run it on a quiet machine.
#   scripts/bench.sh smoke [sqlite|postgres|nchan|all]
#       The same steps at a tiny scale (under a minute): proves the tools work.
#   scripts/bench.sh full
#       The lab-notebook report of docs/benchmarks/ (memory per socket, rate
#       steps, 50,000 sockets, micro-benchmarks; about 25 minutes).
#
# Environment:
#   SERVER_BINS="before=path after=path"   pinned/smoke: compare server
#                            binaries in one series (runs interleaved)
#   BENCH_RUNS               runs per scenario (pinned 3, smoke 1)
#   BENCH_PORT=28080         the loopback port (full: the first of four)
#   BENCH_POSTGRES_URL       admin URL used to (re)create the bench database
#                            (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_SKIP_BUILD=1       use the binaries already built
#   BENCH_SKIP_POSTGRES=1, BENCH_SKIP_CRITERION=1   full: leave those out
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-}" in
pinned | smoke) exec bench/pinned.sh "$@" ;;
full) exec bench/report.sh ;;
*)
    echo "usage: $0 pinned|smoke [sqlite|postgres|nchan|all] | full" >&2
    exit 2
    ;;
esac
