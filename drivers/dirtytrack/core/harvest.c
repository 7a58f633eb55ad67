// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One harvest: every source, in the order Documentation/rules.rst demands,
 * into the regions' pending sets; then, only once every source is done
 * (the ring reset included), the pending pages are published in the
 * merged set.  The caller holds the tracker's lock.
 */
#include "dt_harvest.h"

/*
 * The order is the rules':
 *  - the IOMMU dirty bits, read while the home walks the rings elsewhere
 *    if it can (their ioctls need the VMM's context, the walk does not);
 *  - the rings' reset, completed before anything is published (rule
 *    reset-before-copy) and before a memslot goes (rule
 *    reap-before-memslot-change);
 *  - the vmm log, which needs no reset;
 *  - KVM's bitmap last: in ring mode it is the backup bitmap, which the
 *    final sync reads only after every state save (rule
 *    backup-bitmap-last).
 * Each source writes its own buffers and sets pending bits with atomic OR
 * only, so sources running at once never lose each other's bits (rule
 * per-source-buffers).
 */
static const enum dirtytrack_source dt_harvest_order[] = {
	DIRTYTRACK_SOURCE_IOMMU,
	DIRTYTRACK_SOURCE_KVM_RING,
	DIRTYTRACK_SOURCE_VMM,
	DIRTYTRACK_SOURCE_KVM_BITMAP,
};

/* A vCPU's ring full: its ring alone, nothing else. */
static bool dt_source_takes_part(const struct dt_harvest_host *host,
				 enum dirtytrack_source id,
				 const struct dt_harvest *h)
{
	const struct dt_source_ops *src = host->src[id];

	if (!src || !src->attached(host->ctx))
		return false;
	return id == DIRTYTRACK_SOURCE_KVM_RING || h->kind != DT_HARVEST_VCPU;
}

/* The sources' collect steps, maybe beside the caller. */
struct dt_collect {
	const struct dt_harvest_host *host;
	struct dt_harvest *h;
	u32 want;
};

/*
 * The collect steps of the sources in @c->want, from @now (a clock read):
 * each step's time goes to its source's own ns[] slot (no race with the
 * caller when beside it), at one clock read a step.  Return: the clock.
 */
static u64 dt_collect_all(const struct dt_collect *c, u64 now)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dt_harvest_order); i++) {
		enum dirtytrack_source id = dt_harvest_order[i];
		const struct dt_source_ops *src = c->host->src[id];
		u64 then = now;

		if (!(c->want & (1u << id)) || !src->collect)
			continue;
		src->collect(c->host->ctx, c->h);
		now = c->host->now_ns();
		c->h->ns[id] += now - then;
	}
	return now;
}

static void dt_collect_fn(void *arg)
{
	struct dt_collect *c = arg;

	dt_collect_all(c, c->host->now_ns());
}

/**
 * dt_harvest_run() - harvest the sources @h asks for, then publish
 * @host: the home's sources, clock and workers
 * @h: the kind of harvest; its figures are accumulated, its start and
 *     end time set
 *
 * Return: 0, or the first source's error; the pages already harvested then
 * stay pending and the next harvest publishes them.
 */
int dt_harvest_run(const struct dt_harvest_host *host, struct dt_harvest *h)
{
	struct dt_collect c = { .host = host, .h = h };
	u64 now = host->now_ns();
	bool async, collected;
	size_t i;
	int ret = 0;

	h->failed = -1;
	h->start_ns = now;
	for (i = 0; i < ARRAY_SIZE(dt_harvest_order); i++)
		if (dt_source_takes_part(host, dt_harvest_order[i], h))
			c.want |= 1u << dt_harvest_order[i];
	/* Worth it only when there are ioctls to overlap the walk with. */
	async = host->collect_async &&
		(c.want & (1u << DIRTYTRACK_SOURCE_IOMMU)) &&
		(c.want & (1u << DIRTYTRACK_SOURCE_KVM_RING)) &&
		host->collect_async(host->ctx, dt_collect_fn, &c);
	collected = !async;
	if (!async)
		now = dt_collect_all(&c, now);
	for (i = 0; !ret && i < ARRAY_SIZE(dt_harvest_order); i++) {
		enum dirtytrack_source id = dt_harvest_order[i];
		const struct dt_source_ops *src = host->src[id];
		u64 then;

		if (!(c.want & (1u << id)))
			continue;
		if (!collected && src->collect) {
			host->collect_wait(host->ctx);
			collected = true;
			now = host->now_ns();	/* the wait is no source's */
		}
		then = now;
		ret = src->harvest(host->ctx, h);
		now = host->now_ns();
		h->ns[id] += now - then;
		h->ran |= 1u << id;
		if (ret)
			h->failed = id;
	}
	if (!collected)
		host->collect_wait(host->ctx);
	if (!ret)
		dt_regions_publish(host->regions);
	h->end_ns = host->now_ns();
	return ret;
}

