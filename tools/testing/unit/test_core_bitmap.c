// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The merged set of the shared core: set, range, OR, claim (copy-out and
 * clear) and move, against a page-by-page shadow; and the claim protocol
 * with a source and a consumer running concurrently, which must lose
 * nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

struct set {
	struct dt_bitmap b;
	uint8_t *shadow;	/* one byte per page */
};

static void set_init(struct set *s, u64 npages)
{
	s->b.npages = npages;
	s->b.words = calloc(dt_bitmap_words(npages), sizeof(u64));
	s->b.summary = calloc(dt_summary_words(npages), sizeof(u64));
	s->shadow = calloc(npages, 1);
	assert_non_null(s->b.words);
	assert_non_null(s->b.summary);
	assert_non_null(s->shadow);
}

static void set_fini(struct set *s)
{
	free(s->b.words);
	free(s->b.summary);
	free(s->shadow);
}

static bool bit(const u64 *v, u64 i)
{
	return v[i / 64] >> (i % 64) & 1;
}

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Claim [first, first + n) and check it against the shadow, which it clears. */
static void claim_and_check(struct set *s, u64 first, u64 n)
{
	u64 nw = dt_bitmap_words(n), expect = 0, got, i;
	u64 *out = malloc((nw + 1) * sizeof(u64));

	assert_non_null(out);
	out[nw] = 0x5a5a5a5a5a5a5a5aULL;	/* guard */
	got = dt_bitmap_claim(&s->b, first, n, out);
	for (i = 0; i < n && first + i < s->b.npages; i++) {
		assert_int_equal(bit(out, i), s->shadow[first + i]);
		expect += s->shadow[first + i];
		s->shadow[first + i] = 0;
	}
	for (; i < nw * 64; i++)
		assert_false(bit(out, i));
	assert_int_equal(out[nw], 0x5a5a5a5a5a5a5a5aULL);
	assert_int_equal(got, expect);
	free(out);
}

static void set_page(struct set *s, u64 p)
{
	dt_bitmap_set(&s->b, p);
	s->shadow[p] = 1;
}

static u64 shadow_weight(const struct set *s)
{
	u64 i, n = 0;

	for (i = 0; i < s->b.npages; i++)
		n += s->shadow[i];
	return n;
}

static void set_then_claim_all(void **state)
{
	struct set s;
	u64 pages[] = { 0, 1, 63, 64, 4095, 4096, 9998, 9999 };
	size_t i;

	(void)state;
	set_init(&s, 10000);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		set_page(&s, pages[i]);
	assert_int_equal(dt_bitmap_weight(&s.b), 8);
	claim_and_check(&s, 0, s.b.npages);
	assert_int_equal(dt_bitmap_weight(&s.b), 0);
	/* Claimed bits are gone. */
	claim_and_check(&s, 0, s.b.npages);
	set_fini(&s);
}

static void set_past_end_is_ignored(void **state)
{
	struct set s;

	(void)state;
	set_init(&s, 100);
	dt_bitmap_set(&s.b, 100);
	dt_bitmap_set(&s.b, ~(u64)0);
	dt_bitmap_set_range(&s.b, 100, 50);
	assert_int_equal(dt_bitmap_weight(&s.b), 0);
	dt_bitmap_set_range(&s.b, 90, 50);	/* clipped at the end */
	assert_int_equal(dt_bitmap_weight(&s.b), 10);
	set_fini(&s);
}

static void partial_claims_leave_the_rest(void **state)
{
	struct set s;
	u64 p;

	(void)state;
	set_init(&s, 3 * DT_CHUNK_PAGES + 77);
	for (p = 0; p < s.b.npages; p += 7)
		set_page(&s, p);
	/* A word-aligned range ending mid-word, mid-chunk. */
	claim_and_check(&s, 64, 100);
	/* The rest, including bits beside the claimed ones, is still there. */
	assert_int_equal(dt_bitmap_weight(&s.b), shadow_weight(&s));
	claim_and_check(&s, DT_CHUNK_PAGES - 64, DT_CHUNK_PAGES + 3);
	claim_and_check(&s, 0, 64);
	claim_and_check(&s, 0, s.b.npages);
	assert_int_equal(dt_bitmap_weight(&s.b), 0);
	set_fini(&s);
}

