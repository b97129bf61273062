#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) a debug kernel the VM tests boot, from one of Debian's
# linux-source packages and the config fragments in this folder:
#
#   debug     linux-source-6.1,  tinyconfig + debug.config
#   kcsan     linux-source-6.1,  tinyconfig + debug.config + kcsan.config
#   rt-debug  linux-source-6.12, tinyconfig + debug.config + rt-debug.config
#             (PREEMPT_RT, with PROVE_RAW_LOCK_NESTING)
#
# The tree is cached in $KBATCH_CACHE (default ~/.cache/kbatch) under a key
# made of the fragments and the source package version, so a fresh clone on
# the same machine reuses it, and it is rebuilt only when one of those
# changes.  build/kernel-<variant> in the repository links to it, and
# build/linux-src (6.1) or build/linux-src-<series> to the unpacked source.
# Two builds of one variant never run at once: the second waits for the
# first (flock) and then finds it cached.
#
# The kernel build's own output (warnings included) goes to the log
# <cache>/kernel-<variant>-<key>.log; stderr gets progress lines only.
#
# Usage: build-kernel.sh [debug|kcsan|rt-debug]   prints the build directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
variant=${1:-debug}
cache=${KBATCH_CACHE:-$HOME/.cache/kbatch}
jobs=$(nproc)

frags=("$here/debug.config")
series=6.1
case "$variant" in
debug) ;;
kcsan) frags+=("$here/kcsan.config") ;;
rt-debug)
	frags+=("$here/rt-debug.config")
	series=6.12
	;;
*)
	echo "build-kernel.sh: unknown variant '$variant'" >&2
	exit 1
	;;
esac

srcpkg=$("$here/kernels.sh" "$series" source)
version=$(dpkg-query -W -f='${Version}' "$srcpkg")
key=$( (cat "${frags[@]}"; echo "$version") | sha256sum | cut -c1-12)
# "~" (6.12.117-1~deb12u1) has no place in a path make is given.
src=$cache/src-${version//[^A-Za-z0-9.+-]/_}
out=$cache/kernel-$variant-$key
log=$out.log
srclink=$top/build/linux-src
[ "$series" = 6.1 ] || srclink=$top/build/linux-src-$series

mkdir -p "$cache" "$top/build"
ln -sfn "$out" "$top/build/kernel-$variant"

progress() { echo "kbatch: $variant kernel: $*" >&2; }

exec 9>"$out.lock"
flock 9

if [ ! -f "$src/.kbatch-done" ]; then
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 \
		-xf "/usr/src/$srcpkg.tar.xz"
	touch "$src.tmp/.kbatch-done"
	mv "$src.tmp" "$src"
fi
ln -sfn "$src" "$srclink"

if [ -f "$out/.kbatch-done" ]; then
	echo "$out"
	exit 0
fi

start=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
progress "building from $srcpkg $version in $out (log: $log)"
: >"$log"
make -s -C "$src" O="$out" tinyconfig >>"$log" 2>&1
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"${frags[@]}" >>"$log" 2>&1
make -s -C "$src" O="$out" olddefconfig >>"$log" 2>&1

# Every option the fragments ask for must have survived olddefconfig:
# a silently dropped dependency would otherwise test less than we claim.
# A later fragment's line overrides an earlier one's, as in merge_config.
awk '
	/^CONFIG_/ { split($0, kv, "="); want[kv[1]] = kv[2]; next }
	/^# CONFIG_.* is not set/ { want[$2] = "n" }
	END { for (k in want) print k, want[k] }
' "${frags[@]}" | while read -r opt val; do
	got=$(grep -E "^$opt=" "$out/.config" | cut -d= -f2- || true)
	[ -z "$got" ] && got=n
	if [ "$got" != "$val" ]; then
		echo "kbatch: $opt is '$got' after olddefconfig, fragment wants '$val'" >&2
		exit 1
	fi
done

progress "configured; compiling with -j$jobs"
if ! make -s -C "$src" O="$out" -j"$jobs" bzImage modules >>"$log" 2>&1; then
	progress "FAILED after $(($(date +%s) - start)) s; last lines of $log:"
	tail -n 20 "$log" >&2
	exit 1
fi
touch "$out/.kbatch-done"
progress "built in $(($(date +%s) - start)) s"
echo "$out"
