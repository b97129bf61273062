# SPDX-License-Identifier: GPL-2.0
#
# Shell functions shared by the scripts that build kbatch's modules out of
# the source tree (check.sh, run.sh): source it from the top of the tree.
# A Debian kernel's version, image and headers come from scripts/kernels.sh;
# the kernel-bug patterns every VM log is judged by live in
# scripts/results.py (report.py --bugs uses them too).

# stage_modules OBJ: a fresh copy in OBJ of what Kbuild builds (the core,
# the service, the KUnit suites and the samples), so that the objects of
# different kernels never mix.
stage_modules() {
	rm -rf "$1"
	mkdir -p "$1"
	cp -r Kbuild include kmod kunit "$1/"
	[ -d samples ] && cp -r samples "$1/"
	return 0
}
