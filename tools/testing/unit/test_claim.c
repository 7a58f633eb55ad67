// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The consumer side of libdirtytrack (lib/claim.c), on a tracker built by
 * hand: dirtytrack_claim_ranges() must report every maximal run of every
 * region exactly once (merged across 4096-page chunks, never across
 * regions), with the right slot, page and GPA, and a callback that stops
 * must leave exactly the runs it did not consume; dirtytrack_claim_bitmap()
 * and dirtytrack_region_bitmap() must check their arguments and copy out
 * the right bits.  Everything is checked against a page-by-page shadow.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libdt.h"
#include "opts.h"

#define PAGE_SHIFT	12
/* What the test callback returns to stop the walk. */
#define STOP_RET	(-ECANCELED)

/* ---- a hand-built tracker ----------------------------------------------- */

struct region {
	struct dt_region *r;
	uint8_t *shadow;	/* one byte per page: dirty in the merged set */
};

struct fix {
	struct dirtytrack dt;
	struct dirtytrack_tracker *t;
	struct region reg[DT_MAX_REGIONS];	/* by table index */
};

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dt.backend = DIRTYTRACK_BACKEND_USER;
	f->dt.fd = -1;
	f->dt.page_shift = PAGE_SHIFT;
	f->dt.refs = 1;
	f->t = calloc(1, sizeof(*f->t));
	assert_non_null(f->t);
	f->t->dt = &f->dt;
	f->t->fd = -1;
	assert_int_equal(pthread_mutex_init(&f->t->lock, NULL), 0);
	assert_int_equal(pthread_rwlock_init(&f->t->regions_lock, NULL), 0);
	return f;
}

static void fix_free(struct fix *f)
{
	int i;

	for (i = 0; i < DT_MAX_REGIONS; i++) {
		if (!f->reg[i].r)
			continue;
		free(f->reg[i].r->merged.words);
		free(f->reg[i].r->merged.summary);
		free(f->reg[i].r);
		free(f->reg[i].shadow);
	}
	pthread_rwlock_destroy(&f->t->regions_lock);
	pthread_mutex_destroy(&f->t->lock);
	free(f->t);
	free(f);
}

/* Region @slot at table index @idx, @npages from frame @gfn, all clean. */
static struct region *fix_region(struct fix *f, int idx, uint32_t slot,
				 uint64_t gfn, uint64_t npages)
{
	struct region *g = &f->reg[idx];
	struct dt_region *r = calloc(1, sizeof(*r));

	assert_null(g->r);
	assert_non_null(r);
	r->slot.slot = slot;
	r->first_gfn = gfn;
	r->slot.npages = npages;
	r->merged.npages = npages;
	r->merged.words = calloc(dt_bitmap_words(npages), sizeof(uint64_t));
	r->merged.summary = calloc(dt_summary_words(npages), sizeof(uint64_t));
	assert_non_null(r->merged.words);
	assert_non_null(r->merged.summary);
	g->r = r;
	g->shadow = calloc(npages, 1);
	assert_non_null(g->shadow);
	dt_regions_link(&f->t->regions, idx, r);
	return g;
}

/* Make [@first, @first + @n) dirty, in the set and the shadow. */
static void dirty(struct region *g, uint64_t first, uint64_t n)
{
	dt_bitmap_set_range(&g->r->merged, first, n);
	memset(g->shadow + first, 1, n);
}

static void dirty_page(struct region *g, uint64_t p)
{
	dt_bitmap_set(&g->r->merged, p);
	g->shadow[p] = 1;
}

/* Dirty pages left in every region's merged set. */
static uint64_t set_weight(struct fix *f)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < DT_MAX_REGIONS; i++)
		if (f->reg[i].r)
			n += dt_bitmap_weight(&f->reg[i].r->merged);
	return n;
}

/* ---- expected runs -------------------------------------------------------- */

struct runs {
	struct dirtytrack_dirty_range *v;
	size_t n, cap;
};

static void runs_push(struct runs *rs, const struct dirtytrack_dirty_range *x)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		assert_non_null(rs->v);
	}
	rs->v[rs->n++] = *x;
}

