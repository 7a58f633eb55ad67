// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The vmm log's harvest of the shared core (core/vmm_log.c): one log
 * word's bits into the regions' pending sets, against a bit-by-bit model,
 * with regions that end and begin inside a word, a gap, and host pages of
 * the log's size and twice it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

#define NR_REGIONS	2
#define LOG_WORDS	5	/* log bits [0, 320) */

/* Two regions of address space 0: [10, 50) and [70, 200). */
static const struct { u64 first, npages; } layout[NR_REGIONS] = {
	{ 10, 40 }, { 70, 130 },
};

struct world {
	u64 words[NR_REGIONS][4], summary[NR_REGIONS][1];
	struct dt_bitmap set[NR_REGIONS];
	uint8_t model[NR_REGIONS][256];	/* page -> set or not */
	unsigned long finds;
};

static struct dt_bitmap *find(void *ctx, u64 gfn, u64 *base)
{
	struct world *w = ctx;
	int i;

	w->finds++;
	for (i = 0; i < NR_REGIONS; i++) {
		if (gfn >= layout[i].first &&
		    gfn - layout[i].first < layout[i].npages) {
			*base = layout[i].first;
			return &w->set[i];
		}
	}
	return NULL;
}

static void world_init(struct world *w)
{
	int i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < NR_REGIONS; i++)
		w->set[i] = (struct dt_bitmap){ w->words[i], w->summary[i],
						layout[i].npages };
}

/* The model: every bit alone, as the log's format defines it. */
static void model_word(struct world *w, unsigned int shift, u64 first_bit,
		       u64 v, struct dt_log_counts *c)
{
	unsigned int b;
	int i;

	for (b = 0; b < 64; b++) {
		u64 gfn = (first_bit + b) >> shift;

		if (!(v >> b & 1))
			continue;
		for (i = 0; i < NR_REGIONS; i++)
			if (gfn >= layout[i].first &&
			    gfn - layout[i].first < layout[i].npages)
				break;
		if (i == NR_REGIONS) {
			c->outside++;
			continue;
		}
		w->model[i][gfn - layout[i].first] = 1;
		c->pages++;
	}
}

static void assert_sets_match_model(struct world *w)
{
	u64 p;
	int i;

	for (i = 0; i < NR_REGIONS; i++) {
		for (p = 0; p < layout[i].npages; p++)
			assert_int_equal(w->words[i][p / 64] >> (p % 64) & 1,
					 w->model[i][p]);
		/* Nothing past the region's end; its chunk is in the summary. */
		for (; p < 256; p++)
			assert_int_equal(w->words[i][p / 64] >> (p % 64) & 1, 0);
		assert_int_equal(w->summary[i][0],
				 dt_bitmap_weight(&w->set[i]) ? 1 : 0);
	}
}

static void take_and_check(struct world *w, unsigned int shift,
			   const u64 *v, u64 *finds)
{
	struct dt_log_regions lr = { .find = find, .ctx = w, .shift = shift };
	struct dt_log_counts got = { 0 }, want = { 0 };
	u64 k;

	for (k = 0; k < LOG_WORDS; k++) {
		dt_log_take_word(&lr, k * 64, v[k], &got);
		model_word(w, shift, k * 64, v[k], &want);
	}
	assert_int_equal(got.pages, want.pages);
	assert_int_equal(got.outside, want.outside);
	assert_sets_match_model(w);
	if (finds)
		*finds = w->finds;
}

/* Full words: each region's share of a word in one lookup. */
static void full_words_split_between_regions(void **state)
{
	static const u64 full[LOG_WORDS] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL };
	struct world w;
	u64 finds;

	(void)state;
	world_init(&w);
	take_and_check(&w, 0, full, &finds);
	assert_int_equal(dt_bitmap_weight(&w.set[0]), 40);
	assert_int_equal(dt_bitmap_weight(&w.set[1]), 130);
	/*
	 * One lookup per bit outside (150 of 320) and one per region's
	 * share of a word (four: [10, 50), [70, 128), [128, 192),
	 * [192, 200)), not one per page.
	 */
	assert_int_equal(finds, 150 + 4);
}

/* Random words, host pages of the log's size and of twice it. */
static void random_words_match_the_model(void **state)
{
	unsigned int seed = 12345, shift, round;
	u64 v[LOG_WORDS];
	int k;

	(void)state;
	for (shift = 0; shift <= 1; shift++) {
		for (round = 0; round < 200; round++) {
			struct world w;

			world_init(&w);
			for (k = 0; k < LOG_WORDS; k++)
				v[k] = (u64)rand_r(&seed) << 33 ^
				       (u64)rand_r(&seed) << 2 ^
				       (u64)rand_r(&seed);
			v[round % LOG_WORDS] = 0;	/* and an empty word */
			take_and_check(&w, shift, v, NULL);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_words_split_between_regions),
		cmocka_unit_test(random_words_match_the_model),
	};

	return cmocka_run_group_tests_name("core: vmm log words", tests,
					   NULL, NULL);
}
