# SPDX-License-Identifier: GPL-2.0
# Helpers that go into the test guests' initramfs.

# lib-kvm-suite: the library's KVM suite, run there on a host without
# /dev/kvm (tools/testing/run-host-lib.sh).
GUEST_HELPERS := $(if $(filter x86_64,$(ARCH)),$(OUT)/testguest/dt-exit \
	$(OUT)/testguest/lib-kvm-suite)

tools: $(GUEST_HELPERS)

$(OUT)/testguest/dt-exit: tools/testguest/dt-exit.c
	@mkdir -p $(@D)
	$(TARGET_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<


$(OUT)/testguest/lib-kvm-suite: tools/testing/lib-kvm-suite.sh
	@mkdir -p $(@D)
	install -m 0755 $< $@
