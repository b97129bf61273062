#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive, whatever the build and the VM tests need
# and this machine lacks.  Runs as root (CI) or through sudo.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	rsync python3 perl gzip
	linux-source-6.1 linux-headers-amd64 linux-image-amd64
	qemu-system-x86 busybox-static sparse liburing-dev gnuplot-nox
	spin trinity
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "kbatch: installing ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >&2