static void runs_free(struct runs *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* The maximal runs of the shadows, in table order: what a claim reports. */
static void expected_runs(struct fix *f, struct runs *rs)
{
	int i;

	for (i = 0; i < DT_MAX_REGIONS; i++) {
		struct region *g = &f->reg[i];
		uint64_t p = 0, e;

		if (!g->r)
			continue;
		while (p < g->r->slot.npages) {
			struct dirtytrack_dirty_range x;

			if (!g->shadow[p]) {
				p++;
				continue;
			}
			for (e = p; e < g->r->slot.npages && g->shadow[e]; e++)
				;
			x.slot = g->r->slot.slot;
			x.first_page = p;
			x.npages = e - p;
			x.gpa = (g->r->first_gfn + p) << PAGE_SHIFT;
			runs_push(rs, &x);
			p = e;
		}
	}
}

static uint64_t runs_pages(const struct runs *rs)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < rs->n; i++)
		n += rs->v[i].npages;
	return n;
}

static void assert_range_eq(const struct dirtytrack_dirty_range *got,
			    const struct dirtytrack_dirty_range *want)
{
	assert_int_equal(got->slot, want->slot);
	assert_int_equal(got->first_page, want->first_page);
	assert_int_equal(got->npages, want->npages);
	assert_int_equal(got->gpa, want->gpa);
}

/*
 * Checking what a walk reported, given that regions come in no particular
 * order but a region's runs come in ascending order (dirtytrack_claim_ranges(3)):
 * @used marks the runs of @want (grouped by region, ascending) reported so
 * far.
 */

/* @x is a run of @want not reported yet, and the next one of its region. */
static size_t check_next(const struct runs *want, const bool *used,
			 const struct dirtytrack_dirty_range *x)
{
	size_t j, k;

	for (j = 0; j < want->n; j++)
		if (want->v[j].slot == x->slot &&
		    want->v[j].first_page == x->first_page)
			break;
	if (j == want->n)
		fail_msg("reported slot %#x pages %llu+%llu: no such dirty run",
			 x->slot, (unsigned long long)x->first_page,
			 (unsigned long long)x->npages);
	assert_range_eq(x, &want->v[j]);
	/* Once only. */
	assert_false(used[j]);
	/* In ascending order within its region. */
	for (k = j; k-- > 0 && want->v[k].slot == x->slot; )
		assert_true(used[k]);
	return j;
}

/* Check the runs @got and mark them used; return their pages. */
static uint64_t check_walk(const struct runs *want, bool *used,
			   const struct runs *got)
{
	uint64_t pages = 0;
	size_t i;

	for (i = 0; i < got->n; i++) {
		used[check_next(want, used, &got->v[i])] = true;
		pages += got->v[i].npages;
	}
	return pages;
}

static bool *used_new(const struct runs *want)
{
	bool *used = calloc(want->n + 1, sizeof(bool));

	assert_non_null(used);
	return used;
}

/* ---- the callback ----------------------------------------------------------- */

/*
 * Records the runs it consumes; the @stop_at-th call (1-based; 0: never)
 * returns @stop_ret and is recorded as @refused.
 */
struct rec {
	struct runs got;
	size_t calls;
	size_t stop_at;
	int stop_ret;
	struct dirtytrack_dirty_range refused;
};

static int rec_fn(const struct dirtytrack_dirty_range *range, void *ctx)
{
	struct rec *rc = ctx;

	rc->calls++;
	if (rc->stop_at && rc->calls == rc->stop_at) {
		rc->refused = *range;
		return rc->stop_ret;
	}
	runs_push(&rc->got, range);
	return 0;
}

static void rec_free(struct rec *rc)
{
	runs_free(&rc->got);
}

static void shadows_clear(struct fix *f)
{
	int i;

	for (i = 0; i < DT_MAX_REGIONS; i++)
		if (f->reg[i].r)
			memset(f->reg[i].shadow, 0, f->reg[i].r->slot.npages);
}

/*
 * Claim everything and check it is exactly the runs of @want not @used
 * yet, then that the set is empty and a further claim reports nothing.
 */
