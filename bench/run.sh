#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: kbatch against the kernel's own primitives, side by side in
# one boot of Debian's own kernel (no debug options) in QEMU.
#
#   1. build kbatch.ko, bench/kbatch_bench.ko and samples/kbatch_kv against
#      Debian's headers, in a copy of the sources (build/obj-bench);
#   2. boot /boot/vmlinuz-<Debian version> with an initramfs whose
#      /bin/bench.sh (bench/vm.sh) loads them and runs every table,
#      under a CPU model without ERMS (see BENCH_CPU); then boot again under
#      QEMU's default "max" model for the user-space goal figures alone,
#      and a third time with one vCPU and the kb_insn plugin
#      (bench/tcg/kb_insn.c), which counts guest instructions per op;
#   3. bench/report.py (reading with report_parse.py, judging with
#      report_goals.py) turns the "@kb bench" lines of the console
#      logs (build/logs/bench.log, bench-erms.log) into CSV, ratios and
#      gnuplot PNGs under build/results/, prints the tables and writes them
#      to bench/README.md (the last run's results, kept in git).
#
# Environment: KB_TASKS (table 1: tasks per producer per run at batch size
# 1, default 8192; larger batches run more, see queue_bench.c), KB_RUNS
# (timed runs per figure, default 5), KB_TABLES (default
# queue,prim,poller,user,teardown,trace,spill), KB_INSN_TABLES (the third
# boot's, default queue,poller,user-insn,trace), KB_NO_ERMS_RUN=1 and
# KB_NO_INSN_RUN=1 (skip the second or third boot), KB_QEMU_CPU (the main
# boot's CPU model).
#
# `bench/run.sh --build OUT OBJ KDIR [MAKE-ARGS...]` only builds, W=1, in
# OUT: the bench modules against KDIR and the kbatch already built in OBJ
# (its Module.symvers), as the samples are, then the user-space program
# and the QEMU plugin (scripts/check.sh uses it, with sparse, so the
# bench cannot rot).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# QEMU CPU models: the main run's (no ERMS, no FSRM) and the comparison's.
BENCH_CPU=max,la57=off,erms=off,fsrm=off
ERMS_CPU=max,la57=off

# build_bench OBJ KDIR MAKE-ARGS...: kbatch and the bench module, W=1.
build_bench() {
	local obj=$1 kdir=$2
	shift 2
	rm -rf "$obj"
	mkdir -p "$obj"
	cp -r include kmod bench "$obj/"
	printf '# SPDX-License-Identifier: GPL-2.0\nobj-m += kmod/\nobj-m += bench/\n' \
		>"$obj/Kbuild"
	make -C "$kdir" M="$obj" W=1 "$@" modules
}

# build_ubench OUT: table 3's program, static, with libkbatch (lib/) and
# Debian's liburing.a.
build_ubench() {
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -static -pthread \
		-I include/uapi -I bench -I lib -I samples/kbatch_kv -o "$1" \
		bench/user/kbatch_ubench.c lib/libkbatch.c -luring
}

# build_plugin OUT: QEMU's kb_insn instruction counter (bench/tcg/).
build_plugin() {
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
		-fvisibility=hidden -o "$1" bench/tcg/kb_insn.c
}

if [ "${1:-}" = --build ]; then
	out=$2 obj=$3 kdir=$4
	shift 4
	rm -rf "$out"
	mkdir -p "$out"
	cp -r include bench "$out/"
	make -C "$kdir" M="$out/bench" KBUILD_EXTRA_SYMBOLS="$obj/Module.symvers" \
		W=1 "$@" modules &&
	build_ubench "$out/kbatch_ubench" &&
	build_plugin "$out/kb_insn.so"
	exit
fi

