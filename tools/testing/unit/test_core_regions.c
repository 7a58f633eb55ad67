// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The regions of the shared core (core/regions.c), which both homes use:
 * the checks on a new region, the table, resolving frames (moved regions
 * included), marking frames pending and publishing them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

struct world {
	struct dt_regions rs;
	struct dt_region r[DT_MAX_REGIONS];
};

static void region_init(struct dt_region *r, u32 slot, u64 first, u64 npages)
{
	memset(r, 0, sizeof(*r));
	r->slot.slot = slot;
	r->slot.npages = npages;
	r->slot.dirty = &r->pending;
	r->first_gfn = first;
	r->merged.npages = r->pending.npages = npages;
	r->merged.words = calloc(dt_bitmap_words(npages), 8);
	r->merged.summary = calloc(dt_summary_words(npages), 8);
	r->pending.words = calloc(dt_bitmap_words(npages), 8);
	r->pending.summary = calloc(dt_summary_words(npages), 8);
	assert_non_null(r->merged.words);
	assert_non_null(r->pending.words);
}

/* Add region @i of @w through the checks, as both homes do. */
static int add(struct world *w, int i, u32 slot, u64 first, u64 npages)
{
	int idx = dt_regions_check_new(&w->rs, slot, first, npages);

	if (idx < 0)
		return idx;
	region_init(&w->r[i], slot, first, npages);
	dt_regions_link(&w->rs, idx, &w->r[i]);
	return 0;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	return w;
}

static void world_free(struct world *w)
{
	int i;

	for (i = 0; i < DT_MAX_REGIONS; i++) {
		free(w->r[i].merged.words);
		free(w->r[i].merged.summary);
		free(w->r[i].pending.words);
		free(w->r[i].pending.summary);
	}
	free(w);
}

static void new_regions_are_checked(void **state)
{
	struct world *w = world_new();
	int i;

	(void)state;
	assert_int_equal(add(w, 0, DT_SLOT(0, 1), 100, 50), 0);
	/* The same slot, or an overlap in the same address space: refused. */
	assert_int_equal(add(w, 1, DT_SLOT(0, 1), 1000, 10), -EEXIST);
	assert_int_equal(add(w, 1, DT_SLOT(0, 2), 149, 10), -EEXIST);
	assert_int_equal(add(w, 1, DT_SLOT(0, 2), 90, 11), -EEXIST);
	/* Touching is not overlapping; another address space is apart. */
	assert_int_equal(add(w, 1, DT_SLOT(0, 2), 150, 10), 0);
	assert_int_equal(add(w, 2, DT_SLOT(0, 3), 90, 10), 0);
	assert_int_equal(add(w, 3, DT_SLOT(1, 1), 100, 50), 0);
	assert_int_equal(w->rs.end, 4);
	for (i = 4; i < DT_MAX_REGIONS; i++)
		assert_int_equal(add(w, i, DT_SLOT(0, 10 + i), 1000 + i, 1), 0);
	assert_int_equal(dt_regions_check_new(&w->rs, DT_SLOT(0, 9), 5000, 1),
			 -ENOSPC);
	/* A hole is reused, and the end follows the last region. */
	dt_regions_unlink(&w->rs, &w->r[2]);
	assert_int_equal(dt_regions_check_new(&w->rs, DT_SLOT(0, 9), 5000, 1),
			 2);
	dt_regions_unlink(&w->rs, &w->r[DT_MAX_REGIONS - 1]);
	assert_int_equal(w->rs.end, DT_MAX_REGIONS - 1);
	assert_null(dt_regions_find(&w->rs, DT_SLOT(0, 3)));
	assert_ptr_equal(dt_regions_find(&w->rs, DT_SLOT(1, 1)), &w->r[3]);
	world_free(w);
}

static void the_table_is_sorted_by_slot(void **state)
{
	static const u32 slots[] = { DT_SLOT(1, 0), DT_SLOT(0, 7), DT_SLOT(0, 2),
				     DT_SLOT(0, 40), DT_SLOT(0, 3) };
	struct world *w = world_new();
	struct dt_slot v[DT_MAX_REGIONS];
	struct dt_slot_table tab;
	u32 i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(add(w, i, slots[i], i * 100, 10), 0);
	dt_regions_unlink(&w->rs, &w->r[2]);
	dt_regions_table(&w->rs, v, &tab);
	assert_int_equal(tab.n, 4);
	for (i = 1; i < tab.n; i++)
		assert_true(tab.v[i - 1].slot < tab.v[i].slot);
	for (i = 0; i < 5; i++) {
		struct dt_slot *s = dt_slot_lookup(&tab, slots[i]);

		if (i == 2) {
			assert_null(s);
			continue;
		}
		assert_non_null(s);
		assert_ptr_equal(s->dirty, &w->r[i].pending);
		assert_int_equal(s->npages, 10);
	}
	world_free(w);
}

