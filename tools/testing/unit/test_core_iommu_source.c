// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The iommu source of the shared core (core/iommu_source.c) against a
 * fake iommufd HWPT (fake_io.h): attach, START and STOP (core/lifecycle.c),
 * and a harvest whose every operation is made to fail in turn, losing no
 * page.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_harvest.h"
#include "fake_io.h"
#include "two_regions.h"

#define PS		12
#define NPAGES		TWO_NPAGES
#define HW_PAGES	2048	/* IOVA pages the fake HWPT holds */
#define HWPT		7

/* One HWPT, as iommufd from 6.12.118 answers for it. */
struct hwpt {
	bool dirty_ops;		/* allocated with dirty tracking */
	bool tracking;
	unsigned int enables;
	unsigned char dirty[HW_PAGES];
};

static int hwpt_ioctl(struct fake_io *f, unsigned int cmd, void *arg)
{
	struct hwpt *hw = f->ctx;

	if (cmd == DT_IOMMU_HWPT_SET_DIRTY) {
		struct dt_iommu_set_dirty *c = arg;

		if (c->hwpt_id != HWPT)
			return -ENOENT;
		if (!hw->dirty_ops)
			return -EOPNOTSUPP;
		hw->tracking = c->flags & DT_IOMMU_TRACKING_ENABLE;
		/* Enabling clears every bit (rule batched-iommu-clears). */
		if (hw->tracking) {
			memset(hw->dirty, 0, sizeof(hw->dirty));
			hw->enables++;
		}
		return 0;
	}
	if (cmd == DT_IOMMU_HWPT_GET_DIRTY) {
		struct dt_iommu_get_dirty *c = arg;
		u64 *data = (u64 *)(uintptr_t)c->data, i;

		if (c->hwpt_id != HWPT)
			return -ENOENT;
		if (!hw->dirty_ops)
			return -EOPNOTSUPP;
		if (!hw->tracking)
			return -EINVAL;
		if (c->page_size != FAKE_PAGE)	/* the probe */
			return 0;
		for (i = 0; i < c->length / FAKE_PAGE; i++) {
			u64 p = c->iova / FAKE_PAGE + i;

			if (p >= HW_PAGES || !hw->dirty[p])
				continue;
			data[i / 64] |= 1ULL << (i % 64);
			if (!(c->flags & DT_IOMMU_DIRTY_NO_CLEAR))
				hw->dirty[p] = 0;
		}
		return 0;
	}
	return -ENOTTY;
}

struct world {
	struct two_regions g;
	struct hwpt hw;
	struct fake_io f;
	struct dt_iommu_src src;
	struct dt_iommu_srcs ss;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	two_regions_init(&w->g);
	w->hw.dirty_ops = true;
	/* A largest IO page's bits, read 64 words at a time. */
	fake_io_init(&w->f, DT_IOMMU_MAX_IO_PAGE >> PS >> 6, 64, hwpt_ioctl,
		     &w->hw);
	w->src = (struct dt_iommu_src){ .io = &w->f.io, .hwpt_id = HWPT,
					.page_shift = PS };
}

/* Is guest frame @gfn pending? */
static bool pending(struct world *w, u64 gfn)
{
	int i = gfn >= 1024;

	return two_regions_pending(&w->g, i, gfn - i * 1024);
}

static void clear_pending(struct world *w)
{
	memset(w->g.words, 0, sizeof(w->g.words));
	memset(w->g.sum, 0, sizeof(w->g.sum));
}

static void attach_asks_iommufd(void **state)
{
	struct world w;
	struct dt_iommu_src dup;

	(void)state;
	world_init(&w);
	w.hw.dirty_ops = false;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), -EOPNOTSUPP);
	w.hw.dirty_ops = true;
	w.src.hwpt_id = HWPT + 1;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), -ENOENT);
	assert_int_equal(w.ss.nr, 0);
	/* Not tracking, not declared: found off, enabled by START only. */
	w.src.hwpt_id = HWPT;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), 0);
	assert_false(w.src.tracking);
	assert_int_equal(dt_iommu_srcs_free_id(&w.ss), 1);
	dup = w.src;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &dup, 1, false,
					     false), -EEXIST);
	assert_int_equal(dt_iommu_srcs_start(&w.ss), 0);
	assert_true(w.hw.tracking && w.src.enabled);
	/* Tracking on already: never enabled again, it would clear bits. */
	assert_int_equal(dt_iommu_srcs_start(&w.ss), 0);
	assert_int_equal(w.hw.enables, 1);
	dt_iommu_srcs_stop(&w.ss);
	assert_false(w.hw.tracking || w.src.tracking);
	fake_io_free(&w.f);
}

/* A HWPT already tracking keeps its bits; hot-plugged mid-migration, all. */
static void attach_keeps_bits_and_marks_hotplug(void **state)
{
	struct world w;
	u64 g;

	(void)state;
	world_init(&w);
	w.hw.tracking = true;
	w.hw.dirty[1027] = 1;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), 0);
	assert_true(w.src.tracking && !w.src.enabled);
	assert_true(pending(&w, 1027));
	assert_false(pending(&w, 1026));
	assert_int_equal(dt_iommu_srcs_start(&w.ss), 0);
	assert_int_equal(w.hw.enables, 0);
	fake_io_free(&w.f);

	world_init(&w);
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     true), 0);
	assert_true(w.hw.tracking && w.src.enabled);
	for (g = 0; g < NPAGES; g++)
		assert_true(pending(&w, g) && pending(&w, 1024 + g));
	fake_io_free(&w.f);
}

