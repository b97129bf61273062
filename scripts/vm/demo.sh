#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make run`: what the VM shows with kbatch (and kbatch_kv) loaded.
run() {
	echo "\$ $*"
	"$@"
	echo
}

echo "@kb demo-begin"
run kbatch info
run kbatch lookup nop echo sum timer kv.put kv.get kv.del kv.clear
# Built-in ops: a run of SUMs is one batch; each learns the batch's sum.
run kbatch submit nop echo:42 sum:1 sum:2 sum:3 sum:4 echo:7 200
run kbatch submit -a echo:1 echo:2 sum:10 sum:20
# TIMER (async only) completes through the fair poller, after the rest.
run kbatch submit -a timer:200000000 echo:1 timer:100000000
# kbatch_kv: one mutex round trip per batch of puts, gets or dels.
run kbatch submit kv.put:1:100 kv.put:2:200 kv.put:3:300 \
	kv.get:1 kv.get:2 kv.get:3 kv.get:4
run kbatch submit -a kv.del:2 kv.get:2 kv.del:2 kv.get:3
run kbatch submit kv.clear
# What /dev/kbatch did: each submit ran its own entries, one handler call
# per run of one op (runs: fewer than entries); TIMERs were deferred.
run cat /sys/kernel/debug/kbatch-dev/stats
echo "@kb demo-end"
