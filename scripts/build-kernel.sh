#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the debug kernel the VM tests boot, from Debian's
# linux-source-6.1 and the config fragments in this folder.
#
# The tree is cached in $KBATCH_CACHE (default ~/.cache/kbatch) under a key
# made of the fragments and the source package version, so a fresh clone on
# the same machine reuses it, and it is rebuilt only when one of those
# changes.  build/kernel-<variant> in the repository links to it.
#
# Usage: build-kernel.sh [debug|kcsan]   prints the build directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
variant=${1:-debug}
cache=${KBATCH_CACHE:-$HOME/.cache/kbatch}
jobs=$(nproc)

frags=("$here/debug.config")
[ "$variant" = kcsan ] && frags+=("$here/kcsan.config")

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "${frags[@]}"; echo "$version") | sha256sum | cut -c1-12)
src=$cache/src-$version
out=$cache/kernel-$variant-$key

mkdir -p "$cache" "$top/build"
ln -sfn "$out" "$top/build/kernel-$variant"

if [ ! -f "$src/.kbatch-done" ]; then
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz
	touch "$src.tmp/.kbatch-done"
	mv "$src.tmp" "$src"
fi
ln -sfn "$src" "$top/build/linux-src"

if [ -f "$out/.kbatch-done" ]; then
	echo "$out"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
echo "kbatch: building the $variant kernel in $out (about 10 minutes)" >&2
make -s -C "$src" O="$out" tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"${frags[@]}" >/dev/null
make -s -C "$src" O="$out" olddefconfig >&2

# Every option the fragments ask for must have survived olddefconfig:
# a silently dropped dependency would otherwise test less than we claim.
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

make -s -C "$src" O="$out" -j"$jobs" bzImage modules >&2
touch "$out/.kbatch-done"
echo "$out"
