#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The "torture" plan of the test VM (scripts/vm/init runs it as
# /bin/torture.sh): load kbatch and kbatch_torture, run user-space
# submitters and trinity against /dev/kbatch alongside, wait for the
# module's verdict, unload.  Settings come from the kernel command line
# (torture/run.sh sets them): kbt_secs (run time), kbt_seed (0: random),
# kbt_failslab (1: failslab at a low probability on the torture threads
# and the submitters), kbt_trinity (0: no trinity).
#
# Prints "@kb step ok|fail ..." and "@kb tap ..." lines for
# scripts/results.py; a FAILURE line, or no SUCCESS line, fails the run.

secs=${kbt_secs:-60}
seed=${kbt_seed:-0}
failslab=${kbt_failslab:-0}
trinity=${kbt_trinity:-1}
fs=/sys/kernel/debug/failslab

say() { echo "@kb $*"; }

step() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		say "step ok $name"
	else
		say "step fail $name: $out"
	fi
}

# failslab: 1% of the allocations of marked tasks fail, GFP_KERNEL ones
# included; quiet, so that no stack trace reaches the console.
failslab_on() {
	echo 1 >$fs/probability &&
	echo 1 >$fs/interval &&
	echo -1 >$fs/times &&
	echo 0 >$fs/space &&
	echo 0 >$fs/verbose &&
	echo Y >$fs/task-filter &&
	echo N >$fs/ignore-gfp-wait
}

# Trinity fuzzes the syscalls a file sees, with /dev/kbatch as its only
# victim file, as user nobody (it refuses to run as root).  SIGINT ends it
# in order: it prints how many syscalls it ran and their errnos (--stats).
run_trinity() {
	# The initramfs root comes from mktemp -d (0700): let nobody in.
	chmod 755 / /bin /etc 2>/dev/null
	mkdir -p /etc
	echo "root:x:0:0:root:/:/bin/sh" >/etc/passwd
	echo "nobody:x:65534:65534:nobody:/tmp:/bin/sh" >>/etc/passwd
	printf 'root:x:0:\nnogroup:x:65534:\n' >/etc/group
	cd /tmp || return 1
	su -s /bin/sh nobody -c "exec /bin/trinity -q -l off --stats -a 64 \
		-C 2 -V /dev/kbatch \
		--disable-fds=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm \
		-c ioctl -c read -c write -c readv -c writev -c pread64 \
		-c pwrite64 -c poll -c ppoll -c select -c mmap -c lseek \
		-c fcntl -c newfstat -c fsync -c dup -c splice -c sendfile" \
		>/tmp/trinity.out 2>&1 &
	tpid=$!
	sleep "$secs"
	# To all of its processes, as a ctrl-c would: its main process and
	# each child stop at once, and the first one prints the totals.
	kill -INT $(pidof trinity)
	# One stuck in a syscall is a finding.
	for i in $(seq 60); do
		kill -0 $tpid 2>/dev/null || break
		sleep 1
	done
	if pids=$(pidof trinity); then
		for p in $pids; do
			echo "trinity $p still running after SIGINT + 60 s:" \
				"$(cat /proc/$p/status | grep State)"
			cat /proc/$p/stack
		done
		kill -9 $pids
		return 1
	fi
	wait $tpid
	grep -qE "Ran [1-9][0-9]* syscalls" /tmp/trinity.out
}

verdict() {
	dmesg | grep -q "kbatch_torture: SUCCESS" &&
	! dmesg | grep -q "kbatch_torture: FAILURE"
}

step "insmod kbatch" insmod /modules/kbatch.ko
if [ "$failslab" = 1 ]; then
	step "failslab on" failslab_on
fi
step "insmod kbatch_torture" insmod /modules/kbatch_torture.ko \
	duration="$secs" seed="$seed" failslab="$failslab"

KBT_FAILSLAB=$failslab /bin/kbatch_torture_user "$secs" 4 >/tmp/user.out 2>&1 &
user=$!
if [ "$trinity" = 1 ]; then
	run_trinity &
	fuzz=$!
fi

# The verdict comes after the run, the teardown and the reconciliation.
waited=0
while ! dmesg | grep -qE "kbatch_torture: (SUCCESS|FAILURE)"; do
	[ $waited -ge $((secs + 300)) ] && break
	sleep 5
	waited=$((waited + 5))
done
wait $user
echo "exit $?" >>/tmp/user.out
sed 's/^/@kb tap torture_user /' /tmp/user.out
if [ "$trinity" = 1 ]; then
	wait $fuzz
	rc=$?
	if [ $rc -eq 0 ]; then
		sed -n '/Ran [0-9]* syscalls/,$p' /tmp/trinity.out |
			sed 's/^/trinity: /'
		say "step ok trinity on /dev/kbatch:" \
			"$(grep -oE 'Ran [0-9]+ syscalls' /tmp/trinity.out)"
	else
		tail -n 15 /tmp/trinity.out | sed 's/^/trinity: /'
		say "step fail trinity on /dev/kbatch (see the lines above)"
	fi
fi
[ "$failslab" = 1 ] && echo 0 >$fs/probability
step "kbatch_torture verdict SUCCESS" verdict
step "rmmod kbatch_torture" rmmod kbatch_torture
step "rmmod kbatch" rmmod kbatch
