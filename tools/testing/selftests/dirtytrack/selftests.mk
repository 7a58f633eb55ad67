# SPDX-License-Identifier: GPL-2.0
# kselftests that run inside the test guests: static binaries for $(ARCH),
# built against the 6.12 uapi headers and the kselftest harness of
# linux-source-6.12.  Included from the top-level Makefile.

SELFTEST_DIR := tools/testing/selftests/dirtytrack
SELFTEST_NAMES := dev_test kvm_smoke_test tracker_test live_test stress_test \
	bitmap_source_test final_sync_test vmm_source_test iommu_test
SELFTEST_OUT := $(OUT)/selftests
SELFTESTS := $(addprefix $(SELFTEST_OUT)/,$(SELFTEST_NAMES))
# The harness macros compare mixed signedness, its timeout handler has an
# unused parameter and its ASSERTs longjmp out of the test: those three
# -Wextra warnings are off for the selftests only.
SELFTEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Wno-sign-compare -Wno-unused-parameter -Wno-clobbered \
	-pthread -I$(CURDIR)/include/uapi -I$(DT_KSFT_DIR) \
	-isystem $(UAPI_DIR)

selftests: need-setup $(SELFTESTS)

$(SELFTEST_OUT)/%: $(SELFTEST_DIR)/%.c $(wildcard $(SELFTEST_DIR)/*.h) include/uapi/linux/dirtytrack.h
	@mkdir -p $(@D)
	$(TARGET_CC) $(SELFTEST_CFLAGS) -static -o $@ $<

# The iommufd mock's uapi (IOMMU_TEST_CMD) is not installed with the
# headers: it lives beside the iommufd code in linux-source-6.12.
$(SELFTEST_OUT)/iommu_test: SELFTEST_CFLAGS += -I$(DT_LINUX_SRC)/drivers/iommu/iommufd
