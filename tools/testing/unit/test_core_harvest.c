// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The core's harvest (core/harvest.c) over fake sources: the order the
 * rules demand, which kinds each source serves, publish only after every
 * source succeeded, the first error ending the harvest, each source's time,
 * and the ring walk beside the IOMMU reads when the home can run it
 * elsewhere (and only then); then the operations that harvest
 * (core/lifecycle.c): what each state allows, which harvest each makes,
 * and where a sync leads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dt_harvest.h"
#include "two_regions.h"

/* A home whose sources log their calls and mark one page each. */
struct home {
	struct two_regions w;
	char log[64];
	int fail;			/* the source whose harvest fails, or -1 */
	bool attached[DT_NR_SOURCES];
	u64 clock;			/* +10 at every read */
	bool can_async;
	int async_started, async_waited;
	void (*fn)(void *arg);
	void *arg;
};

static struct home *the_home;

static void note(struct home *hm, char c)
{
	size_t n = strlen(hm->log);

	assert_true(n + 1 < sizeof(hm->log));
	hm->log[n] = c;
}

static u64 home_now(void)
{
	return the_home->clock += 10;
}

static bool home_async(void *ctx, void (*fn)(void *arg), void *arg)
{
	struct home *hm = ctx;

	if (!hm->can_async)
		return false;
	hm->async_started++;
	hm->fn = fn;
	hm->arg = arg;
	return true;
}

/* The "worker" runs only when waited for: after the IOMMU's harvest. */
static void home_wait(void *ctx)
{
	struct home *hm = ctx;

	hm->async_waited++;
	hm->fn(hm->arg);
}

#define SOURCE(name, id, letter, page)					\
static bool name##_attached(void *ctx)					\
{									\
	return ((struct home *)ctx)->attached[id];			\
}									\
static int name##_harvest(void *ctx, struct dt_harvest *h)		\
{									\
	struct home *hm = ctx;						\
									\
	(void)h;							\
	note(hm, letter);						\
	dt_bitmap_set(&hm->w.r[0].pending, page);			\
	return hm->fail == id ? -EIO : 0;				\
}

SOURCE(iommu, DIRTYTRACK_SOURCE_IOMMU, 'I', 1)
SOURCE(ring, DIRTYTRACK_SOURCE_KVM_RING, 'R', 2)
SOURCE(vmm, DIRTYTRACK_SOURCE_VMM, 'V', 3)
SOURCE(kbm, DIRTYTRACK_SOURCE_KVM_BITMAP, 'B', 4)

static void ring_collect(void *ctx, struct dt_harvest *h)
{
	(void)h;
	note(ctx, 'c');
}

static const struct dt_source_ops iommu_ops = {
	.attached = iommu_attached, .harvest = iommu_harvest,
};
static const struct dt_source_ops ring_ops = {
	.attached = ring_attached, .collect = ring_collect,
	.harvest = ring_harvest,
};
static const struct dt_source_ops vmm_ops = {
	.attached = vmm_attached, .harvest = vmm_harvest,
};
static const struct dt_source_ops kbm_ops = {
	.attached = kbm_attached, .harvest = kbm_harvest,
};

static struct dt_harvest_host host_of(struct home *hm)
{
	return (struct dt_harvest_host){
		.src = {
			[DIRTYTRACK_SOURCE_IOMMU] = &iommu_ops,
			[DIRTYTRACK_SOURCE_KVM_RING] = &ring_ops,
			[DIRTYTRACK_SOURCE_VMM] = &vmm_ops,
			[DIRTYTRACK_SOURCE_KVM_BITMAP] = &kbm_ops,
		},
		.ctx = hm, .regions = &hm->w.rs, .now_ns = home_now,
		.collect_async = home_async, .collect_wait = home_wait,
	};
}

static void home_init(struct home *hm)
{
	int i;

	memset(hm, 0, sizeof(*hm));
	two_regions_init(&hm->w);
	hm->fail = -1;
	hm->can_async = true;
	for (i = 0; i < DT_NR_SOURCES; i++)
		hm->attached[i] = true;
	the_home = hm;
}

static bool merged(struct home *hm, u64 page)
{
	return hm->w.words[0][1][0] >> page & 1;
}

