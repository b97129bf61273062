#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module unload, from the VM's /vmtests (TAP).  An open /dev/kbatch pins
# the module, and so does a module that uses kbatch's exported symbols
# (samples/kbatch_kv) until it is unloaded itself; once they are gone the
# module unloads and loads again; then 20 load/unload cycles with traffic
# in between.  Leaves kbatch loaded.
KO=/modules/kbatch.ko
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); echo "not ok $n $*"; }
loaded() { grep -q "^kbatch " /proc/modules; }

echo "1..6"

exec 3</dev/kbatch
if err=$(rmmod kbatch 2>&1); then
	notok "rmmod refused while /dev/kbatch is open"
	insmod $KO
else
	# Linux 6.1 answers EWOULDBLOCK (EAGAIN) for a module in use.
	echo "# rmmod said: $err"
	if loaded; then ok "rmmod refused while /dev/kbatch is open"
	else notok "rmmod refused while /dev/kbatch is open"; fi
fi
exec 3<&-

if insmod /modules/kbatch_kv.ko; then
	if rmmod kbatch 2>/dev/null || ! loaded; then
		notok "rmmod refused while kbatch_kv uses kbatch"
		insmod $KO
	elif ! rmmod kbatch_kv; then
		notok "rmmod refused while kbatch_kv uses kbatch (kbatch_kv stuck)"
	else
		ok "rmmod refused while kbatch_kv uses kbatch"
	fi
else
	notok "rmmod refused while kbatch_kv uses kbatch (insmod kbatch_kv)"
fi

if rmmod kbatch && ! loaded; then ok "rmmod after close"
else notok "rmmod after close"; fi
if insmod $KO && [ -c /dev/kbatch ]; then ok "fresh insmod"
else notok "fresh insmod"; fi

fail=0
i=0
while [ $i -lt 20 ]; do
	rmmod kbatch || fail=$((fail + 1))
	insmod $KO || fail=$((fail + 1))
	kbatch info >/dev/null || fail=$((fail + 1))
	i=$((i + 1))
done
if [ $fail -eq 0 ]; then ok "20 unload/load cycles with traffic"
else notok "20 unload/load cycles with traffic ($fail failures)"; fi

if loaded && kbatch info >/dev/null; then ok "kbatch loaded and working at the end"
else notok "kbatch loaded and working at the end"; fi
