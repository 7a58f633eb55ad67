// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The iommu source's arithmetic of the shared core (core/iommu.c): the
 * maps both homes accept, IOVA to region pages through a map and the
 * identity, what an error marks, and where reads are cut into calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_iommufd.h"
#include "two_regions.h"

#define PS	12
#define PG	((u64)1 << PS)
#define NPAGES	TWO_NPAGES

static void maps_are_checked(void **state)
{
	struct dt_iommu_map ok[2] = {
		{ 0x100000, 0x0, 0x10000 }, { 0x110000, 0x400000, PG },
	};
	struct dt_iommu_map m[2];

	(void)state;
	assert_int_equal(dt_iommu_maps_check(ok, 2, PS), 0);
	assert_int_equal(dt_iommu_maps_check(ok, 0, PS), 0);
	memcpy(m, ok, sizeof(m));
	m[1].iova = 0x10f000;		/* overlaps the first */
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), -EINVAL);
	memcpy(m, ok, sizeof(m));
	m[0].gpa = 0x800;		/* not page-aligned */
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), -EINVAL);
	memcpy(m, ok, sizeof(m));
	m[0].length = 0;
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), -EINVAL);
	memcpy(m, ok, sizeof(m));
	m[1].gpa = DT_IOMMU_MAX_GPA - PG;	/* ends at the bound */
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), 0);
	m[1].length = 2 * PG;				/* past it */
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), -EINVAL);
	memcpy(m, ok, sizeof(m));
	m[1].iova = ~(PG - 1);				/* wraps */
	m[1].length = 2 * PG;
	assert_int_equal(dt_iommu_maps_check(m, 2, PS), -EINVAL);
	assert_int_equal(dt_iommu_maps_check(ok, DT_MAX_IOMMU_MAPS + 1, PS),
			 -EINVAL);
}

/* Bits of a read land on the pages their IOVAs map to, or nowhere. */
static void bits_are_translated_through_the_map(void **state)
{
	/* IOVA 1 MiB -> frame 10 (region 0), IOVA 2 MiB -> frame 1030. */
	struct dt_iommu_map maps[2] = {
		{ 0x100000, 10 * PG, 4 * PG }, { 0x200000, 1030 * PG, 64 * PG },
	};
	struct two_regions w;
	struct dt_iommu_xlate x;
	struct dt_gfn_hint hint = { 0 };
	u64 bits[2] = { 0x9, 0 }, gfn;

	(void)state;
	two_regions_init(&w);
	x = (struct dt_iommu_xlate){ maps, 2, PS, &w.rs };
	assert_true(dt_iommu_gfn(&x, 0x100000 + 3 * PG, &gfn));
	assert_int_equal(gfn, 13);
	assert_false(dt_iommu_gfn(&x, 0x100000 + 4 * PG, &gfn));
	/* Pages 0 and 3 from IOVA 1 MiB: frames 10 and 13. */
	assert_int_equal(dt_iommu_take_words(&x, 0x100000, 0, bits, 1, &hint),
			 2);
	assert_true(two_regions_pending(&w, 0, 10));
	assert_true(two_regions_pending(&w, 0, 13));
	/* Word 1 of a read from 2 MiB - 64 pages: pages 64.. are 2 MiB.. */
	bits[1] = 0x3;
	assert_int_equal(dt_iommu_take_words(&x, 0x200000 - 64 * PG, 1,
					     bits + 1, 1, &hint), 2);
	assert_true(two_regions_pending(&w, 1, 6));
	assert_true(two_regions_pending(&w, 1, 7));
	/* Unmapped IOVA: nothing. */
	assert_int_equal(dt_iommu_take_words(&x, 0x300000, 0, bits, 1, &hint),
			 0);

	/* The identity: IOVA is GPA. */
	x.maps = NULL;
	x.nr_maps = 0;
	bits[0] = 1;
	assert_int_equal(dt_iommu_take_words(&x, 1100 * PG, 0, bits, 1, &hint),
			 1);
	assert_true(two_regions_pending(&w, 1, 76));
}

/* An error marks what the range maps, and only that. */
static void errors_mark_what_the_range_maps(void **state)
{
	struct dt_iommu_map maps[2] = {
		{ 0x100000, 10 * PG, 4 * PG }, { 0x200000, 1030 * PG, 64 * PG },
	};
	struct two_regions w;
	struct dt_iommu_xlate x;

	(void)state;
	two_regions_init(&w);
	x = (struct dt_iommu_xlate){ maps, 2, PS, &w.rs };
	dt_iommu_mark_range(&x, 0x100000 + 2 * PG, 0x200000 + 2 * PG);
	assert_int_equal(dt_bitmap_weight(&w.r[0].pending), 2);	/* 12, 13 */
	assert_true(two_regions_pending(&w, 0, 12));
	assert_int_equal(dt_bitmap_weight(&w.r[1].pending), 2);	/* 6, 7 */
	dt_iommu_mark_all(&x);
	assert_int_equal(dt_bitmap_weight(&w.r[0].pending), 4);
	assert_int_equal(dt_bitmap_weight(&w.r[1].pending), 64);
	x.maps = NULL;
	x.nr_maps = 0;
	dt_iommu_mark_all(&x);
	assert_int_equal(dt_bitmap_weight(&w.r[0].pending), NPAGES);
	assert_int_equal(dt_bitmap_weight(&w.r[1].pending), NPAGES);
}

/* Calls are cut at largest-IO-page boundaries only. */
static void reads_are_cut_at_huge_page_boundaries(void **state)
{
	u64 gib = DT_IOMMU_MAX_IO_PAGE, max = (gib >> PS) * 3 / 2;

	(void)state;
	/* Short enough: one call. */
	assert_int_equal(dt_iommu_cut(0, gib, max, PS), gib);
	/* 1.5 GiB of bits from 0.25 GiB reach 1.75: cut at 1 GiB. */
	assert_int_equal(dt_iommu_cut(gib / 4, 4 * gib, max, PS), gib);
	assert_int_equal(dt_iommu_cut(gib, 4 * gib, max, PS), 2 * gib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_are_checked),
		cmocka_unit_test(bits_are_translated_through_the_map),
		cmocka_unit_test(errors_mark_what_the_range_maps),
		cmocka_unit_test(reads_are_cut_at_huge_page_boundaries),
	};

	return cmocka_run_group_tests_name("core: iommu", tests, NULL, NULL);
}
