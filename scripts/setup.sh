#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (root, Node 20, npm):
# Debian packages, npm dependencies (with the native addon), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# runc and busybox-static run containers and make the base image; zstd
# decompresses zstd layers; docker.io, skopeo and docker-registry are the
# peers of the interop tests and benchmarks, wrk loads the registry
# benchmark, and chromium is the explorer's end-to-end test browser.
# btrfs-progs, fuse-overlayfs and thin-provisioning-tools back those storage
# drivers; qemu-system-x86 and linux-image-amd64 boot the VM in which the
# devicemapper suite runs (this kernel has no device-mapper). apache2-utils
# makes htpasswd files for the auth tests; podman is a peer, and openssl
# makes the test token server's certificates. ceph-mon, ceph-osd, radosgw
# and ceph-common run the one-node Ceph cluster the registry's S3 driver is
# tested against.
PACKAGES=(busybox-static zstd runc docker.io skopeo docker-registry wrk util-linux tar chromium
  btrfs-progs fuse-overlayfs thin-provisioning-tools qemu-system-x86 linux-image-amd64
  apache2-utils podman openssl ceph-mon ceph-osd radosgw ceph-common)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.strata-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
[ -f build/Release/strata_linux.node ] || npm run install --loglevel=error
npm run build --silent
