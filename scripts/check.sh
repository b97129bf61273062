#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every static check and every test of kbatch, on every
# supported kernel (scripts/kernels.sh): Debian 12's 6.1, 6.12 and
# 6.12 PREEMPT_RT.
#
#   1. install what is missing (scripts/deps.sh); build the 6.1 debug
#      kernel, and start the 6.12 PREEMPT_RT debug kernel in the background
#      (both cached, scripts/build-kernel.sh);
#   2. start checkpatch --strict in the background; build the modules and
#      tests for the 6.1 debug kernel, then start the second lane of VMs
#      in the background (vm_lane_b below): the 6.1 debug kernel with
#      kmemleak on, insmod and /dev/kbatch with each allocation failing in
#      turn, then leaks (userspace-test/failnth.c); three times more,
#      once per deadlock shape that lockdep must report
#      (kunit/lockdep_demo.c), each in its own log; the torture module
#      for a minute (torture/); once the first lane's static checks are
#      done, Debian's own 6.1 and 6.12-rt as in step 5; last, once the RT
#      debug kernel is built: W=1 against it (unless the first lane could
#      do it after its static checks), boot it, and run the KUnit suites
#      and the user-space tests as root;
#   3. meanwhile, in the first lane, static checks: sparse (C=1) and W=1
#      builds of the modules and the samples against Debian's 6.1, 6.12
#      and 6.12-rt headers, and of the bench against 6.1's (the kernel
#      `make bench` boots), with zero warnings; modinfo; the spin
#      models; `make install` into a staging DESTDIR (for 6.1); `make dkms`
#      for 6.12, whose module step 5 boots;
#   4. boot the 6.1 debug kernel (KCSAN=1: the KCSAN kernel) with
#      expedited grace periods: load kbatch, run the KUnit suites and the
#      user-space tests as root, unload, reload, unload;
#   5. boot Debian's own 6.12 with the DKMS-built module (its 6.1 and
#      6.12-rt boot in the second lane): load kbatch, run the
#      user-space tests (as root and as uid 65534), unload;
#   6. wait for the second lane; scripts/results.py judges every log and
#      prints "N passed, N failed".
#
# The two lanes keep both of the machine's cores busy (the fail-nth boot
# is one long single-threaded loop) and end at about the same time.
# Progress goes to stdout; the kernel builds' own output to their logs.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh
variant=debug
[ -n "${KCSAN:-}" ] && [ "${KCSAN}" != 0 ] && variant=kcsan
t0=$(date +%s)
progress() { echo "kbatch: [$(($(date +%s) - t0)) s] $*"; }

logs=$top/build/logs
rm -rf "$logs"
mkdir -p "$logs"
static=$logs/static.log
: >"$static"

progress "dependencies"
scripts/deps.sh || exit 1

# The RT debug kernel builds in the background, niced, while everything
# that does not need it runs.
progress "6.12 PREEMPT_RT debug kernel: building in the background if not cached"
rt_status=$top/build/rt-status
rm -f "$rt_status"
{
	nice -n 10 scripts/build-kernel.sh rt-debug >"$top/build/rt-kout" \
		2>"$logs/kernel-rt-debug.txt"
	echo $? >"$rt_status.new"
	mv "$rt_status.new" "$rt_status"	# whole, for the lanes that poll it
} &

progress "6.1 $variant kernel"
kout=$(scripts/build-kernel.sh "$variant") || exit 1
src=$top/build/linux-src
kv() { scripts/kernels.sh "$1" "$2"; }

