/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * dirtytrack: one merged, ordered view of the guest pages a VM wrote, from
 * every source the kernel has (KVM dirty rings and bitmaps, VMM writers,
 * IOMMU dirty bits).
 *
 * The full description of every ioctl, field, flag and error, with the
 * lifecycle and ordering a VMM follows, is in
 * Documentation/userspace-api/dirtytrack.rst.
 */
#ifndef _UAPI_LINUX_DIRTYTRACK_H
#define _UAPI_LINUX_DIRTYTRACK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Every ioctl takes one size-prefixed struct.  The first field, @size, is
 * the size of the struct as the caller knows it:
 *  - smaller than the kernel's minimum for that ioctl: -EINVAL;
 *  - larger than the kernel's struct with a non-zero byte past it: -E2BIG;
 *  - otherwise missing trailing fields read as zero and output is written
 *    back only up to @size.
 * Unknown bits in a @flags field are refused with -EOPNOTSUPP, never
 * ignored.
 */
#define DIRTYTRACK_TYPE 0xDD

enum {
	DIRTYTRACK_CMD_BASE = 0x80,
	DIRTYTRACK_CMD_GET_INFO = DIRTYTRACK_CMD_BASE,
};

/* The version of the interface described by this header. */
#define DIRTYTRACK_API_VERSION 1

/**
 * enum dirtytrack_feature - bits of &struct dirtytrack_info.features
 * @DIRTYTRACK_FEATURE_NONE: no feature (the value of an empty set)
 *
 * Each bit names one capability of the running module, so userspace never
 * probes with errno.  None is defined yet: the sources join here as they
 * land.  Bits not named in this header may be set by a newer module and
 * must be ignored by older userspace.
 */
enum dirtytrack_feature {
	DIRTYTRACK_FEATURE_NONE = 0,
};

/**
 * struct dirtytrack_info - ioctl(DIRTYTRACK_GET_INFO)
 * @size: sizeof(struct dirtytrack_info).  At least offsetofend(features).
 * @flags: Must be 0.
 * @api_version: Output: DIRTYTRACK_API_VERSION of the running module.
 * @page_shift: Output: log2 of the host page size.  KVM counts memslot
 *              offsets in host pages, so every page number and bitmap bit
 *              of dirtytrack is in this unit (12 on x86; 12, 14 or 16 on
 *              arm64).
 * @features: Output: bitmask of enum dirtytrack_feature.
 *
 * Issued on a /dev/dirtytrack file descriptor.  Tells userspace what the
 * running module supports.  Never fails for a well-formed call.
 */
struct dirtytrack_info {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__u32 page_shift;
	__aligned_u64 features;
};

#define DIRTYTRACK_GET_INFO _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_GET_INFO)

#endif /* _UAPI_LINUX_DIRTYTRACK_H */