static void claim_all_expect(struct fix *f, const struct runs *want, bool *used)
{
	struct rec rc = { 0 };
	uint64_t pages = ~0ULL, rest = 0;
	size_t i;

	for (i = 0; i < want->n; i++)
		rest += used[i] ? 0 : want->v[i].npages;
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages), 0);
	assert_int_equal(check_walk(want, used, &rc.got), rest);
	for (i = 0; i < want->n; i++)
		assert_true(used[i]);
	assert_int_equal(pages, rest);
	assert_int_equal(set_weight(f), 0);
	rec_free(&rc);

	memset(&rc, 0, sizeof(rc));
	pages = ~0ULL;
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages), 0);
	assert_int_equal(rc.calls, 0);
	assert_int_equal(pages, 0);
	rec_free(&rc);
}

/* Claim with the shadows as they are, and clear the shadows. */
static void claim_all_check(struct fix *f)
{
	struct runs want = { 0 };
	bool *used;

	expected_runs(f, &want);
	used = used_new(&want);
	claim_all_expect(f, &want, used);
	free(used);
	runs_free(&want);
	shadows_clear(f);
}

/*
 * A claim reports exactly the @n runs of @want, written out by hand
 * (grouped by region, ascending) and checked against the shadow's runs
 * first; the shadows are then cleared.
 */
static void claim_expect(struct fix *f, const struct dirtytrack_dirty_range *want,
			 size_t n)
{
	struct runs model = { 0 };
	size_t i;
	bool *used;

	expected_runs(f, &model);
	assert_int_equal(model.n, n);
	for (i = 0; i < n; i++)
		assert_range_eq(&model.v[i], &want[i]);
	used = used_new(&model);
	claim_all_expect(f, &model, used);
	free(used);
	runs_free(&model);
	shadows_clear(f);
}

#define R(s, p, n, g)	{ .slot = (s), .first_page = (p), .npages = (n), \
			  .gpa = (uint64_t)(g) << PAGE_SHIFT }

/* ---- dirtytrack_claim_ranges(): shapes of runs ------------------------------ */

static void runs_inside_one_word(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, 3, 0x100, 256);
	const struct dirtytrack_dirty_range want[] = {
		R(3, 3, 5, 0x100 + 3), R(3, 10, 1, 0x100 + 10),
		R(3, 62, 1, 0x100 + 62), R(3, 128, 1, 0x100 + 128),
	};

	(void)state;
	dirty(g, 3, 5);
	dirty_page(g, 10);
	dirty_page(g, 62);
	dirty_page(g, 128);
	claim_expect(f, want, 4);
	fix_free(f);
}

static void runs_span_words(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, 1, 0, 1024);
	const struct dirtytrack_dirty_range want[] = {
		R(1, 60, 11, 60), R(1, 120, 201, 120), R(1, 384, 128, 384),
	};

	(void)state;
	dirty(g, 60, 11);		/* words 0-1 */
	dirty(g, 120, 201);		/* words 1-5 */
	dirty(g, 384, 128);		/* exactly words 6-7 */
	claim_expect(f, want, 3);
	fix_free(f);
}

/* A run over a chunk boundary (4096 pages) is one run, not two. */
static void run_across_chunks_reported_once(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, 2, 1000, 4 * DT_CHUNK_PAGES + 100);
	const struct dirtytrack_dirty_range want[] = {
		R(2, 4000, 201, 1000 + 4000),
		/* chunk 1's tail, all of chunk 2, chunk 3's head */
		R(2, 8000, 4096 + 200, 1000 + 8000),
		/* ends at a chunk's last page; the next starts 2 pages on */
		R(2, 16380, 4, 1000 + 16380),
		R(2, 16385, 3, 1000 + 16385),
	};

	(void)state;
	dirty(g, 4000, 201);
	dirty(g, 8000, 4096 + 200);
	dirty(g, 16380, 4);
	dirty(g, 16385, 3);
	claim_expect(f, want, 4);

	/* Two runs that meet exactly at a chunk boundary are one run. */
	dirty(g, DT_CHUNK_PAGES - 64, 64);
	dirty(g, DT_CHUNK_PAGES, 64);
	claim_all_check(f);
	fix_free(f);
}