static int run(struct home *hm, enum dt_harvest_kind kind, struct dt_harvest *h)
{
	struct dt_harvest_host host = host_of(hm);

	memset(h, 0, sizeof(*h));
	h->kind = kind;
	return dt_harvest_run(&host, h);
}

/* IOMMU, the rings (walk, then reset), the vmm log, KVM's bitmap last. */
static void every_source_in_the_rules_order(void **state)
{
	static const enum dt_harvest_kind kinds[] = {
		DT_HARVEST_SYNC, DT_HARVEST_ALL, DT_HARVEST_REMOVE,
	};
	struct dt_harvest h;
	struct home hm;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		home_init(&hm);
		assert_int_equal(run(&hm, kinds[k], &h), 0);
		/* The walk was started beside the IOMMU, waited for after. */
		assert_string_equal(hm.log, "IcRVB");
		assert_int_equal(hm.async_started, 1);
		assert_int_equal(hm.async_waited, 1);
		assert_int_equal(h.ran, 0xf);
		assert_int_equal(h.failed, -1);
		assert_true(merged(&hm, 1) && merged(&hm, 2) && merged(&hm, 3) &&
			    merged(&hm, 4));
		assert_true(h.end_ns > h.start_ns);
	}
}

/* A full ring: that ring alone, in line (nothing to overlap with). */
static void a_vcpu_harvest_is_the_rings_alone(void **state)
{
	struct dt_harvest h;
	struct home hm;

	(void)state;
	home_init(&hm);
	assert_int_equal(run(&hm, DT_HARVEST_VCPU, &h), 0);
	assert_string_equal(hm.log, "cR");
	assert_int_equal(hm.async_started, 0);
	assert_int_equal(h.ran, 1u << DIRTYTRACK_SOURCE_KVM_RING);
	assert_true(merged(&hm, 2));
	assert_false(merged(&hm, 1) || merged(&hm, 3) || merged(&hm, 4));
}

/* A source the tracker lacks is neither called nor timed. */
static void a_missing_source_is_not_called(void **state)
{
	struct dt_harvest h;
	struct home hm;

	(void)state;
	home_init(&hm);
	hm.attached[DIRTYTRACK_SOURCE_KVM_BITMAP] = false;
	hm.attached[DIRTYTRACK_SOURCE_IOMMU] = false;
	assert_int_equal(run(&hm, DT_HARVEST_ALL, &h), 0);
	/* Without IOMMU reads to overlap, the walk runs in line. */
	assert_string_equal(hm.log, "cRV");
	assert_int_equal(hm.async_started, 0);
	assert_int_equal(h.ns[DIRTYTRACK_SOURCE_KVM_BITMAP], 0);
	assert_int_equal(h.ns[DIRTYTRACK_SOURCE_IOMMU], 0);
	/* One clock read per step: the walk and the reset, 10 ns each. */
	assert_int_equal(h.ns[DIRTYTRACK_SOURCE_KVM_RING], 20);
	assert_int_equal(h.ns[DIRTYTRACK_SOURCE_VMM], 10);
}

/*
 * Rule reset-before-copy: a source that fails (the ring reset, say) ends
 * the harvest; nothing is published, what was harvested stays pending.
 */
static void an_error_ends_it_with_nothing_published(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < DT_NR_SOURCES; id++) {
		struct dt_harvest h;
		struct home hm;

		home_init(&hm);
		hm.fail = id;
		assert_int_equal(run(&hm, DT_HARVEST_ALL, &h), -EIO);
		assert_int_equal(h.failed, id);
		assert_true(h.ran & 1u << id);
		assert_false(merged(&hm, 1) || merged(&hm, 2) ||
			     merged(&hm, 3) || merged(&hm, 4));
		assert_true(two_regions_pending(&hm.w, 0, 1));
		/* The walk started beside the IOMMU is waited for anyway. */
		assert_int_equal(hm.async_waited, hm.async_started);
		/* The next harvest publishes what stayed pending. */
		hm.fail = -1;
		assert_int_equal(run(&hm, DT_HARVEST_SYNC, &h), 0);
		assert_true(merged(&hm, 1) && merged(&hm, 2) && merged(&hm, 3));
	}
}

/* A home that cannot run the walk elsewhere runs it in line. */
static void no_worker_runs_the_walk_in_line(void **state)
{
	struct dt_harvest h;
	struct home hm;

	(void)state;
	home_init(&hm);
	hm.can_async = false;
	assert_int_equal(run(&hm, DT_HARVEST_SYNC, &h), 0);
	assert_string_equal(hm.log, "cIRVB");
	assert_int_equal(hm.async_waited, 0);
}