scripts/deps.sh
debkver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	  sed -n 's/^linux-headers-\([^ ]*\).*/\1/p')
kdir=/lib/modules/$debkver/build
obj=$top/build/obj-bench
mkdir -p "$top/build/logs"
build_bench "$obj" "$kdir" -s >/dev/null
cp -r samples "$obj/"
scripts/build-samples.sh "$obj" "$kdir" -s >/dev/null
build_ubench "$obj/kbatch_ubench"
build_plugin "$obj/kb_insn.so"
scripts/vm/mkinitramfs.sh "$top/build/initrd-bench.cpio" "$obj" /nonexistent \
	"$top/bench/vm.sh:bin/bench.sh" \
	"$obj/kbatch_ubench:bin/kbatch_ubench"
log=$top/build/logs/bench.log
log_erms=$top/build/logs/bench-erms.log
log_insn=$top/build/logs/bench-insn.log
runs=${KB_RUNS:-5}
echo "kbatch: benchmarks in QEMU (Debian $debkver), about 7 minutes;" \
	"console in $log and $log_erms" >&2
# The main run: a CPU model without ERMS/FSRM, so that the kernel's user
# copies take the unrolled path instead of "rep movsb", which TCG runs a
# byte at a time.  Then the goals' user-space figures again under
# QEMU's default "max" model (ERMS), to show what that changes.
KB_QEMU_CPU=${KB_QEMU_CPU:-$BENCH_CPU} scripts/vm/run-vm.sh \
	"/boot/vmlinuz-$debkver" "$top/build/initrd-bench.cpio" bench \
	"${KB_LIMIT:-900}" "$log" \
	"kbatch_bench.tasks=${KB_TASKS:-8192} kbatch_bench.runs=$runs kbtables=${KB_TABLES:-queue,prim,poller,user,teardown,trace,spill}"
if [ -z "${KB_NO_ERMS_RUN:-}" ]; then
	KB_QEMU_CPU=$ERMS_CPU scripts/vm/run-vm.sh \
		"/boot/vmlinuz-$debkver" "$top/build/initrd-bench.cpio" bench \
		"${KB_LIMIT:-900}" "$log_erms" \
		"kbatch_bench.runs=${KB_ERMS_RUNS:-3} kbtables=user-goals"
else
	rm -f "$log_erms"
fi
# Deterministic figures: guest instructions per op, counted by the kb_insn
# plugin in a one-vCPU boot (one run of each one-CPU figure).
if [ -z "${KB_NO_INSN_RUN:-}" ]; then
	KB_QEMU_CPU=${KB_QEMU_CPU:-$BENCH_CPU} KB_QEMU_SMP=1 \
	KB_QEMU_ARGS="-plugin $obj/kb_insn.so -d plugin" scripts/vm/run-vm.sh \
		"/boot/vmlinuz-$debkver" "$top/build/initrd-bench.cpio" bench \
		"${KB_LIMIT:-900}" "$log_insn" \
		"kbatch_bench.tasks=${KB_TASKS:-8192} kbatch_bench.runs=1 kbatch_bench.insn=1 kbtables=${KB_INSN_TABLES:-queue,poller,user-insn,trace}"
else
	rm -f "$log_insn"
fi
logs=("$log")
[ -f "$log_erms" ] && logs+=("$log_erms")
status=0
insn=()
[ -f "$log_insn" ] && insn=(--insn "$log_insn")
bench/report.py "${insn[@]}" "$top/build/results" "${logs[@]}" || status=1
cp "$top/build/results/summary.md" "$top/bench/README.md.new" 2>/dev/null &&
	mv "$top/bench/README.md.new" "$top/bench/README.md"
# A figure that failed, a kernel report (scripts/results.py's list) or a
# VM that never finished make the numbers suspect: say so and fail.
[ -f "$log_insn" ] && logs+=("$log_insn")
for l in "${logs[@]}"; do
	if grep -a "@kb bench-error" "$l" >&2; then status=1; fi
	grep -aq '^@kb done' "$l" || { echo "kbatch: the VM did not finish ($l)" >&2; status=1; }
done
bench/report.py --bugs "${logs[@]}" || status=1
exit $status