/* The whole of a multi-chunk region dirty: one run. */
static void whole_region_is_one_run(void **state)
{
	struct fix *f = fix_new();
	uint64_t n = 3 * DT_CHUNK_PAGES + 77;
	struct region *g = fix_region(f, 0, 9, 0x40000, n);
	const struct dirtytrack_dirty_range want[] = { R(9, 0, n, 0x40000) };

	(void)state;
	dirty(g, 0, n);
	claim_expect(f, want, 1);
	fix_free(f);
}

/* Runs at a region's first and last page, for sizes not multiple of 64. */
static void runs_at_region_edges(void **state)
{
	static const uint64_t sizes[] = {
		1, 2, 63, 65, 127, 1000, DT_CHUNK_PAGES - 1, DT_CHUNK_PAGES + 1,
		2 * DT_CHUNK_PAGES + 37,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];
		struct fix *f = fix_new();
		struct region *g = fix_region(f, 0, 4, 512, n);

		/* First page alone, last page alone. */
		dirty_page(g, 0);
		dirty_page(g, n - 1);
		claim_all_check(f);
		/* Runs ending at the end, starting at the start. */
		dirty(g, 0, n < 3 ? 1 : 3);
		dirty(g, n > 10 ? n - 10 : n - 1, n > 10 ? 10 : 1);
		claim_all_check(f);
		/* The last word and the last chunk, partial. */
		if (n > 64) {
			dirty(g, (n - 1) / 64 * 64 - 5, n - ((n - 1) / 64 * 64 - 5));
			claim_all_check(f);
		}
		fix_free(f);
	}
}

/*
 * Several regions, spread over the table: runs are reported per region,
 * in table order, with the region's slot and GPA, and never merged with
 * the next region even where its GPA continues this one.
 */
static void several_regions(void **state)
{
	struct fix *f = fix_new();
	uint32_t s_a = DIRTYTRACK_SLOT(0, 1), s_b = DIRTYTRACK_SLOT(1, 7);
	uint32_t s_c = DIRTYTRACK_SLOT(0, 3), s_d = DIRTYTRACK_SLOT(0, 4);
	uint64_t g_a = 0x100, g_b = 0x100 + 200, g_c = 1ULL << 36;
	uint64_t g_d = g_c + 5000;
	struct region *a = fix_region(f, 0, s_a, g_a, 200);
	struct region *b = fix_region(f, 5, s_b, g_b, 300);
	struct region *c = fix_region(f, 200, s_c, g_c, 5000);
	struct region *d = fix_region(f, DT_MAX_REGIONS - 1, s_d, g_d, 70);
	const struct dirtytrack_dirty_range want[] = {
		R(s_a, 150, 50, g_a + 150),
		R(s_b, 0, 10, g_b),
		R(s_b, 299, 1, g_b + 299),
		R(s_c, 4090, 910, g_c + 4090),
		R(s_d, 0, 70, g_d),
	};

	(void)state;
	dirty(a, 150, 50);	/* to a's end ... */
	dirty(b, 0, 10);	/* ... and b's start: contiguous GPA */
	dirty_page(b, 299);
	dirty(c, 4090, 910);	/* to c's end ... */
	dirty(d, 0, 70);	/* ... and all of d: contiguous GPA */
	claim_expect(f, want, 5);
	fix_free(f);
}

/* ---- dirtytrack_claim_ranges(): a callback that stops ------------------------ */

/* Shapes exercising every place a walk can stop. */
static void fill_stop_pattern(struct fix *f)
{
	struct region *a = fix_region(f, 0, DIRTYTRACK_SLOT(0, 1), 0x10,
				      3 * DT_CHUNK_PAGES + 9);
	struct region *b = fix_region(f, 7, DIRTYTRACK_SLOT(0, 2), 0x100000, 700);

	dirty(a, 0, 1);				/* region start */
	dirty(a, 5, 3);				/* same word */
	dirty(a, 60, 10);			/* across a word */
	dirty(a, 100, 1);			/* same word as ... */
	dirty(a, 102, 4);			/* ... this one */
	dirty(a, 4000, 300);			/* across chunks 0-1 */
	dirty(a, 4310, 20);			/* same chunk, after it */
	dirty(a, 2 * DT_CHUNK_PAGES - 1, 1);	/* a chunk's last page */
	dirty(a, 3 * DT_CHUNK_PAGES - 2, 11);	/* to the region's end */
	dirty(b, 0, 64);			/* next region's start */
	dirty(b, 640, 60);			/* its end */
}

