#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every static check and every test of kbatch.
#
#   1. install what is missing (scripts/deps.sh) and build the debug kernel
#      once (scripts/build-kernel.sh, cached);
#   2. static checks: checkpatch --strict, sparse (C=1) and W=1 builds
#      against the debug tree and Debian's headers, with zero warnings;
#   3. boot the debug kernel (KCSAN=1: the KCSAN kernel): load kbatch, run
#      the KUnit suites and the user-space tests, unload, reload, unload;
#   4. boot the debug kernel with kmemleak on: insmod and /dev/kbatch with
#      each allocation failing in turn, then leaks (userspace-test/failnth.c);
#      then twice more, once per deadlock shape that lockdep must report
#      (kunit/lockdep_demo.c), each in a log of its own;
#   5. boot Debian's own kernel: load kbatch, run the user-space tests,
#      unload;
#   6. scripts/results.py judges every log and prints "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
variant=debug
[ -n "${KCSAN:-}" ] && [ "${KCSAN}" != 0 ] && variant=kcsan

scripts/deps.sh || exit 1
kout=$(scripts/build-kernel.sh "$variant") || exit 1
src=$top/build/linux-src
debkver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	  sed -n 's/^linux-headers-\([^ ]*\).*/\1/p')
debkdir=/lib/modules/$debkver/build
logs=$top/build/logs
rm -rf "$logs"
mkdir -p "$logs"
static=$logs/static.log

say() { echo "@kb $*" >>"$static"; }

# check NAME LOG COMMAND...: run COMMAND, keep its output in LOG, and pass
# only if it succeeds without one warning.
check() {
	local name=$1 out=$2
	shift 2
	if "$@" >"$out" 2>&1 && ! grep -qiE "warning|error:" "$out"; then
		say "step ok $name"
	else
		say "step fail $name (see $out)"
		grep -iE "warning|error" "$out" | head -40
	fi
}

# build_modules NAME KDIR MAKE-ARGS...: build every module in a copy of the
# sources, so the two kernels' objects never mix.
build_modules() {
	local name=$1 kdir=$2 obj=$top/build/obj-$1
	shift 2
	rm -rf "$obj"
	mkdir -p "$obj"
	cp -r Kbuild include kmod kunit "$obj/"
	[ -d samples ] && cp -r samples "$obj/"
	make -C "$kdir" M="$obj" W=1 "$@" modules
}

: >"$static"
# Trace event headers are written in TRACE_EVENT()'s own layout, which
# checkpatch reads as open-ended calls; every other check holds for them.
check "checkpatch --strict" "$logs/checkpatch.txt" \
	perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet \
	--show-types -f $(git ls-files -co --exclude-standard '*.c' '*.h' |
			  grep -v '^include/trace/')
check "checkpatch --strict, trace events" "$logs/checkpatch-trace.txt" \
	perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet \
	--show-types --ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE \
	-f $(git ls-files -co --exclude-standard 'include/trace/*.h')
check "modules W=1, $variant kernel" "$logs/build-$variant.txt" \
	build_modules "$variant" "$kout"
check "modules W=1 C=1 (sparse), Debian headers" "$logs/build-deb.txt" \
	build_modules deb "$debkdir" C=1
check "sample modules W=1, $variant kernel" "$logs/build-samples-$variant.txt" \
	scripts/build-samples.sh "$top/build/obj-$variant" "$kout" W=1
check "sample modules W=1 C=1 (sparse), Debian headers" \
	"$logs/build-samples-deb.txt" \
	scripts/build-samples.sh "$top/build/obj-deb" "$debkdir" W=1 C=1
check "bench module W=1, both kernels" "$logs/build-bench.txt" \
	scripts/bench.sh --build "$kout" "$debkdir"
rm -rf "$top/build/utest"	# a failed build must not leave old tests to run
check "user-space tests" "$logs/build-utest.txt" \
	make -C userspace-test KSELFTEST="$src/tools/testing/selftests" \
	OUT="$top/build/utest"
cp userspace-test/*.sh "$top/build/utest/" 2>/dev/null
models/check.sh "$logs/models" >>"$static"
# Torture (torture/run.sh): the module W=1 and sparse, then about a minute
# of it on the debug kernel, judged with the other VM logs below.
check "torture module W=1, $variant kernel" "$logs/build-torture-$variant.txt" \
	torture/run.sh --build "$top/build/obj-$variant" "$kout" W=1
check "torture module W=1 C=1 (sparse), Debian headers" \
	"$logs/build-torture-deb.txt" \
	torture/run.sh --build "$top/build/obj-deb" "$debkdir" W=1 C=1
TORTURE_SECS=${TORTURE_SECS:-60} torture/run.sh --vm "$kout" \
	"$logs/torture-$variant.log" >"$logs/build-torture-vm.txt" 2>&1
say done

vm() {
	local kernel=$1 obj=$2 plan=$3 log=$4 limit=$5 cmdline=${6:-}
	scripts/vm/mkinitramfs.sh "$top/build/initrd-$plan.gz" "$obj" \
		"$top/build/utest" "$top/build/utest/tools/kbatch:bin/kbatch" \
		"$top/build/utest/tools/failnth:bin/failnth" && \
	scripts/vm/run-vm.sh "$kernel" \
		"$top/build/initrd-$plan.gz" "$plan" "$limit" "$log" "$cmdline"
}

vm "$kout/arch/x86/boot/bzImage" "$top/build/obj-$variant" check \
	"$logs/check-$variant.log" 1200
vm "$kout/arch/x86/boot/bzImage" "$top/build/obj-$variant" failnth \
	"$logs/failnth-$variant.log" 1200 kmemleak=on
for shape in recursive circular; do
	vm "$kout/arch/x86/boot/bzImage" "$top/build/obj-$variant" \
		"lockdep-$shape" "$logs/lockdep-$shape.log" 300
done
# preempt=full: the stall test (stall_test.c) on a fully preemptible
# kernel, as the debug kernel (CONFIG_PREEMPT) always is.
vm "/boot/vmlinuz-$debkver" "$top/build/obj-deb" deb \
	"$logs/check-deb.log" 600 preempt=full

echo "== kbatch: results (logs in build/logs) =="
scripts/results.py "$logs/static.log" "$logs/check-$variant.log" \
	"$logs/failnth-$variant.log" \
	"$logs/lockdep-recursive.log" "$logs/lockdep-circular.log" \
	"$logs/check-deb.log" "$logs/torture-$variant.log"
