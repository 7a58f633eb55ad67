/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libdirtytrack: the library VMMs link to learn which guest pages were
 * written, merged from every source: KVM's dirty rings, KVM's bitmaps (the
 * arm64 backup bitmap, or the plain per-memslot log), the VMM's own writes
 * (device emulation, vhost) and IOMMU dirty bits (iommufd).
 *
 * Two backends sit behind the one API:
 *  - kernel: the dirtytrack module, through /dev/dirtytrack;
 *  - user: the same sources driven from this process, under the same rules,
 *    for hosts without the module.
 * dirtytrack_open() picks the kernel backend when the module is there; the
 * DIRTYTRACK_BACKEND environment variable ("kernel", "user" or "auto") or
 * dirtytrack_open_opts.backend forces one.
 *
 * Conventions (after libbpf and liburing):
 *  - handles are opaque;
 *  - every function that can fail returns 0 or a negative errno, never
 *    aborts and never sets errno as its only report;
 *  - options and result structs start with a size field, @sz, set with
 *    DIRTYTRACK_OPTS_INIT(); a struct smaller than the first field the
 *    library needs is -EINVAL, a larger one whose unknown tail is not zero is
 *    -E2BIG, so old binaries keep working against newer libraries and the
 *    other way round (no struct will ever exceed 4096 bytes: a larger @sz
 *    is -E2BIG too);
 *  - a NULL handle is -EINVAL;
 *  - page numbers and bitmaps count host pages (getpagesize()), the unit
 *    KVM counts memslots in.
 *
 * The lifecycle of a migration, the order of the calls and what each
 * source needs are in libdirtytrack(7).
 */
#ifndef DIRTYTRACK_H
#define DIRTYTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIRTYTRACK_API __attribute__((visibility("default")))

/* Declare and size an options struct: DIRTYTRACK_OPTS_INIT(x_opts, .a = 1) */
#define DIRTYTRACK_OPTS_INIT(type, ...) \
	((struct type){ .sz = sizeof(struct type), __VA_ARGS__ })

/* The default device node. */
#define DIRTYTRACK_DEV_PATH "/dev/dirtytrack"

/* The environment variable that forces a backend. */
#define DIRTYTRACK_BACKEND_ENV "DIRTYTRACK_BACKEND"

/* A memslot as KVM names it: (address space << 16) | slot id. */
#define DIRTYTRACK_SLOT(as_id, id) (((uint32_t)(as_id) << 16) | (uint16_t)(id))

struct dirtytrack;
struct dirtytrack_tracker;

/* ---- the connection -------------------------------------------------- */

/**
 * enum dirtytrack_backend - where the sources are harvested
 * @DIRTYTRACK_BACKEND_AUTO: the kernel if /dev/dirtytrack exists, else user
 * @DIRTYTRACK_BACKEND_KERNEL: the dirtytrack module
 * @DIRTYTRACK_BACKEND_USER: this process
 */
enum dirtytrack_backend {
	DIRTYTRACK_BACKEND_AUTO = 0,
	DIRTYTRACK_BACKEND_KERNEL = 1,
	DIRTYTRACK_BACKEND_USER = 2,
};

/**
 * struct dirtytrack_open_opts - options of dirtytrack_open()
 * @sz: sizeof(struct dirtytrack_open_opts)
 * @path: the device node; NULL means DIRTYTRACK_DEV_PATH
 * @backend: DIRTYTRACK_BACKEND_AUTO lets DIRTYTRACK_BACKEND_ENV decide,
 *           then the presence of the device; any other value wins over the
 *           environment
 */
struct dirtytrack_open_opts {
	size_t sz;
	const char *path;
	enum dirtytrack_backend backend;
};

/**
 * struct dirtytrack_module_info - what the running module supports
 * @sz: sizeof(struct dirtytrack_module_info), set by the caller
 * @api_version: the module's DIRTYTRACK_API_VERSION
 * @page_shift: log2 of the host page size, the unit of every page number
 * @features: the module's DIRTYTRACK_FEATURE_* bits
 */
struct dirtytrack_module_info {
	size_t sz;
	unsigned int api_version;
	unsigned int page_shift;
	uint64_t features;
};

DIRTYTRACK_API int dirtytrack_open(const struct dirtytrack_open_opts *opts,
				   struct dirtytrack **out);
