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
	DIRTYTRACK_CMD_CREATE,
	DIRTYTRACK_CMD_REGION_ADD,
	DIRTYTRACK_CMD_REGION_REMOVE,
	DIRTYTRACK_CMD_ATTACH_RING,
	DIRTYTRACK_CMD_SYNC,
	DIRTYTRACK_CMD_CLAIM,
	DIRTYTRACK_CMD_HARVEST_VCPU,
	DIRTYTRACK_CMD_START,
	DIRTYTRACK_CMD_STOP,
	DIRTYTRACK_CMD_REGION_MOVE,
	DIRTYTRACK_CMD_ATTACH_KVM_BITMAP,
	DIRTYTRACK_CMD_VMM_LOG_FD,
	DIRTYTRACK_CMD_VMM_MARK,
	DIRTYTRACK_CMD_ATTACH_IOMMU,
	DIRTYTRACK_CMD_IOMMU_SET_MAP,
	DIRTYTRACK_CMD_IOMMU_PEEK,
	DIRTYTRACK_CMD_IOMMU_DETACH,
};

/* The version of the interface described by this header. */
#define DIRTYTRACK_API_VERSION 1

/**
 * enum dirtytrack_feature - bits of &struct dirtytrack_info.features
 * @DIRTYTRACK_FEATURE_TRACKER: DIRTYTRACK_CREATE and the tracker ioctls:
 *                              regions (add, remove, move), START/STOP,
 *                              SYNC, CLAIM.
 * @DIRTYTRACK_FEATURE_KVM_RING: The KVM dirty-ring source: ATTACH_RING and
 *                               HARVEST_VCPU.
 * @DIRTYTRACK_FEATURE_MMAP: The merged set can be mapped (the out_mmap_
 *                           fields of struct dirtytrack_region).
 * @DIRTYTRACK_FEATURE_KVM_BITMAP: The KVM bitmap source: ATTACH_KVM_BITMAP
 *                                 (the arm64 backup bitmap beside the
 *                                 rings, or the plain per-memslot bitmap).
 * @DIRTYTRACK_FEATURE_FINAL_SYNC: The two-phase final sync (SYNC flags
 *                                 FINAL_BEGIN and FINAL_END) and the
 *                                 sealed state.
 * @DIRTYTRACK_FEATURE_VMM_LOG: The vmm source: VMM_LOG_FD and VMM_MARK.
 * @DIRTYTRACK_FEATURE_REGION_REMOVE_CLAIM: REGION_REMOVE can hand the
 *                                          region's last bits back.
 * @DIRTYTRACK_FEATURE_IOMMU: The iommu source: ATTACH_IOMMU,
 *                            IOMMU_SET_MAP, IOMMU_PEEK, IOMMU_DETACH.
 * @DIRTYTRACK_FEATURE_NETLINK: The generic netlink family "dirtytrack"
 *                              (linux/dirtytrack_netlink.h) is registered.
 * @DIRTYTRACK_FEATURE_RING_RESET: The ring reset of Linux 6.17 and later is
 *                                 handled (issued again when KVM ends it
 *                                 early, sticky pages), overflows are
 *                                 recovered, the sync reports them
 *                                 (vcpu_stat_size and the out_ring_
 *                                 fields), and HARVEST_VCPU takes
 *                                 DIRTYTRACK_HARVEST_FILLED.
 *
 * Each bit names one capability of the running module, so userspace never
 * probes with errno.  Bits not named in this header may be set by a newer
 * module and must be ignored by older userspace.
 */
