// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Dirty rates, per source and per vCPU: what each sync harvested over the
 * time since the one before (or since dirtytrack_start()).  A VMM uses
 * them to decide whether precopy converges, or to throttle the vCPU that
 * dirties fastest, the way QEMU's dirty-limit does with ring entries.
 */
#include "libdt.h"

/*
 * The newest interval weighs 1/4 of the smoothed rate.  @per_second is
 * 1 / the interval in seconds: one division a sync, not one a rate.
 */
static void dt_rate_add(struct dirtytrack_rate *r, uint64_t count,
			double per_second, bool first)
{
	r->last = (double)count * per_second;
	r->avg = first ? r->last : r->avg + (r->last - r->avg) * 0.25;
}

/* Tracking (re)starts at @now: the next sync measures from there. */
static void dt_rates_restart_at(struct dirtytrack_tracker *t, uint64_t now)
{
	uint32_t i;

	t->last_sync_ns = now;
	for (i = 0; i < DT_NR_RATES; i++)
		t->since[i] = 0;
	for (i = 0; i < t->nr_vcpus; i++)
		t->vcpus[i].entries = 0;
}

/* Tracking (re)starts now. */
void dt_rates_restart(struct dirtytrack_tracker *t)
{
	dt_rates_restart_at(t, dt_now_ns());
}

/*
 * A sync that succeeded with @st ended at @now (dt_now_ns()): the interval
 * since the last one is measured.
 */
void dt_rates_update(struct dirtytrack_tracker *t,
		     const struct dirtytrack_sync_stats *st, uint64_t now)
{
	double per_second;
	bool first;
	uint32_t i;

	t->since[DT_RATE_RING] += st->ring_entries;
	t->since[DT_RATE_KVM_BITMAP] += st->kvm_bitmap_pages;
	t->since[DT_RATE_VMM] += st->vmm_pages;
	t->since[DT_RATE_IOMMU] += st->iommu_pages;
	if (!t->last_sync_ns || now <= t->last_sync_ns) {
		/* No interval to measure yet: this sync starts the first. */
		dt_rates_restart_at(t, now);
		return;
	}
	per_second = 1e9 / (double)(now - t->last_sync_ns);
	first = !t->syncs;
	for (i = 0; i < DT_NR_RATES; i++)
		dt_rate_add(&t->rates[i], t->since[i], per_second, first);
	for (i = 0; i < t->nr_vcpus; i++) {
		struct dt_lib_vcpu *v = &t->vcpus[i];

		dt_rate_add(&v->rate, v->entries, per_second, !v->measured);
		v->measured = true;
	}
	t->syncs++;
	dt_rates_restart_at(t, now);
}
