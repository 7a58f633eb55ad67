/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirtytrack: the private map of the module.  One file per kind of object;
 * this header says which file owns what.
 */
#ifndef _DIRTYTRACK_PRIVATE_H
#define _DIRTYTRACK_PRIVATE_H

#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/dirtytrack.h>
#include <uapi/linux/dirtytrack_netlink.h>

#include "core/dt_core.h"
#include "core/dt_harvest.h"
#include "core/dt_io.h"
#include "core/dt_iommufd.h"

struct file;
struct inode;
struct mm_struct;
struct net;
struct page;
struct pid;
struct vm_area_struct;

/*
 * ioctl.c: the size-prefixed ioctl convention shared by every dirtytrack
 * file descriptor.
 */

/**
 * struct dt_ucmd - one decoded ioctl call
 * @ctx: the file's private data
 * @ubuffer: the caller's struct
 * @user_size: the size the caller claims for it (its first u32)
 * @cmd: the kernel copy, zero-extended to the kernel's struct size
 */
struct dt_ucmd {
	void *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/**
 * struct dt_ioctl_op - one row of an ioctl table
 * @size: the kernel's struct size
 * @min_size: the smallest size a caller may pass
 * @ioctl_num: the full ioctl number, checked against the caller's
 * @flags: the flags bits the command knows; any other is -EOPNOTSUPP
 * @execute: the handler
 */
struct dt_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	u32 flags;
	int (*execute)(struct dt_ucmd *ucmd);
};

/* Large enough for any dirtytrack ioctl struct: checked by DT_IOCTL_OP. */
union dt_ucmd_buffer {
	struct dirtytrack_info info;
	struct dirtytrack_create create;
	struct dirtytrack_region region;
	struct dirtytrack_region_remove region_remove;
	struct dirtytrack_attach_ring attach_ring;
	struct dirtytrack_sync sync;
	struct dirtytrack_claim claim;
	struct dirtytrack_harvest_vcpu harvest_vcpu;
	struct dirtytrack_start start;
	struct dirtytrack_stop stop;
	struct dirtytrack_region_move region_move;
	struct dirtytrack_attach_kvm_bitmap attach_kvm_bitmap;
	struct dirtytrack_vmm_log_fd vmm_log_fd;
	struct dirtytrack_vmm_mark vmm_mark;
	struct dirtytrack_attach_iommu attach_iommu;
	struct dirtytrack_iommu_set_map iommu_set_map;
	struct dirtytrack_iommu_peek iommu_peek;
	struct dirtytrack_iommu_detach iommu_detach;
};

/*
 * One table row for DIRTYTRACK_<_cmd>: DT_IOCTL_OP(GET_INFO, fn, struct
 * dirtytrack_info, features, 0) accepts callers whose struct reaches at
 * least to @_last and whose flags are within @_flags.  Every struct has
 * its u32 flags right after its u32 size.
 */
#define DT_IOCTL_OP(_cmd, _fn, _struct, _last, _flags)			\
	[DIRTYTRACK_CMD_##_cmd - DIRTYTRACK_CMD_BASE] = {		\
		.size = sizeof(_struct) +					\
			BUILD_BUG_ON_ZERO(sizeof(union dt_ucmd_buffer) <	\
					  sizeof(_struct)) +			\
			BUILD_BUG_ON_ZERO(offsetof(_struct, flags) !=		\
					  sizeof(u32)),				\
		.min_size = offsetofend(_struct, _last),			\
		.ioctl_num = DIRTYTRACK_##_cmd,					\
		.flags = _flags,						\
		.execute = _fn,							\
	}

long dt_ioctl_dispatch(const struct dt_ioctl_op *ops, size_t nr_ops,
		       void *ctx, unsigned int cmd, unsigned long arg);
int dt_ucmd_respond(struct dt_ucmd *ucmd, size_t cmd_len);
struct dt_new_file;
int dt_ucmd_respond_fd(struct dt_ucmd *ucmd, size_t cmd_len,
		       struct dt_new_file *nf);

/*
 * Limits, so a fake region or vCPU count hits a cap, not the allocator
 * (DT_MAX_REGIONS and DT_MAX_IOMMU are the core's).
 */
