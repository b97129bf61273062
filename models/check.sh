#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the Promela models exhaustively with spin (Debian's spin package):
# every model must hold for every size, and every mutation (-DM_..., each
# a reordering or removal in the code the model mirrors) must be caught by
# the assertion that names it, which shows that the model can fail.
#
# Prints one "@kb step ok|fail NAME" line per run (scripts/results.py
# counts them); exits non-zero if any failed.  Safety runs only (-DSAFETY):
# assertions and invalid end states (a task waiting for ever), full state
# space, no depth limit reached.
#
# A verdict depends only on the model, the run's defines and expectation,
# this script, spin and gcc: a run whose key (their hash) has passed before
# is not run again but reported from $KBATCH_CACHE/models (default
# ~/.cache/kbatch), as a kernel whose config did not change is not
# rebuilt.  KBATCH_MODELS_FRESH=1 runs every model anyway.
#
# Usage: models/check.sh [WORKDIR]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
status=0
cache=${KBATCH_CACHE:-$HOME/.cache/kbatch}/models
mkdir -p "$cache"
tools=$( (spin -V; gcc --version | head -1; cat "$here/check.sh") 2>&1 |
	sha256sum | cut -c1-16)

say() { echo "@kb step $*"; }

# pass VERDICT: report a run that passed, and remember it under $key.
pass() {
	say "$1"
	echo "$1" >"$cache/$key.$$" && mv "$cache/$key.$$" "$cache/$key"
}

# verify MODEL NAME EXPECT DEFINES...: EXPECT is "pass", or a string the
# error report must contain.
verify() {
	local model=$1 name=$2 expect=$3 dir out key
	shift 3
	dir=$work/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$here/$model" "$dir/"
	key=$(cat "$here/$model" <(echo "$tools $expect $*") | sha256sum |
	      cut -c1-32)
	if [ -z "${KBATCH_MODELS_FRESH:-}" ] && [ -s "$cache/$key" ]; then
		say "$(cat "$cache/$key") (verdict cached: same model, defines and tools)"
		return
	fi
	# A mutation's counterexample is found in a few thousand states:
	# compiling pan.c unoptimised saves more than the search loses.
	opt=-O2
	[ "$expect" = pass ] || opt=-O0
	out=$(cd "$dir" && spin -a "$@" "$model" 2>&1 &&
	      gcc "$opt" -w -DSAFETY -o pan pan.c 2>&1 && ./pan -m1000000 2>&1)
	echo "$out" >"$dir/pan.out"
	if [ "$expect" = pass ]; then
		if echo "$out" | grep -q "errors: 0" &&
		   ! echo "$out" | grep -qE "max search depth too small|search not completed"; then
			pass "ok model $name holds ($(echo "$out" |
				sed -n 's/^ *\([0-9]*\) states, stored.*/\1 states/p'))"
			return
		fi
	elif echo "$out" | grep -q "errors: [1-9]" &&
	     echo "$out" | grep -qF -- "$expect"; then
		pass "ok model $name fails as it must ($expect)"
		return
	fi
	say "fail model $name: expected $expect; see $dir/pan.out"
	status=1
}

for size in 2 4 8; do
	verify ring.pml "ring-size$size" pass -DSIZE=$size
done
# The mutations, on the smallest ring, which fills and wraps its slots.
verify ring.pml ring-M_WRAP_LT "blen>=1" -DSIZE=2 -DM_WRAP_LT
verify ring.pml ring-M_NO_FULL "head==" -DSIZE=2 -DM_NO_FULL
verify ring.pml ring-M_STORE_AFTER_CONFIRM "pos_of[t]" -DSIZE=2 -DM_STORE_AFTER_CONFIRM
verify ring.pml ring-M_KEEP_CLOSED "ran[t]==0" -DSIZE=2 -DM_KEEP_CLOSED
verify ring.pml ring-M_RELEASE_UNORDERED "head==" -DSIZE=2 -DM_RELEASE_UNORDERED
verify ring.pml ring-M_NO_CLEAR "k<=" -DSIZE=2 -DM_NO_CLEAR
verify ring.pml ring-M_NO_WALK "head==" -DSIZE=2 -DM_NO_WALK
# Background mode: local reserve-then-fill with an interrupting producer,
# local and remote bounds.  Three pushes each fill the two-slot ring.
for size in 2 4; do
	verify ring.pml "ring-bg-size$size" pass -DBG -DSIZE=$size -DPUSHES=3