static void stop_at_each_run_puts_back_the_rest(void **state)
{
	struct runs want = { 0 };
	size_t k;

	(void)state;
	{
		struct fix *f = fix_new();

		fill_stop_pattern(f);
		expected_runs(f, &want);
		fix_free(f);
	}
	assert_int_equal(want.n, 11);

	for (k = 1; k <= want.n; k++) {
		struct fix *f = fix_new();
		struct rec rc = { .stop_at = k, .stop_ret = STOP_RET };
		uint64_t total, pages = ~0ULL;
		bool *used = used_new(&want);

		fill_stop_pattern(f);
		total = set_weight(f);
		assert_int_equal(total, runs_pages(&want));

		/* The callback's value comes back as is. */
		assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages),
				 STOP_RET);
		/* No call after the one that stopped. */
		assert_int_equal(rc.calls, k);
		assert_int_equal(rc.got.n, k - 1);
		/* Only the consumed runs count. */
		assert_int_equal(pages, check_walk(&want, used, &rc.got));
		check_next(&want, used, &rc.refused);
		/* Exactly the unreported pages are back. */
		assert_int_equal(set_weight(f), total - pages);
		rec_free(&rc);

		/* ... and a full claim gets exactly them, as the same runs. */
		claim_all_expect(f, &want, used);
		free(used);
		fix_free(f);
	}
	runs_free(&want);
}

/* Stopping with a positive value works the same; it is passed through. */
static void stop_with_positive_value(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, 1, 0, 300);
	struct rec rc = { .stop_at = 1, .stop_ret = 1 };
	uint64_t pages = ~0ULL;

	(void)state;
	dirty(g, 10, 20);
	dirty(g, 100, 20);
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages), 1);
	assert_int_equal(pages, 0);
	assert_int_equal(set_weight(f), 40);
	rec_free(&rc);
	claim_all_check(f);
	fix_free(f);
}

static void out_pages_optional_and_empty_after_claim(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 3, 1, 0, 9000);
	struct rec rc = { 0 };
	uint64_t pages = ~0ULL;

	(void)state;
	/* An empty set: no call, 0 pages. */
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages), 0);
	assert_int_equal(rc.calls, 0);
	assert_int_equal(pages, 0);

	dirty(g, 17, 4200);
	dirty(g, 8999, 1);
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, NULL), 0);
	assert_int_equal(rc.got.n, 2);
	assert_int_equal(set_weight(f), 0);
	rec_free(&rc);

	/* An empty table. */
	memset(&rc, 0, sizeof(rc));
	f->t->regions.v[3] = NULL;
	assert_int_equal(dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages), 0);
	assert_int_equal(rc.calls, 0);
	assert_int_equal(pages, 0);
	f->t->regions.v[3] = g->r;
	fix_free(f);
}

static void claim_ranges_null_args(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, 1, 0, 64);
	struct rec rc = { 0 };
	uint64_t pages;

	(void)state;
	dirty(g, 0, 64);
	/* EINVAL: a NULL tracker or callback; nothing is claimed. */
	assert_int_equal(dirtytrack_claim_ranges(NULL, rec_fn, &rc, &pages),
			 -EINVAL);
	assert_int_equal(dirtytrack_claim_ranges(f->t, NULL, &rc, &pages),
			 -EINVAL);
	assert_int_equal(rc.calls, 0);
	assert_int_equal(set_weight(f), 64);
	claim_all_check(f);
	fix_free(f);
}

/* O(dirty): a 2^24-page region with 3 dirty pages (correctness only). */
static void huge_sparse_region(void **state)
{
	uint64_t n = 1ULL << 24;
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 0, DIRTYTRACK_SLOT(0, 0), 1ULL << 20, n);
	const struct dirtytrack_dirty_range want[] = {
		R(0, 5, 1, (1ULL << 20) + 5),
		R(0, (1ULL << 23) + 17, 1, (1ULL << 20) + (1ULL << 23) + 17),
		R(0, n - 1, 1, (1ULL << 20) + n - 1),
	};

	(void)state;
	dirty_page(g, 5);
	dirty_page(g, (1ULL << 23) + 17);
	dirty_page(g, n - 1);
	claim_expect(f, want, 3);
	/* And a run across summary words (2^18 pages each). */
	dirty(g, (1ULL << 18) - 3, 6);
	claim_all_check(f);
	fix_free(f);
}