#define DT_MAX_RINGS		1024
/* struct dirtytrack_vcpu_stat as it was first: vcpu_id and harvested. */
#define DT_VCPU_STAT_V0_SIZE	8

/*
 * kvm.c: talking to KVM through its public uAPI only: ioctls on the files
 * the VMM hands over, issued in the VMM's context with the same security
 * checks as the syscall.
 */
int dt_kvm_check_vm_file(struct file *file);
int dt_kvm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int dt_kvm_vcpu_id(struct file *file);

/**
 * struct dt_mapped_region - a region (core/regions.c), mappable
 * @r: the region; @r.merged's words and summary live in @map, so the VMM
 *     claims through mmap too
 * @map: vmalloc()ed words, then summary, each padded to a page
 * @map_offset: where @map is in the tracker's mapping
 * @map_size: its size
 */
struct dt_mapped_region {
	struct dt_region r;
	void *map;
	u64 map_offset;
	u64 map_size;
};

static inline struct dt_mapped_region *dt_mapped(struct dt_region *r)
{
	return container_of(r, struct dt_mapped_region, r);
}

/**
 * struct dt_ring_source - one vCPU's dirty ring, pinned
 * @vcpu_id: the vCPU's id, from its file
 * @vcpu_file: the vCPU file, held for identity
 * @pages: the pinned ring pages
 * @npages: how many
 * @ring: the walk's state; its entries are the vmap() of @pages
 * @harvested: entries harvested over the tracker's life
 * @rate_entries: entries harvested between the last two syncs (per
 *                second: dt_stats_rate() over the tracker's rate_interval)
 * @rate_base: @harvested at the last sync
 * @fill: entries pushed and not harvested, as the last scan found them
 *        (ring_scan.c, which alone writes the fill fields)
 * @fill_max: the highest @fill
 * @fill_events: times @fill rose above the threshold
 * @above: @fill is above the threshold: no new event until it drops
 * @overflows: harvests that found the ring full (KVM pushed past its end)
 *
 * The counters are written under the tracker's lock (or by the scan) and
 * read locklessly by netlink, hence WRITE_ONCE()/READ_ONCE().
 */
struct dt_ring_source {
	u32 vcpu_id;
	struct file *vcpu_file;
	struct page **pages;
	unsigned long npages;
	struct dt_ring ring;
	u64 harvested;
	u64 rate_entries;
	u64 rate_base;
	u32 fill;
	u32 fill_max;
	u64 fill_events;
	bool above;
	u64 overflows;
};

/* Bitmap words read from a scratch at a time (32768 pages). */
#define DT_SCRATCH_CHUNK_WORDS	512

/**
 * struct dt_scratch - scratch memory a VMM lends (scratch.c)
 * @io: the core's view of @file and the scratch (dt_scratch_io_ops)
 * @file: the file its ioctls are issued on (KVM's VM, an iommufd)
 * @base: its start: DIRTYTRACK_SCRATCH_HEADER bytes of ioctl arguments,
 *        then the bitmap the kernel interface writes (untrusted)
 * @words: bitmap words it holds after the header
 * @bounce: a kernel copy of one chunk of the bitmap
 */
struct dt_scratch {
	struct dt_io io;
	struct file *file;
	u8 __user *base;
	u64 words;
	u64 *bounce;
};

int dt_scratch_init(struct dt_scratch *s, u64 addr, u64 size, u64 min_words,
		    u64 max_words);
void dt_scratch_free(struct dt_scratch *s);
u64 __user *dt_scratch_bitmap(struct dt_scratch *s);
int dt_scratch_ioctl(struct dt_scratch *s, struct file *file,
		     unsigned int cmd, const void *arg, size_t len);
int dt_scratch_read(struct dt_scratch *s, u64 first_word, u64 n);
int dt_scratch_check_pinnable(struct dt_scratch *s);
extern const struct dt_io_ops dt_scratch_io_ops;

/**
 * struct dt_kvm_bitmap - the kvm-bitmap source
 * @src: the core's source (core/kvm_bitmap.c)
 * @scratch: where KVM's ioctls take their arguments and write the bitmap;
 *           its file is the tracker's VM file
 */
