#!/usr/bin/env bash
# The vendored, patched crates' own tests (patches/*/PATCH.md). They are
# excluded from the workspace, so `cargo test --workspace` never runs them: each
# is tested standalone here, against the patched actix-http as the workspace
# uses it. Called by .ci/run; extra arguments go to every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The standalone runs share one target folder beside the workspace's.
export CARGO_TARGET_DIR="$root/target/patches"
patched_http="patch.crates-io.actix-http.path=\"$root/patches/actix-http\""

for crate in patches/*/; do
    crate=${crate%/}
    echo "== cargo test --lib ($crate)"
    # A standalone run writes a lock file the vendored copy does not carry.
    had_lock=false
    [ -f "$crate/Cargo.lock" ] && had_lock=true
    status=0
    (cd "$crate" && cargo test --lib --config "$patched_http" "$@") || status=$?
    $had_lock || rm -f "$crate/Cargo.lock"
    [ "$status" -eq 0 ] || exit "$status"
done
