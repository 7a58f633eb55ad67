// SPDX-License-Identifier: GPL-2.0
/*
 * One harvest: every source, in the order Documentation/rules.rst demands, into
 * the regions' pending sets; then, only once every source is done (the ring
 * reset included), the pending pages are published in the merged set.  Called
 * with the tracker's lock held.
 */
#include <linux/ktime.h>
#include <linux/workqueue.h>

#include "dirtytrack_private.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * The order is the rules':
 *  - the IOMMU dirty bits, read while a worker walks the pinned rings
 *    (their ioctls need the VMM's context, the walk does not);
 *  - the rings' reset, completed before anything is published (rule
 *    reset-before-copy) and before a memslot goes (rule
 *    reap-before-memslot-change);
 *  - the vmm log, which needs no reset;
 *  - KVM's bitmap last: in ring mode it is the backup bitmap, which the
 *    final sync reads only after every state save (rule backup-bitmap-last).
 * Each source writes its own buffers and sets pending bits with atomic OR only,
 * so sources running at once never lose each other's bits (rule
 * per-source-buffers).
 */
static const struct dt_source_ops *const dt_sources[] = {
	&dt_iommu_source_ops,
	&dt_ring_source_ops,
	&dt_vmm_source_ops,
	&dt_kvm_bitmap_source_ops,
};

/* The sources' collect steps, on a worker. */
struct dt_collect {
	struct work_struct work;
	struct dt_tracker *t;
	struct dt_harvest *h;
	u32 want;
};

/*
 * The collect steps of the sources in @want, from @now (a clock read):
 * each step's time goes to its source's own h->ns[] slot (no race with the
 * caller when on a worker), at one clock read a step.  Return: the clock.
 */
static u64 dt_collect_all(struct dt_tracker *t, struct dt_harvest *h,
			  u32 want, u64 now)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dt_sources); i++) {
		const struct dt_source_ops *src = dt_sources[i];
		u64 then = now;

		if (!src->collect || !(want & BIT(src->id)))
			continue;
		src->collect(t, h);
		now = ktime_get_ns();
		h->ns[src->id] += now - then;
	}
	return now;
}

static void dt_collect_fn(struct work_struct *work)
{
	struct dt_collect *c = container_of(work, struct dt_collect, work);

	dt_collect_all(c->t, c->h, c->want, ktime_get_ns());
}

const char *dt_harvest_kind_name(enum dt_harvest_kind kind)
{
	static const char *const names[] = {
		[DT_HARVEST_SYNC] = "sync",
		[DT_HARVEST_VCPU] = "vcpu",
		[DT_HARVEST_ALL] = "all",
		[DT_HARVEST_REMOVE] = "remove",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

/**
 * dt_harvest() - harvest the sources @h asks for, then publish
 * @t: the tracker
 * @h: the kind of harvest; its counters are accumulated, and its start
 *     and end time set
 *
 * Return: 0, or the first source's error; the pages already harvested then
 * stay pending and the next harvest publishes them.
 */
int dt_harvest(struct dt_tracker *t, struct dt_harvest *h)
{
	struct dt_collect c = { .t = t, .h = h };
	/* Worth a worker only when there are ioctls to overlap with. */
	bool async = t->iommu.nr && t->nr_rings && h->kind != DT_HARVEST_VCPU;
	bool collected = !async;
	u64 now = ktime_get_ns(), pages = 0;
	size_t i;
	int ret = 0;

	lockdep_assert_held(&t->lock);
	trace_dirtytrack_sync_start(t->id, dt_harvest_kind_name(h->kind));
	h->failed = -1;
	h->start_ns = now;
	for (i = 0; i < ARRAY_SIZE(dt_sources); i++)
		if (dt_sources[i]->takes_part(t, h))
			c.want |= BIT(dt_sources[i]->id);
	if (async) {
		INIT_WORK_ONSTACK(&c.work, dt_collect_fn);
		queue_work(system_unbound_wq, &c.work);
	} else {
		now = dt_collect_all(t, h, c.want, now);
	}
	for (i = 0; !ret && i < ARRAY_SIZE(dt_sources); i++) {
		const struct dt_source_ops *src = dt_sources[i];
		u64 then;

		if (!(c.want & BIT(src->id)))
			continue;
		if (!collected && src->collect) {
			flush_work(&c.work);
			collected = true;
			now = ktime_get_ns();	/* the wait is no source's */
		}
		then = now;
		ret = src->harvest(t, h);
		now = ktime_get_ns();
		h->ns[src->id] += now - then;
		h->ran |= BIT(src->id);
		if (ret)
			h->failed = src->id;
	}
	if (async) {
		if (!collected)
			flush_work(&c.work);
		destroy_work_on_stack(&c.work);
	}
	if (!ret)
		dt_regions_publish(&t->regions);
	dt_stats_harvest(t, h, ret);
	h->end_ns = ktime_get_ns();
	if (trace_dirtytrack_sync_end_enabled()) {
		for (i = 0; i < DT_NR_SOURCES; i++)
			pages += dt_harvest_pages(h, i);
		trace_dirtytrack_sync_end(t->id,
					  dt_harvest_kind_name(h->kind), ret,
					  pages, h->end_ns - h->start_ns);
	}
	return ret;
}
