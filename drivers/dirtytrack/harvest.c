// SPDX-License-Identifier: GPL-2.0
/*
 * One harvest in the module: the core's (core/harvest.c), with the
 * module's sources, its clock, a worker for the ring walk, and then its
 * statistics and trace points.  Called with the tracker's lock held.
 */
#include <linux/ktime.h>
#include <linux/workqueue.h>

#include "dirtytrack_private.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static u64 dt_now_ns(void)
{
	return ktime_get_ns();
}

static void dt_collect_work(struct work_struct *work)
{
	struct dt_tracker *t = container_of(work, struct dt_tracker, collect);

	t->collect_fn(t->collect_arg);
}

/* The ring walk reads pinned pages only: it may run on a worker. */
static bool dt_collect_async(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct dt_tracker *t = ctx;

	t->collect_fn = fn;
	t->collect_arg = arg;
	queue_work(system_unbound_wq, &t->collect);
	return true;
}

static void dt_collect_wait(void *ctx)
{
	struct dt_tracker *t = ctx;

	flush_work(&t->collect);
}

void dt_harvest_init(struct dt_tracker *t)
{
	INIT_WORK(&t->collect, dt_collect_work);
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
 * @ctx: the tracker
 * @h: the kind of harvest; its counters are accumulated, and its start
 *     and end time set
 *
 * Return: 0, or the first source's error; the pages already harvested then
 * stay pending and the next harvest publishes them.
 */
static int dt_harvest(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	const struct dt_harvest_host host = {
		.src = {
			[DIRTYTRACK_SOURCE_IOMMU] = &dt_iommu_source_ops,
			[DIRTYTRACK_SOURCE_KVM_RING] = &dt_ring_source_ops,
			[DIRTYTRACK_SOURCE_VMM] = &dt_vmm_source_ops,
			[DIRTYTRACK_SOURCE_KVM_BITMAP] = &dt_kvm_bitmap_source_ops,
		},
		.ctx = t, .regions = &t->regions, .now_ns = dt_now_ns,
		.collect_async = dt_collect_async,
		.collect_wait = dt_collect_wait,
	};
	u64 pages = 0;
	size_t i;
	int ret;

	lockdep_assert_held(&t->lock);
	trace_dirtytrack_sync_start(t->id, dt_harvest_kind_name(h->kind));
	ret = dt_harvest_run(&host, h);
	dt_stats_harvest(t, h, ret);
	if (trace_dirtytrack_sync_end_enabled()) {
		for (i = 0; i < DT_NR_SOURCES; i++)
			pages += dt_harvest_pages(h, i);
		trace_dirtytrack_sync_end(t->id,
					  dt_harvest_kind_name(h->kind), ret,
					  pages, h->end_ns - h->start_ns);
	}
	return ret;
}

/* The tracker, for the core's operations that harvest (core/lifecycle.c). */
struct dt_lifecycle dt_lifecycle_of(struct dt_tracker *t)
{
	return (struct dt_lifecycle){
		.state = &t->state, .harvest = dt_harvest,
		.ctx = t, .iommu = &t->iommu, .rs = &t->regions,
	};
}
