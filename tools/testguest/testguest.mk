# SPDX-License-Identifier: GPL-2.0
# Helpers that go into the test guests' initramfs.

GUEST_HELPERS := $(if $(filter x86_64,$(ARCH)),$(OUT)/testguest/dt-exit)

tools: $(GUEST_HELPERS)

$(OUT)/testguest/dt-exit: tools/testguest/dt-exit.c
	@mkdir -p $(@D)
	$(TARGET_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<
