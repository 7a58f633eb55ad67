/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libdirtytrack's insides: the handles, the region and vCPU tables both
 * backends share, and the backend operations.
 *
 * Locking.  A tracker has two locks:
 *  - @lock (a mutex) serialises every call that drives a source or changes
 *    the tracker: syncs, per-vCPU harvests, attaches, region changes;
 *  - @regions_lock (a rwlock, writers first) protects the region table:
 *    taken for reading by the consumer (dirtytrack_claim_*()), for writing
 *    by region add, remove and move, before @lock.  So nothing that holds
 *    @lock ever waits for a claim: a claim never delays a sync or a vCPU
 *    thread's harvest, and a claim's callback may sync.
 * Sources and consumers share each region's merged set through the claim
 * protocol of struct dt_bitmap, not through a lock.
 */
#ifndef DT_LIBDT_H
#define DT_LIBDT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/dirtytrack.h>

#include "dirtytrack.h"
#include "dt_iommufd.h"	/* the core, and its iommu source's limits */

#define DT_LIB_MAX_VCPUS	1024	/* the module's DT_MAX_RINGS */
/* KVM_DIRTY_RING_MAX_ENTRIES of include/linux/kvm_host.h, not uapi. */
#define DT_LIB_RING_MAX_ENTRIES	65536
/* The module's default max_region_pages: 1 TiB of 4 KiB pages. */
#define DT_LIB_MAX_REGION_PAGES	(1ULL << 28)

struct dirtytrack {
	enum dirtytrack_backend backend;
	int fd;			/* /dev/dirtytrack, or -1 (user backend) */
	unsigned int page_shift;
	struct dirtytrack_info info;
	int refs;		/* the caller's, and one per tracker */
};

/**
 * struct dt_lib_region - a region (core/regions.c), as both backends keep it
 * @r: the region.  @r.merged is the set the consumer claims from: the
 *     module's, mapped (kernel backend), or this process's (user backend);
 *     @r.pending and the move fields are the user backend's
 * @map: kernel backend: the mapping of @r.merged
 * @map_size: its length
 */
struct dt_lib_region {
	struct dt_region r;
	void *map;
	size_t map_size;
};

static inline struct dt_lib_region *dt_lib_region(struct dt_region *r)
{
	return (struct dt_lib_region *)((char *)r -
					offsetof(struct dt_lib_region, r));
}

/**
 * struct dt_lib_vcpu - an attached dirty ring
 * @id: KVM's id of the vCPU (its KVM_CREATE_VCPU argument)
 * @map: the library's own mapping of the ring, checked to be its size
 * @map_size: its length, the ring's size
 * @entries: entries harvested since the last rate update
 * @harvested: entries harvested over the tracker's life
 * @rate: the vCPU's dirty rate
 * @measured: @rate holds an interval (a vCPU attached late starts fresh)
 * @overflows: harvests that found the ring full
 * @ring: user backend: the walk's state, and what the last harvest took
 */
struct dt_lib_vcpu {
	uint32_t id;
	void *map;
	size_t map_size;
	uint64_t entries;
	uint64_t harvested;
	struct dirtytrack_rate rate;
	bool measured;
	uint64_t overflows;
	struct dt_ring ring;
};

/* The per-source rates, in struct dirtytrack_rates order. */
enum { DT_RATE_RING, DT_RATE_KVM_BITMAP, DT_RATE_VMM, DT_RATE_IOMMU, DT_NR_RATES };

struct dt_backend_ops;

struct dirtytrack_tracker {
	struct dirtytrack *dt;
	const struct dt_backend_ops *ops;
	pthread_mutex_t lock;
	pthread_rwlock_t regions_lock;
	int fd;			/* kernel backend: the tracker */
	struct dt_regions regions;
	uint64_t regions_gen;	/* bumped by every add and remove */
	struct dt_lib_vcpu *vcpus;
	uint32_t nr_vcpus;
	/* Rates: the time of the last sync, and what came since. */
	uint64_t last_sync_ns;
	uint64_t syncs;
	uint64_t since[DT_NR_RATES];
	struct dirtytrack_rate rates[DT_NR_RATES];
	void *priv;		/* the backend's own state */
};