DIRTYTRACK_API void dirtytrack_close(struct dirtytrack *dt);
DIRTYTRACK_API int
dirtytrack_get_module_info(struct dirtytrack *dt,
			   struct dirtytrack_module_info *info);
DIRTYTRACK_API enum dirtytrack_backend
dirtytrack_get_backend(const struct dirtytrack *dt);

/* ---- trackers and regions ---------------------------------------------- */

DIRTYTRACK_API int dirtytrack_tracker_create(struct dirtytrack *dt, int vm_fd,
					     struct dirtytrack_tracker **out);
DIRTYTRACK_API void dirtytrack_tracker_destroy(struct dirtytrack_tracker *t);

DIRTYTRACK_API int dirtytrack_region_add(struct dirtytrack_tracker *t,
					 uint32_t slot, uint64_t gpa,
					 uint64_t size);
DIRTYTRACK_API int dirtytrack_region_remove(struct dirtytrack_tracker *t,
					    uint32_t slot, uint64_t *bitmap,
					    uint64_t *out_dirty);
DIRTYTRACK_API int dirtytrack_region_move(struct dirtytrack_tracker *t,
					  uint32_t slot, uint64_t new_gpa);

/* ---- sources ----------------------------------------------------------- */

DIRTYTRACK_API int dirtytrack_attach_ring(struct dirtytrack_tracker *t,
					  int vcpu_fd, size_t ring_bytes,
					  uint32_t *out_vcpu_id);
DIRTYTRACK_API int dirtytrack_harvest_vcpu(struct dirtytrack_tracker *t,
					   uint32_t vcpu_id,
					   uint64_t *out_entries);
DIRTYTRACK_API int dirtytrack_harvest_filled(struct dirtytrack_tracker *t,
					     unsigned int fill_percent,
					     uint64_t *out_entries);

/**
 * struct dirtytrack_kvm_bitmap_opts - the VM's KVM dirty-log configuration
 * @sz: sizeof(struct dirtytrack_kvm_bitmap_opts)
 * @ring_with_bitmap: the VM uses dirty rings and enabled
 *                    KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP: the bitmap is the
 *                    backup bitmap, read by the final sync, dirtytrack_stop()
 *                    and region removal only.  False: the VM uses no ring
 *                    and the bitmap is the plain log, read by every sync.
 * @manual_protect: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is enabled
 * @initially_set: ... with KVM_DIRTY_LOG_INITIALLY_SET
 * @max_region_bytes: the largest region this tracker will ever have; 0
 *                    means the largest of the regions added so far or
 *                    64 GiB, whichever is larger.  A larger region added
 *                    later is refused with -ENOBUFS.
 */
struct dirtytrack_kvm_bitmap_opts {
	size_t sz;
	bool ring_with_bitmap;
	bool manual_protect;
	bool initially_set;
	uint64_t max_region_bytes;
};

DIRTYTRACK_API int
dirtytrack_attach_kvm_bitmap(struct dirtytrack_tracker *t,
			     const struct dirtytrack_kvm_bitmap_opts *opts);

/* The vmm log's unit, the vhost layout's: one bit per 4 KiB of GPA. */
#define DIRTYTRACK_VMM_LOG_PAGE_BYTES 4096

DIRTYTRACK_API int dirtytrack_vmm_mark(struct dirtytrack_tracker *t,
				       uint64_t gpa, uint64_t len);
DIRTYTRACK_API int dirtytrack_vmm_log_fd(struct dirtytrack_tracker *t,
					 int *out_fd, uint64_t *out_size);

/**
 * struct dirtytrack_iova_map - one range of a device's IOVA space
 * @iova: its first IOVA
 * @gpa: the guest physical address it maps
 * @length: bytes; all three are multiples of the host page size
 */
struct dirtytrack_iova_map {
	uint64_t iova;
	uint64_t gpa;
	uint64_t length;
};

/**
 * struct dirtytrack_iommu_opts - an iommufd HWPT to harvest
 * @sz: sizeof(struct dirtytrack_iommu_opts)
 * @iommufd: an iommufd file descriptor (/dev/iommu)
 * @hwpt_id: a HWPT of it allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @tracking_on: its dirty tracking is on already; the tracker harvests it
 *               and never enables it (enabling clears the bits)
 * @nr_maps: entries at @maps, at most 4096; 0 for the identity (IOVA ==
 *           GPA over the regions of address space 0)
 * @maps: sorted by IOVA, not overlapping
 */
