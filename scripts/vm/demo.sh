#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make run`: what the VM shows with kbatch loaded.
echo "@kb demo-begin"
echo "\$ kbatch info"
kbatch info
echo "@kb demo-end"