struct dt_kvm_bitmap {
	struct dt_kvm_bitmap_src src;
	struct dt_scratch scratch;
};

struct dt_vmm_log;

/**
 * struct dt_iommu_source - one HWPT's dirty bits, through iommufd
 * @src: the core's source (core/iommu_source.c)
 * @scratch: where iommufd's ioctls take their arguments and bitmap; its
 *           file is the VMM's iommufd, held
 */
struct dt_iommu_source {
	struct dt_iommu_src src;
	struct dt_scratch scratch;
};

/**
 * struct dt_source_stats - one source's figures over a tracker's life
 * @pages: pages it reported
 * @harvests: harvests it was attached for
 * @last_ns: its last harvest's duration
 * @max_ns: the longest
 * @invalid: entries or pages that named no region
 * @errors: failures (each failed its sync or marked its pages dirty)
 */
struct dt_source_stats {
	u64 pages;
	u64 harvests;
	u64 last_ns;
	u64 max_ns;
	u64 invalid;
	u64 errors;
};

/**
 * struct dt_stats - a tracker's figures, for netlink (stats.c)
 * @syncs: DIRTYTRACK_SYNC calls that completed
 * @harvested: pages from every source, every harvest
 * @rate_pages: pages harvested between the last two syncs
 * @rate_interval: the time between them, in ns (rates are computed when
 *                 read: dt_stats_rate())
 * @last_sync_ns: the last sync's harvest duration
 * @max_sync_ns: the longest
 * @invalid: ring entries and vmm pages naming no region
 * @foreign: ring entries another collector took
 * @errors: source errors
 * @ring_overflow: rings found full
 * @ring_resets: KVM_RESET_DIRTY_RINGS calls
 * @ring_partial_resets: those KVM ended early
 * @ring_sticky: pages that became dirty at every harvest
 * @rate_base: @harvested at the last sync
 * @rate_ns: when that sync completed
 * @final_base: @harvested before FINAL_BEGIN
 * @final_ns: when FINAL_BEGIN started
 * @src: per source, by enum dirtytrack_source
 *
 * Written under the tracker's lock with WRITE_ONCE(); netlink reads it
 * without the lock (a snapshot may mix two syncs' figures, never tear).
 */
struct dt_stats {
	u64 syncs;
	u64 harvested;
	u64 rate_pages;
	u64 rate_interval;
	u64 last_sync_ns;
	u64 max_sync_ns;
	u64 invalid;
	u64 foreign;
	u64 errors;
	u64 ring_overflow;
	u64 ring_resets;
	u64 ring_partial_resets;
	u64 ring_sticky;
	u64 rate_base;
	u64 rate_ns;
	u64 final_base;
	u64 final_ns;
	struct dt_source_stats src[DT_NR_SOURCES];
};

/**
 * struct dt_tracker - the dirty state of one VM
 * @lock: serializes every operation: harvest, reset and publish must not
 *        interleave (a page published before its reset could be copied,
 *        written again and never reported)
 * @vm_file: the VM, held
 * @mm: the VM's mm, the only one allowed to operate the tracker
 * @id: its index in dt_trackers, the name netlink gives it
 * @owner: the creating process (its thread group), held
 * @owner_uid: the creator's effective uid
 * @net: the creator's network namespace, held: netlink shows the tracker
 *       there only
 * @vm_fd: the VM's fd in the creator at DIRTYTRACK_CREATE
 * @regions: the regions (written under @lock and @map_lock)
 * @table_v: the regions' slots sorted by slot, @table's storage
 * @table: the slot table the ring walk resolves entries with
 * @rings: attached rings
 * @nr_rings: how many
 * @map_lock: taken by the mmap fault handler to find a region's page, and
 *            for write to add or remove one; nests inside @lock and inside
 *            mmap_lock, never around either
 * @next_map_offset: the mapping offset the next region gets
 * @inode: the tracker file's own inode, whose mappings a region removal
 *         zaps
 * @state: enum dt_state
 * @sticky: pages KVM may have stopped logging, dirty at every harvest
 *          (core/ring.c)
 * @kbm: the kvm-bitmap source, or NULL
 * @kbm_shown: its flags once attached, -1 without one: what netlink shows
 *             (it must not follow @kbm, which a failed attach frees)
 * @vmm: the vmm source's log, always there (shared with its files)
 * @iommu: the iommu sources (struct dt_iommu_source), by id
 * @collect: the worker that walks the rings beside the IOMMU reads
 * @collect_fn: what it runs (harvest.c), and ...
 * @collect_arg: ... on what
 * @stats: the figures netlink reports
 *
 * Netlink and the ring scan read a tracker under dt_trackers_lock, which
 * its release takes before freeing anything: they see its rings (only
 * ever added, published with smp_store_release() of @nr_rings), its
 * counters, @kbm_shown and, under @map_lock, its regions.
 */
