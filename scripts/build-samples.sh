#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build each module in samples/ on its own, against the Module.symvers of a
# kbatch already built in OBJ (as an out-of-tree user of kbatch would).
#
# Usage: build-samples.sh OBJ KDIR [MAKE-ARGS...]
set -euo pipefail

obj=$1 kdir=$2
shift 2
for dir in "$obj"/samples/*/; do
	[ -f "$dir/Kbuild" ] || continue
	make -C "$kdir" M="${dir%/}" KBUILD_EXTRA_SYMBOLS="$obj/Module.symvers" \
		"$@" modules
done
