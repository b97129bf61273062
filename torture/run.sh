#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make torture`: kbatch_torture.ko for TORTURE_SECS seconds (default 600)
# on the debug kernel in QEMU, with user-space submitters and trinity
# hammering /dev/kbatch alongside (torture/vm.sh is the VM's plan), then
# scripts/results.py judges the console log (build/logs/torture-*.log):
# the module's verdict, the submitters' TAP and any kernel report.
#
# Environment: TORTURE_SECS; TORTURE_SEED (0: random, printed by the
# module); KCSAN=1 (the KCSAN kernel instead of the KASAN one); FAILSLAB=1
# (failslab at 1% on the torture threads and the submitters); TRINITY=0
# (no trinity).
#
# For scripts/check.sh: `torture/run.sh --build OBJ KDIR [MAKE-ARGS...]`
# builds the torture module alone against the kbatch already built in OBJ
# (W=1, C=1 and so on in MAKE-ARGS); `torture/run.sh --vm KDIR LOG [OBJ]`
# builds everything against the kernel tree KDIR (or, given OBJ, takes
# kbatch and the torture module built there by --build and builds only the
# submitter), runs the VM and leaves LOG for the caller to judge.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${TORTURE_SECS:-600}
seed=${TORTURE_SEED:-0}
failslab=${FAILSLAB:-0}
trinity=${TRINITY:-1}
variant=debug
[ -n "${KCSAN:-}" ] && [ "${KCSAN}" != 0 ] && variant=kcsan

# build OBJ KDIR [BUILT]: kbatch, then the torture module against its
# symbols (or both modules as BUILT has them), then the static user-space
# submitter.
build() {
	local obj=$1 kdir=$2 built=${3:-}
	rm -rf "$obj"
	mkdir -p "$obj"
	if [ -n "$built" ]; then
		cp "$built/kmod/kbatch.ko" "$built/torture/kbatch_torture.ko" "$obj/"
	else
		cp -r include kmod torture "$obj/"
		printf '# SPDX-License-Identifier: GPL-2.0\nobj-m += kmod/\n' >"$obj/Kbuild"
		make -s -C "$kdir" M="$obj" modules
		make -s -C "$kdir" M="$obj/torture" \
			KBUILD_EXTRA_SYMBOLS="$obj/Module.symvers" modules
	fi
	gcc -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -I include/uapi \
		-I userspace-test/common -o "$obj/kbatch_torture_user" \
		torture/kbatch_torture_user.c
}

# run_vm KDIR LOG [BUILT]: the VM, with trinity and the C library it
# needs.  The debug kernel does not trust the CPU's RDRAND by default;
# trinity needs getrandom() to work at once.
run_vm() {
	local kdir=$1 log=$2 obj=$top/build/obj-torture
	local ld=/lib64/ld-linux-x86-64.so.2
	local libc=/lib/x86_64-linux-gnu/libc.so.6

	if ! build "$obj" "$kdir" "${3:-}" >&2; then
		echo "@kb step fail torture: build (see the build output)" >"$log"
		return 1
	fi
	scripts/vm/mkinitramfs.sh "$top/build/initrd-torture.cpio" "$obj" \
		/nonexistent "torture/vm.sh:bin/torture.sh" \
		"$obj/kbatch_torture_user:bin/kbatch_torture_user" \
		"/usr/bin/trinity:bin/trinity" "$ld:$ld" "$libc:$libc"
	scripts/vm/run-vm.sh "$kdir/arch/x86/boot/bzImage" \
		"$top/build/initrd-torture.cpio" torture $((secs * 2 + 300)) "$log" \
		"random.trust_cpu=on kbt_secs=$secs kbt_seed=$seed kbt_failslab=$failslab kbt_trinity=$trinity"
}

if [ "${1:-}" = --build ]; then
	obj=$2 kdir=$3
	shift 3
	rm -rf "$obj/torture"
	cp -r torture "$obj/"
	make -C "$kdir" M="$obj/torture" \
		KBUILD_EXTRA_SYMBOLS="$obj/Module.symvers" "$@" modules
	exit 0
fi
if [ "${1:-}" = --vm ]; then
	run_vm "$2" "$3" "${4:-}"
	exit 0
fi

scripts/deps.sh
kout=$(scripts/build-kernel.sh "$variant")
name=torture-$variant
[ "$failslab" = 1 ] && name=$name-failslab
log=$top/build/logs/$name.log
mkdir -p "$top/build/logs"
echo "kbatch: kbatch_torture for $secs s on the $variant kernel" \
	"(failslab $failslab, trinity $trinity); console in $log" >&2
run_vm "$kout" "$log"
grep -aE "kbatch_torture: (start|end|SUCCESS|FAILURE|VIOLATION|no progress)" \
	"$log" | sed 's/^\[ *[0-9.]*\] //'
scripts/results.py "$log"
