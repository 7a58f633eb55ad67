// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The argument checks of the shared core (core/validate.c), which give a
 * VMM the same answer from both backends, and the reading of KVM's
 * answers to the kvm-bitmap probe.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dt_iommufd.h"

static void frame_ranges(void **state)
{
	u64 top4k = 1ULL << (DT_MAX_GPA_BITS - 12);

	(void)state;
	assert_int_equal(dt_check_gfn_range(0, 1, 12), 0);
	assert_int_equal(dt_check_gfn_range(top4k - 1, 1, 12), 0);
	assert_int_equal(dt_check_gfn_range(top4k - 1, 2, 12), -EINVAL);
	assert_int_equal(dt_check_gfn_range(5, 0, 12), -EINVAL);
	assert_int_equal(dt_check_gfn_range(~0ULL, 2, 12), -EINVAL);
	/* 64 KiB pages: fewer frames below the same bound. */
	assert_int_equal(dt_check_gfn_range(top4k / 16 - 1, 1, 16), 0);
	assert_int_equal(dt_check_gfn_range(top4k / 16, 1, 16), -EINVAL);
}

static void byte_and_iova_ranges(void **state)
{
	(void)state;
	assert_int_equal(dt_check_gpa_range(~0ULL, 1), 0);
	assert_int_equal(dt_check_gpa_range(~0ULL, 2), -EINVAL);
	assert_int_equal(dt_check_gpa_range(0, 0), -EINVAL);
	assert_int_equal(dt_check_iommu_range(0x1000, 0x2000, 12), 0);
	assert_int_equal(dt_check_iommu_range(0x1800, 0x1000, 12), -EINVAL);
	assert_int_equal(dt_check_iommu_range(0x1000, 0x800, 12), -EINVAL);
	assert_int_equal(dt_check_iommu_range(0x1000, 0, 12), -EINVAL);
	assert_int_equal(dt_check_iommu_range(DT_IOMMU_MAX_IOVA - 0x1000,
					      0x1000, 12), 0);
	assert_int_equal(dt_check_iommu_range(DT_IOMMU_MAX_IOVA, 0x1000, 12),
			 -EINVAL);
}

static void kvm_bitmap_flags(void **state)
{
	const u32 ring = DIRTYTRACK_KVM_RING;
	const u32 manual = DIRTYTRACK_KVM_MANUAL_PROTECT;
	const u32 initset = DIRTYTRACK_KVM_INITIALLY_SET;

	(void)state;
	assert_int_equal(dt_check_kvm_bitmap_flags(ring, true), 0);
	assert_int_equal(dt_check_kvm_bitmap_flags(ring, false), 0);
	assert_int_equal(dt_check_kvm_bitmap_flags(0, false), 0);
	assert_int_equal(dt_check_kvm_bitmap_flags(manual | initset, false), 0);
	/* Rule no-ring-with-manual-protect. */
	assert_int_equal(dt_check_kvm_bitmap_flags(ring | manual, false),
			 -EINVAL);
	assert_int_equal(dt_check_kvm_bitmap_flags(ring | initset, false),
			 -EINVAL);
	assert_int_equal(dt_check_kvm_bitmap_flags(initset, false), -EINVAL);
	assert_int_equal(dt_check_kvm_bitmap_flags(manual, true), -EINVAL);
}

/* KVM's answers to the probe, against what was declared. */
static void kvm_bitmap_probe(void **state)
{
	(void)state;
	/* GET_DIRTY_LOG of a bad address space: -EINVAL, a bitmap is kept. */
	assert_int_equal(dt_kvm_bitmap_probe_log(-EINVAL, true), 0);
	assert_int_equal(dt_kvm_bitmap_probe_log(-EINVAL, false), 0);
	/* No bitmap: a ring without WITH_BITMAP, or not what was declared. */
	assert_int_equal(dt_kvm_bitmap_probe_log(-ENXIO, true), -ENXIO);
	assert_int_equal(dt_kvm_bitmap_probe_log(-ENXIO, false), -EINVAL);
	/* Success reading nothing would be a KVM we do not know. */
	assert_int_equal(dt_kvm_bitmap_probe_log(0, false), -EIO);
	assert_int_equal(dt_kvm_bitmap_probe_log(-EFAULT, false), -EFAULT);
	/* RESET_DIRTY_RINGS: a count if the VM has rings, -EINVAL if not. */
	assert_int_equal(dt_kvm_bitmap_probe_reset(0, true), 0);
	assert_int_equal(dt_kvm_bitmap_probe_reset(-EINVAL, false), 0);
	assert_int_equal(dt_kvm_bitmap_probe_reset(0, false), -EINVAL);
	assert_int_equal(dt_kvm_bitmap_probe_reset(-EINVAL, true), -EINVAL);
	assert_int_equal(dt_kvm_bitmap_probe_reset(-EBADF, true), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_ranges),
		cmocka_unit_test(byte_and_iova_ranges),
		cmocka_unit_test(kvm_bitmap_flags),
		cmocka_unit_test(kvm_bitmap_probe),
	};

	return cmocka_run_group_tests_name("core: argument checks", tests,
					   NULL, NULL);
}
