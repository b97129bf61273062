#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: kbatch against the kernel's own primitives, side by side in
# one boot of Debian's own kernel (no debug options) in QEMU.
#
#   1. build kbatch.ko and bench/kbatch_bench.ko against Debian's headers,
#      in a copy of the sources (build/obj-bench);
#   2. boot /boot/vmlinuz-<Debian version> with an initramfs whose
#      /bin/bench.sh (scripts/vm/bench.sh) loads them and runs every table;
#   3. scripts/bench_report.py turns the "@kb bench" lines of the console
#      log (build/logs/bench.log) into CSV, ratios and gnuplot PNGs under
#      build/results/, and prints the tables.
#
# Environment: KB_TASKS (tasks per producer per run, default 16384),
# KB_UOPS (table 3: ops per thread per run, default 16384),
# KB_RUNS (timed runs per figure, default 7), KB_TABLES (default
# queue,prim,poller,user,teardown).
#
# `scripts/bench.sh --build KDIR...` only builds the modules, W=1, against
# each kernel tree given, and the user-space program (scripts/check.sh uses
# it so the bench cannot rot).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

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

# build_ubench OUT: table 3's program, static, with Debian's liburing.a.
build_ubench() {
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -static -pthread \
		-I include/uapi -o "$1" userspace-test/bench/kbatch_ubench.c -luring
}

if [ "${1:-}" = --build ]; then
	shift
	n=0
	for kdir in "$@"; do
		build_bench "$top/build/obj-bench-$n" "$kdir"
		n=$((n + 1))
	done
	build_ubench "$top/build/obj-bench-0/kbatch_ubench"
	exit 0
fi

scripts/deps.sh
debkver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	  sed -n 's/^linux-headers-\([^ ]*\).*/\1/p')
obj=$top/build/obj-bench
mkdir -p "$top/build/logs"
build_bench "$obj" "/lib/modules/$debkver/build" -s >/dev/null
build_ubench "$obj/kbatch_ubench"
scripts/vm/mkinitramfs.sh "$top/build/initrd-bench.gz" "$obj" /nonexistent \
	"$top/scripts/vm/bench.sh:bin/bench.sh" \
	"$obj/kbatch_ubench:bin/kbatch_ubench"
log=$top/build/logs/bench.log
echo "kbatch: benchmarks in QEMU (Debian $debkver), about 4 minutes;" \
	"console in $log" >&2
scripts/vm/run-vm.sh "/boot/vmlinuz-$debkver" \
	"$top/build/initrd-bench.gz" bench "${KB_LIMIT:-1500}" "$log" \
	"kbatch_bench.tasks=${KB_TASKS:-16384} kbatch_bench.runs=${KB_RUNS:-7} kbuops=${KB_UOPS:-16384} kbtables=${KB_TABLES:-queue,prim,poller,user,teardown}"
scripts/bench_report.py "$log" "$top/build/results"
# A figure that failed, a kernel report or a VM that never finished make
# the numbers suspect: say so and fail.
status=0
if grep -a "@kb bench-error" "$log" >&2; then status=1; fi
if grep -aE "BUG:|WARNING:|Oops|Call Trace:|blocked for more than" "$log" >&2; then
	status=1
fi
grep -aq '^@kb done' "$log" || { echo "kbatch: the VM did not finish" >&2; status=1; }
exit $status
