# SPDX-License-Identifier: GPL-2.0
# kselftests that run inside the test guests: static binaries for $(ARCH),
# built against the 6.12 uapi headers and the kselftest harness of
# linux-source-6.12.  Included from the top-level Makefile.

SELFTEST_DIR := tools/testing/selftests/dirtytrack
SELFTEST_NAMES := dev_test kvm_smoke_test tracker_test live_test stress_test \
	bitmap_source_test final_sync_test vmm_source_test iommu_test lib_test lib_iommu_test \
	trace_test nl_test cli_test signal_test
SELFTEST_OUT := $(OUT)/selftests
SELFTESTS := $(addprefix $(SELFTEST_OUT)/,$(SELFTEST_NAMES))
# The harness macros compare mixed signedness, its timeout handler has an
# unused parameter and its ASSERTs longjmp out of the test: those three
# -Wextra warnings are off for the selftests only.
SELFTEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Wno-sign-compare -Wno-unused-parameter -Wno-clobbered \
	-pthread -I$(CURDIR)/include/uapi -I$(DT_KSFT_DIR) $(DTVM_CFLAGS) \
	-isystem $(UAPI_DIR)
# What a selftest is built from besides its own source: the VM library.
SELFTEST_DEPS := $(wildcard $(SELFTEST_DIR)/*.h) include/uapi/linux/dirtytrack.h \
	$(DTVM_SRCS) $(DTVM_HDRS)

selftests: need-setup $(SELFTESTS)

# dirtytrack(8) end to end: cli_test runs the guest's /bin/dirtytrack.
$(SELFTEST_OUT)/cli_test: include/uapi/linux/dirtytrack_netlink.h

# dtmigrate end to end (the guest has dtmigrate in /bin).
selftests: $(SELFTEST_OUT)/dtmigrate_test.sh
$(SELFTEST_OUT)/dtmigrate_test.sh: $(SELFTEST_DIR)/dtmigrate_test.sh
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(SELFTEST_OUT)/%: $(SELFTEST_DIR)/%.c $(SELFTEST_DEPS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(SELFTEST_CFLAGS) -static -o $@ $< $(DTVM_SRCS)

$(SELFTEST_OUT)/nl_test: include/uapi/linux/dirtytrack_netlink.h

# The iommufd mock's uapi (IOMMU_TEST_CMD) is not installed with the
# headers: it lives beside the iommufd code in linux-source-6.12.
$(SELFTEST_OUT)/iommu_test $(SELFTEST_OUT)/lib_iommu_test: \
	SELFTEST_CFLAGS += -I$(DT_LINUX_SRC)/drivers/iommu/iommufd

# lib_test links libdirtytrack, built for $(ARCH) and linked statically
# (the guests have no libc).
SELFTEST_LIB_OUT := $(OUT)/selftest-lib
SELFTEST_LIB_OBJS := $(patsubst %.c,$(SELFTEST_LIB_OUT)/%.o,$(notdir $(LIB_SRCS)))

$(SELFTEST_LIB_OUT)/%.o: lib/%.c $(LIB_DEPS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(LIB_CFLAGS) -c -o $@ $<

$(SELFTEST_LIB_OUT)/%.o: $(CORE_DIR)/%.c $(LIB_DEPS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(LIB_CFLAGS) -c -o $@ $<

LIB_SELFTESTS := $(addprefix $(SELFTEST_OUT)/,lib_test lib_iommu_test signal_test)
$(LIB_SELFTESTS): $(SELFTEST_OUT)/%: $(SELFTEST_DIR)/%.c $(SELFTEST_DEPS) \
		$(SELFTEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(SELFTEST_CFLAGS) -I$(CURDIR)/lib/include -static -o $@ $< \
		$(DTVM_SRCS) $(SELFTEST_LIB_OBJS)