struct dt_tracker {
	struct mutex lock;	/* see above: one operation at a time */
	struct file *vm_file;
	struct mm_struct *mm;
	u32 id;
	struct pid *owner;
	kuid_t owner_uid;
	struct net *net;
	int vm_fd;
	struct dt_regions regions;
	struct dt_slot table_v[DT_MAX_REGIONS];
	struct dt_slot_table table;
	struct dt_ring_source *rings[DT_MAX_RINGS];
	u32 nr_rings;
	struct rw_semaphore map_lock;
	u64 next_map_offset;
	struct inode *inode;
	enum dt_state state;
	struct dt_sticky sticky;
	struct dt_kvm_bitmap *kbm;
	s64 kbm_shown;
	struct dt_vmm_log *vmm;
	struct dt_iommu_srcs iommu;
	struct work_struct collect;
	void (*collect_fn)(void *arg);
	void *collect_arg;
	struct dt_stats stats;
};

/* tracker.c: every tracker by id; the lock keeps each one alive. */
extern struct xarray dt_trackers;
extern struct mutex dt_trackers_lock;

/* harvest.c: the core's harvest with the module's sources, and its figures */
void dt_harvest_init(struct dt_tracker *t);
struct dt_lifecycle dt_lifecycle_of(struct dt_tracker *t);
const char *dt_harvest_kind_name(enum dt_harvest_kind kind);

/* stats.c: the figures netlink reports, and the events they raise */
void dt_stats_harvest(struct dt_tracker *t, const struct dt_harvest *h,
		      int ret);
void dt_stats_rate_reset(struct dt_tracker *t);
u64 dt_stats_rate(u64 count, u64 ns);
void dt_stats_sync(struct dt_tracker *t, enum dt_sync_phase phase,
		   const struct dt_harvest *h, u64 harvested_before);

/* netlink.c: the dirtytrack generic netlink family (6.10 and later) */
#ifdef DT_HAVE_NETLINK
int dt_nl_init(void);
void dt_nl_exit(void);
void dt_nl_notify_created(struct dt_tracker *t);
void dt_nl_notify_destroyed(struct dt_tracker *t);
void dt_nl_notify_ring_fill(struct dt_tracker *t, struct dt_ring_source *rs,
			    u32 fill, u32 threshold);
void dt_nl_notify_source_error(struct dt_tracker *t,
			       enum dirtytrack_source src, int error,
			       u64 errors);
void dt_nl_notify_final_sync(struct dt_tracker *t, u64 pages, u64 ns);
#else
static inline int dt_nl_init(void) { return 0; }
static inline void dt_nl_exit(void) { }
static inline void dt_nl_notify_created(struct dt_tracker *t) { }
static inline void dt_nl_notify_destroyed(struct dt_tracker *t) { }
static inline void dt_nl_notify_ring_fill(struct dt_tracker *t,
					  struct dt_ring_source *rs,
					  u32 fill, u32 threshold) { }
static inline void dt_nl_notify_source_error(struct dt_tracker *t,
					     enum dirtytrack_source src,
					     int error, u64 errors) { }
static inline void dt_nl_notify_final_sync(struct dt_tracker *t, u64 pages,
					   u64 ns) { }
#endif

/* test_hooks.c: debugfs knobs of the test build only (DT_TEST_HOOKS=y) */
/* Ring marks a test hook hid from one KVM_RESET_DIRTY_RINGS. */
struct dt_test_hidden {
	struct dt_ring *ring;
	u32 from;
	u32 n;
};

