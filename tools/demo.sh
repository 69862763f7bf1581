#!/usr/bin/env bash
# The main job, until berthd exists: run a busybox container with berth-runc.
# `npm run demo`; BERTH_RUNC=/usr/sbin/runc npm run demo runs the same bundle with another runtime.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${BERTH_RUNC:-$repo/packages/runc/dist/berth-runc.cjs}
[ -x "$runtime" ] || { echo "demo: $runtime is missing (try: bash tools/setup.sh)" >&2; exit 1; }
command -v jq >/dev/null || { echo "demo: jq is missing (try: bash tools/setup.sh)" >&2; exit 1; }

bash "$repo/tools/build-test-image.sh"
tmp=$(mktemp -d /tmp/berth-demo-XXXXXX)
id=berth-demo-$$
cleanup() {
  "$runtime" --root "$tmp/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

bundle=$tmp/bundle
mkdir -p "$bundle"
cp -a "$repo/build/test-image/rootfs" "$bundle/rootfs"
"$runtime" --root "$tmp/state" spec --bundle "$bundle"
jq '.process.args = ["sh", "-c", "echo hello from a berth container; hostname; id; ls /"]
  | .process.terminal = false
  | .hostname = "berth-demo"' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "+ $(basename "$runtime") --root $tmp/state run --bundle $bundle $id" >&2
"$runtime" --root "$tmp/state" run --bundle "$bundle" "$id"
