#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make bench`, inside the VM (/bin/bench.sh): load kbatch and
# kbatch_bench.ko, run the tables named by kbtables= on the kernel command
# line (default: queue,prim,poller,user,teardown,trace,spill; "user" is table 3, run
# by /bin/kbatch_ubench, "user-goals" only its NOP figures of the goals,
# "user-insn" its one-thread figures once each for the kb_insn plugin),
# then time `rmmod kbatch` from user space.
# Options kbatch_bench.NAME=VALUE on the command line become module
# parameters (insmod, unlike modprobe, does not read them there).
say() { echo "@kb $*"; }

# Monotonic nanoseconds (busybox date has no %N).
now() { awk '/^now at/ { print $3; exit }' /proc/timer_list; }

args=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kbatch_bench\.//p')
tables=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kbtables=//p')
runs=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kbatch_bench\.runs=//p')

# What the figures ran on: QEMU's CPU model, and whether the kernel's
# copies use "rep movsb" (ERMS), which TCG runs a byte at a time.
model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
erms=no
grep -qw erms /proc/cpuinfo && erms=yes
say "bench-cpu $model; erms $erms"

insmod /modules/kbatch.ko || say "bench-error insmod kbatch"
# shellcheck disable=SC2086 # one word per parameter
insmod /modules/kbatch_bench.ko $args || say "bench-error insmod kbatch_bench"
for t in $(echo "${tables:-queue,prim,poller,user,teardown,trace,spill}" | tr , ' '); do
	say "bench-begin $t"
	if [ "$t" = user ] || [ "$t" = user-goals ] || [ "$t" = user-insn ]; then
		# Table 3, from user space; kbatch_nopdev.ko gives the floor,
		# kbatch_kv.ko the kv ops of the mixed figure.
		insmod /modules/kbatch_nopdev.ko
		insmod /modules/kbatch_kv.ko
		what=all
		[ "$t" = user-goals ] && what=goals
		[ "$t" = user-insn ] && what=insn
		/bin/kbatch_ubench "${runs:-5}" "$what" || say "bench-error user"
		rmmod kbatch_kv
		rmmod kbatch_nopdev
	else
		echo "$t" >/sys/kernel/debug/kbatch_bench/run ||
			say "bench-error $t"
	fi
	say "bench-end $t"
done
rmmod kbatch_bench

# Unload time of an idle kbatch: one warm-up, then ${runs:-5} timed runs.
# The cost of one now() is measured right after and subtracted.
i=0
while [ "$i" -le "${runs:-5}" ]; do
	[ "$i" -gt 0 ] && insmod /modules/kbatch.ko
	t0=$(now)
	rmmod kbatch
	t1=$(now)
	t2=$(now)
	[ "$i" -gt 0 ] && say "bench-sample teardown,rmmod-kbatch,$(grep -c ^processor /proc/cpuinfo),0,$(( (t1 - t0) - (t2 - t1) ))"
	i=$((i + 1))
done
