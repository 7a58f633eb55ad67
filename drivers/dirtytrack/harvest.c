// SPDX-License-Identifier: GPL-2.0
/*
 * One harvest: every source, in the order DOMAIN.md demands, into the
 * regions' pending sets; then, only once every source is done (the ring
 * reset included), the pending pages are published in the merged set.
 * Called with the tracker's lock held.
 */
#include <linux/workqueue.h>

#include "dirtytrack_private.h"

/*
 * The order is the rules':
 *  - the IOMMU dirty bits, read while a worker walks the pinned rings
 *    (their ioctls need the VMM's context, the walk does not);
 *  - the rings' reset, completed before anything is published (rule 3)
 *    and before a memslot goes (rule 7);
 *  - the vmm log, which needs no reset;
 *  - KVM's bitmap last: in ring mode it is the backup bitmap, which the
 *    final sync reads only after every state save (rule 5).
 * Each source writes its own buffers and sets pending bits with atomic OR
 * only, so sources running at once never lose each other's bits (rule 8).
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
};

static void dt_collect_all(struct dt_tracker *t, struct dt_harvest *h)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dt_sources); i++)
		if (dt_sources[i]->collect)
			dt_sources[i]->collect(t, h);
}

static void dt_collect_fn(struct work_struct *work)
{
	struct dt_collect *c = container_of(work, struct dt_collect, work);

	dt_collect_all(c->t, c->h);
}

/**
 * dt_harvest() - harvest the sources @h asks for, then publish
 * @t: the tracker
 * @h: the kind of harvest; its counters are accumulated
 *
 * Return: 0, or the first source's error; the pages already harvested then
 * stay pending and the next harvest publishes them.
 */
int dt_harvest(struct dt_tracker *t, struct dt_harvest *h)
{
	struct dt_collect c = { .t = t, .h = h };
	/* Worth a worker only when there are ioctls to overlap with. */
	bool async = t->nr_iommu && t->nr_rings && h->kind != DT_HARVEST_VCPU;
	bool collected = !async;
	size_t i;
	int ret = 0;

	lockdep_assert_held(&t->lock);
	if (async) {
		INIT_WORK_ONSTACK(&c.work, dt_collect_fn);
		queue_work(system_unbound_wq, &c.work);
	} else {
		dt_collect_all(t, h);
	}
	for (i = 0; !ret && i < ARRAY_SIZE(dt_sources); i++) {
		if (!collected && dt_sources[i]->collect) {
			flush_work(&c.work);
			collected = true;
		}
		ret = dt_sources[i]->harvest(t, h);
	}
	if (async) {
		if (!collected)
			flush_work(&c.work);
		destroy_work_on_stack(&c.work);
	}
	if (ret)
		return ret;
	dt_regions_publish(t);
	return 0;
}