/* ---- randomized, against the shadow --------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic whatever the libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_below(uint64_t n)
{
	return n ? rng() % n : 0;
}

static void random_fill(struct region *g)
{
	uint64_t n = g->r->slot.npages, runs, i;

	switch (rng_below(4)) {
	case 0:		/* a few single pages */
		runs = rng_below(8);
		for (i = 0; i < runs; i++)
			dirty_page(g, rng_below(n));
		break;
	case 1:		/* short runs */
		runs = rng_below(64);
		for (i = 0; i < runs; i++) {
			uint64_t p = rng_below(n);

			dirty(g, p, 1 + rng_below(n - p < 130 ? n - p : 130));
		}
		break;
	case 2:		/* long runs, over words and chunks */
		runs = rng_below(6);
		for (i = 0; i < runs; i++) {
			uint64_t p = rng_below(n);

			dirty(g, p, 1 + rng_below(n - p < 9000 ? n - p : 9000));
		}
		break;
	default:	/* dense: random words */
		for (i = 0; i < n; i++)
			if (rng() & 1)
				dirty_page(g, i);
		break;
	}
}

static void random_against_shadow(void **state)
{
	unsigned int iter;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (iter = 0; iter < 300; iter++) {
		struct fix *f = fix_new();
		unsigned int nreg = 1 + (unsigned int)rng_below(4), i;
		struct runs want = { 0 };
		struct rec rc = { 0 };
		uint64_t total, pages, gfn = rng_below(1ULL << 30);
		bool *used;
		int ret;

		for (i = 0; i < nreg; i++) {
			/* Mostly small regions, now and then over 64 chunks. */
			uint64_t n = iter % 25 == 0 ? 1 + rng_below(600000) :
				     1 + rng_below(3 * DT_CHUNK_PAGES);
			int idx = (int)(i * (DT_MAX_REGIONS / 4) +
					rng_below(DT_MAX_REGIONS / 4));
			struct region *g = fix_region(f, idx,
						      DIRTYTRACK_SLOT(i & 1, i),
						      gfn, n);

			gfn += n + rng_below(3);	/* sometimes contiguous */
			if (iter % 25 == 0 && rng_below(2))
				dirty_page(g, rng_below(n));
			else
				random_fill(g);
		}
		expected_runs(f, &want);
		used = used_new(&want);
		total = set_weight(f);
		assert_int_equal(total, runs_pages(&want));

		/* Stop at a random run, or never. */
		rc.stop_at = rng_below(want.n + 2);
		rc.stop_ret = rng_below(2) ? STOP_RET : 1;
		ret = dirtytrack_claim_ranges(f->t, rec_fn, &rc, &pages);
		assert_int_equal(pages, check_walk(&want, used, &rc.got));
		if (rc.stop_at && rc.stop_at <= want.n) {
			assert_int_equal(ret, rc.stop_ret);
			assert_int_equal(rc.calls, rc.stop_at);
			check_next(&want, used, &rc.refused);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(rc.calls, want.n);
		}
		assert_int_equal(set_weight(f), total - pages);
		claim_all_expect(f, &want, used);
		free(used);
		rec_free(&rc);
		runs_free(&want);
		fix_free(f);
	}
}

/* ---- dirtytrack_claim_bitmap() ------------------------------------------------ */

static bool bit(const uint64_t *v, uint64_t i)
{
	return v[i / 64] >> (i % 64) & 1;
}