struct dirtytrack_iommu_opts {
	size_t sz;
	int iommufd;
	uint32_t hwpt_id;
	bool tracking_on;
	uint32_t nr_maps;
	const struct dirtytrack_iova_map *maps;
};

DIRTYTRACK_API int
dirtytrack_attach_iommu(struct dirtytrack_tracker *t,
			const struct dirtytrack_iommu_opts *opts,
			uint32_t *out_source_id);
DIRTYTRACK_API int
dirtytrack_iommu_set_map(struct dirtytrack_tracker *t, uint32_t source_id,
			 const struct dirtytrack_iova_map *maps,
			 uint32_t nr_maps);
DIRTYTRACK_API int dirtytrack_iommu_peek(struct dirtytrack_tracker *t,
					 uint32_t source_id, uint64_t iova,
					 uint64_t length, uint64_t *out_dirty);
DIRTYTRACK_API int dirtytrack_iommu_detach(struct dirtytrack_tracker *t,
					   uint32_t source_id);

/* ---- tracking and syncs ------------------------------------------------ */

/**
 * struct dirtytrack_start_opts - options of dirtytrack_start()
 * @sz: sizeof(struct dirtytrack_start_opts)
 * @all_dirty: mark every page of every region dirty, so the first round
 *             sends everything
 */
struct dirtytrack_start_opts {
	size_t sz;
	bool all_dirty;
};

DIRTYTRACK_API int dirtytrack_start(struct dirtytrack_tracker *t,
				    const struct dirtytrack_start_opts *opts);
DIRTYTRACK_API int dirtytrack_stop(struct dirtytrack_tracker *t);

/**
 * struct dirtytrack_sync_stats - what one sync harvested, per source
 * @sz: sizeof(struct dirtytrack_sync_stats), set by the caller
 * @duration_ns: the sync's wall time
 * @ring_entries: dirty-ring entries harvested
 * @ring_invalid: ring entries that named no region (not followed)
 * @ring_foreign: ring entries someone else harvested; when not 0 every
 *                region was marked dirty
 * @kvm_bitmap_pages: pages the KVM bitmap reported
 * @kvm_bitmap_errors: memslots whose bitmap could not be read or cleared
 *                     completely (marked dirty as a whole)
 * @vmm_pages: 4 KiB pages the vmm log reported
 * @vmm_outside: vmm log pages in no region (dropped)
 * @iommu_pages: pages the iommu sources reported
 * @iommu_calls: IOMMU_HWPT_GET_DIRTY_BITMAP calls
 * @iommu_errors: failed calls (their ranges were marked dirty)
 * @ring_overflow: rings found full: KVM pushed past their end, overwriting
 *                 entries nobody harvested; every region was marked dirty
 *                 and each ring put back in order
 * @ring_resets: KVM_RESET_DIRTY_RINGS calls
 * @ring_partial_resets: calls KVM ended early (from Linux 6.17, on a
 *                       signal it could not be kept from seeing); each was
 *                       issued again.  Not foreign.
 * @ring_sticky: pages that became dirty at every sync from now on, because
 *               such a call may have left their dirty logging off in KVM
 *
 * A page several sources report is one page of the merged set; each
 * source counts it.
 */
struct dirtytrack_sync_stats {
	size_t sz;
	uint64_t duration_ns;
	uint64_t ring_entries;
	uint64_t ring_invalid;
	uint64_t ring_foreign;
	uint64_t kvm_bitmap_pages;
	uint64_t kvm_bitmap_errors;
	uint64_t vmm_pages;
	uint64_t vmm_outside;
	uint64_t iommu_pages;
	uint64_t iommu_calls;
	uint64_t iommu_errors;
	uint64_t ring_overflow;
	uint64_t ring_resets;
	uint64_t ring_partial_resets;
	uint64_t ring_sticky;
};

DIRTYTRACK_API int dirtytrack_sync(struct dirtytrack_tracker *t,
				   struct dirtytrack_sync_stats *stats);
DIRTYTRACK_API int dirtytrack_final_begin(struct dirtytrack_tracker *t,
					  struct dirtytrack_sync_stats *stats);
DIRTYTRACK_API int dirtytrack_final_end(struct dirtytrack_tracker *t,
					struct dirtytrack_sync_stats *stats);

/* ---- dirty rates ------------------------------------------------------- */