# Every 6.12 boot (Debian's two, the RT debug kernel) starts one CPU
# (maxcpus=1; scripts/vm/init brings the others up first thing) and
# trusts the TSC (tsc=reliable).  Otherwise 6.12 flips the
# sched_clock_stable static key while other vCPUs run: once at boot
# ("sched_clock: Marking stable", a late initcall), and again whenever the
# clocksource watchdog finds the emulated TSC skewed under load ("Marking
# unstable").  QEMU 7.2's multi-threaded TCG then now and then lets a
# vCPU run the int3 of the live patch after the patch is done, and the
# kernel dies of "Oops: int3" in sched_clock_cpu(): 2 of 3 such boots in
# one make check with slab poisoning (below), about 1 in 50 before.  So
# the boot flip happens on one CPU, and the watchdog does not watch the
# TSC.  (tsc=unstable would avoid both flips too, as 6.1 does by itself
# under QEMU, but its HPET clock made these boots 40-70% slower.)
tsc612="maxcpus=1 tsc=reliable"
# The 6.12 kernels, the only ones with TIMER over io_uring and no KASAN,
# poison the accounted kmalloc caches (GFP_KERNEL_ACCOUNT: what a user's
# submit allocates, timers included), so that a use after free reads
# 0x6b... and oopses (uring_test.c, exit_with_timer_completions_on_their_way).
poison="slub_debug=P,kmalloc-cg-*"
rel61=$(kv 6.1 release)
rel612=$(kv 6.12 release)

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
	progress "checked: $name"
}

# build_modules NAME KDIR MAKE-ARGS...: build every module in a copy of the
# sources, so the kernels' objects never mix.
build_modules() {
	local name=$1 kdir=$2 obj=$top/build/obj-$1
	shift 2
	stage_modules "$obj"
	make -C "$kdir" M="$obj" W=1 "$@" modules
}

# build_user_space: the user-space tests and failnth (build/utest), and
# the kbatch tool (build/tool), all on libkbatch.
build_user_space() {
	make -C userspace-test KSELFTEST="$src/tools/testing/selftests" \
		OUT="$top/build/utest" &&
	make -C tools OUT="$top/build/tool"
}

# modinfo_check KO: a version (dkms.conf's), a description, an author, and
# a description for every parameter.
modinfo_check() {
	local ko=$1 want got
	want=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	got=$(modinfo -F version "$ko")
	echo "version '$got', dkms.conf '$want'"
	[ -n "$want" ] && [ "$got" = "$want" ] || return 1
	[ -n "$(modinfo -F description "$ko")" ] || { echo "no description"; return 1; }
	[ -n "$(modinfo -F author "$ko")" ] || { echo "no author"; return 1; }
	# "parm: NAME:DESCRIPTION (TYPE)"; a parameter without MODULE_PARM_DESC
	# shows as "NAME:(TYPE)" or "NAME:".
	if modinfo -F parm "$ko" | grep -vE '^[^:]+:[^(]*[^ (][^(]* \(' ; then
		echo "a parameter has no description"
		return 1
	fi
	modinfo "$ko"
}

# install_check: `make install` into a staging DESTDIR, without root's
# paths, from a copy of the sources; every file lands where it should.
install_check() {
	local t=$top/build/install-test dest f
	dest=$t/dest
	rm -rf "$t"
	mkdir -p "$t/src"
	cp -r Makefile Kbuild dkms.conf include kmod kunit tools udev lib \
		--parents scripts/kernels.sh "$t/src/"
	# Kbuild's depmod step says it skips a staging tree without System.map:
	# that is what a DESTDIR install wants, not a warning about kbatch.
	make -C "$t/src" KVER="$rel61" DESTDIR="$dest" install 2>&1 |
		grep -v "missing 'System.map' file. Skipping depmod"
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	for f in "lib/modules/$rel61/updates/kmod/kbatch.ko" \
		 usr/local/include/linux/kbatch.h usr/local/bin/kbatch \
		 etc/udev/rules.d/60-kbatch.rules \
		 usr/local/lib/libkbatch.a usr/local/lib/libkbatch.so.1 \
		 usr/local/lib/pkgconfig/libkbatch.pc \
		 usr/local/include/libkbatch.h usr/local/include/libkbatch-uring.h; do
		[ -f "$dest/$f" ] || { echo "missing $f"; return 1; }
		echo "installed $f"
	done
	cmp include/uapi/linux/kbatch.h "$dest/usr/local/include/linux/kbatch.h"
}