static void claim_bitmap_refusals(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 2, DIRTYTRACK_SLOT(0, 5), 0, 1000);
	struct region *h = fix_region(f, 3, DIRTYTRACK_SLOT(0, 8), 2000, 1024);
	uint64_t buf[32], dirty_n = 77;

	(void)state;
	dirty(g, 0, 1000);
	/* EINVAL: first_page not a multiple of 64. */
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 1, 64, buf,
						 &dirty_n), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 63, 64, buf,
						 &dirty_n), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 65, 64, buf,
						 &dirty_n), -EINVAL);
	/* EINVAL: first_page at or past the region's end. */
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 1024, 64, buf,
						 &dirty_n), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, h->r->slot.slot, 1024, 64, buf,
						 &dirty_n), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, h->r->slot.slot, 960, 64, buf,
						 &dirty_n), 0);
	assert_int_equal(dirty_n, 0);
	dirty_n = 77;
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 1ULL << 40, 64,
						 buf, &dirty_n), -EINVAL);
	/* EINVAL: no pages. */
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 0, 0, buf,
						 &dirty_n), -EINVAL);
	/* EINVAL: NULL tracker or bitmap. */
	assert_int_equal(dirtytrack_claim_bitmap(NULL, g->r->slot.slot, 0, 64, buf,
						 &dirty_n), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 0, 64, NULL,
						 &dirty_n), -EINVAL);
	/* ENOENT: no such region (another address space's slot 5 too). */
	assert_int_equal(dirtytrack_claim_bitmap(f->t, DIRTYTRACK_SLOT(0, 6), 0,
						 64, buf, &dirty_n), -ENOENT);
	assert_int_equal(dirtytrack_claim_bitmap(f->t, DIRTYTRACK_SLOT(1, 5), 0,
						 64, buf, &dirty_n), -ENOENT);
	/* A refused call claims nothing and reports nothing. */
	assert_int_equal(dirty_n, 77);
	assert_int_equal(set_weight(f), 1000);
	fix_free(f);
}

/* Claim [first, first + n) into a guarded buffer and check it. */
static void claim_bitmap_check(struct fix *f, struct region *g, uint64_t first,
			       uint64_t n)
{
	uint64_t clip = n < g->r->slot.npages - first ? n : g->r->slot.npages - first;
	uint64_t nw = dt_bitmap_words(n), i, expect = 0, got = ~0ULL;
	uint64_t before = set_weight(f);
	uint64_t *buf = malloc((nw + 1) * sizeof(uint64_t));

	assert_non_null(buf);
	memset(buf, 0xa5, (nw + 1) * sizeof(uint64_t));
	assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, first, n, buf,
						 &got), 0);
	for (i = 0; i < clip; i++) {
		assert_int_equal(bit(buf, i), g->shadow[first + i]);
		expect += g->shadow[first + i];
		g->shadow[first + i] = 0;
	}
	/* Bits of the last word past the region read as clean. */
	for (; i < dt_bitmap_words(clip) * 64; i++)
		assert_false(bit(buf, i));
	/* Never past the caller's (npages + 63) / 64 words. */
	assert_int_equal(buf[nw], 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(got, expect);
	/* Cleared, and nothing else. */
	assert_int_equal(set_weight(f), before - expect);
	for (i = 0; i < g->r->slot.npages; i++)
		assert_int_equal(bit(g->r->merged.words, i), g->shadow[i]);
	free(buf);
}

static void claim_bitmap_bits(void **state)
{
	struct fix *f = fix_new();
	uint64_t n = 2 * DT_CHUNK_PAGES + 1000, i;
	struct region *g = fix_region(f, 4, DIRTYTRACK_SLOT(1, 2), 0x777, n);
	uint64_t got;

	(void)state;
	rng_state = 12345;
	for (i = 0; i < n; i++)
		if (rng_below(3) == 0)
			dirty_page(g, i);
	claim_bitmap_check(f, g, 128, 300);		/* inside a chunk */
	claim_bitmap_check(f, g, 4032, 200);		/* across chunks */
	claim_bitmap_check(f, g, 64, 1);		/* one page */
	claim_bitmap_check(f, g, 0, 64);		/* a word */
	/* Clipped to the region: only [8960, n) is claimed. */
	claim_bitmap_check(f, g, n / 64 * 64 - 64, 4096);
	claim_bitmap_check(f, g, n / 64 * 64, 1ULL << 20);
	/* The rest, and then the set is empty. */
	claim_bitmap_check(f, g, 0, n);
	assert_int_equal(set_weight(f), 0);
	/* out_dirty is optional. */
	dirty(g, 10, 5);
	{
		uint64_t buf[2];

		assert_int_equal(dirtytrack_claim_bitmap(f->t, g->r->slot.slot, 0, 128,
							 buf, NULL), 0);
		assert_int_equal(buf[0], 0x1fULL << 10);
		assert_int_equal(buf[1], 0);
	}
	got = set_weight(f);
	assert_int_equal(got, 0);
	fix_free(f);
}

