// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The checks both homes make on a caller's arguments before acting on
 * them, so that a VMM gets the same answer from either backend: ranges of
 * guest frames, of guest physical bytes and of IOVA, the kvm-bitmap
 * source's flags, and what KVM's answers to its probe mean.
 */
#include "dt_iommufd.h"

/*
 * Frames [@first, @first + @npages): not empty, not wrapping, ending at
 * most at 2^DT_MAX_GPA_BITS bytes (no KVM architecture addresses more).
 */
int dt_check_gfn_range(u64 first, u64 npages, unsigned int page_shift)
{
	u64 end = first + npages;

	if (!npages || end < first ||
	    end > (u64)1 << (DT_MAX_GPA_BITS - page_shift))
		return -EINVAL;
	return 0;
}

/* Bytes [@gpa, @gpa + @len) of a vmm mark: not empty, not wrapping. */
int dt_check_gpa_range(u64 gpa, u64 len)
{
	return !len || gpa + (len - 1) < gpa ? -EINVAL : 0;
}

/*
 * IOVA [@iova, @iova + @length) of a peek: not empty, page-aligned, not
 * wrapping, below DT_IOMMU_MAX_IOVA.
 */
int dt_check_iommu_range(u64 iova, u64 length, unsigned int page_shift)
{
	u64 mask = ((u64)1 << page_shift) - 1;

	if (!length || ((iova | length) & mask) ||
	    iova + (length - 1) < iova ||
	    iova + (length - 1) >= DT_IOMMU_MAX_IOVA)
		return -EINVAL;
	return 0;
}

/**
 * dt_check_kvm_bitmap_flags() - a kvm-bitmap source that loses nothing?
 * @flags: DIRTYTRACK_KVM_*, known ones only
 * @rings: rings are attached to the tracker already
 *
 * Return: 0, or -EINVAL for a ring with manual protect or INITIALLY_SET
 * (rule no-ring-with-manual-protect), INITIALLY_SET without manual
 * protect (KVM refuses it), or no ring declared while rings are attached
 * (the VM uses rings: its bitmap is the backup one).
 */
int dt_check_kvm_bitmap_flags(u32 flags, bool rings)
{
	bool ring = flags & DIRTYTRACK_KVM_RING;

	if (ring && (flags & ~DIRTYTRACK_KVM_RING))
		return -EINVAL;
	if ((flags & DIRTYTRACK_KVM_INITIALLY_SET) &&
	    !(flags & DIRTYTRACK_KVM_MANUAL_PROTECT))
		return -EINVAL;
	if (!ring && rings)
		return -EINVAL;
	return 0;
}

/*
 * The kvm-bitmap source's probe, first step: KVM_GET_DIRTY_LOG for an
 * address space no VM has answered @ret.  -ENXIO means the VM keeps no
 * bitmap (a ring without KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, or a VM
 * that is not what was declared); -EINVAL that it keeps one, and nothing
 * was read or cleared.  Return: 0 to go on, or the attach's error.
 */
int dt_kvm_bitmap_probe_log(int ret, bool ring)
{
	if (ret == -ENXIO)
		return ring ? -ENXIO : -EINVAL;
	if (ret != -EINVAL)
		return ret < 0 ? ret : -EIO;
	return 0;
}

/*
 * Second step, with no ring attached yet: KVM_RESET_DIRTY_RINGS answered
 * @ret, -EINVAL if the VM has no ring (it resets only entries a collector
 * marked already, which KVM's next reset would do anyway).  Return: 0 if
 * the VM uses a ring exactly when @ring says so, else the attach's error.
 */
int dt_kvm_bitmap_probe_reset(int ret, bool ring)
{
	if (ret < 0 && ret != -EINVAL)
		return ret;
	return (ret >= 0) == ring ? 0 : -EINVAL;
}