/*
 * A moved region answers for its old frames until the vmm log is taken,
 * but a region that is there now wins.
 */
static void frames_resolve_to_the_region_now_then_before_a_move(void **state)
{
	struct world *w = world_new();
	struct dt_gfn_hint hint = { 0 };
	u64 base;

	(void)state;
	assert_int_equal(add(w, 0, DT_SLOT(0, 0), 0, 100), 0);
	assert_int_equal(add(w, 1, DT_SLOT(1, 0), 200, 100), 0);
	assert_null(dt_regions_find_gfn(&w->rs, 250, &base));	/* as 1 */
	dt_region_moved(&w->r[0], 1000);
	assert_int_equal(w->r[0].first_gfn, 1000);
	assert_ptr_equal(dt_regions_find_gfn(&w->rs, 1050, &base), &w->r[0]);
	assert_int_equal(base, 1000);
	assert_ptr_equal(dt_regions_find_gfn(&w->rs, 50, &base), &w->r[0]);
	assert_int_equal(base, 0);
	/* A region now where the old place was. */
	assert_int_equal(add(w, 2, DT_SLOT(0, 1), 40, 20), 0);
	assert_ptr_equal(dt_regions_find_gfn(&w->rs, 45, &base), &w->r[2]);
	assert_int_equal(base, 40);

	assert_true(dt_regions_mark_gfn(&w->rs, 10, &hint));	/* old place */
	assert_true(dt_regions_mark_gfn(&w->rs, 1010, &hint));	/* new */
	assert_true(dt_regions_mark_gfn(&w->rs, 41, &hint));
	assert_false(dt_regions_mark_gfn(&w->rs, 500, &hint));
	assert_int_equal(dt_bitmap_weight(&w->r[0].pending), 1);
	assert_int_equal(dt_bitmap_weight(&w->r[2].pending), 1);

	dt_regions_forget_moves(&w->rs);
	assert_null(dt_regions_find_gfn(&w->rs, 10, &base));
	assert_false(dt_regions_mark_gfn(&w->rs, 10, &hint));
	world_free(w);
}

static void ranges_are_clipped_and_published(void **state)
{
	struct world *w = world_new();

	(void)state;
	assert_int_equal(add(w, 0, DT_SLOT(0, 0), 100, 100), 0);
	assert_int_equal(add(w, 1, DT_SLOT(0, 1), 300, 64), 0);
	assert_int_equal(add(w, 2, DT_SLOT(1, 0), 100, 100), 0);
	/* [150, 320): 50 pages of region 0, 20 of region 1, none of as 1. */
	dt_regions_mark_gfns(&w->rs, 150, 320);
	assert_int_equal(dt_bitmap_weight(&w->r[0].pending), 50);
	assert_int_equal(dt_bitmap_weight(&w->r[1].pending), 20);
	assert_int_equal(dt_bitmap_weight(&w->r[2].pending), 0);
	assert_int_equal(dt_bitmap_weight(&w->r[0].merged), 0);

	dt_regions_publish(&w->rs);
	assert_int_equal(dt_bitmap_weight(&w->r[0].pending), 0);
	assert_int_equal(dt_bitmap_weight(&w->r[0].merged), 50);
	assert_int_equal(dt_bitmap_weight(&w->r[1].merged), 20);

	dt_regions_mark_all(&w->rs, false);
	assert_int_equal(dt_bitmap_weight(&w->r[2].pending), 100);
	assert_int_equal(dt_bitmap_weight(&w->r[2].merged), 0);
	dt_regions_mark_all(&w->rs, true);
	assert_int_equal(dt_bitmap_weight(&w->r[2].merged), 100);
	assert_int_equal(dt_bitmap_weight(&w->r[1].merged), 64);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_regions_are_checked),
		cmocka_unit_test(the_table_is_sorted_by_slot),
		cmocka_unit_test(frames_resolve_to_the_region_now_then_before_a_move),
		cmocka_unit_test(ranges_are_clipped_and_published),
	};

	return cmocka_run_group_tests_name("core: regions", tests, NULL, NULL);
}
