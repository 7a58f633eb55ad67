# SPDX-License-Identifier: GPL-2.0
# dtmigrate, with its guest program built freestanding and embedded, in
# two builds: the test guests' (static, with the fault injection the
# selftest uses to show the byte comparison catches a lost page) and the
# installed one (linked with libdirtytrack.so, no fault injection).
# Included from the top-level Makefile.

DTM_DIR := tools/dtmigrate
DTM_OUT := $(OUT)/dtmigrate
DTMIGRATE := $(OUT)/testguest/dtmigrate
DTM_OBJCOPY := $(CROSS_COMPILE)objcopy

ifeq ($(ARCH),arm64)
DTM_ARCH := arm64
DTM_BFD := -O elf64-littleaarch64 -B aarch64
# Inline atomics: the outline ones live in libgcc, which the guest lacks.
DTM_GUEST_ARCH_CFLAGS := -mno-outline-atomics
else
DTM_ARCH := x86
DTM_BFD := -O elf64-x86-64 -B i386:x86-64
DTM_GUEST_ARCH_CFLAGS := -mno-red-zone
endif

# No FP/SIMD register in the guest: it never enables them.
DTM_GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mgeneral-regs-only $(DTM_GUEST_ARCH_CFLAGS) -nostdlib -static -no-pie \
	-Wl,--build-id=none -Wl,-T,$(DTM_DIR)/guest.lds
DTM_GUEST_SRCS := $(DTM_DIR)/guest_$(DTM_ARCH).c $(DTM_DIR)/guest.c

$(DTM_OUT)/guest.bin: $(DTM_GUEST_SRCS) $(DTM_DIR)/guest.h $(DTM_DIR)/dtm_guest.h \
		$(DTM_DIR)/guest.lds
	@mkdir -p $(@D)
	$(TARGET_CC) $(DTM_GUEST_CFLAGS) -o $(DTM_OUT)/guest.elf $(DTM_GUEST_SRCS)
	$(DTM_OBJCOPY) -O binary $(DTM_OUT)/guest.elf $@

# Symbols _binary_guest_bin_start and _end, from the file's name.
$(DTM_OUT)/guest_bin.o: $(DTM_OUT)/guest.bin
	cd $(DTM_OUT) && $(DTM_OBJCOPY) -I binary $(DTM_BFD) guest.bin guest_bin.o

DTM_SRCS := $(DTM_DIR)/dtmigrate.c $(DTM_DIR)/report.c $(DTM_DIR)/vm.c \
	$(DTM_DIR)/arch_$(DTM_ARCH).c $(DTVM_SRCS)
DTM_DEPS := $(DTM_SRCS) $(wildcard $(DTM_DIR)/*.h) $(DTVM_HDRS) $(DTM_OUT)/guest_bin.o
DTM_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-I$(CURDIR)/lib/include $(DTVM_CFLAGS) -isystem $(UAPI_DIR) \
	-Wl,-z,noexecstack
DTM_LINK = $(TARGET_CC) $(DTM_CFLAGS) -o $@ $(DTM_SRCS) $(DTM_OUT)/guest_bin.o

# The test guests': static (they have no libc), with the fault injection.
$(DTMIGRATE): $(DTM_DEPS) $(SELFTEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(DTM_LINK) -DDTM_FAULT_INJECTION -static $(SELFTEST_LIB_OBJS)

# The installed one: a VMM like any other, linked with libdirtytrack.so.
DTM_INSTALLED := $(DTM_OUT)/dtmigrate
BINDIR ?= $(PREFIX)/bin
DTM_MAN1 := Documentation/man/man1/dtmigrate.1

$(DTM_INSTALLED): $(DTM_DEPS) $(LIB_SHARED)
	$(DTM_LINK) -L$(LIB_OUT) -ldirtytrack

install-dtmigrate: $(DTM_INSTALLED)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(DTM_INSTALLED) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(DTM_MAN1) $(DESTDIR)$(MANDIR)/man1/

uninstall-dtmigrate:
	$(RM) $(DESTDIR)$(BINDIR)/dtmigrate $(DESTDIR)$(MANDIR)/man1/dtmigrate.1

# The installed one links lib.mk's libdirtytrack.so, built for the host.
tools: $(DTMIGRATE)
ifeq ($(ARCH),x86_64)
tools: $(DTM_INSTALLED)
endif