/*
 * Fail each operation of a harvest in turn: every page the HWPT holds is
 * pending afterwards, read or marked by the failure (rule
 * errors-mean-dirty), whichever operation failed.
 */
static void harvest_fail_nth_loses_nothing(void **state)
{
	static const u64 dirty[] = { 0, 5, 64, 255, 1027, 1024 + 200 };
	unsigned int n, points = 0;
	struct world w;
	size_t i;

	(void)state;
	world_init(&w);
	w.hw.tracking = true;
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, true,
					     false), 0);
	for (n = 1; n < 100; n++) {
		struct dt_iommu_read rd = { 0 };

		clear_pending(&w);
		for (i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
			w.hw.dirty[dirty[i]] = 1;
		fake_io_fail_nth(&w.f, n, -EIO);
		dt_iommu_srcs_harvest(&w.ss, &w.g.rs, &rd);
		for (i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
			assert_true(pending(&w, dirty[i]));
		if (!w.f.failed) {
			assert_int_equal(rd.errors, 0);
			/* Nothing failed: exactly the dirty pages, cleared. */
			assert_int_equal(rd.pages, 6);
			assert_false(pending(&w, 1));
			break;
		}
		assert_int_equal(rd.errors, 1);
		points++;
	}
	/* Each region: zero, the call, its reads. */
	assert_true(points >= 6);
	fake_io_free(&w.f);
}

/* A peek reads without clearing; a detach reads last and turns it off. */
static void peek_and_detach(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), 0);
	assert_int_equal(dt_iommu_srcs_start(&w.ss), 0);
	w.hw.dirty[1030] = w.hw.dirty[3] = 1;
	assert_int_equal(dt_iommu_src_peek(&w.src, &w.g.rs, 1024 * FAKE_PAGE,
					   NPAGES * FAKE_PAGE), 1);
	assert_true(pending(&w, 1030) && w.hw.dirty[1030]);
	assert_false(pending(&w, 3));
	assert_null(dt_iommu_src_detach(&w.ss, &w.g.rs, 1));
	assert_ptr_equal(dt_iommu_src_detach(&w.ss, &w.g.rs, 0), &w.src);
	assert_true(pending(&w, 3));
	assert_false(w.hw.dirty[3] || w.hw.tracking);
	assert_int_equal(w.ss.nr, 0);
	fake_io_free(&w.f);
}

/* The harvests START and STOP make, for the lifecycle test. */
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
 * START harvests, then enables IOMMU tracking, and only then tracks;
 * a failure of either leaves the tracker idle.  STOP harvests everything
 * unless sealed, then turns tracking off.
 */
static void start_and_stop_in_order(void **state)
{
	enum dt_state st = DT_IDLE;
	struct harvests hv = { 0 };
	struct world w;
	struct dt_lifecycle lc = {
		.state = &st, .harvest = count_harvest, .ctx = &hv,
		.iommu = &w.ss, .rs = &w.g.rs,
	};

	(void)state;
	world_init(&w);
	assert_int_equal(dt_lifecycle_stop(&lc), -EINVAL);
	assert_int_equal(dt_iommu_src_attach(&w.ss, &w.g.rs, &w.src, 0, false,
					     false), 0);
	hv.err = -EAGAIN;
	assert_int_equal(dt_lifecycle_start(&lc, true), -EAGAIN);
	assert_int_equal(st, DT_IDLE);
	assert_false(w.hw.tracking);
	assert_int_equal(dt_bitmap_weight(&w.g.r[0].merged), 0);
	hv.err = 0;
	fake_io_fail_nth(&w.f, 1, -ENOMEM);
	assert_int_equal(dt_lifecycle_start(&lc, true), -ENOMEM);
	assert_int_equal(st, DT_IDLE);
	fake_io_fail_nth(&w.f, 0, 0);
	assert_int_equal(dt_lifecycle_start(&lc, true), 0);
	assert_int_equal(st, DT_TRACKING);
	assert_true(w.hw.tracking);
	/* Every page dirty, published: the first round sends them all. */
	assert_int_equal(dt_bitmap_weight(&w.g.r[1].merged), NPAGES);
	assert_int_equal(hv.calls[DT_HARVEST_SYNC], 3);
	assert_int_equal(dt_lifecycle_start(&lc, false), -EBUSY);
	assert_int_equal(dt_lifecycle_stop(&lc), 0);
	assert_int_equal(hv.calls[DT_HARVEST_ALL], 1);
	assert_false(w.hw.tracking);
	assert_int_equal(st, DT_IDLE);
	/* Sealed: harvested already, and nothing more may be. */
	st = DT_SEALED;
	assert_int_equal(dt_lifecycle_stop(&lc), 0);
	assert_int_equal(hv.calls[DT_HARVEST_ALL], 1);
	fake_io_free(&w.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attach_asks_iommufd),
		cmocka_unit_test(attach_keeps_bits_and_marks_hotplug),
		cmocka_unit_test(harvest_fail_nth_loses_nothing),
		cmocka_unit_test(peek_and_detach),
		cmocka_unit_test(start_and_stop_in_order),
	};

	return cmocka_run_group_tests_name("core: iommu source, START, STOP", tests,
					   NULL, NULL);
}
