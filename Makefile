# SPDX-License-Identifier: GPL-2.0
#
# kbatch: `make` builds the modules against the installed Debian headers;
# `make install` installs them with the uapi header, libkbatch, the kbatch
# tool and the udev rule; `make dkms` builds and installs through DKMS for every kernel
# whose headers are installed; `make run` boots the debug kernel with kbatch
# and a demo; `make check` runs every test and static check (see README.md).

KVER ?= $(shell scripts/kernels.sh 6.1 release 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)

# Where `make install` puts things; DESTDIR stages them (no root needed).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
UDEVRULESDIR ?= /etc/udev/rules.d
# The module goes to /lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/.
INSTALL_MOD_DIR ?= updates
# The group that may open /dev/kbatch (see udev/60-kbatch.rules).
KBATCH_GROUP ?= kbatch

TOOL := build/tool/kbatch

.PHONY: all modules clean check run bench deps install install-module \
	install-files tool dkms dkms-src dkms-remove torture

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tool:
	$(MAKE) -C tools OUT=$(CURDIR)/build/tool

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf userspace-test/bin build/tool build/lib

deps:
	scripts/deps.sh

check:
	KCSAN=$(KCSAN) scripts/check.sh

run:
	scripts/run.sh

bench:
	bench/run.sh

# TORTURE_SECS (default 600), KCSAN=1, FAILSLAB=1, TRINITY=0: torture/run.sh
torture:
	KCSAN=$(KCSAN) FAILSLAB=$(FAILSLAB) torture/run.sh

# The module through Kbuild's modules_install, unsigned (Debian's headers
# ask for signing but carry no key; DKMS signs with its own MOK key), then
# depmod, except when staging into DESTDIR, where the packager's tools do it.
install: install-module install-files

install-module: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) CONFIG_MODULE_SIG_ALL= \
		modules_install
	$(if $(DESTDIR),,depmod -a $(KVER))

install-files: tool
	install -D -m 0644 include/uapi/linux/kbatch.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/kbatch.h
	$(MAKE) -C lib OUT=$(CURDIR)/build/lib PREFIX=$(PREFIX) \
		INCDIR=$(INCLUDEDIR) DESTDIR=$(DESTDIR) install
	install -D -m 0755 $(TOOL) $(DESTDIR)$(BINDIR)/kbatch
	install -D -m 0644 udev/60-kbatch.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-kbatch.rules
	@if [ -z "$(DESTDIR)" ] && ! getent group $(KBATCH_GROUP) >/dev/null; then \
		echo "kbatch: adding system group $(KBATCH_GROUP)"; \
		groupadd --system $(KBATCH_GROUP); \
	fi

# DKMS: the module's sources in $(DKMS_SRC)/kbatch-$(VERSION) (what
# `dkms add` wants), then add (once), build and install for every kernel
# whose headers are installed, or for the releases DKMS_KERNELS names.
# DKMS_OPTS passes dkms options (make check uses --sourcetree, --dkmstree
# and --installtree to stay off the machine's own trees).
DKMS_SRC ?= /usr/src
DKMS_OPTS ?=
DKMS_KERNELS ?= $(notdir $(patsubst %/build/Makefile,%,$(wildcard /lib/modules/*/build/Makefile)))
DKMS_FILES := dkms.conf Makefile Kbuild include kmod kunit scripts/kernels.sh

dkms-src:
	rm -rf $(DESTDIR)$(DKMS_SRC)/kbatch-$(VERSION)
	mkdir -p $(DESTDIR)$(DKMS_SRC)/kbatch-$(VERSION)
	cp -r --parents $(DKMS_FILES) $(DESTDIR)$(DKMS_SRC)/kbatch-$(VERSION)/

dkms: dkms-src
	dkms status -m kbatch -v $(VERSION) $(DKMS_OPTS) | grep -q . || \
		dkms add -m kbatch -v $(VERSION) $(DKMS_OPTS)
	for kv in $(DKMS_KERNELS); do \
		dkms build -m kbatch -v $(VERSION) -k $$kv $(DKMS_OPTS) && \
		dkms install -m kbatch -v $(VERSION) -k $$kv $(DKMS_OPTS) || exit 1; \
	done

dkms-remove:
	dkms remove -m kbatch -v $(VERSION) --all $(DKMS_OPTS)
	rm -rf $(DKMS_SRC)/kbatch-$(VERSION)
