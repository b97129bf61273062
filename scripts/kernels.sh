#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which Debian kernels kbatch is built and tested against: the one place
# that turns a kernel *flavour* into Debian package names and versions.
#
#   6.1      Debian 12's own kernel (linux-image-amd64, linux-headers-amd64)
#   6.12     Debian 12's 6.12 (the kernel of Debian 13), from the security
#            archive: linux-image-<rel>-unsigned, linux-headers-<rel>
#   6.12-rt  the same, PREEMPT_RT flavour (<rel> ends in -rt-amd64)
#
# A flavour's version is the installed one if its package is installed,
# else apt's candidate: 6.1 follows linux-headers-amd64, 6.12 follows
# linux-source-6.12 (the source of the RT debug kernel), and the 6.12
# image and headers are taken at exactly that version, so the stock kernel
# and the debug kernel are the same release.
#
# Usage: kernels.sh FLAVOUR FIELD
#   release   the kernel release (uname -r), e.g. 6.12.117+deb12-rt-amd64
#   kdir      the headers to build modules against (/lib/modules/<rel>/build)
#   vmlinuz   the kernel image the VM boots
#   packages  what deps.sh installs for it (NAME or NAME=VERSION)
#   source    the linux-source package of its series (linux-source-6.1)
#   version   that source package's version
# or: kernels.sh list   the flavours, one a line.
set -euo pipefail

flavours=(6.1 6.12 6.12-rt)

# pkgver PACKAGE: the installed version, else apt's candidate.
pkgver() {
	local v
	v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
	    sed -n 's/^install ok installed //p')
	[ -n "$v" ] || v=$(apt-cache policy "$1" 2>/dev/null |
			    sed -n 's/^ *Candidate: //p')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		echo "kernels.sh: no version of $1 in apt (apt-get update?)" >&2
		exit 1
	fi
	echo "$v"
}

# rel_61: the release linux-headers-amd64 (installed or candidate) points at.
rel_61() {
	local v
	v=$(dpkg-query -W -f='${Status} ${Depends}' linux-headers-amd64 2>/dev/null |
	    sed -n 's/^install ok installed linux-headers-\([^ ,]*\).*/\1/p')
	[ -n "$v" ] || v=$(apt-cache depends linux-headers-amd64 2>/dev/null |
			    sed -n 's/^ *Depends: linux-headers-\([^ ]*\).*/\1/p' |
			    head -n1)
	[ -n "$v" ] || { echo "kernels.sh: cannot resolve linux-headers-amd64" >&2; exit 1; }
	echo "$v"
}

# Debian 12's 6.12 packages are named after "<upstream>+deb12": version
# 6.12.117-1~deb12u1 is release 6.12.117+deb12-amd64.
abi_612() {
	echo "${1%%-*}+deb12"
}

[ "${1:-}" = list ] && { printf '%s\n' "${flavours[@]}"; exit 0; }
flavour=${1:?usage: kernels.sh FLAVOUR FIELD}
field=${2:?usage: kernels.sh FLAVOUR FIELD}

case "$flavour" in
6.1)
	source=linux-source-6.1
	case "$field" in
	release|kdir|vmlinuz) rel=$(rel_61) ;;
	esac
	pkgs="linux-headers-amd64 linux-image-amd64"
	;;
6.12|6.12-rt)
	source=linux-source-6.12
	ver=$(pkgver "$source")
	rel=$(abi_612 "$ver")-amd64
	[ "$flavour" = 6.12-rt ] && rel=$(abi_612 "$ver")-rt-amd64
	pkgs="linux-image-$rel-unsigned=$ver linux-headers-$rel=$ver"
	;;
*)
	echo "kernels.sh: unknown flavour '$flavour' (one of: ${flavours[*]})" >&2
	exit 1
	;;
esac

case "$field" in
release)  echo "$rel" ;;
kdir)     echo "/lib/modules/$rel/build" ;;
vmlinuz)  echo "/boot/vmlinuz-$rel" ;;
packages) echo "$source $pkgs" ;;
source)   echo "$source" ;;
version)  pkgver "$source" ;;
*)
	echo "kernels.sh: unknown field '$field'" >&2
	exit 1
	;;
esac
