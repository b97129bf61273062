#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot KERNEL with INITRD in QEMU (software emulation, 4 CPUs), run PLAN
# (see scripts/vm/init), and copy the serial console to LOG (and to stdout
# with KBATCH_VERBOSE=1).
# The VM is killed after TIMEOUT seconds; results.py then finds no
# "@kb done" and fails the run.  KB_QEMU_CPU overrides QEMU's CPU model,
# KB_QEMU_SMP its vCPU count; KB_QEMU_ARGS adds arguments (`make bench`).
#
# The CPU model is QEMU's "max" without ERMS and FSRM: with them the
# kernel copies and clears memory with rep movsb/stosb, which TCG runs a
# byte at a time; without them it uses its word-at-a-time routines.  A
# check boot takes about 40% less time so (152 against 259 s of the 6.1
# debug kernel's check plan).  `make bench` sets its CPU models itself.
#
# no_timer_check: under emulation on a busy host the kernel's early check
# that the IO-APIC timer ticks can miss its window and panic ("IO-APIC +
# timer doesn't work!"); seen with Debian's 6.12-rt kernel.
#
# pty.legacy_count=0: the debug kernels (scripts/build-kernel.sh) have
# CONFIG_LEGACY_PTYS, whose 256 pairs of devices took 7 of the 6.1 debug
# kernel's 15 s to init (pty_init, by initcall_debug); nothing here uses
# them, and Debian's own kernels have none.
#
# Usage: run-vm.sh KERNEL INITRD PLAN TIMEOUT LOG [EXTRA-CMDLINE]
set -uo pipefail

kernel=$1 initrd=$2 plan=$3 limit=$4 log=$5 extra=${6:-}
mkdir -p "$(dirname "$log")"

# shellcheck disable=SC2086 # KB_QEMU_ARGS: one word per argument
timeout -k 10 "$limit" qemu-system-x86_64 \
	-machine pc -cpu "${KB_QEMU_CPU:-max,la57=off,erms=off,fsrm=off}" -smp "${KB_QEMU_SMP:-4}" -m 2G -accel tcg,thread=multi \
	-display none -monitor none -serial stdio -no-reboot \
	${KB_QEMU_ARGS:-} -kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=7 panic=-1 no_timer_check pty.legacy_count=0 kbplan=$plan $extra" \
	</dev/null 2>&1 | tee "$log" | { [ -n "${KBATCH_VERBOSE:-}" ] && cat || cat >/dev/null; }
exit 0