/**
 * struct dt_backend_ops - what a backend does; called with @t->lock held
 *
 * Return values are 0 or -errno, with the meaning the module documents
 * for the matching ioctl; both backends answer every misuse alike.
 * @region_add fills in @r->merged; @region_remove harvests the region and
 * copies its last bits out before the common code unlinks it; @region_move
 * harvests and moves @r to @new_gfn (dt_region_moved()); @sync fills @st
 * and adds each vCPU's entries to its @entries (and its overflows);
 * @harvest_vcpu harvests @v's ring, or every ring holding at least
 * @min_fill used entries when @v is NULL, and does the same.
 */
struct dt_backend_ops {
	int (*create)(struct dirtytrack_tracker *t, int vm_fd);
	void (*destroy)(struct dirtytrack_tracker *t);
	int (*region_add)(struct dirtytrack_tracker *t, struct dt_region *r);
	int (*region_remove)(struct dirtytrack_tracker *t,
			     struct dt_region *r, uint64_t *bitmap,
			     uint64_t *out_dirty);
	void (*region_free)(struct dirtytrack_tracker *t,
			    struct dt_region *r);
	int (*region_move)(struct dirtytrack_tracker *t,
			   struct dt_region *r, uint64_t new_gfn);
	int (*attach_ring)(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v);
	int (*harvest_vcpu)(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v,
			    uint32_t min_fill, uint64_t *out_entries);
	int (*attach_kvm_bitmap)(struct dirtytrack_tracker *t, uint32_t flags,
				 uint64_t max_pages);
	int (*vmm_mark)(struct dirtytrack_tracker *t, uint64_t gpa,
			uint64_t len);
	int (*vmm_log_fd)(struct dirtytrack_tracker *t, int *out_fd,
			  uint64_t *out_size);
	int (*attach_iommu)(struct dirtytrack_tracker *t,
			    const struct dirtytrack_iommu_opts *opts,
			    uint32_t *out_id);
	int (*iommu_set_map)(struct dirtytrack_tracker *t, uint32_t id,
			     const struct dirtytrack_iova_map *maps,
			     uint32_t nr_maps);
	int (*iommu_peek)(struct dirtytrack_tracker *t, uint32_t id,
			  uint64_t iova, uint64_t length, uint64_t *out_dirty);
	int (*iommu_detach)(struct dirtytrack_tracker *t, uint32_t id);
	int (*start)(struct dirtytrack_tracker *t, bool all_dirty);
	int (*stop)(struct dirtytrack_tracker *t);
	int (*sync)(struct dirtytrack_tracker *t, enum dt_sync_phase phase,
		    struct dirtytrack_sync_stats *st);
};

/* A harvest took @n entries of @v's ring, @overflow if it found it full. */
static inline void dt_lib_vcpu_took(struct dt_lib_vcpu *v, uint64_t n,
				    bool overflow)
{
	v->entries += n;
	v->harvested += n;
	v->overflows += overflow;
}

extern const struct dt_backend_ops dt_kernel_backend;
extern const struct dt_backend_ops dt_user_backend;

/*
 * Tests only, never exported: the user backend issues KVM_RESET_DIRTY_RINGS
 * with signals unblocked, so that a 6.17+ KVM ends it early for real.
 */
extern bool dt_lib_reset_unblocked;

/* tracker.c */
struct dt_iommu_map;
int dt_lib_iommu_maps(const struct dirtytrack_iova_map *m, uint32_t nr,
		      struct dt_iommu_map **out);
uint64_t dt_lib_iommu_call_pages(struct dirtytrack_tracker *t,
				 const struct dirtytrack_iova_map *maps,
				 uint32_t nr);
void dt_lib_put(struct dirtytrack *dt);
void dt_lib_sync_stats(const struct dirtytrack_sync *c,
		       struct dirtytrack_sync_stats *st);

/* claim.c */
int dt_lib_claim_region(struct dt_region *r, uint64_t first,
			uint64_t npages, uint64_t *bitmap, uint64_t *out_dirty);

/* rates.c */
void dt_rates_update(struct dirtytrack_tracker *t,
		     const struct dirtytrack_sync_stats *st, uint64_t now);
void dt_rates_restart(struct dirtytrack_tracker *t);

/* kvm_files.c */
int dt_kvm_fd_is_vm(int fd);
int dt_kvm_vcpu_fd_id(int fd, uint32_t *id);
bool dt_kernel_reset_stops_on_signal(const char *release);
bool dt_kvm_reset_stops_on_signal(void);

/* device.c: the monotonic clock, in ns. */
uint64_t dt_now_ns(void);

static inline uint64_t dt_lib_page_size(const struct dirtytrack_tracker *t)
{
	return (uint64_t)1 << t->dt->page_shift;
}

#endif /* DT_LIBDT_H */
