#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack a busybox initramfs for the test VM.
#
# Usage: mkinitramfs.sh OUT MODDIR TESTDIR [FILE:DEST...]
#   MODDIR   *.ko files, installed as /modules/
#   TESTDIR  user-space test programs (statically linked), run from /tests/
#            and VM scripts (*.sh), run from /vmtests/
#   FILE:DEST further files to copy into the image
set -euo pipefail

out=$1 moddir=$2 testdir=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
chmod 755 "$root"	# mktemp made it 0700: uid 65534 runs tests too
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,modules,tests,vmtests}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod +x "$root/init"
find "$moddir" -name '*.ko' -exec cp {} "$root/modules/" \;
if [ -d "$testdir" ]; then
	find "$testdir" -maxdepth 1 -type f -perm -u+x ! -name '*.sh' \
		-exec cp {} "$root/tests/" \;
	find "$testdir" -maxdepth 1 -type f -name '*.sh' \
		-exec cp {} "$root/vmtests/" \;
fi
for spec in "$@"; do
	mkdir -p "$root/$(dirname "${spec#*:}")"
	cp "${spec%%:*}" "$root/${spec#*:}"
done
# Uncompressed: under emulation the guest spends seconds inflating a gzip
# archive (a lockdep boot of the debug kernel: 12.5 s with a plain one,
# 15.2 s with gzip).
(cd "$root" && find . | cpio -o -H newc --quiet) >"$out"
