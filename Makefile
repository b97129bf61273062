# SPDX-License-Identifier: GPL-2.0
#
# kbatch: `make` builds the modules against the installed Debian headers;
# `make run` boots the debug kernel with kbatch and a demo; `make check`
# runs every test and static check (see README.md).

DEB_KVER := $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/^linux-headers-\([^ ]*\).*/\1/p')
KDIR ?= /lib/modules/$(DEB_KVER)/build

.PHONY: all modules clean check run bench deps torture

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf userspace-test/bin

deps:
	scripts/deps.sh

check:
	KCSAN=$(KCSAN) scripts/check.sh

run:
	scripts/run.sh

bench:
	scripts/bench.sh

# TORTURE_SECS (default 600), KCSAN=1, FAILSLAB=1, TRINITY=0: torture/run.sh
torture:
	KCSAN=$(KCSAN) FAILSLAB=$(FAILSLAB) torture/run.sh