enum dirtytrack_feature {
	DIRTYTRACK_FEATURE_TRACKER = 1 << 0,
	DIRTYTRACK_FEATURE_KVM_RING = 1 << 1,
	DIRTYTRACK_FEATURE_MMAP = 1 << 2,
	DIRTYTRACK_FEATURE_KVM_BITMAP = 1 << 3,
	DIRTYTRACK_FEATURE_FINAL_SYNC = 1 << 4,
	DIRTYTRACK_FEATURE_VMM_LOG = 1 << 5,
	DIRTYTRACK_FEATURE_REGION_REMOVE_CLAIM = 1 << 6,
	DIRTYTRACK_FEATURE_IOMMU = 1 << 7,
	DIRTYTRACK_FEATURE_NETLINK = 1 << 8,
	DIRTYTRACK_FEATURE_RING_RESET = 1 << 9,
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

/**
 * struct dirtytrack_create - ioctl(DIRTYTRACK_CREATE)
 * @size: sizeof(struct dirtytrack_create)
 * @flags: Must be 0.
 * @vm_fd: A KVM VM file descriptor of the calling process.
 * @out_tracker_fd: Output: the new tracker's file descriptor (O_CLOEXEC).
 *
 * Issued on /dev/dirtytrack.  Creates the tracker of one VM; at most one
 * tracker exists per VM.  The tracker is bound to the calling process's mm
 * (the only one KVM answers) and holds a reference on the VM file.
 */
struct dirtytrack_create {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 out_tracker_fd;
};

#define DIRTYTRACK_CREATE _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_CREATE)

/**
 * struct dirtytrack_region - ioctl(DIRTYTRACK_REGION_ADD)
 * @size: sizeof(struct dirtytrack_region)
 * @flags: Must be 0.
 * @as_id: The KVM address space of the memslot.
 * @slot_id: The KVM memslot id.
 * @__reserved: Must be 0.
 * @first_gfn: The memslot's first guest frame (guest_phys_addr >>
 *             page_shift).
 * @npages: The memslot's size in host pages.
 * @out_mmap_offset: Output: where the region's merged set is in the
 *                   tracker's mapping (a multiple of the page size, never
 *                   reused by another region).
 * @out_mmap_size: Output: its length: the bitmap words, then the summary.
 * @out_summary_offset: Output: where the summary starts, from
 *                      @out_mmap_offset.
 *
 * Issued on a tracker.  Mirrors a KVM memslot, added after the memslot is
 * created.  Ring entries name pages as (slot, offset in the slot), so the
 * tracker resolves them through its regions.
 *
 * The merged set at @out_mmap_offset is (npages + 63) / 64 __u64 words,
 * bit p of the array for page p of the region, and at @out_summary_offset
 * one summary bit per 64 words.  The claim protocol is in
 * Documentation/userspace-api/dirtytrack.rst.
 */
struct dirtytrack_region {
	__u32 size;
	__u32 flags;
	__u16 as_id;
	__u16 slot_id;
	__u32 __reserved;
	__aligned_u64 first_gfn;
	__aligned_u64 npages;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_size;
	__aligned_u64 out_summary_offset;
};

#define DIRTYTRACK_REGION_ADD _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_REGION_ADD)

/**
 * struct dirtytrack_region_remove - ioctl(DIRTYTRACK_REGION_REMOVE)
 * @size: sizeof(struct dirtytrack_region_remove)
 * @flags: Must be 0.
 * @as_id: The KVM address space of the memslot.
 * @slot_id: The KVM memslot id.
 * @__reserved: Must be 0.
 * @bitmap: User pointer to (npages + 63) / 64 __u64 words that receive the
 *          region's last dirty bits (claimed, as by DIRTYTRACK_CLAIM), or
 *          0 to drop them (memory that is going away).
 * @out_dirty: Output: dirty pages written to @bitmap.
 *
 * Issued on a tracker, before the memslot is deleted.  Harvests every
 * source for the slot first (ring entries are relative to the memslot, and
 * KVM's bitmap goes with it), then drops the region.  A VMM that deletes a
 * memslot only to re-create it (a resize, a split) passes @bitmap and
 * carries the bits over, so none is lost.
 */
struct dirtytrack_region_remove {
	__u32 size;
	__u32 flags;
	__u16 as_id;
	__u16 slot_id;
	__u32 __reserved;
	__aligned_u64 bitmap;
	__aligned_u64 out_dirty;
};

#define DIRTYTRACK_REGION_REMOVE _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_REGION_REMOVE)

/**
 * struct dirtytrack_region_move - ioctl(DIRTYTRACK_REGION_MOVE)
 * @size: sizeof(struct dirtytrack_region_move)
 * @flags: Must be 0.
 * @as_id: The KVM address space of the memslot.
 * @slot_id: The KVM memslot id.
 * @__reserved: Must be 0.
 * @new_first_gfn: The memslot's first guest frame after the move.
 *
 * Issued on a tracker just before the VMM moves the memslot
 * (KVM_SET_USER_MEMORY_REGION with a new guest_phys_addr).  Harvests every
 * ring first (entries are relative to the memslot), then records the new
 * place.  The region keeps its dirty bits and its mapping.
 */
struct dirtytrack_region_move {
	__u32 size;
	__u32 flags;
	__u16 as_id;
	__u16 slot_id;
	__u32 __reserved;
	__aligned_u64 new_first_gfn;
};

#define DIRTYTRACK_REGION_MOVE _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_REGION_MOVE)

/**
 * struct dirtytrack_attach_ring - ioctl(DIRTYTRACK_ATTACH_RING)
 * @size: sizeof(struct dirtytrack_attach_ring)
 * @flags: Must be 0.
 * @out_vcpu_id: Output: the vCPU id of the ring's vCPU.
 * @__reserved: Must be 0.
 * @ring_addr: The start of the caller's mapping of a vCPU's dirty ring:
 *             mmap(vcpu_fd, ring bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
 *             KVM_DIRTY_LOG_PAGE_OFFSET * page size).  The mapping's length
 *             is the ring's size.
 *
 * Issued on a tracker.  The ring's pages are pinned (FOLL_LONGTERM, counted
 * against RLIMIT_MEMLOCK) until the tracker is released.  From now on only
 * the tracker may harvest or reset this ring.
 */
struct dirtytrack_attach_ring {
	__u32 size;
	__u32 flags;
	__u32 out_vcpu_id;
	__u32 __reserved;
	__aligned_u64 ring_addr;
};

#define DIRTYTRACK_ATTACH_RING _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_ATTACH_RING)

/**
 * struct dirtytrack_vcpu_stat - one vCPU's share of a sync
 * @vcpu_id: The vCPU.
 * @harvested: Its ring entries this sync took (valid or not).
 * @overflow: 1 if this sync found its ring full: KVM pushed past the
 *            ring's end, overwriting entries nobody harvested (every
 *            region was marked dirty, and the ring put back in order).
 * @__reserved: Written 0.
 *
 * The array's elements are @vcpu_stat_size bytes of struct dirtytrack_sync
 * each (8, the first two fields only, when it is 0), so the element can
 * grow.
 */
struct dirtytrack_vcpu_stat {
	__u32 vcpu_id;
	__u32 harvested;
	__u32 overflow;
	__u32 __reserved;
};

/**
 * enum dirtytrack_sync_flags - flags of &struct dirtytrack_sync
 * @DIRTYTRACK_SYNC_FINAL_BEGIN: First half of the final sync, issued once
 *                               every vCPU is out of KVM_RUN and will not
 *                               enter it again: reaps and resets every
 *                               ring.  The VMM then saves the state that
 *                               writes guest memory (ITS tables, pending
 *                               tables).
 * @DIRTYTRACK_SYNC_FINAL_END: Second half: harvests every source once
 *                             more, then KVM's backup bitmap last, and
 *                             seals the tracker.  DIRTYTRACK_STOP reads the
 *                             backup bitmap too.
 *
 * The order is enforced: FINAL_BEGIN only while tracking, FINAL_END only
 * after FINAL_BEGIN; a plain sync between them is refused.  A sealed
 * tracker refuses every harvest until DIRTYTRACK_START restarts it (the
 * migration failed and the guest resumes here); its unclaimed bits stay.
 */
enum dirtytrack_sync_flags {
	DIRTYTRACK_SYNC_FINAL_BEGIN = 1 << 0,
	DIRTYTRACK_SYNC_FINAL_END = 1 << 1,
};

/**
 * struct dirtytrack_sync - ioctl(DIRTYTRACK_SYNC)
 * @size: sizeof(struct dirtytrack_sync)
 * @flags: enum dirtytrack_sync_flags: 0 for a precopy round.
 * @out_harvested: Output: ring entries harvested into the merged set.
 * @out_invalid: Output: ring entries that named no region (not followed).
 * @out_foreign: Output: ring entries someone else harvested or reset; when
 *               non-zero every region was marked dirty.
 * @nr_vcpu_stats: In: entries at @vcpu_stats.  Out: entries written
 *                 (one per attached ring, in attach order, at most the
 *                 number passed in).
 * @vcpu_stats: User pointer to @nr_vcpu_stats struct dirtytrack_vcpu_stat,
 *              or 0.
 * @out_bitmap_pages: Output: dirty pages the KVM bitmap source reported.
 * @out_bitmap_errors: Output: memslots whose KVM bitmap could not be read
 *                     completely (each was marked dirty as a whole), whose
 *                     manual clear failed (the bits stay set in KVM and
 *                     come again), or that reported pages past the end the
 *                     VMM declared for the region.
 * @out_vmm_outside: Output: 4 KiB pages marked in the vmm log that fall in
 *                   no region (dropped).
 * @out_vmm_pages: Output: 4 KiB pages the vmm source reported.
 * @out_iommu_pages: Output: pages the iommu sources reported.
 * @out_iommu_calls: Output: IOMMU_HWPT_GET_DIRTY_BITMAP calls made (each
 *                   flushes the IOTLB once).
 * @out_iommu_errors: Output: calls that failed; the pages their IOVA range
 *                    maps were marked dirty.
 * @vcpu_stat_size: In: the size of an element at @vcpu_stats: 0 (meaning
 *                  8, the first two fields) or sizeof(struct
 *                  dirtytrack_vcpu_stat); the module writes as much of each
 *                  as it knows and the caller has room for.
 * @out_ring_overflow: Output: rings found full (KVM pushed past their end,
 *                     overwriting entries nobody harvested).  Every region
 *                     was marked dirty and each ring put back in order.
 * @out_ring_resets: Output: KVM_RESET_DIRTY_RINGS calls made.
 * @out_ring_partial_resets: Output: calls KVM ended early (from Linux 6.17,
 *                           on a signal it could not be kept from seeing);
 *                           each was issued again until every entry was
 *                           reset.  Not foreign.
 * @out_ring_sticky: Output: pages that became dirty at every sync from now
 *                   on, because such a call may have left their dirty
 *                   logging off in KVM.
 * @__reserved: Must be 0.
 *
 * Issued on a tracker.  Harvests every source into the merged set: every
 * attached ring (read while the iommu sources are read), then
 * KVM_RESET_DIRTY_RINGS, then the vmm log, then the plain KVM bitmap (the
 * backup bitmap only with FINAL_END).  The pages are
 * published only after the ring reset completed, so a page read after it
 * is claimed is write-protected again.  The reset runs with every signal
 * blocked that can be; one that cannot (SIGSTOP, task work) and is
 * pending is delivered first and the sync restarts by itself.  If the
 * reset fails the harvested pages stay pending and the sync can be
 * re-issued (EAGAIN: KVM still ended the reset early after 16 calls).  A
 * page several sources report is one bit of the merged set; the
 * per-source counts count it once per source.
 */
struct dirtytrack_sync {
	__u32 size;
	__u32 flags;
	__u32 out_harvested;
	__u32 out_invalid;
	__u32 out_foreign;
	__u32 nr_vcpu_stats;
	__aligned_u64 vcpu_stats;
	__aligned_u64 out_bitmap_pages;
	__u32 out_bitmap_errors;
	__u32 out_vmm_outside;
	__aligned_u64 out_vmm_pages;
	__aligned_u64 out_iommu_pages;
	__u32 out_iommu_calls;
	__u32 out_iommu_errors;
	__u32 vcpu_stat_size;
	__u32 out_ring_overflow;
	__u32 out_ring_resets;
	__u32 out_ring_partial_resets;
	__u32 out_ring_sticky;
	__u32 __reserved;
};

#define DIRTYTRACK_SYNC _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_SYNC)

/**
 * struct dirtytrack_claim - ioctl(DIRTYTRACK_CLAIM)
 * @size: sizeof(struct dirtytrack_claim)
 * @flags: Must be 0.
 * @as_id: The region's KVM address space.
 * @slot_id: The region's KVM memslot id.
 * @__reserved: Must be 0.
 * @first_page: The first page of the range, relative to the region; a
 *              multiple of 64.
 * @npages: Pages in the range (clipped to the region).
 * @bitmap: User pointer to (npages + 63) / 64 __u64 words; bit i of it is
 *          page first_page + i.
 * @out_dirty: Output: dirty pages claimed.
 *
 * Issued on a tracker.  Copies out and clears the range of the merged set:
 * a page is reported by exactly one claim after each time it was made dirty.
 */
struct dirtytrack_claim {
	__u32 size;
	__u32 flags;
	__u16 as_id;
	__u16 slot_id;
	__u32 __reserved;
	__aligned_u64 first_page;
	__aligned_u64 npages;
	__aligned_u64 bitmap;
	__aligned_u64 out_dirty;
};

#define DIRTYTRACK_CLAIM _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_CLAIM)

/**
 * enum dirtytrack_harvest_vcpu_flags - flags of &struct
 *                                      dirtytrack_harvest_vcpu
 * @DIRTYTRACK_HARVEST_FILLED: Harvest every ring holding at least @min_fill
 *                             used entries instead of @vcpu_id's (which
 *                             must be 0): a reaper's call, made before
 *                             rings fill, from any thread of the VMM.
 */
enum dirtytrack_harvest_vcpu_flags {
	DIRTYTRACK_HARVEST_FILLED = 1 << 0,
};

/**
 * struct dirtytrack_harvest_vcpu - ioctl(DIRTYTRACK_HARVEST_VCPU)
 * @size: sizeof(struct dirtytrack_harvest_vcpu)
 * @flags: enum dirtytrack_harvest_vcpu_flags.
 * @vcpu_id: The vCPU whose ring to harvest.
 * @out_harvested: Output: entries taken.
 * @min_fill: With DIRTYTRACK_HARVEST_FILLED: the used entries (KVM's
 *            count: pushed and not yet reset) from which a ring is
 *            harvested; at least 1.
 * @out_overflow: Output: rings found full (see struct dirtytrack_sync).
 * @nr_vcpu_stats: As in struct dirtytrack_sync: each ring's share of this
 *                 harvest.
 * @vcpu_stat_size: As in struct dirtytrack_sync.
 * @vcpu_stats: As in struct dirtytrack_sync.
 *
 * Issued on a tracker by a vCPU thread whose KVM_RUN returned
 * KVM_EXIT_DIRTY_RING_FULL: harvests that vCPU's ring only, completes
 * KVM_RESET_DIRTY_RINGS and publishes, so the vCPU can run again without
 * waiting for a full sync.  ENOSPC: this harvest freed nothing of that
 * ring, and nothing was freed from it since the previous one either: KVM
 * keeps the ring full and will exit again at once (see the documentation:
 * a ring whose reset cannot move).
 */
struct dirtytrack_harvest_vcpu {
	__u32 size;
	__u32 flags;
	__u32 vcpu_id;
	__u32 out_harvested;
	__u32 min_fill;
	__u32 out_overflow;
	__u32 nr_vcpu_stats;
	__u32 vcpu_stat_size;
	__aligned_u64 vcpu_stats;
};

#define DIRTYTRACK_HARVEST_VCPU _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_HARVEST_VCPU)

/**
 * enum dirtytrack_start_flags - flags of &struct dirtytrack_start
 * @DIRTYTRACK_START_ALL_DIRTY: Mark every page of every region dirty, so
 *                              the first precopy round sends everything.
 */
enum dirtytrack_start_flags {
	DIRTYTRACK_START_ALL_DIRTY = 1 << 0,
};

/**
 * struct dirtytrack_start - ioctl(DIRTYTRACK_START)
 * @size: sizeof(struct dirtytrack_start)
 * @flags: enum dirtytrack_start_flags.
 *
 * Issued on a tracker once the VMM has set KVM_MEM_LOG_DIRTY_PAGES on its
 * memslots.  Harvests what the sources already hold, then starts tracking:
 * from now on a region added (memory hotplug) starts all dirty, since the
 * destination has none of it.  On a sealed tracker (the migration failed
 * after its final sync, the guest resumes here) it restarts tracking and
 * keeps every bit that was not claimed.
 */
struct dirtytrack_start {
	__u32 size;
	__u32 flags;
};

#define DIRTYTRACK_START _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_START)

/**
 * struct dirtytrack_stop - ioctl(DIRTYTRACK_STOP)
 * @size: sizeof(struct dirtytrack_stop)
 * @flags: Must be 0.
 *
 * Issued on a tracker before the VMM clears KVM_MEM_LOG_DIRTY_PAGES: a last
 * harvest (none when sealed), then tracking stops.  Unclaimed bits stay
 * claimable, and syncs and per-vCPU harvests still drain the rings, so a
 * vCPU never stalls on a full ring.
 */
struct dirtytrack_stop {
	__u32 size;
	__u32 flags;
};

#define DIRTYTRACK_STOP _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_STOP)

/**
 * enum dirtytrack_kvm_bitmap_flags - the VM's KVM dirty-log configuration
 * @DIRTYTRACK_KVM_RING: The VM uses the dirty ring and enabled
 *                       KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP: the bitmap is
 *                       the backup bitmap of writes made with no vCPU
 *                       running, read by the final sync and by region
 *                       removal only.  Without it the bitmap is the plain
 *                       per-memslot log, read by every sync.
 * @DIRTYTRACK_KVM_MANUAL_PROTECT: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is
 *                                 enabled with
 *                                 KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE:
 *                                 the tracker clears exactly the bits it
 *                                 read, with KVM_CLEAR_DIRTY_LOG.
 * @DIRTYTRACK_KVM_INITIALLY_SET: ... and KVM_DIRTY_LOG_INITIALLY_SET.
 *
 * KVM does not tell these; the VMM declares them.  A ring with manual
 * protect or INITIALLY_SET loses pages silently and is refused.
 */
enum dirtytrack_kvm_bitmap_flags {
	DIRTYTRACK_KVM_RING = 1 << 0,
	DIRTYTRACK_KVM_MANUAL_PROTECT = 1 << 1,
	DIRTYTRACK_KVM_INITIALLY_SET = 1 << 2,
};

/* Bytes at the start of the scratch that hold KVM's ioctl arguments. */
#define DIRTYTRACK_SCRATCH_HEADER 64

/**
 * struct dirtytrack_attach_kvm_bitmap - ioctl(DIRTYTRACK_ATTACH_KVM_BITMAP)
 * @size: sizeof(struct dirtytrack_attach_kvm_bitmap)
 * @flags: enum dirtytrack_kvm_bitmap_flags.
 * @scratch_addr: Start of scratch memory in the VMM (8-byte aligned, e.g.
 *                an anonymous mapping) that KVM_GET_DIRTY_LOG and
 *                KVM_CLEAR_DIRTY_LOG, which only work on user memory, use:
 *                DIRTYTRACK_SCRATCH_HEADER bytes of ioctl arguments, then
 *                a bitmap.  The VMM must not touch it while attached.
 * @scratch_size: Its size, a multiple of 8: DIRTYTRACK_SCRATCH_HEADER plus
 *                at least one 8-byte word more than the largest region's
 *                bitmap ((npages + 63) / 64 words).
 *
 * Issued on a tracker.  Attaches the KVM bitmap source: the arm64 backup
 * bitmap beside the rings (DIRTYTRACK_KVM_RING), or the plain per-memslot
 * bitmap of a VM that uses no ring.  From now on only the tracker may call
 * KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG on the tracked memslots.
 */
struct dirtytrack_attach_kvm_bitmap {
	__u32 size;
	__u32 flags;
	__aligned_u64 scratch_addr;
	__aligned_u64 scratch_size;
};

#define DIRTYTRACK_ATTACH_KVM_BITMAP _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_ATTACH_KVM_BITMAP)

/* The vhost log layout: one bit per 4 KiB of guest physical address. */
#define DIRTYTRACK_VMM_LOG_PAGE_SHIFT 12

/**
 * struct dirtytrack_vmm_log_fd - ioctl(DIRTYTRACK_VMM_LOG_FD)
 * @size: sizeof(struct dirtytrack_vmm_log_fd)
 * @flags: Must be 0.
 * @out_fd: Output: a new file descriptor (O_CLOEXEC) of the tracker's vmm
 *          log.  It maps the log and nothing else, so it can be handed to
 *          a vhost-user backend; it has no ioctls.
 * @__reserved: Must be 0.
 * @out_log_size: Output: the log's size in bytes now, enough for every
 *                region of address space 0.  It grows when a region is
 *                added above it; a larger mapping then reaches the new
 *                part, and the old part keeps its bits.
 *
 * Issued on a tracker.  The log is the vhost layout: bit (gpa >> 12) of
 * the little-endian bit array, set atomically (an atomic OR of a 64-bit
 * word, or VHOST_SET_LOG_BASE pointing at a MAP_SHARED mapping of the fd).
 * Every sync takes the bits with an atomic exchange.
 */
struct dirtytrack_vmm_log_fd {
	__u32 size;
	__u32 flags;
	__s32 out_fd;
	__u32 __reserved;
	__aligned_u64 out_log_size;
};

#define DIRTYTRACK_VMM_LOG_FD _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_VMM_LOG_FD)

/**
 * struct dirtytrack_gpa_range - a range of guest physical addresses
 * @gpa: The first byte.
 * @len: Bytes, not 0.  Every 4 KiB page the range touches is marked.
 */
struct dirtytrack_gpa_range {
	__aligned_u64 gpa;
	__aligned_u64 len;
};

/**
 * struct dirtytrack_vmm_mark - ioctl(DIRTYTRACK_VMM_MARK)
 * @size: sizeof(struct dirtytrack_vmm_mark)
 * @flags: Must be 0.
 * @nr_ranges: Entries at @ranges, at most 4096.
 * @__reserved: Must be 0.
 * @ranges: User pointer to @nr_ranges struct dirtytrack_gpa_range.
 *
 * Issued on a tracker by a VMM that wrote guest memory itself (device
 * emulation): marks the ranges in the vmm log, which the next sync
 * harvests.  Every range must lie in regions of address space 0;
 * otherwise nothing is marked.  Short of memory for the log, the pages are
 * marked in their regions directly: none is lost.
 */
struct dirtytrack_vmm_mark {
	__u32 size;
	__u32 flags;
	__u32 nr_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

#define DIRTYTRACK_VMM_MARK _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_VMM_MARK)

/**
 * struct dirtytrack_iommu_map - one range of a device's IOVA space
 * @iova: Its first IOVA.
 * @gpa: The guest physical address it maps.
 * @length: Bytes.  All three are multiples of the host page size; length
 *          is not 0.
 */
struct dirtytrack_iommu_map {
	__aligned_u64 iova;
	__aligned_u64 gpa;
	__aligned_u64 length;
};

/**
 * enum dirtytrack_iommu_flags - flags of &struct dirtytrack_attach_iommu
 * @DIRTYTRACK_IOMMU_TRACKING_ON: The HWPT's dirty tracking is on already
 *                                (IOMMU_HWPT_SET_DIRTY_TRACKING): the
 *                                tracker harvests it at attach and never
 *                                enables it (enabling clears the bits).
 */
enum dirtytrack_iommu_flags {
	DIRTYTRACK_IOMMU_TRACKING_ON = 1 << 0,
};

/**
 * struct dirtytrack_attach_iommu - ioctl(DIRTYTRACK_ATTACH_IOMMU)
 * @size: sizeof(struct dirtytrack_attach_iommu)
 * @flags: enum dirtytrack_iommu_flags.
 * @iommufd: An iommufd file descriptor (/dev/iommu).
 * @hwpt_id: A HWPT of it allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING.
 * @nr_maps: Entries at @maps, at most 4096; 0 for the identity (IOVA ==
 *           GPA over the regions of address space 0, following hotplug).
 * @out_source_id: Output: the source's id for IOMMU_SET_MAP, IOMMU_PEEK
 *                 and IOMMU_DETACH.
 * @maps: User pointer to @nr_maps struct dirtytrack_iommu_map, sorted by
 *        IOVA, not overlapping.
 * @scratch_addr: Scratch memory in the VMM (8-byte aligned), as for
 *                DIRTYTRACK_ATTACH_KVM_BITMAP: DIRTYTRACK_SCRATCH_HEADER
 *                bytes of ioctl arguments, then the dirty bitmap
 *                IOMMU_HWPT_GET_DIRTY_BITMAP fills.
 * @scratch_size: Its size, a multiple of 8: the header and at least 1 GiB's
 *                worth of bits (32 KiB on 4 KiB pages).  The scratch must
 *                end on a page boundary and be pinnable.  A call covers at
 *                most as many pages as the bitmap has bits, so a bitmap
 *                for the largest map entry makes one call per entry.
 *
 * Issued on a tracker.  The HWPT's dirty bits, read through iommufd, are
 * translated from IOVA to GPA through the map and merged.  Tracking is
 * enabled by DIRTYTRACK_START (from a clean snapshot) unless it is on
 * already: declared, or seen from dirty bits at attach.
 */
struct dirtytrack_attach_iommu {
	__u32 size;
	__u32 flags;
	__s32 iommufd;
	__u32 hwpt_id;
	__u32 nr_maps;
	__u32 out_source_id;
	__aligned_u64 maps;
	__aligned_u64 scratch_addr;
	__aligned_u64 scratch_size;
};

#define DIRTYTRACK_ATTACH_IOMMU _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_ATTACH_IOMMU)

/**
 * struct dirtytrack_iommu_set_map - ioctl(DIRTYTRACK_IOMMU_SET_MAP)
 * @size: sizeof(struct dirtytrack_iommu_set_map)
 * @flags: Must be 0.
 * @source_id: The iommu source.
 * @nr_maps: Entries at @maps (0: identity), as for ATTACH_IOMMU.
 * @maps: User pointer to the new map.
 *
 * Issued on a tracker when a vIOMMU remaps, before the IOMMU mapping
 * changes: the old map's dirty bits are read without clearing
 * (IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) and merged through the old map
 * first, then the new map applies.
 */
struct dirtytrack_iommu_set_map {
	__u32 size;
	__u32 flags;
	__u32 source_id;
	__u32 nr_maps;
	__aligned_u64 maps;
};

#define DIRTYTRACK_IOMMU_SET_MAP _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_IOMMU_SET_MAP)

/**
 * struct dirtytrack_iommu_peek - ioctl(DIRTYTRACK_IOMMU_PEEK)
 * @size: sizeof(struct dirtytrack_iommu_peek)
 * @flags: Must be 0.
 * @source_id: The iommu source.
 * @__reserved: Must be 0.
 * @iova: The first IOVA of the range, a multiple of the host page size.
 * @length: Bytes, a multiple of the host page size, not 0.
 * @out_dirty: Output: dirty pages found.
 *
 * Issued on a tracker before the VMM unmaps an IOVA range, once DMA to it
 * has stopped: its dirty bits are read without clearing (no IOTLB flush)
 * into the pending set, which the next sync publishes, so the unmap loses
 * none.
 */
struct dirtytrack_iommu_peek {
	__u32 size;
	__u32 flags;
	__u32 source_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_dirty;
};

#define DIRTYTRACK_IOMMU_PEEK _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_IOMMU_PEEK)

/**
 * struct dirtytrack_iommu_detach - ioctl(DIRTYTRACK_IOMMU_DETACH)
 * @size: sizeof(struct dirtytrack_iommu_detach)
 * @flags: Must be 0.
 * @source_id: The iommu source.
 * @__reserved: Must be 0.
 *
 * Issued on a tracker: a last read (and clear) of the source, merged, then
 * tracking is turned off if the tracker turned it on, and the iommufd
 * file is released.  Safe after the HWPT or the iommufd is gone; detach
 * before allocating new HWPTs, since iommufd reuses their ids.
 */
struct dirtytrack_iommu_detach {
	__u32 size;
	__u32 flags;
	__u32 source_id;
	__u32 __reserved;
};

#define DIRTYTRACK_IOMMU_DETACH _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_IOMMU_DETACH)

#endif /* _UAPI_LINUX_DIRTYTRACK_H */
