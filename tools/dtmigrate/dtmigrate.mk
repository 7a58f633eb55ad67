# SPDX-License-Identifier: GPL-2.0
# dtmigrate: a static binary (the test guests have no libc) linked with
# libdirtytrack, and its guest program, built freestanding and embedded.
# x86_64 for now.  Included from the top-level Makefile.
#
# This is the test build: DTM_FAULT_INJECTION adds --drop-page, which
# the selftest uses to show the byte comparison catches a lost page.

DTM_DIR := tools/dtmigrate
DTM_OUT := $(OUT)/dtmigrate
DTMIGRATE := $(OUT)/testguest/dtmigrate
DTM_GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mno-red-zone -mgeneral-regs-only -nostdlib -static -no-pie \
	-Wl,--build-id=none -Wl,-T,$(DTM_DIR)/guest.lds

ifeq ($(ARCH),x86_64)
tools: $(DTMIGRATE)
endif

$(DTM_OUT)/guest_x86.bin: $(DTM_DIR)/guest_x86.c $(DTM_DIR)/dtm_guest.h $(DTM_DIR)/guest.lds
	@mkdir -p $(@D)
	$(TARGET_CC) $(DTM_GUEST_CFLAGS) -o $(DTM_OUT)/guest_x86.elf $<
	objcopy -O binary $(DTM_OUT)/guest_x86.elf $@

$(DTM_OUT)/guest_x86_bin.o: $(DTM_OUT)/guest_x86.bin
	cd $(DTM_OUT) && objcopy -I binary -O elf64-x86-64 -B i386:x86-64 \
		guest_x86.bin guest_x86_bin.o

DTM_SRCS := $(DTM_DIR)/dtmigrate.c $(DTM_DIR)/report.c $(DTM_DIR)/vm.c \
	$(DTM_DIR)/arch_x86.c

$(DTMIGRATE): $(DTM_SRCS) $(wildcard $(DTM_DIR)/*.h) $(DTM_OUT)/guest_x86_bin.o \
		$(SELFTEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(TARGET_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
		-DDTM_FAULT_INJECTION \
		-I$(CURDIR)/lib/include -isystem $(UAPI_DIR) -static -Wl,-z,noexecstack -o $@ \
		$(DTM_SRCS) $(DTM_OUT)/guest_x86_bin.o $(SELFTEST_LIB_OBJS)
