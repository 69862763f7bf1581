#!/usr/bin/env bash
# The main job: berthd on temporary roots (it starts its own berth-containerd), the busybox test
# image imported, and `berth run --rm busybox echo hello`; everything stopped and removed after.
# `npm run demo`; berth-runc on its own is shown by `packages/runc/README.md`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berth=$repo/packages/client/dist/berth.cjs
berthd=$repo/packages/daemon/dist/berthd.cjs
for f in "$berth" "$berthd" "$repo/packages/containerd/dist/berth-containerd.cjs" "$repo/packages/shim/dist/berth-shim.cjs" "$repo/packages/runc/dist/berth-runc.cjs"; do
  if [ ! -f "$f" ]; then
    echo "demo: $f is missing; building" >&2
    (cd "$repo" && npm run build >/dev/null)
    break
  fi
done

bash "$repo/tools/build-test-image.sh"
tmp=$(mktemp -d /tmp/berth-demo-XXXXXX)
export BERTH_HOST=unix://$tmp/state/berthd.sock
berthd_pid=
cleanup() {
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    ids=$(node "$berth" ps -a -q --no-trunc 2>/dev/null || true)
    [ -z "$ids" ] || node "$berth" rm -f $ids >/dev/null 2>&1 || true
    kill "$berthd_pid" 2>/dev/null || true
    wait "$berthd_pid" 2>/dev/null || true
  fi
  if [ -f "$tmp/state/containerd/containerd.pid" ]; then
    ctd=$(cat "$tmp/state/containerd/containerd.pid")
    kill "$ctd" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ctd" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/root" "$tmp/state"
node "$berthd" --root "$tmp/root" --state "$tmp/state" 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do node "$berth" version >/dev/null 2>&1 && break; sleep 0.2; done
node "$berth" version >/dev/null || { echo "demo: berthd did not answer; its log:" >&2; cat "$tmp/berthd.log" >&2; exit 1; }

run() { echo "+ berth $*" >&2; node "$berth" "$@"; }
run import "$repo/build/test-image/busybox.tar" busybox:latest
run images
run run --rm --network none busybox echo hello
