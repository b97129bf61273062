#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`, the main job: boot the debug kernel with kbatch loaded and
# drive /dev/kbatch from user space (scripts/vm/demo.sh); print what the
# demo did and any kernel report.  The whole console is in build/logs/run.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh
scripts/deps.sh
kout=$(scripts/build-kernel.sh debug)
obj=$top/build/obj-debug
stage_modules "$obj"
mkdir -p "$top/build/logs"
make -s -C "$kout" M="$obj" modules >/dev/null
scripts/build-samples.sh "$obj" "$kout" -s >/dev/null
make -s -C userspace-test KSELFTEST="$top/build/linux-src/tools/testing/selftests" \
	OUT="$top/build/utest" >/dev/null
make -s -C tools OUT="$top/build/tool" >/dev/null
scripts/vm/mkinitramfs.sh "$top/build/initrd-run.cpio" "$obj" /nonexistent \
	"$top/build/tool/kbatch:bin/kbatch" \
	"$top/scripts/vm/demo.sh:bin/demo.sh"
log=$top/build/logs/run.log
scripts/vm/run-vm.sh "$kout/arch/x86/boot/bzImage" \
	"$top/build/initrd-run.cpio" run 600 "$log"
sed -n '/@kb demo-begin/,/@kb demo-end/p' "$log" | grep -v '^@kb demo' |
	sed 's/^\[ *[0-9.]*\] //'
grep -q '^@kb done' "$log" || { echo "kbatch: the VM did not finish" >&2; exit 1; }
