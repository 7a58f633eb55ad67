// SPDX-License-Identifier: GPL-2.0
/*
 * One harvest: every source, in the order DOMAIN.md demands, into the
 * regions' pending sets; then, only once every source is done (the ring
 * reset included), the pending pages are published in the merged set.
 * Called with the tracker's lock held.
 */
#include "dirtytrack_private.h"

/*
 * The order is the rules':
 *  - the rings first, their reset completed before anything is published
 *    (rule 3) and before a memslot goes (rule 7);
 *  - the vmm log, which needs no reset;
 *  - KVM's bitmap last: in ring mode it is the backup bitmap, which the
 *    final sync reads only after every state save (rule 5).
 * Each source writes its own buffers and sets pending bits with atomic OR
 * only (rule 8).
 */
static const struct dt_source_ops *const dt_sources[] = {
	&dt_ring_source_ops,
	&dt_vmm_source_ops,
	&dt_kvm_bitmap_source_ops,
};

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
	size_t i;
	int ret;

	lockdep_assert_held(&t->lock);
	for (i = 0; i < ARRAY_SIZE(dt_sources); i++) {
		ret = dt_sources[i]->harvest(t, h);
		if (ret)
			return ret;
	}
	dt_regions_publish(t);
	return 0;
}
