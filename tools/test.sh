#!/usr/bin/env bash
# Every test: `npm test`. Checks the machine first and fails (never skips) when a test could not
# mean anything here; then the generated-code check, typecheck, build, unit and e2e tests.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NX_DAEMON=false NX_NO_CLOUD=true

die() { echo "test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root: the tests create namespaces, mounts and cgroups (try: sudo npm test)"
grep -qE '^nodev[[:space:]]+overlay$' /proc/filesystems \
  || die "no overlay filesystem in /proc/filesystems (try: modprobe overlay)"
grep -qE ' - cgroup ' /proc/self/mountinfo \
  || die "no cgroup v1 hierarchy is mounted under /sys/fs/cgroup; the runtime tests need one"

failed=()
step() { echo; echo "== $*"; }

step "generated code is up to date with protos/"
gen=packages/api/src/gen
if node tools/gen-protos.mjs >/dev/null \
  && git diff --exit-code --stat -- "$gen" \
  && untracked=$(git status --porcelain --untracked-files=all -- "$gen") \
  && { [ -z "$untracked" ] || { echo "$untracked"; false; }; }; then
  echo "ok"
else
  echo "test: $gen differs from what protos/ generates: run 'npm run gen' and commit the result" >&2
  failed+=("generated code")
fi

step "typecheck"
npm run -s typecheck || failed+=("typecheck")

step "build"
npm run -s build || failed+=("build")

step "test image"
bash tools/build-test-image.sh || failed+=("test image")

step "unit tests"
npx vitest run --project unit --passWithNoTests || failed+=("unit tests")

step "e2e tests"
npx vitest run --project e2e --passWithNoTests || failed+=("e2e tests")

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test: all passed"