/* The pages @h found in source @id. */
u64 dt_harvest_pages(const struct dt_harvest *h, enum dirtytrack_source id)
{
	switch (id) {
	case DIRTYTRACK_SOURCE_KVM_RING:
		return h->ring_entries;
	case DIRTYTRACK_SOURCE_KVM_BITMAP:
		return h->bitmap_pages;
	case DIRTYTRACK_SOURCE_VMM:
		return h->vmm_pages;
	case DIRTYTRACK_SOURCE_IOMMU:
		return h->iommu_pages;
	}
	return 0;
}

/* A sync's figures, as DIRTYTRACK_SYNC reports them (both backends). */
void dt_harvest_to_sync(const struct dt_harvest *h, struct dirtytrack_sync *c)
{
	c->out_harvested = h->ring_entries;
	c->out_invalid = h->ring_invalid;
	c->out_foreign = h->ring_foreign;
	c->out_bitmap_pages = h->bitmap_pages;
	c->out_bitmap_errors = h->bitmap_errors;
	c->out_vmm_pages = h->vmm_pages;
	c->out_vmm_outside = h->vmm_outside > U32_MAX ? U32_MAX : h->vmm_outside;
	c->out_iommu_pages = h->iommu_pages;
	c->out_iommu_calls = h->iommu_calls;
	c->out_iommu_errors = h->iommu_errors;
	c->out_ring_overflow = h->ring_overflow;
	c->out_ring_resets = h->ring_resets;
	c->out_ring_partial_resets = h->ring_partial_resets;
	c->out_ring_sticky = h->ring_sticky;
}

/**
 * dt_ring_src_collect() - walk the rings @h asks for into the pending sets
 * @ops: the home's rings
 * @h: the harvest (its vCPU or fill level); its ring figures grow
 *
 * Reads ring memory only: it may run beside the other sources.  What each
 * ring gave is in its &struct dt_ring (@last, @last_overflow).
 */
void dt_ring_src_collect(const struct dt_rings_ops *ops, struct dt_harvest *h)
{
	struct dt_ring_stats st = { 0 };

	dt_rings_collect(ops, h->kind == DT_HARVEST_VCPU, h->vcpu, h->min_fill,
			 &st);
	h->ring_entries += st.harvested;
	h->ring_invalid += st.invalid;
	h->ring_foreign += st.foreign;
	h->ring_overflow += st.overflow;
	h->ring_recovered += st.recovered;
}

/**
 * dt_ring_src_reset() - the rings' end of a harvest
 * @ops: the home's rings
 * @max_calls: KVM_RESET_DIRTY_RINGS calls at most while KVM stops early
 * @sticky: pages whose logging a stopped reset may have left off
 * @rs: the regions, all dirty if entries may be lost
 * @h: the harvest; its ring figures grow
 * @st: output: this step's own figures (for the home's trace)
 *
 * dt_rings_reset_and_mark(): every mark reset before anything harvested is
 * published (rule reset-before-copy), every region dirty if the walk found
 * a foreign collector or an overflow, then the pages that are always dirty.
 *
 * Return: 0, or the reset's error with the harvested pages still pending.
 */
int dt_ring_src_reset(const struct dt_rings_ops *ops, u32 max_calls,
		      struct dt_sticky *sticky, const struct dt_regions *rs,
		      struct dt_harvest *h, struct dt_ring_stats *st)
{
	int ret;

	ret = dt_rings_reset_and_mark(ops, max_calls, sticky, rs,
				      h->ring_foreign || h->ring_overflow, st);
	h->ring_foreign += st->foreign;
	h->ring_resets += st->resets;
	h->ring_partial_resets += st->partial_resets;
	h->ring_sticky += st->sticky;
	return ret;
}
