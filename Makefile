# SPDX-License-Identifier: GPL-2.0
#
# dirtytrack top-level build.
#
#   make                 module (build/kmod/x86_64/drivers/dirtytrack/
#                        dirtytrack.ko, against Debian's 6.12 amd64
#                        headers), libdirtytrack, tools and the selftests
#   make ARCH=arm64      the module and the selftests for the arm64 guest
#   make KDIR=/path      the module against another kernel tree
#   make DT_TEST_HOOKS=y module
#                        the test build of the module (its debugfs test
#                        knobs; what the test guests load)
#   make setup           install and cache everything (tools/setup/setup.sh)
#   make check           set up, build, and run every test suite
#   make demo            set up, build, and run the live-migration demo
#   make fuzz DURATION=s dtfuzz, the fuzzer and shadow model, in the x86
#                        test guest (tools/testing/fuzz/README)
#   make bench           the benchmarks, natively and in the x86 test guest
#                        (tools/bench/bench.sh; results in build/bench/)
#   make fresh-check     demo and check in a brand-new minimal Debian root
#   make install         libdirtytrack (shared, static), its header,
#                        pkg-config file, man pages and examples,
#                        dtmigrate and dirtytrack(8), under DESTDIR/PREFIX
#                        (/usr/local)
#   make uninstall       the same, removed
#   make modules_install the module into DESTDIR/lib/modules/<release>/updates
#                        (KDIR=/lib/modules/$(uname -r)/build for this host)
#
# Paths to kernels, headers and sources come from $(DIRTYTRACK_CACHE)/env.mk, which
# `make setup` writes.

DIRTYTRACK_CACHE ?= $(HOME)/.cache/dirtytrack
export DIRTYTRACK_CACHE
-include $(DIRTYTRACK_CACHE)/env.mk

O ?= $(CURDIR)/build
ARCH ?= x86_64
ifeq ($(ARCH),arm64)
  CROSS_COMPILE ?= aarch64-linux-gnu-
  KDIR ?= $(DT_KDIR_ARM64)
  UAPI_DIR := $(DT_UAPI_ARM64)
  export ARCH CROSS_COMPILE
else
  override ARCH := x86_64
  CROSS_COMPILE ?=
  KDIR ?= $(DT_KDIR_AMD64)
  UAPI_DIR := $(DT_UAPI_X86)
endif
# The module is built in a private copy of its sources, one per
# architecture (and per kernel where the caller names one): kbuild writes
# and cleans only there, never in the source tree, so its clean cannot
# race the library's objects under make -jN, and an amd64 and an arm64
# build never invalidate each other.
KMOD_DIR ?= $(O)/kmod/$(ARCH)
# kbuild resolves M= from the kernel tree, not from here.
override KMOD_DIR := $(abspath $(KMOD_DIR))
TARGET_CC := $(CROSS_COMPILE)gcc
OUT := $(O)/$(ARCH)

# Sources only: an amd64 build's generated dirtytrack.mod.c, copied into
# the arm64 tree, would be kept there and carry amd64 symbol CRCs.
MODULE_SRCS := Kbuild $(filter-out %.mod.c,$(wildcard drivers/dirtytrack/Kbuild \
	drivers/dirtytrack/core/*.[ch] drivers/dirtytrack/*.[ch] include/uapi/linux/*.h))

.PHONY: all module selftests tools lib unit setup check demo bench fresh-check hygiene \
	guests clean need-setup FORCE install uninstall install-lib fuzz \
	uninstall-lib modules_install install-dtmigrate uninstall-dtmigrate \
	install-dirtytrack uninstall-dirtytrack
.DEFAULT_GOAL := all

ifeq ($(ARCH),arm64)
all: module selftests tools
else
all: module lib selftests tools
endif

need-setup:
	@test -n "$(DT_KSFT_DIR)" || { echo "dirtytrack: no set-up found in $(DIRTYTRACK_CACHE):" \
		"run 'make setup' (or 'make check', which runs it)" >&2; exit 1; }

# --- the module ---------------------------------------------------------

# kbuild-module(KDIR, DIR, EXTRA): build the module found in DIR against KDIR.
kbuild-module = $(MAKE) -C $(1) M=$(2) $(3) modules

# With KDIR given, any kernel tree will do: no set-up needed.
module: $(if $(KDIR),,need-setup)
	@mkdir -p $(KMOD_DIR)
	@rsync -a --relative $(MODULE_SRCS) $(KMOD_DIR)/
	@# kbuild does not notice that KDIR changed (a new debug kernel): a
	@# module built against another kernel's struct layouts loads and
	@# crashes.  Start clean when the kernel is not the last one's.
	@if [ "$$(cat $(KMOD_DIR)/.dt-kdir 2>/dev/null)" != "$(KDIR) $(DT_TEST_HOOKS)" ]; then \
		$(MAKE) -s -C $(KDIR) M=$(KMOD_DIR) clean && \
		echo "$(KDIR) $(DT_TEST_HOOKS)" >$(KMOD_DIR)/.dt-kdir; fi
	+$(call kbuild-module,$(KDIR),$(KMOD_DIR))

# --- userspace ----------------------------------------------------------

include lib/lib.mk
include tools/lib/dtvm/dtvm.mk
include tools/testing/selftests/dirtytrack/selftests.mk
include tools/testguest/testguest.mk
include tools/testing/unit/unit.mk
include tools/dtmigrate/dtmigrate.mk
include tools/dirtytrack/dirtytrack.mk
include tools/bench/bench.mk
include tools/testing/fuzz/fuzz.mk

install: install-lib install-dtmigrate install-dirtytrack

uninstall: uninstall-lib uninstall-dtmigrate uninstall-dirtytrack

# Unsigned by default: a distribution's headers carry no signing key (dkms
# signs with the machine's MOK).  MODULE_SIGN_FLAGS= signs with KDIR's key.
MODULE_SIGN_FLAGS ?= CONFIG_MODULE_SIG_ALL=
modules_install: module
	+$(MAKE) -C $(KDIR) M=$(KMOD_DIR) INSTALL_MOD_PATH=$(DESTDIR) \
		$(MODULE_SIGN_FLAGS) modules_install

# --- set-up, checks, demo ----------------------------------------------

setup:
	bash tools/setup/setup.sh

check:
	bash tools/check.sh

demo:
	bash tools/demo.sh

bench:
	bash tools/bench/bench.sh

# The two commands above in a brand-new minimal Debian root (what CI runs).
fresh-check:
	bash tools/fresh-check/fresh-check.sh

hygiene: need-setup
	bash tools/hygiene.sh

clean:
	rm -rf $(O)
