#!/usr/bin/env bash
# The browser client's tests (apps/web): unit tests with a fake WebSocket,
# fetch and clock, then integration tests against the real server binary
# (NOTIFICATION_API_BIN, default target/debug/notification-api, built here when
# unset), then the inbox page in headless Chromium (apps/web/browser-test).
# Needs Node 20 or newer and Debian's chromium; `npm ci` installs only the
# browser test's locked playwright-core (no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null; then
    echo "error: node not found; install Node.js 20 or newer" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "error: Node $(node --version) is too old; the tests need Node 20 or newer" >&2
    exit 1
fi

if [ -f apps/web/package.json ]; then
    (cd apps/web && npm ci --no-audit --no-fund)
fi

if [ -z "${NOTIFICATION_API_BIN:-}" ]; then
    echo "== cargo build -p notification-api"
    cargo build -p notification-api
fi

# Node 20 has a browser-like WebSocket only behind a flag (Node 22 has it by default).
flags=()
if [ "$(node -p 'typeof WebSocket')" != "function" ]; then
    flags+=(--experimental-websocket)
fi

mapfile -t tests < <(find apps/web/test -name '*.test.js' | sort)
echo "== node --test (${#tests[@]} files)"
# A test that hangs fails after a minute, with its name, instead of holding CI.
node "${flags[@]}" --test --test-timeout=60000 "${tests[@]}"

# The inbox page in a real headless Chromium (Debian's `chromium`), driven by
# playwright-core from its own locked package; writes target/browser/inbox.png.
chromium_bin=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium_bin" ]; then
    echo "error: $chromium_bin not found; install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
    exit 1
fi
(cd apps/web/browser-test && npm ci --no-audit --no-fund)
echo "== browser test (headless $("$chromium_bin" --version))"
CHROMIUM_PATH="$chromium_bin" node --test apps/web/browser-test/inbox.test.js