static void ranges_match_a_shadow(void **state)
{
	struct set s;
	int round;

	(void)state;
	srandom(1);
	set_init(&s, 5 * DT_CHUNK_PAGES + 13);
	for (round = 0; round < 2000; round++) {
		u64 first = random() % s.b.npages, n = random() % 300, i;

		switch (random() % 3) {
		case 0:
			set_page(&s, first);
			break;
		case 1:
			dt_bitmap_set_range(&s.b, first, n);
			for (i = first; i < first + n && i < s.b.npages; i++)
				s.shadow[i] = 1;
			break;
		default:
			claim_and_check(&s, first & ~(u64)63, n * 20);
			break;
		}
		assert_int_equal(dt_bitmap_weight(&s.b), shadow_weight(&s));
	}
	claim_and_check(&s, 0, s.b.npages);
	set_fini(&s);
}

static void or_words_drops_bits_past_the_region(void **state)
{
	struct set s;
	u64 src[3] = { 1, ~(u64)0, ~(u64)0 };

	(void)state;
	set_init(&s, 64 + 10);
	dt_bitmap_or_words(&s.b, 0, src, 3);
	assert_int_equal(dt_bitmap_weight(&s.b), 1 + 10);
	s.shadow[0] = 1;
	memset(s.shadow + 64, 1, 10);
	claim_and_check(&s, 0, s.b.npages);
	set_fini(&s);
}

/*
 * A pending set written with dt_bitmap_set_pending() (no barrier) is one
 * dt_bitmap_move() publishes whole: every page's summary bit is set, so the
 * move finds every chunk; pages past the region are dropped.
 */
static void pending_pages_are_all_moved(void **state)
{
	struct set pending, merged;
	u64 p, n = 3 * DT_CHUNK_PAGES + 7;

	(void)state;
	set_init(&pending, n);
	set_init(&merged, n);
	for (p = 1; p < n; p += 257) {
		dt_bitmap_set_pending(&pending.b, p);
		merged.shadow[p] = 1;
	}
	dt_bitmap_set_pending(&pending.b, n - 1);
	merged.shadow[n - 1] = 1;
	dt_bitmap_set_pending(&pending.b, n);		/* past the end */
	dt_bitmap_set_pending(&pending.b, ~(u64)0);
	assert_int_equal(dt_bitmap_move(&merged.b, &pending.b),
			 shadow_weight(&merged));
	assert_int_equal(dt_bitmap_weight(&pending.b), 0);
	claim_and_check(&merged, 0, n);
	set_fini(&pending);
	set_fini(&merged);
}

/*
 * dt_bitmap_or_pending() sets exactly the pages of its word's bits, at any
 * alignment, across a word boundary, and up to the set's end only.
 */
static void or_pending_sets_exactly_its_bits(void **state)
{
	static const u64 pages[] = { 0, 1, 63, 64, 100, 127, 4096 + 37 };
	static const u64 words[] = { 1, ~(u64)0, 0x8000000000000001ULL,
				     0x00ff00ff00ff00ffULL, 0 };
	struct set pending, merged;
	u64 n = 2 * DT_CHUNK_PAGES + 70, i, j, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(pages) + 2; i++) {
		/* The last two: a word across the end, and one past it. */
		u64 page = i < ARRAY_LEN(pages) ? pages[i] :
			   i == ARRAY_LEN(pages) ? n - 20 : n;

		for (j = 0; j < ARRAY_LEN(words); j++) {
			set_init(&pending, n);
			set_init(&merged, n);
			dt_bitmap_or_pending(&pending.b, page, words[j]);
			for (k = 0; k < 64; k++)
				if (words[j] >> k & 1 && page + k < n)
					merged.shadow[page + k] = 1;
			assert_int_equal(dt_bitmap_move(&merged.b, &pending.b),
					 shadow_weight(&merged));
			claim_and_check(&merged, 0, n);
			set_fini(&pending);
			set_fini(&merged);
		}
	}
}

static void move_takes_everything(void **state)
{
	struct set a, b;
	u64 p;

	(void)state;
	set_init(&a, 2 * DT_CHUNK_PAGES);
	set_init(&b, 2 * DT_CHUNK_PAGES);
	for (p = 3; p < a.b.npages; p += 129)
		set_page(&a, p);
	set_page(&b, 5);
	assert_int_equal(dt_bitmap_move(&b.b, &a.b), shadow_weight(&a));
	assert_int_equal(dt_bitmap_weight(&a.b), 0);
	for (p = 0; p < a.b.npages; p++)
		b.shadow[p] |= a.shadow[p];
	claim_and_check(&b, 0, b.b.npages);
	set_fini(&a);
	set_fini(&b);
}

static void sparse_claim_skips_clean_chunks(void **state)
{
	struct set s;

	(void)state;
	/* 4 GiB of 4 KiB pages, two dirty pages far apart. */
	set_init(&s, (u64)1 << 20);
	set_page(&s, 12345);
	set_page(&s, ((u64)1 << 20) - 1);
	claim_and_check(&s, 0, s.b.npages);
	set_fini(&s);
}