/**
 * struct dirtytrack_rate - a dirty rate, in pages per second
 * @last: over the interval between the last two syncs
 * @avg: smoothed over syncs (each new interval weighs 1/4)
 *
 * Fixed: this struct never grows.
 */
struct dirtytrack_rate {
	double last;
	double avg;
};

/**
 * struct dirtytrack_rates - dirty rates per source
 * @sz: sizeof(struct dirtytrack_rates), set by the caller
 * @syncs: intervals measured so far, one per sync after dirtytrack_start()
 *         (the rates are 0 until the first)
 * @ring: dirty-ring entries (host pages)
 * @kvm_bitmap: KVM bitmap pages (host pages)
 * @vmm: vmm log pages (4 KiB)
 * @iommu: IOMMU pages (host pages)
 */
struct dirtytrack_rates {
	size_t sz;
	uint64_t syncs;
	struct dirtytrack_rate ring;
	struct dirtytrack_rate kvm_bitmap;
	struct dirtytrack_rate vmm;
	struct dirtytrack_rate iommu;
};

DIRTYTRACK_API int dirtytrack_get_rates(struct dirtytrack_tracker *t,
					struct dirtytrack_rates *rates);
DIRTYTRACK_API int dirtytrack_get_vcpu_rate(struct dirtytrack_tracker *t,
					    uint32_t vcpu_id,
					    struct dirtytrack_rate *rate);

/**
 * struct dirtytrack_vcpu_stats - one vCPU's ring, over the tracker's life
 * @sz: sizeof(struct dirtytrack_vcpu_stats), set by the caller
 * @entries: ring entries harvested
 * @overflows: harvests that found the ring full (see
 *             dirtytrack_sync_stats.ring_overflow)
 * @ring_entries: the ring's size, in entries
 */
struct dirtytrack_vcpu_stats {
	size_t sz;
	uint64_t entries;
	uint64_t overflows;
	uint64_t ring_entries;
};

DIRTYTRACK_API int dirtytrack_get_vcpu_stats(struct dirtytrack_tracker *t,
					     uint32_t vcpu_id,
					     struct dirtytrack_vcpu_stats *stats);

/* ---- consuming the merged set ------------------------------------------ */

/**
 * struct dirtytrack_dirty_range - a run of dirty pages in one region
 * @slot: the region's memslot (DIRTYTRACK_SLOT())
 * @first_page: the run's first page, from the region's start
 * @npages: pages in the run
 * @gpa: the guest physical address of its first page
 */
struct dirtytrack_dirty_range {
	uint32_t slot;
	uint64_t first_page;
	uint64_t npages;
	uint64_t gpa;
};

/*
 * Called once per run; 0 consumes the run.  Anything else stops the walk
 * and puts this run and every run not yet seen back in the set.
 */
typedef int (*dirtytrack_range_fn)(const struct dirtytrack_dirty_range *range,
				   void *ctx);

DIRTYTRACK_API int dirtytrack_claim_ranges(struct dirtytrack_tracker *t,
					   dirtytrack_range_fn fn, void *ctx,
					   uint64_t *out_pages);
DIRTYTRACK_API int dirtytrack_claim_bitmap(struct dirtytrack_tracker *t,
					   uint32_t slot, uint64_t first_page,
					   uint64_t npages, uint64_t *bitmap,
					   uint64_t *out_dirty);

/**
 * struct dirtytrack_bitmap_view - a region's merged set, in place
 * @sz: sizeof(struct dirtytrack_bitmap_view), set by the caller
 * @words: (npages + 63) / 64 words; bit p is page p of the region
 * @summary: one bit per 64 words: bit c may be set only if words
 *           [64c, 64c + 64) may hold bits
 * @npages: pages in the region
 * @gpa: the region's guest physical address now
 *
 * Valid until the region is removed or the tracker destroyed.  Sources set
 * bits concurrently: a consumer follows the claim protocol of
 * dirtytrack_region_bitmap(3), or uses dirtytrack_claim_*().
 */
struct dirtytrack_bitmap_view {
	size_t sz;
	uint64_t *words;
	uint64_t *summary;
	uint64_t npages;
	uint64_t gpa;
};

DIRTYTRACK_API int dirtytrack_region_bitmap(struct dirtytrack_tracker *t,
					    uint32_t slot,
					    struct dirtytrack_bitmap_view *view);

#ifdef __cplusplus
}
#endif

#endif /* DIRTYTRACK_H */
