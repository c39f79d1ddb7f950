#!/usr/bin/env bash
# The one test command: every test of the workspace, PostgreSQL ones included,
# then the vendored patches' own tests and the browser client's tests (Node,
# and the inbox page in headless Chromium).
# Starts PostgreSQL and Redis when they are not running (see services.sh);
# a test that needs one fails, never skips, when it cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

# The end-to-end tests wait on sockets, not on the CPU: run more at once than
# there are cores.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-8}"
cargo test --workspace "$@"

scripts/test-patches.sh
scripts/test-web.sh
