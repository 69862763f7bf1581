#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine with Node 20, as root: system packages, npm dependencies,
# the build and the busybox test image. Idempotent: a re-run checks and returns quickly.
# Works without a terminal (CI=true).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive NX_DAEMON=false NX_NO_CLOUD=true
# Native modules build from source on this machine; nothing may download prebuilt binaries.
export npm_config_build_from_source=true npm_config_fund=false npm_config_audit=false
[ -f /usr/include/node/node_api.h ] && export npm_config_nodedir=/usr

[ "$(id -u)" = 0 ] || { echo "setup: run as root (apt-get, and tests need namespaces, mounts, cgroups)" >&2; exit 1; }
command -v node >/dev/null || { echo "setup: Node.js 20 is required" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "setup: Node.js >= 20 is required (found $(node --version))" >&2; exit 1; }

packages=(busybox-static libseccomp-dev runc crun docker.io containerd tini jq hyperfine
  build-essential pkg-config iproute2 umoci skopeo zstd attr)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

# npm ci only when the lock file is newer than npm's record of the last install (as npm itself
# judges), so a re-run does not wipe node_modules.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-progress
fi

echo "setup: build"
npm run -s build

bash tools/build-test-image.sh
echo "setup: done"
