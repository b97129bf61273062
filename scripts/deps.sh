#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive, whatever the build and the VM tests need
# and this machine lacks: the tools, and for each supported kernel
# (scripts/kernels.sh) its headers, its image and its series' source.
# Runs as root (CI) or through sudo.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

tools=(
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	rsync python3 perl gzip openssl dkms
	qemu-system-x86 busybox-static sparse liburing-dev gnuplot-nox
	spin trinity
)

# wanted: every package, NAME or NAME=VERSION, as kernels.sh resolves it
# now (installed versions first, else apt's candidates).
wanted() {
	local f
	printf '%s\n' "${tools[@]}"
	for f in $("$here/kernels.sh" list); do
		"$here/kernels.sh" "$f" packages | tr ' ' '\n'
	done
}

# missing: the wanted packages not installed (at that version).
missing() {
	local p name ver
	wanted | sort -u | while read -r p; do
		name=${p%%=*}
		ver=
		[ "$name" != "$p" ] && ver=${p#*=}
		if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null |
		     grep -q "ok installed" ||
		   { [ -n "$ver" ] &&
		     [ "$(dpkg-query -W -f='${Version}' "$name")" != "$ver" ]; }; then
			echo "$p"
		fi
	done
}

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

todo=$(missing 2>/dev/null || true)
[ -z "$todo" ] && "$here/kernels.sh" 6.12 release >/dev/null 2>&1 && exit 0

echo "kbatch: updating apt's lists" >&2
$sudo apt-get update -qq >&2
todo=$(missing)
[ -z "$todo" ] && exit 0
echo "kbatch: installing" $todo >&2
# The VMs boot the kernel images with kbatch's own initrd
# (scripts/vm/mkinitramfs.sh): INITRD=No spares a minute per image of
# update-initramfs for the host.
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -qq \
	--no-install-recommends $todo >&2
