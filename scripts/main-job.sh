#!/usr/bin/env bash
# The main job: make a busybox base image from the host's busybox-static,
# import it into the embedded default store, and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
strata=bin/strata
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
node dist/test/fixtures/busybox-rootfs.js "$rootfs/busybox.tar"
$strata import --change 'CMD ["sh"]' --message 'busybox from the host' "$rootfs/busybox.tar" busybox:latest
$strata images
$strata history busybox:latest