/* A home harvest that records its kinds and fails on demand. */
struct harvests {
	int calls[DT_HARVEST_REMOVE + 1];
	int err;
};

static int count_harvest(void *ctx, struct dt_harvest *h)
{
	struct harvests *hv = ctx;

	hv->calls[h->kind]++;
	return hv->err;
}

/*
 * Precopy syncs and FINAL_BEGIN harvest all but the backup bitmap;
 * FINAL_END everything, and seals.  A refused phase harvests nothing; a
 * failed harvest leaves the state as it was.
 */
static void a_sync_harvests_and_moves_the_state(void **state)
{
	enum dt_state st = DT_TRACKING;
	struct harvests hv = { 0 };
	struct dt_iommu_srcs none = { 0 };
	struct two_regions w;
	struct dt_lifecycle lc = {
		.state = &st, .harvest = count_harvest, .ctx = &hv,
		.iommu = &none, .rs = &w.rs,
	};
	struct dt_harvest h = { 0 };

	(void)state;
	two_regions_init(&w);
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_FINAL_END, &h), -EINVAL);
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_PRECOPY, &h), 0);
	assert_int_equal(h.kind, DT_HARVEST_SYNC);
	assert_int_equal(st, DT_TRACKING);
	hv.err = -EINTR;
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_FINAL_BEGIN, &h), -EINTR);
	assert_int_equal(st, DT_TRACKING);
	hv.err = 0;
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_FINAL_BEGIN, &h), 0);
	assert_int_equal(st, DT_FINAL);
	assert_int_equal(hv.calls[DT_HARVEST_SYNC], 3);
	/* Between the halves, nothing but FINAL_END harvests. */
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_PRECOPY, &h), -EBUSY);
	h.kind = DT_HARVEST_VCPU;
	assert_int_equal(dt_lifecycle_harvest(&lc, &h), -EBUSY);
	assert_int_equal(dt_lifecycle_move(&lc, &w.r[1], 4096), -EBUSY);
	assert_int_equal(hv.calls[DT_HARVEST_VCPU] + hv.calls[DT_HARVEST_SYNC], 3);
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_FINAL_END, &h), 0);
	assert_int_equal(h.kind, DT_HARVEST_ALL);
	assert_int_equal(hv.calls[DT_HARVEST_ALL], 1);
	assert_int_equal(st, DT_SEALED);
	assert_int_equal(dt_lifecycle_sync(&lc, DT_PHASE_FINAL_END, &h), -EBUSY);
	assert_int_equal(hv.calls[DT_HARVEST_ALL], 1);
}

/*
 * Rule reap-before-memslot-change: a move harvests first, and a region
 * whose harvest failed stays where it was.
 */
static void a_move_harvests_before_the_region_moves(void **state)
{
	enum dt_state st = DT_TRACKING;
	struct harvests hv = { .err = -EAGAIN };
	struct dt_iommu_srcs none = { 0 };
	struct two_regions w;
	struct dt_lifecycle lc = {
		.state = &st, .harvest = count_harvest, .ctx = &hv,
		.iommu = &none, .rs = &w.rs,
	};

	(void)state;
	two_regions_init(&w);
	assert_int_equal(dt_lifecycle_move(&lc, &w.r[1], 4096), -EAGAIN);
	assert_int_equal(w.r[1].first_gfn, 1024);
	hv.err = 0;
	assert_int_equal(dt_lifecycle_move(&lc, &w.r[1], 4096), 0);
	assert_int_equal(w.r[1].first_gfn, 4096);
	assert_int_equal(hv.calls[DT_HARVEST_SYNC], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_source_in_the_rules_order),
		cmocka_unit_test(a_vcpu_harvest_is_the_rings_alone),
		cmocka_unit_test(a_missing_source_is_not_called),
		cmocka_unit_test(an_error_ends_it_with_nothing_published),
		cmocka_unit_test(no_worker_runs_the_walk_in_line),
		cmocka_unit_test(a_sync_harvests_and_moves_the_state),
		cmocka_unit_test(a_move_harvests_before_the_region_moves),
	};

	return cmocka_run_group_tests_name("core: one harvest", tests, NULL,
					   NULL);
}
