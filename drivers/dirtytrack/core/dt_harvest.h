/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One harvest, for both homes (harvest.c): which sources take part, in
 * the order the rules demand, each timed; the ring walk beside the IOMMU
 * reads where the home can run it elsewhere; the pages published only
 * once every source is done.  How a source reads its own memory stays
 * with its home, behind struct dt_source_ops.
 */
#ifndef DT_HARVEST_H
#define DT_HARVEST_H

#include "dt_core.h"
#include "dt_iommufd.h"

#define DT_NR_SOURCES	(DIRTYTRACK_SOURCE_IOMMU + 1)

/**
 * struct dt_harvest - one harvest: what to take, and what it found
 * @kind: enum dt_harvest_kind
 * @vcpu: DT_HARVEST_VCPU: the ring, or NULL for every ring holding at
 *        least @min_fill used entries
 * @min_fill: see @vcpu
 * @region: DT_HARVEST_REMOVE: the region
 * @ring_entries: ring entries taken (valid or not)
 * @ring_invalid: ring entries naming no region
 * @ring_foreign: ring entries someone else took (every region marked)
 * @bitmap_pages: pages the KVM bitmap reported
 * @bitmap_errors: memslots whose bitmap could not be read (marked dirty),
 *                 whose manual clear failed, or whose bitmap reported
 *                 pages past the region's declared end
 * @vmm_pages: pages the vmm log reported
 * @vmm_outside: vmm log pages in no region
 * @iommu_pages: pages the iommu sources reported
 * @iommu_calls: IOMMU_HWPT_GET_DIRTY_BITMAP calls
 * @iommu_errors: calls that failed (their range marked dirty)
 * @ring_overflow: rings found full (every region marked)
 * @ring_recovered: zeroed entries marked for KVM's reset after an overflow
 * @ring_resets: KVM_RESET_DIRTY_RINGS calls
 * @ring_partial_resets: those that stopped early, and were issued again
 * @ring_sticky: pages that became dirty at every harvest
 * @ring_reset_errors: harvests whose ring reset failed (the module's count)
 * @ns: time spent in each source, by enum dirtytrack_source
 * @ran: the sources that took part, bit (1 << enum dirtytrack_source)
 * @failed: the source whose error stopped the harvest, or -1
 * @start_ns: when the harvest started (the home's clock)
 * @end_ns: when it ended, published
 */
struct dt_harvest {
	enum dt_harvest_kind kind;
	struct dt_ring *vcpu;
	u32 min_fill;
	struct dt_region *region;
	u32 ring_entries;
	u32 ring_invalid;
	u32 ring_foreign;
	u64 bitmap_pages;
	u32 bitmap_errors;
	u64 vmm_pages;
	u64 vmm_outside;
	u64 iommu_pages;
	u32 iommu_calls;
	u32 iommu_errors;
	u32 ring_overflow;
	u32 ring_recovered;
	u32 ring_resets;
	u32 ring_partial_resets;
	u32 ring_sticky;
	u32 ring_reset_errors;
	u64 ns[DT_NR_SOURCES];
	u32 ran;
	int failed;
	u64 start_ns;
	u64 end_ns;
};

/**
 * struct dt_source_ops - one source, as its home reads it
 * @attached: whether the tracker has this source at all; which kinds of
 *            harvest it serves is the core's (dt_harvest_run())
 * @collect: optional: the part that reads only memory the home holds
 *           (no call into KVM or iommufd), so it may run beside the
 *           other sources; done before @harvest
 * @harvest: move what the source holds into the regions' pending sets;
 *           an error ends the harvest with nothing published
 */
struct dt_source_ops {
	bool (*attached)(void *ctx);
	void (*collect)(void *ctx, struct dt_harvest *h);
	int (*harvest)(void *ctx, struct dt_harvest *h);
};

/**
 * struct dt_harvest_host - what a home lends a harvest
 * @src: the home's sources, by enum dirtytrack_source (NULL: none)
 * @ctx: passed to every operation
 * @regions: the tracker's regions, published at the end
 * @now_ns: a monotonic clock
 * @collect_async: optional: start @fn(@arg) beside the caller; false if it
 *                 cannot (the collect steps then run in line)
 * @collect_wait: wait for what @collect_async started
 */
struct dt_harvest_host {
	const struct dt_source_ops *src[DT_NR_SOURCES];
	void *ctx;
	struct dt_regions *regions;
	u64 (*now_ns)(void);
	bool (*collect_async)(void *ctx, void (*fn)(void *arg), void *arg);
	void (*collect_wait)(void *ctx);
};

int dt_harvest_run(const struct dt_harvest_host *host, struct dt_harvest *h);
u64 dt_harvest_pages(const struct dt_harvest *h, enum dirtytrack_source id);
void dt_harvest_to_sync(const struct dt_harvest *h, struct dirtytrack_sync *c);

/* The kvm-ring source's two steps, on the home's rings. */
void dt_ring_src_collect(const struct dt_rings_ops *ops, struct dt_harvest *h);
int dt_ring_src_reset(const struct dt_rings_ops *ops, u32 max_calls,
		      struct dt_sticky *sticky, const struct dt_regions *rs,
		      struct dt_harvest *h, struct dt_ring_stats *st);

/* ---- the operations that harvest (lifecycle.c) ------------------------- */

/**
 * struct dt_lifecycle - a tracker, as the operations that harvest see it
 * @state: the tracker's state
 * @harvest: the home's harvest: dt_harvest_run() of its sources, then
 *           what the home accounts; 0 or the error that left the pages
 *           pending
 * @ctx: the home's, for @harvest
 * @iommu: the iommu sources
 * @rs: the regions
 */
struct dt_lifecycle {
	enum dt_state *state;
	int (*harvest)(void *ctx, struct dt_harvest *h);
	void *ctx;
	struct dt_iommu_srcs *iommu;
	struct dt_regions *rs;
};

int dt_lifecycle_start(const struct dt_lifecycle *lc, bool all_dirty);
int dt_lifecycle_stop(const struct dt_lifecycle *lc);
int dt_lifecycle_sync(const struct dt_lifecycle *lc, enum dt_sync_phase phase,
		      struct dt_harvest *h);
int dt_lifecycle_harvest(const struct dt_lifecycle *lc, struct dt_harvest *h);
int dt_lifecycle_move(const struct dt_lifecycle *lc, struct dt_region *r,
		      u64 new_first_gfn);

#endif /* DT_HARVEST_H */
