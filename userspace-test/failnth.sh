#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failure, from the VM's /vmtests (TAP): insmod and every
# /dev/kbatch path with each of their allocations failing in turn, then
# kmemleak (see userspace-test/failnth.c).  Leaves kbatch loaded.
exec failnth /modules/kbatch.ko
