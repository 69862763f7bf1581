#!/usr/bin/env bash
# Builds the busybox test image that tests and benchmarks use:
#   OUTDIR/rootfs/      a root filesystem: Debian's static busybox, its applet links, passwd/group
#   OUTDIR/busybox.tar  the same tree as a tar (for `berth import` and image tests)
#   OUTDIR/oci/         the same tree as an OCI image layout, one gzip layer, named
#                       docker.io/berth/busybox:latest (org.opencontainers.image.ref.name)
#   OUTDIR/busybox-oci.tar  that layout as a tar (for `berth-ctr images import`)
# Usage: bash tools/build-test-image.sh [OUTDIR]   (default: build/test-image in the repo)
# Idempotent: a stamp records the busybox binary's digest and this script's; when both match,
# nothing is rebuilt. The tree is built beside OUTDIR and renamed into place under a lock, so
# concurrent callers (parallel test workers) never see a half-built image.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/build/test-image}
mkdir -p "$out"
out=$(cd "$out" && pwd)

busybox=/bin/busybox
is_static() { [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; }
if ! is_static; then
  if [ "$(id -u)" != 0 ]; then
    echo "build-test-image: $busybox (a static busybox) is missing; install Debian's busybox-static as root" >&2
    exit 1
  fi
  echo "build-test-image: installing busybox-static" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q busybox-static >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q busybox-static >/dev/null; }
  is_static || { echo "build-test-image: $busybox is still not a static binary" >&2; exit 1; }
fi

stamp_want="$(sha256sum "$busybox" | cut -d' ' -f1) $(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
is_built() { [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp_want" ] && [ -d "$out/rootfs" ] && [ -f "$out/busybox.tar" ] && [ -f "$out/busybox-oci.tar" ] && [ -f "$out/oci/index.json" ]; }
is_built && exit 0

exec 9>"$out/.lock"
flock 9
is_built && exit 0

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
r=$tmp/rootfs
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/berth,var/tmp,run}
chmod 1777 "$r/tmp" "$r/var/tmp"
chmod 0700 "$r/root"
install -m 0755 "$busybox" "$r/bin/busybox"

# The usual applet links, as Alpine has them: absolute symlinks to /bin/busybox.
"$busybox" --list-full | while read -r applet; do
  case "$applet" in
    */*) [ "$applet" = bin/busybox ] || [ -e "$r/$applet" ] || ln -s /bin/busybox "$r/$applet" ;;
    *) ;; # top-level entries such as linuxrc are not wanted
  esac
done

cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
berth:x:1000:1000:berth test user:/home/berth:/bin/sh
EOF
cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
audio:x:29:berth
users:x:100:berth
nogroup:x:65534:
berth:x:1000:
EOF
chmod 0644 "$r/etc/passwd" "$r/etc/group"
chown 1000:1000 "$r/home/berth"

# A reproducible tar: sorted names, numeric owners, a fixed mtime.
find "$r" -exec touch -h -d @0 {} +
tar --sort=name --numeric-owner --format=posix --pax-option=delete=atime,delete=ctime \
  -C "$r" -cf "$tmp/busybox.tar" .

# The OCI image layout: one gzip layer (gzip -n: no name or time, so the digest is stable),
# a config with no timestamps, a manifest, and an index naming it.
o=$tmp/oci
mkdir -p "$o/blobs/sha256"
blob() { # FILE -> prints DIGEST SIZE after storing FILE as a blob
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$o/blobs/sha256/$d"
  echo "$d $s"
}
case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;; *) arch=$(uname -m) ;;
esac
diff_id=$(sha256sum "$tmp/busybox.tar" | cut -d' ' -f1)
gzip -n -6 -c "$tmp/busybox.tar" >"$tmp/layer"
read -r layer_d layer_s < <(blob "$tmp/layer")
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"tools/build-test-image.sh"}]}' \
  "$arch" "$diff_id" >"$tmp/config"
read -r config_d config_s < <(blob "$tmp/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config_d" "$config_s" "$layer_d" "$layer_s" >"$tmp/manifest"
read -r manifest_d manifest_s < <(blob "$tmp/manifest")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"docker.io/berth/busybox:latest"},"platform":{"architecture":"%s","os":"linux"}}]}' \
  "$manifest_d" "$manifest_s" "$arch" >"$o/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$o/oci-layout"
find "$o" -exec touch -h -d @0 {} +
tar --sort=name --numeric-owner --owner=0 --group=0 --format=posix --pax-option=delete=atime,delete=ctime \
  -C "$o" -cf "$tmp/busybox-oci.tar" .

rm -rf "$out/rootfs.old" "$out/oci.old"
[ -d "$out/rootfs" ] && mv "$out/rootfs" "$out/rootfs.old"
[ -d "$out/oci" ] && mv "$out/oci" "$out/oci.old"
mv "$r" "$out/rootfs"
mv "$o" "$out/oci"
mv "$tmp/busybox.tar" "$out/busybox.tar"
mv "$tmp/busybox-oci.tar" "$out/busybox-oci.tar"
rm -rf "$out/rootfs.old" "$out/oci.old"
echo "$stamp_want" >"$out/stamp"
echo "build-test-image: built $out/rootfs, $out/busybox.tar, $out/oci and $out/busybox-oci.tar" >&2
