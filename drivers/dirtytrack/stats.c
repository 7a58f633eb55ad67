// SPDX-License-Identifier: GPL-2.0
/*
 * A tracker's figures: what each harvest found, per source and per vCPU,
 * and what each sync cost; the tracepoints and events they raise.  Called
 * with the tracker's lock held; netlink reads the figures without it.
 */
#include <linux/ktime.h>
#include <linux/math64.h>

#include "dirtytrack_private.h"
#include "trace.h"

/* Netlink reads the counters locklessly: no torn or fused stores. */
static inline void dt_stat_add(u64 *field, u64 n)
{
	WRITE_ONCE(*field, *field + n);
}

static u64 dt_harvest_invalid(const struct dt_harvest *h,
			      enum dirtytrack_source id)
{
	switch (id) {
	case DIRTYTRACK_SOURCE_KVM_RING:
		return h->ring_invalid;
	case DIRTYTRACK_SOURCE_VMM:
		return h->vmm_outside;
	default:
		return 0;
	}
}

/* Errors the source recovered from (by marking its pages dirty). */
static u64 dt_harvest_errors(const struct dt_harvest *h,
			     enum dirtytrack_source id)
{
	switch (id) {
	case DIRTYTRACK_SOURCE_KVM_RING:
		return h->ring_reset_errors;
	case DIRTYTRACK_SOURCE_KVM_BITMAP:
		return h->bitmap_errors;
	case DIRTYTRACK_SOURCE_IOMMU:
		return h->iommu_errors;
	default:
		return 0;
	}
}

static const char *const dt_source_names[DT_NR_SOURCES] = {
	[DIRTYTRACK_SOURCE_KVM_RING] = "kvm-ring",
	[DIRTYTRACK_SOURCE_KVM_BITMAP] = "kvm-bitmap",
	[DIRTYTRACK_SOURCE_VMM] = "vmm",
	[DIRTYTRACK_SOURCE_IOMMU] = "iommu",
};

/**
 * dt_stats_harvest() - account one harvest, successful or not
 * @t: the tracker
 * @h: the harvest, its counters and per-source times filled in
 * @ret: its result; @h->failed names the source that failed
 *
 * Every source that took part gets its pages, time and errors; a source
 * that failed or reported errors raises a source-error event.
 */
void dt_stats_harvest(struct dt_tracker *t, const struct dt_harvest *h,
		      int ret)
{
	struct dt_stats *st = &t->stats;
	u64 pages = 0;
	int id;

	for (id = 0; id < DT_NR_SOURCES; id++) {
		struct dt_source_stats *s = &st->src[id];
		u64 n = dt_harvest_pages(h, id);
		u64 errors = dt_harvest_errors(h, id);
		/* A harvest that restarts after a signal did not fail. */
		int err = h->failed == id && ret != -ERESTARTNOINTR ? ret : 0;

		if (!(h->ran & BIT(id)))
			continue;
		if (err && !errors)
			errors = 1;
		pages += n;
		dt_stat_add(&s->pages, n);
		dt_stat_add(&s->harvests, 1);
		dt_stat_add(&s->invalid, dt_harvest_invalid(h, id));
		dt_stat_add(&s->errors, errors);
		dt_stat_add(&st->errors, errors);
		WRITE_ONCE(s->last_ns, h->ns[id]);
		if (h->ns[id] > s->max_ns)
			WRITE_ONCE(s->max_ns, h->ns[id]);
		trace_dirtytrack_harvest(t->id, dt_source_names[id], n,
					 dt_harvest_invalid(h, id), errors,
					 h->ns[id]);
		if (errors)
			dt_nl_notify_source_error(t, id, err, errors);
	}
	dt_stat_add(&st->harvested, pages);
	dt_stat_add(&st->invalid, h->ring_invalid + h->vmm_outside);
	dt_stat_add(&st->foreign, h->ring_foreign);
	dt_stat_add(&st->ring_overflow, h->ring_overflow);
	dt_stat_add(&st->ring_resets, h->ring_resets);
	dt_stat_add(&st->ring_partial_resets, h->ring_partial_resets);
	dt_stat_add(&st->ring_sticky, h->ring_sticky);
}

/*
 * @count per second over @ns.  Divided when netlink reads it, not at each
 * sync: a sync pays no division per ring.
 */
u64 dt_stats_rate(u64 count, u64 ns)
{
	return ns ? mul_u64_u64_div_u64(count, NSEC_PER_SEC, ns) : 0;
}

/* Rates count from now: tracking (re)starts. */
void dt_stats_rate_reset(struct dt_tracker *t)
{
	u32 i;

	t->stats.rate_base = t->stats.harvested;
	t->stats.rate_ns = ktime_get_ns();
	for (i = 0; i < t->nr_rings; i++)
		t->rings[i]->rate_base = t->rings[i]->harvested;
}

/**
 * dt_stats_sync() - account a sync that completed
 * @t: the tracker
 * @phase: its phase
 * @h: its harvest, which says when it started and ended
 * @harvested_before: @t->stats.harvested then
 *
 * The rates cover the interval since the previous sync (or the start);
 * a FINAL_END raises the final-sync event with both halves' figures.
 */
void dt_stats_sync(struct dt_tracker *t, enum dt_sync_phase phase,
		   const struct dt_harvest *h, u64 harvested_before)
{
	struct dt_stats *st = &t->stats;
	u64 now = h->end_ns, ns = now - h->start_ns;
	u32 i;

	dt_stat_add(&st->syncs, 1);
	WRITE_ONCE(st->last_sync_ns, ns);
	if (ns > st->max_sync_ns)
		WRITE_ONCE(st->max_sync_ns, ns);

	WRITE_ONCE(st->rate_pages, st->harvested - st->rate_base);
	WRITE_ONCE(st->rate_interval, now - st->rate_ns);
	st->rate_base = st->harvested;
	for (i = 0; i < t->nr_rings; i++) {
		struct dt_ring_source *rs = t->rings[i];

		WRITE_ONCE(rs->rate_entries, rs->harvested - rs->rate_base);
		rs->rate_base = rs->harvested;
	}
	st->rate_ns = now;

	if (phase == DT_PHASE_FINAL_BEGIN) {
		st->final_base = harvested_before;
		st->final_ns = h->start_ns;
	} else if (phase == DT_PHASE_FINAL_END) {
		dt_nl_notify_final_sync(t, st->harvested - st->final_base,
					now - st->final_ns);
	}
}