done
verify ring.pml ring-bg-M_FILL_FIRST "pos_of[t]" -DBG -DSIZE=2 -DM_FILL_FIRST
verify ring.pml ring-bg-M_NO_GP "head==" -DBG -DSIZE=2 -DM_NO_GP
verify ring.pml ring-bg-M_IGNORE_SHARED "head==" -DBG -DSIZE=2 -DM_IGNORE_SHARED
verify ring.pml ring-bg-M_REMOTE_LOCAL_RMW "ran[k]==accepted[k]" -DBG -DSIZE=2 -DM_REMOTE_LOCAL_RMW
verify ring.pml ring-bg-M_KEEP_CLOSED "ran[t]==0" -DBG -DSIZE=2 -DM_KEEP_CLOSED
verify ring.pml ring-bg-M_WRAP_LT "blen>=1" -DBG -DSIZE=2 -DM_WRAP_LT

# Spill lanes: producers on any CPU, the lane's work, a shutdown at any
# moment.  Four values overfill the two-slot lane and wrap its positions.
for size in 2 4; do
	verify spill.pml "spill-size$size" pass -DSIZE=$size
done
verify spill.pml spill-M_NO_SEQ "pos_of[v]" -DM_NO_SEQ
verify spill.pml spill-M_SEQ_FIRST "pos_of[v]" -DM_SEQ_FIRST
verify spill.pml spill-M_RELEASE_EARLY "pos_of[v]" -DM_RELEASE_EARLY
verify spill.pml spill-M_QUEUE_FIRST "head==tail" -DM_QUEUE_FIRST
verify spill.pml spill-M_QUEUE_IF_EMPTY "head==tail" -DM_QUEUE_IF_EMPTY
verify spill.pml spill-M_ROOM_WRAP "head==tail" -DM_ROOM_WRAP
verify spill.pml spill-M_NO_GP "ran[k]==accepted[k]" -DM_NO_GP

verify wakeset.pml wakeset pass
verify wakeset.pml wakeset-budget2 pass -DBUDGET=2
verify wakeset.pml wakeset-M_PARENT_FIRST "top==0" -DM_PARENT_FIRST
verify wakeset.pml wakeset-M_CHILD_FIRST "top==0" -DM_CHILD_FIRST
verify wakeset.pml wakeset-M_READ_THEN_CLEAR "inws[b]" -DM_READ_THEN_CLEAR
verify wakeset.pml wakeset-M_NO_KICK_IF_RUNNING "top==0" -DM_NO_KICK_IF_RUNNING
verify wakeset.pml wakeset-M_DRAIN_EACH_SLICE "polled[b]<=1" -DM_DRAIN_EACH_SLICE
# Cancel mode: the lockless poll against kbatch_poller_cancel().  With a
# budget of 2 an item's poll can follow the cancelled one in the same slice
# (its publication wakes the canceller); with 1 the slice end always does.
for budget in 1 2; do
	verify wakeset.pml "wakeset-cancel-budget$budget" pass -DCANCEL -DBUDGET=$budget
done
verify wakeset.pml wakeset-cancel-M_NO_RECHECK "freed" -DCANCEL -DM_NO_RECHECK
verify wakeset.pml wakeset-cancel-M_NO_PUBLISH_MB "freed" -DCANCEL -DM_NO_PUBLISH_MB
verify wakeset.pml wakeset-cancel-M_CANCEL_RUNNING_FIRST "freed" -DCANCEL -DM_CANCEL_RUNNING_FIRST
verify wakeset.pml wakeset-cancel-M_NO_PUBLISH_WAKE "csleeps" -DCANCEL -DBUDGET=2 -DM_NO_PUBLISH_WAKE
verify wakeset.pml wakeset-cancel-M_WAKE_BEFORE_PUBLISH "csleeps" -DCANCEL -DBUDGET=2 -DM_WAKE_BEFORE_PUBLISH
verify wakeset.pml wakeset-cancel-M_NO_CANCEL_RECHECK "csleeps" -DCANCEL -DM_NO_CANCEL_RECHECK
verify wakeset.pml wakeset-cancel-M_NO_CANCEL_RECHECK-liveness "invalid end state" -DCANCEL -DLIVENESS_ONLY -DM_NO_CANCEL_RECHECK
verify wakeset.pml wakeset-cancel-M_NO_SLICE_END_WAKE "invalid end state" -DCANCEL -DM_NO_SLICE_END_WAKE
verify wakeset.pml wakeset-cancel-M_NO_SLICE_END_MB "invalid end state" -DCANCEL -DM_NO_SLICE_END_MB
verify wakeset.pml wakeset-cancel-M_SLICE_END_WAKE_IF_POLLED "invalid end state" -DCANCEL -DM_SLICE_END_WAKE_IF_POLLED
verify wakeset.pml wakeset-cancel-M_SELF_WAIT "invalid end state" -DCANCEL -DM_SELF_WAIT
verify wakeset.pml wakeset-cancel-M_DONE_UNCHECKED "retires<=1" -DCANCEL -DM_DONE_UNCHECKED

[ -z "${1:-}" ] && rm -rf "$work"
exit $status
