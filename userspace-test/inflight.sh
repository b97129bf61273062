#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Close and unload with work in flight, from the VM's /vmtests (TAP).
# Eight processes each submit 16 asynchronous batches of 256 entries
# (NOP, ECHO, SUM, test.agg and TIMERs of up to 3 s) and exit without
# reading a completion, so their files close with thousands of ops and
# timers in flight; then kbatch_testops and kbatch unload at once, load
# again and work, and the kernel has reported nothing.  Expects kbatch
# loaded and kbatch_testops not; leaves them so.
KO=/modules/kbatch.ko
TO=/modules/kbatch_testops.ko
REPORTS='BUG:|WARNING:|KASAN|UBSAN|Oops|Call Trace:|refcount_t:|ODEBUG:'
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); echo "not ok $n $*"; }
loaded() { grep -q "^$1 " /proc/modules; }

echo "1..5"
before=$(dmesg | grep -cE "$REPORTS")

insmod $TO
entries=
i=0
while [ $i -lt 64 ]; do
	entries="$entries nop echo:$i sum:$i timer:$((i * 50000000))"
	[ $((i % 8)) -eq 0 ] && entries="$entries test.agg:$i"
	i=$((i + 1))
done
p=0
while [ $p -lt 8 ]; do
	# shellcheck disable=SC2086
	kbatch flood 16 $entries >/tmp/flood.$p 2>&1 &
	p=$((p + 1))
done
fail=0
for job in $(jobs -p); do
	wait "$job" || fail=$((fail + 1))
done
cat /tmp/flood.* | sed 's/^/# /'
taken=$(cat /tmp/flood.* | sed -n 's/^flood: \([0-9]*\) entries.*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
# Each process gets at least one batch of 256 in (more up to cq_entries).
if [ $fail -eq 0 ] && [ "$taken" -ge 2048 ]; then
	ok "8 processes closed with $taken entries submitted"
else
	notok "8 processes closed with $taken entries submitted ($fail failed)"
fi

if rmmod kbatch_testops && rmmod kbatch && ! loaded kbatch; then
	ok "rmmod kbatch_testops and kbatch with timers in flight"
else
	notok "rmmod kbatch_testops and kbatch with timers in flight"
fi

if { loaded kbatch || insmod $KO; } && insmod $TO &&
   kbatch submit echo:7 test.agg:2 test.agg:3 | grep -q -- '-> 7$'; then
	ok "insmod again, and the ops work"
else
	notok "insmod again, and the ops work"
fi

if rmmod kbatch_testops && loaded kbatch; then
	ok "kbatch_testops unloads, kbatch stays"
else
	notok "kbatch_testops unloads, kbatch stays"
fi

after=$(dmesg | grep -cE "$REPORTS")
if [ "$after" -eq "$before" ]; then
	ok "no kernel report"
else
	notok "no kernel report ($((after - before)) new lines)"
	dmesg | grep -E "$REPORTS" | tail -5 | sed 's/^/# /'
fi
rm -f /tmp/flood.*