/* ---- dirtytrack_region_bitmap() ---------------------------------------------- */

struct view_big {
	struct dirtytrack_bitmap_view v;
	uint64_t newer;
};

static void region_bitmap_view(void **state)
{
	struct fix *f = fix_new();
	struct region *g = fix_region(f, 9, DIRTYTRACK_SLOT(1, 3), 0xabcde, 777);
	struct dirtytrack_bitmap_view v;
	struct view_big big;
	size_t sz;

	(void)state;
	/* EINVAL: NULL tracker or view; sz smaller than sz itself. */
	v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	assert_int_equal(dirtytrack_region_bitmap(NULL, g->r->slot.slot, &v), -EINVAL);
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, NULL), -EINVAL);
	for (sz = 0; sz < sizeof(size_t); sz++) {
		v.sz = sz;
		assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &v),
				 -EINVAL);
	}
	/* E2BIG: a larger struct whose unknown tail is not zero. */
	memset(&big, 0, sizeof(big));
	big.v.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &big.v),
			 -E2BIG);
	/* ENOENT: no such region. */
	v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	assert_int_equal(dirtytrack_region_bitmap(f->t, DIRTYTRACK_SLOT(0, 3), &v),
			 -ENOENT);

	v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &v), 0);
	assert_int_equal(v.sz, sizeof(v));
	assert_ptr_equal(v.words, g->r->merged.words);
	assert_ptr_equal(v.summary, g->r->merged.summary);
	assert_int_equal(v.npages, 777);
	assert_int_equal(v.gpa, 0xabcdeULL << PAGE_SHIFT);

	/* A larger struct with a zero tail: filled, tail untouched. */
	big.newer = 0;
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &big.v), 0);
	assert_int_equal(big.newer, 0);
	assert_int_equal(big.v.gpa, 0xabcdeULL << PAGE_SHIFT);

	/* An older caller's struct, ending at words: the rest untouched. */
	memset(&v, 0x5a, sizeof(v));
	v.sz = dt_offsetofend(struct dirtytrack_bitmap_view, words);
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &v), 0);
	assert_ptr_equal(v.words, g->r->merged.words);
	assert_int_equal((uintptr_t)v.summary, (uintptr_t)0x5a5a5a5a5a5a5a5aULL);
	assert_int_equal(v.npages, 0x5a5a5a5a5a5a5a5aULL);
	assert_int_equal(v.gpa, 0x5a5a5a5a5a5a5a5aULL);

	/* The view is the set: a page set through it is claimed. */
	dirty_page(g, 700);
	v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	assert_int_equal(dirtytrack_region_bitmap(f->t, g->r->slot.slot, &v), 0);
	assert_true(bit(v.words, 700));
	assert_true(v.summary[0] & 1);
	claim_all_check(f);
	assert_false(bit(v.words, 700));
	fix_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_inside_one_word),
		cmocka_unit_test(runs_span_words),
		cmocka_unit_test(run_across_chunks_reported_once),
		cmocka_unit_test(whole_region_is_one_run),
		cmocka_unit_test(runs_at_region_edges),
		cmocka_unit_test(several_regions),
		cmocka_unit_test(stop_at_each_run_puts_back_the_rest),
		cmocka_unit_test(stop_with_positive_value),
		cmocka_unit_test(out_pages_optional_and_empty_after_claim),
		cmocka_unit_test(claim_ranges_null_args),
		cmocka_unit_test(huge_sparse_region),
		cmocka_unit_test(random_against_shadow),
		cmocka_unit_test(claim_bitmap_refusals),
		cmocka_unit_test(claim_bitmap_bits),
		cmocka_unit_test(region_bitmap_view),
	};

	return cmocka_run_group_tests_name("libdirtytrack claims", tests,
					   NULL, NULL);
}