/* ---- a source and a consumer at once ---------------------------------- */

#define RACE_CHUNKS	4096
#define RACE_PAGES	(RACE_CHUNKS * DT_CHUNK_PAGES)

struct race {
	struct dt_bitmap *b;
	uint8_t *set;		/* pages the source set (written before set) */
	u64 cur;		/* the chunk the source is working on */
	volatile int done;
};

/*
 * The source sweeps the chunks once each, three writes per chunk,
 * never coming back: a summary bit lost to a race is never repaired by a
 * later write, so the final claim would miss its pages.
 */
static void *race_source(void *arg)
{
	struct race *r = arg;
	unsigned int seed = 7;
	u64 c, q;
	int i;

	for (c = 0; c < RACE_CHUNKS; c++) {
		__atomic_store_n(&r->cur, c, __ATOMIC_RELAXED);
		for (i = 0; i < 3; i++) {
			for (volatile int spin = 0; spin < 2000; spin++)
				;	/* let the consumer go round */
			u64 p = c * DT_CHUNK_PAGES + rand_r(&seed) % DT_CHUNK_PAGES;

			if (i) {
				__atomic_store_n(&r->set[p], 1, __ATOMIC_RELAXED);
				dt_bitmap_set(r->b, p);
				continue;
			}
			for (q = p; q < p + 70 && q < RACE_PAGES; q++)
				__atomic_store_n(&r->set[q], 1, __ATOMIC_RELAXED);
			dt_bitmap_set_range(r->b, p, 70);
		}
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Note the pages of a claim's result, skipping clean words quickly. */
static void record_claimed(uint8_t *claimed, u64 first, u64 n, const u64 *out)
{
	u64 w, i;

	for (w = 0; w < dt_bitmap_words(n); w++) {
		if (!out[w])
			continue;
		for (i = w * 64; i < w * 64 + 64 && i < n; i++)
			if (bit(out, i) && first + i < RACE_PAGES)
				claimed[first + i] = 1;
	}
}

static void concurrent_claims_lose_nothing(void **state)
{
	struct set s;
	struct race r;
	pthread_t t;
	u64 *out = calloc(dt_bitmap_words(RACE_PAGES), sizeof(u64));
	uint8_t *claimed = calloc(RACE_PAGES, 1);
	u64 i, round = 0;

	(void)state;
	set_init(&s, RACE_PAGES);
	r.b = &s.b;
	r.set = calloc(RACE_PAGES, 1);
	r.done = 0;
	r.cur = 0;
	assert_non_null(out);
	assert_non_null(claimed);
	assert_non_null(r.set);
	assert_int_equal(pthread_create(&t, NULL, race_source, &r), 0);

	do {
		/*
		 * Hammer the chunk the source is in: mostly all of it, some
		 * claims ending mid-word, some the whole region.
		 */
		u64 c = __atomic_load_n(&r.cur, __ATOMIC_RELAXED);
		u64 first = c * DT_CHUNK_PAGES;
		u64 n = round % 31 == 0 ? RACE_PAGES - first :
			round % 3 ? DT_CHUNK_PAGES : DT_CHUNK_PAGES / 2 + 5;

		dt_bitmap_claim(&s.b, first, n, out);
		record_claimed(claimed, first, n, out);
		round++;
	} while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));
	pthread_join(t, NULL);
	dt_bitmap_claim(&s.b, 0, RACE_PAGES, out);
	record_claimed(claimed, 0, RACE_PAGES, out);

	for (i = 0; i < RACE_PAGES; i++)
		if (r.set[i] && !claimed[i])
			fail_msg("page %llu was set and never claimed",
				 (unsigned long long)i);
	print_message("# %llu claims raced the source\n", (unsigned long long)round);
	assert_true(round > 100);	/* the two really ran together */
	free(out);
	free(claimed);
	free(r.set);
	set_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_then_claim_all),
		cmocka_unit_test(set_past_end_is_ignored),
		cmocka_unit_test(partial_claims_leave_the_rest),
		cmocka_unit_test(ranges_match_a_shadow),
		cmocka_unit_test(or_words_drops_bits_past_the_region),
		cmocka_unit_test(move_takes_everything),
		cmocka_unit_test(pending_pages_are_all_moved),
		cmocka_unit_test(or_pending_sets_exactly_its_bits),
		cmocka_unit_test(sparse_claim_skips_clean_chunks),
		cmocka_unit_test(concurrent_claims_lose_nothing),
	};

	return cmocka_run_group_tests_name("core: merged set", tests, NULL, NULL);
}