# dkms_check KVER...: `make dkms` (add, then build and install) for each
# KVER, in trees under build/dkms rather than the machine's own; the
# module must have been built and installed for each.
dkms_dir=$top/build/dkms
dkms_check() {
	local ver k opts
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	rm -rf "$dkms_dir"
	mkdir -p "$dkms_dir/src" "$dkms_dir/tree"
	# dkms install --installtree wants each kernel's folder to exist.
	for k in /lib/modules/*/; do
		mkdir -p "$dkms_dir/install/$(basename "$k")"
	done
	# dkms's own readelf probe of the compiler warns about a missing
	# .comment section; that is dkms, not kbatch.
	opts="--sourcetree $dkms_dir/src --dkmstree $dkms_dir/tree"
	opts+=" --installtree $dkms_dir/install"
	make dkms DKMS_SRC="$dkms_dir/src" DKMS_OPTS="$opts" DKMS_KERNELS="$*" 2>&1 |
		grep -v "readelf: Warning: Section '.comment' was not dumped"
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	for k in "$@"; do
		ls "$dkms_dir/tree/kbatch/$ver/$k/x86_64/module/"kbatch.ko* &&
		ls "$dkms_dir/install/$k/updates/dkms/"kbatch.ko* || return 1
	done
}

vm() {
	local kernel=$1 obj=$2 plan=$3 log=$4 limit=$5 cmdline=${6:-} name
	local tests=/nonexistent	# only these plans run the tests
	case "$plan" in check|deb) tests=$top/build/utest ;; esac
	name=$(basename "$log" .log)
	progress "VM: $name"
	scripts/vm/mkinitramfs.sh "$top/build/initrd-$name.cpio" "$obj" \
		"$tests" "$top/build/tool/kbatch:bin/kbatch" \
		"$top/build/utest/tools/failnth:bin/failnth" && \
	scripts/vm/run-vm.sh "$kernel" \
		"$top/build/initrd-$name.cpio" "$plan" "$limit" "$log" "$cmdline"
	progress "VM done: $name"
}

# The second lane (step 2 above), in the background: the boots of the 6.1
# debug kernel that need no other build, the longest first.
vm_lane_b() {
	# Expedited grace periods: each of the loop's ~260 module unloads
	# waits for several (alone on the machine, the boot took 164 s with
	# them, 225 s without).  Two CPUs, enough for a per-CPU allocation to
	# fail after another succeeded: the loop is one thread, and beside a
	# busy core the boot took 253 s with two, 281 s with four.
	KB_QEMU_SMP=2 vm "$kout/arch/x86/boot/bzImage" \
		"$top/build/obj-$variant" failnth "$logs/failnth-$variant.log" 1200 \
		"kmemleak=on slub_debug=A;-,kmemleak_object,kmemleak_scan_area rcupdate.rcu_expedited=1"
	for shape in recursive circular poller; do
		vm "$kout/arch/x86/boot/bzImage" "$top/build/obj-$variant" \
			"lockdep-$shape" "$logs/lockdep-$shape.log" 300
	done
	# Torture (torture/run.sh): about a minute on the debug kernel, with
	# the modules built above.
	progress "VM: torture-$variant"
	TORTURE_SECS=${TORTURE_SECS:-60} torture/run.sh --vm "$kout" \
		"$logs/torture-$variant.log" "$top/build/obj-$variant" \
		>"$logs/build-torture-vm.txt" 2>&1
	progress "VM done: torture-$variant"
	# Debian's 6.1 and 6.12-rt boot here, not in the first lane, to even
	# the lanes out (alone, the first lane's debug boot ended a warm run
	# a minute after this lane); their modules are final once the static
	# checks are done.  Both come before the RT debug kernel's boot, which
	# on a fresh machine waits for that kernel's build.
	progress "waiting for the static checks"
	while [ ! -e "$static_done" ]; do sleep 2; done
	vm "$(kv 6.1 vmlinuz)" "$top/build/obj-deb-6.1" deb \
		"$logs/check-deb-6.1.log" 600 preempt=full
	vm "$(kv 6.12-rt vmlinuz)" "$top/build/obj-deb-6.12-rt" deb \
		"$logs/check-deb-6.12-rt.log" 600 "kbuids=root $poison $tsc612"
	rt_debug_vm
}

# W=1 against the 6.12 PREEMPT_RT debug kernel, once its background
# build is done: in the first lane after the static checks if it is done
# by then (a cached kernel), else in the second lane before its boot.
rt_built=$top/build/rt-built
rm -f "$rt_built"
rt_modules() {
	local rtout

	touch "$rt_built"
	cat "$logs/kernel-rt-debug.txt"
	if [ "$(cat "$rt_status")" != 0 ]; then
		say "step fail 6.12 PREEMPT_RT debug kernel build (see $logs/kernel-rt-debug.txt)"
		return
	fi
	rtout=$(cat "$top/build/rt-kout")
	check "modules W=1, 6.12 PREEMPT_RT debug kernel" \
		"$logs/build-rt-debug.txt" build_modules rt-debug "$rtout"
	check "sample modules W=1, 6.12 PREEMPT_RT debug kernel" \
		"$logs/build-samples-rt-debug.txt" \
		scripts/build-samples.sh "$top/build/obj-rt-debug" "$rtout" W=1
}

# The 6.12 PREEMPT_RT debug kernel's boot: KUnit and the user-space tests
# as root.  In the second lane, after the static checks.
rt_debug_vm() {
	progress "6.12 PREEMPT_RT debug kernel: waiting for its build"
	while [ ! -e "$rt_status" ]; do sleep 2; done
	[ -e "$rt_built" ] || rt_modules
	[ "$(cat "$rt_status")" = 0 ] || return
	vm "$(cat "$top/build/rt-kout")/arch/x86/boot/bzImage" \
		"$top/build/obj-rt-debug" check "$logs/check-rt-debug.log" 1500 \
		"kbuids=root $tsc612"
}

# checkpatch needs no build: it runs beside the builds below, which use
# one core until the second lane starts.  Trace event headers are written
# in TRACE_EVENT()'s own layout, which checkpatch reads as open-ended
# calls; every other check holds for them.
checkpatch_all() {
	check "checkpatch --strict" "$logs/checkpatch.txt" \
		perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--show-types -f $(git ls-files -co --exclude-standard '*.c' '*.h' |
				  grep -v '^include/trace/')
	check "checkpatch --strict, trace events" "$logs/checkpatch-trace.txt" \
		perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--show-types --ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE \
		-f $(git ls-files -co --exclude-standard 'include/trace/*.h')
}
checkpatch_all &
checkpatch_pid=$!

progress "modules and tests for the 6.1 $variant kernel"
check "modules W=1, 6.1 $variant kernel" "$logs/build-$variant.txt" \
	build_modules "$variant" "$kout"
check "sample modules W=1, 6.1 $variant kernel" \
	"$logs/build-samples-$variant.txt" \
	scripts/build-samples.sh "$top/build/obj-$variant" "$kout" W=1
# The torture module lands in obj-$variant/torture: built before the second
# lane copies that folder's modules into its initramfs.
check "torture module W=1, $variant kernel" "$logs/build-torture-$variant.txt" \
	torture/run.sh --build "$top/build/obj-$variant" "$kout" W=1
rm -rf "$top/build/utest"	# a failed build must not leave old tests to run
rm -rf "$top/build/tool"
check "user-space tests and the kbatch tool" "$logs/build-utest.txt" \
	build_user_space
cp userspace-test/*.sh "$top/build/utest/" 2>/dev/null

static_done=$top/build/static-done
rm -f "$static_done"
vm_lane_b &
lanepid=$!
vmlogs=("$logs/failnth-$variant.log" "$logs/lockdep-recursive.log"
	"$logs/lockdep-circular.log" "$logs/lockdep-poller.log"
	"$logs/torture-$variant.log"
	"$logs/check-deb-6.1.log" "$logs/check-deb-6.12-rt.log"
	"$logs/check-rt-debug.log")

progress "static checks"
wait "$checkpatch_pid"
for f in 6.1 6.12 6.12-rt; do
	check "modules W=1 C=1 (sparse), Debian $f headers" \
		"$logs/build-deb-$f.txt" build_modules "deb-$f" "$(kv $f kdir)" C=1
	check "sample modules W=1 C=1 (sparse), Debian $f headers" \
		"$logs/build-samples-deb-$f.txt" \
		scripts/build-samples.sh "$top/build/obj-deb-$f" "$(kv $f kdir)" \
		W=1 C=1
done
# The bench modules only ever load into the kernel `make bench` boots,
# Debian 12's own (bench/run.sh): checked against its headers alone.
check "bench modules W=1 C=1 (sparse), Debian 6.1 headers" \
	"$logs/build-bench-deb-6.1.txt" \
	bench/run.sh --build "$top/build/obj-bench-deb-6.1" \
	"$top/build/obj-deb-6.1" "$(kv 6.1 kdir)" C=1
check "modinfo: version, description, author, parameters" \
	"$logs/modinfo.txt" modinfo_check "$top/build/obj-deb-6.1/kmod/kbatch.ko"
models/check.sh "$logs/models" >>"$static"
check "torture module W=1 C=1 (sparse), Debian 6.1 headers" \
	"$logs/build-torture-deb.txt" \
	torture/run.sh --build "$top/build/obj-deb-6.1" "$(kv 6.1 kdir)" W=1 C=1
check "make install (DESTDIR staging)" "$logs/install.txt" install_check
# DKMS builds with the Makefile every other build uses: one kernel, the
# one whose module boots below, shows that `make dkms` works.
check "make dkms, Debian 6.12 headers" "$logs/dkms.txt" \
	dkms_check "$rel612"

# The module a user of 6.12 gets from DKMS, for the 6.12 VM, with the
# sample built against the same headers.
dkms_vm=$top/build/obj-dkms-6.12
rm -rf "$dkms_vm"
mkdir -p "$dkms_vm"
for ko in "$dkms_dir"/tree/kbatch/*/"$rel612"/x86_64/module/kbatch.ko*; do
	[ -f "$ko" ] || continue
	case "$ko" in
	*.xz) xz -dc "$ko" >"$dkms_vm/kbatch.ko" ;;
	*) cp "$ko" "$dkms_vm/kbatch.ko" ;;
	esac