#ifdef DT_TEST_HOOKS
void dt_test_hooks_init(void);
void dt_test_hooks_exit(void);
void dt_test_reset_partial_begin(struct dt_tracker *t,
				 struct dt_test_hidden *hid);
bool dt_test_reset_partial_end(struct dt_test_hidden *hid);
bool dt_test_reset_unblocked(void);
#else
static inline void dt_test_hooks_init(void) { }
static inline void dt_test_hooks_exit(void) { }
static inline void dt_test_reset_partial_begin(struct dt_tracker *t,
					       struct dt_test_hidden *hid) { }
static inline bool dt_test_reset_partial_end(struct dt_test_hidden *hid)
{
	return false;
}

static inline bool dt_test_reset_unblocked(void)
{
	return false;
}
#endif

/* ring_scan.c: the rings' fill level, scanned while tracking */
void dt_ring_scan_kick(void);
void dt_ring_scan_exit(void);

/* tracker.c */
int dt_tracker_create(struct dt_ucmd *ucmd);

/* tracker_file.c: the tracker's file, on a pseudo filesystem of our own */
int dt_fs_init(void);
void dt_fs_exit(void);
/* A file and its reserved fd, installed only once the reply is out. */
struct dt_new_file {
	int fd;
	struct file *file;
};

int dt_file_prepare(struct dt_new_file *nf, void *priv,
		    const struct file_operations *fops, const char *name,
		    struct inode **inode);
void dt_file_commit(struct dt_new_file *nf);
void dt_file_abort(struct dt_new_file *nf);
int dt_tracker_mmap(struct file *file, struct vm_area_struct *vma);
void dt_vma_set_flags(struct vm_area_struct *vma, unsigned long flags);

/* region.c */
int dt_region_add(struct dt_tracker *t, struct dirtytrack_region *cmd);
struct page *dt_region_map_page(struct dt_tracker *t, pgoff_t pgoff);
int dt_region_remove(struct dt_tracker *t, u32 slot, u64 __user *ubitmap,
		     u64 *count);
int dt_region_claim_to_user(struct dt_region *r, u64 first, u64 npages,
			    u64 __user *ubitmap, u64 *count);
int dt_region_move(struct dt_tracker *t, u32 slot, u64 new_first_gfn);
void dt_regions_free(struct dt_tracker *t);

/* ring_source.c */
extern const struct dt_source_ops dt_ring_source_ops;
int dt_ring_attach(struct dt_tracker *t, u64 addr, u32 *vcpu_id);
void dt_rings_free(struct dt_tracker *t);
struct dt_ring_source *dt_ring_find(struct dt_tracker *t, u32 vcpu_id);

/* bitmap_source.c */
extern const struct dt_source_ops dt_kvm_bitmap_source_ops;
int dt_kvm_bitmap_attach(struct dt_tracker *t,
			 struct dirtytrack_attach_kvm_bitmap *cmd);
int dt_kvm_bitmap_check_region(struct dt_tracker *t, u64 npages);
u64 dt_region_max_pages(void);
void dt_kvm_bitmap_free(struct dt_tracker *t);

/* iommu_source.c */
extern const struct dt_source_ops dt_iommu_source_ops;
int dt_iommu_attach(struct dt_tracker *t, struct dirtytrack_attach_iommu *cmd);
int dt_iommu_set_map(struct dt_tracker *t,
		     struct dirtytrack_iommu_set_map *cmd);
int dt_iommu_peek(struct dt_tracker *t, struct dirtytrack_iommu_peek *cmd);
int dt_iommu_detach(struct dt_tracker *t, u32 id);
void dt_iommu_free_all(struct dt_tracker *t);

/* vmm_source.c */
extern const struct dt_source_ops dt_vmm_source_ops;
int dt_vmm_log_create(struct dt_tracker *t);
void dt_vmm_log_put_tracker(struct dt_tracker *t);
void dt_vmm_log_grow(struct dt_tracker *t, u64 end_gfn);
int dt_vmm_log_fd(struct dt_tracker *t, struct dt_new_file *nf,
		  u64 *log_size);
int dt_vmm_mark(struct dt_tracker *t, struct dirtytrack_vmm_mark *cmd);

#endif /* _DIRTYTRACK_PRIVATE_H */
