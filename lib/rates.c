// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Dirty rates, per source and per vCPU: what each sync harvested over the
 * time since the one before (or since dirtytrack_start()).  A VMM uses
 * them to decide whether precopy converges, or to throttle the vCPU that
 * dirties fastest, the way QEMU's dirty-limit does with ring entries.
 */
#include "libdt.h"

/* The newest interval weighs 1/4 of the smoothed rate. */
static void dt_rate_add(struct dirtytrack_rate *r, uint64_t count,
			double seconds, bool first)
{
	r->last = (double)count / seconds;
	r->avg = first ? r->last : r->avg + (r->last - r->avg) / 4;
}

/* Tracking (re)starts now: the next sync measures from here. */
void dt_rates_restart(struct dirtytrack_tracker *t)
{
	uint32_t i;

	t->last_sync_ns = dt_now_ns();
	for (i = 0; i < DT_NR_RATES; i++)
		t->since[i] = 0;
	for (i = 0; i < t->nr_vcpus; i++)
		t->vcpus[i].entries = 0;
}

/* A sync succeeded with @st: the interval since the last one is measured. */
void dt_rates_update(struct dirtytrack_tracker *t,
		     const struct dirtytrack_sync_stats *st)
{
	uint64_t now = dt_now_ns();
	double seconds;
	bool first;
	uint32_t i;

	t->since[DT_RATE_RING] += st->ring_entries;
	t->since[DT_RATE_KVM_BITMAP] += st->kvm_bitmap_pages;
	t->since[DT_RATE_VMM] += st->vmm_pages;
	t->since[DT_RATE_IOMMU] += st->iommu_pages;
	if (!t->last_sync_ns || now <= t->last_sync_ns) {
		/* No interval to measure yet: this sync starts the first. */
		dt_rates_restart(t);
		return;
	}
	seconds = (double)(now - t->last_sync_ns) / 1e9;
	first = !t->syncs;
	for (i = 0; i < DT_NR_RATES; i++)
		dt_rate_add(&t->rates[i], t->since[i], seconds, first);
	for (i = 0; i < t->nr_vcpus; i++) {
		struct dt_lib_vcpu *v = &t->vcpus[i];

		dt_rate_add(&v->rate, v->entries, seconds, !v->measured);
		v->measured = true;
	}
	t->syncs++;
	dt_rates_restart(t);
}