done
find "$top/build/obj-deb-6.12/samples" -name '*.ko' -exec cp {} "$dkms_vm/" \;
[ -e "$rt_status" ] && rt_modules
touch "$static_done"	# the second lane may boot Debian's 6.1 now

# As root only: uid 65534 runs the user-space tests on the two stock
# non-RT kernels, whose code paths are the same (RT differs in its locks,
# not in what a uid may do), and the tests that mix uids
# (isolation_test.c, stall_test.c) start their own uid-65534 processes.
# Expedited grace periods, as in the fail-nth boot: the tests free queues,
# files and modules by the hundred, each after one; the RT debug kernel
# and the stock kernels keep the normal ones.
vm "$kout/arch/x86/boot/bzImage" "$top/build/obj-$variant" check \
	"$logs/check-$variant.log" 1200 "kbuids=root rcupdate.rcu_expedited=1"
vmlogs+=("$logs/check-$variant.log")
# preempt=full on the stock kernels: the stall test (stall_test.c) wants a
# fully preemptible kernel, as the debug kernel (CONFIG_PREEMPT) and RT are.
vm "$(kv 6.12 vmlinuz)" "$dkms_vm" deb "$logs/check-deb-6.12-dkms.log" 600 \
	"preempt=full $poison $tsc612"
vmlogs+=("$logs/check-deb-6.12-dkms.log")

progress "waiting for the second lane"
wait "$lanepid"
say done

progress "done; judging the logs"
echo "== kbatch: results (logs in build/logs) =="
scripts/results.py "$static" "${vmlogs[@]}"
