// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ring walk of the shared core on synthetic rings, including hostile
 * ones: order, validation, our own unreset entries, entries taken by
 * another collector, gaps, and index wrap-around.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

#define RING_SIZE	16
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define SLOT_A		DT_SLOT(0, 1)
#define SLOT_B		DT_SLOT(1, 7)	/* address space 1 */
#define PAGES_A		100
#define PAGES_B		64

struct world {
	struct kvm_dirty_gfn gfns[RING_SIZE];
	struct dt_ring ring;
	u64 words_a[2], sum_a[1], words_b[1], sum_b[1];
	struct dt_bitmap a, b;
	struct dt_slot slots[2];
	struct dt_slot_table table;
	struct dt_ring_stats st;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	/* A ring followed from its creation: KVM starts at entry 0. */
	w->ring = (struct dt_ring){ .gfns = w->gfns, .size = RING_SIZE,
				    .synced = true };
	w->a = (struct dt_bitmap){ w->words_a, w->sum_a, PAGES_A };
	w->b = (struct dt_bitmap){ w->words_b, w->sum_b, PAGES_B };
	w->slots[0] = (struct dt_slot){ SLOT_A, PAGES_A, &w->a };
	w->slots[1] = (struct dt_slot){ SLOT_B, PAGES_B, &w->b };
	w->table = (struct dt_slot_table){ w->slots, 2, 0 };
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* KVM's push: entry at index @i (free-running). */
static void push(struct world *w, u32 i, u32 slot, u64 offset)
{
	struct kvm_dirty_gfn *e = &w->gfns[i % RING_SIZE];

	e->slot = slot;
	e->offset = offset;
	__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_DIRTY, __ATOMIC_RELEASE);
}

/* KVM_RESET_DIRTY_RINGS: every RESET entry becomes invalid (0). */
static u32 kvm_reset(struct world *w)
{
	u32 i, n = 0;

	for (i = 0; i < RING_SIZE; i++)
		if (w->gfns[i].flags & KVM_DIRTY_GFN_F_RESET) {
			w->gfns[i].flags = 0;
			n++;
		}
	return n;
}

static struct dt_ring *the_ring(void *ctx, u32 i)
{
	(void)i;
	return &((struct world *)ctx)->ring;
}

static int reset_all(void *ctx, bool *bailed)
{
	(void)bailed;
	return (int)kvm_reset(ctx);
}

/* What a home does: KVM_RESET_DIRTY_RINGS, accounted by the core. */
static void reset_done(struct world *w)
{
	struct dt_rings_ops ops = {
		.nr = 1, .ring = the_ring, .reset = reset_all, .ctx = w,
		.table = &w->table,
	};
	struct dt_sticky sticky = { 0 };

	assert_int_equal(dt_rings_reset(&ops, 2, &sticky, &w->st), 0);
	assert_int_equal(sticky.n, 0);
}

static bool dirty(struct dt_bitmap *b, u64 p)
{
	return b->words[p / 64] >> (p % 64) & 1;
}

static void harvests_in_order_and_marks_reset(void **state)
{
	struct world *w = *state;

	push(w, 0, SLOT_A, 3);
	push(w, 1, SLOT_B, 63);
	push(w, 2, SLOT_A, 99);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 3);
	assert_int_equal(w->st.invalid, 0);
	assert_int_equal(w->st.foreign, 0);
	assert_int_equal(w->ring.fetch, 3);
	assert_true(dirty(&w->a, 3) && dirty(&w->a, 99) && dirty(&w->b, 63));
	assert_int_equal(dt_bitmap_weight(&w->a) + dt_bitmap_weight(&w->b), 3);
	assert_int_equal(w->gfns[0].flags, KVM_DIRTY_GFN_F_RESET);
	assert_int_equal(w->gfns[2].flags, KVM_DIRTY_GFN_F_RESET);
	assert_int_equal(w->gfns[3].flags, 0);
	reset_done(w);
	assert_int_equal(w->st.resets, 1);
	assert_int_equal(w->ring.freed, 3);

	/* The next walk starts where this one stopped. */
	push(w, 3, SLOT_A, 4);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 4);
	assert_int_equal(w->ring.fetch, 4);
	assert_true(dirty(&w->a, 4));
}

/*
 * The walk gathers a word's bits before setting them: runs in one word,
 * a move to the next word, to another slot and back, an invalid entry in
 * the middle, and the walk's end each hand over exactly their pages.
 */
static void runs_in_a_word_hand_over_exactly_their_pages(void **state)
{
	static const struct { u32 slot; u64 offset; } e[] = {
		{ SLOT_A, 0 }, { SLOT_A, 1 }, { SLOT_A, 63 }, { SLOT_A, 64 },
		{ SLOT_B, 5 }, { SLOT_B, 5 }, { SLOT_A, 65 },
		{ DT_SLOT(0, 2), 66 }, { SLOT_A, 66 }, { SLOT_A, 2 },
		{ SLOT_B, 63 }, { SLOT_A, 99 },
	};
	static const u64 pages_a[] = { 0, 1, 2, 63, 64, 65, 66, 99 };
	struct world *w = *state;
	u32 i;

	for (i = 0; i < ARRAY_LEN(e); i++)
		push(w, i, e[i].slot, e[i].offset);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, ARRAY_LEN(e) - 1);
	assert_int_equal(w->st.invalid, 1);
	assert_int_equal(dt_bitmap_weight(&w->a), ARRAY_LEN(pages_a));
	for (i = 0; i < ARRAY_LEN(pages_a); i++)
		assert_true(dirty(&w->a, pages_a[i]));
	assert_int_equal(dt_bitmap_weight(&w->b), 2);
	assert_true(dirty(&w->b, 5) && dirty(&w->b, 63));
	/* Each set's chunk is marked in its summary. */
	assert_int_equal(w->sum_a[0], 1);
	assert_int_equal(w->sum_b[0], 1);
}

static void invalid_entries_are_counted_not_followed(void **state)
{
	struct world *w = *state;

	push(w, 0, DT_SLOT(0, 2), 0);		/* no such slot */
	push(w, 1, SLOT_A, PAGES_A);		/* one past the end */
	push(w, 2, SLOT_B, ~(u64)0);		/* huge offset */
	push(w, 3, DT_SLOT(1, 1), 5);		/* slot 1 of the wrong AS */
	push(w, 4, SLOT_A, 7);			/* a good one after them */
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.invalid, 4);
	assert_int_equal(w->st.harvested, 1);
	assert_int_equal(dt_bitmap_weight(&w->a), 1);
	assert_int_equal(dt_bitmap_weight(&w->b), 0);
	/* Handed back to KVM all the same, so the ring does not jam. */
	assert_int_equal(kvm_reset(w), 5);
}

static void only_exactly_dirty_is_taken(void **state)
{
	struct world *w = *state;

	push(w, 0, SLOT_A, 1);
	push(w, 1, SLOT_A, 2);
	w->gfns[1].flags = KVM_DIRTY_GFN_F_DIRTY | 0x80;	/* garbage bit */
	push(w, 2, SLOT_A, 3);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 1);
	assert_int_equal(w->ring.fetch, 1);
	assert_false(dirty(&w->a, 2));
	assert_false(dirty(&w->a, 3));
}

static void never_laps_its_own_unreset_entries(void **state)
{
	struct world *w = *state;
	u32 i;

	for (i = 0; i < RING_SIZE; i++)
		push(w, i, SLOT_A, i);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, RING_SIZE);

	/* A scribbler marks everything DIRTY again before KVM's reset. */
	for (i = 0; i < RING_SIZE; i++)
		push(w, i, SLOT_A, 50);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, RING_SIZE);	/* nothing more */
	assert_false(dirty(&w->a, 50));

	/*
	 * KVM's reset finds them DIRTY and stops: they are taken again, as
	 * the pushes of a KVM that overflows over our marks are, and reset.
	 */
	reset_done(w);
	assert_true(dirty(&w->a, 50));
	assert_int_equal(w->st.harvested, 2 * RING_SIZE);
	assert_int_equal(w->st.overflow, 2);
	assert_int_equal(w->ring.unreset, 0);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 2 * RING_SIZE);
}

static void entries_taken_by_another_collector_are_foreign(void **state)
{
	struct world *w = *state;

	push(w, 0, SLOT_A, 1);
	push(w, 1, SLOT_A, 2);
	push(w, 2, SLOT_A, 3);
	/* Someone else harvested the first two (QEMU stores RESET). */
	w->gfns[0].flags = KVM_DIRTY_GFN_F_RESET;
	w->gfns[1].flags = KVM_DIRTY_GFN_F_RESET;
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.foreign, 2);
	assert_int_equal(w->st.harvested, 1);
	assert_true(dirty(&w->a, 3));
	assert_false(dirty(&w->a, 1));
	assert_int_equal(w->ring.fetch, 3);
	assert_int_equal(kvm_reset(w), 3);
}

static void a_gap_is_found_and_skipped(void **state)
{
	struct world *w = *state;

	/* Three entries harvested and reset behind our back, then more. */
	push(w, 3, SLOT_A, 10);
	push(w, 4, SLOT_A, 11);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 0);
	assert_false(dt_ring_check_gap(&w->ring, 2, &w->st));	/* too narrow */
	assert_true(dt_ring_check_gap(&w->ring, RING_SIZE, &w->st));
	assert_int_equal(w->st.foreign, 3);
	assert_int_equal(w->ring.fetch, 3);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 2);
	assert_true(dirty(&w->a, 10) && dirty(&w->a, 11));
}

static void no_gap_on_an_idle_or_caught_up_ring(void **state)
{
	struct world *w = *state;

	assert_false(dt_ring_check_gap(&w->ring, RING_SIZE, &w->st));
	push(w, 0, SLOT_A, 1);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	reset_done(w);
	assert_false(dt_ring_check_gap(&w->ring, RING_SIZE, &w->st));
	assert_int_equal(w->st.foreign, 0);
}

static void the_index_wraps(void **state)
{
	struct world *w = *state;
	u32 start = 0xfffffffe, i;

	w->ring.fetch = start;
	for (i = 0; i < 5; i++)
		push(w, start + i, SLOT_B, i);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.harvested, 5);
	assert_int_equal(w->ring.fetch, 3);
	assert_int_equal(dt_bitmap_weight(&w->b), 5);
}

static void a_ring_attached_late_finds_kvm(void **state)
{
	struct world *w = *state;

	/* KVM is at 10: entries before were reset by an earlier collector. */
	w->ring.synced = false;
	push(w, 10, SLOT_A, 1);
	push(w, 11, SLOT_A, 2);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_true(w->ring.synced);
	assert_int_equal(w->st.harvested, 2);
	assert_int_equal(w->st.foreign, 0);
	assert_int_equal(w->ring.fetch % RING_SIZE, 12);
	assert_true(dirty(&w->a, 1) && dirty(&w->a, 2));
}

static void an_empty_ring_waits_for_its_first_entry(void **state)
{
	struct world *w = *state;

	w->ring.synced = false;
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_false(w->ring.synced);
	assert_false(dt_ring_check_gap(&w->ring, 0, &w->st));
	/* The first entry lands wherever KVM is, here wrapping the end. */
	push(w, 15, SLOT_B, 4);
	push(w, 16, SLOT_B, 5);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_true(w->ring.synced);
	assert_int_equal(w->st.harvested, 2);
	assert_int_equal(w->ring.fetch % RING_SIZE, 1);
}

static void a_late_ring_with_harvested_entries_reports_them(void **state)
{
	struct world *w = *state;

	/* An earlier collector took 4 and 5 but KVM did not reset them yet. */
	w->ring.synced = false;
	push(w, 4, SLOT_A, 40);
	push(w, 5, SLOT_A, 50);
	push(w, 6, SLOT_A, 60);
	w->gfns[4].flags = KVM_DIRTY_GFN_F_RESET;
	w->gfns[5].flags = KVM_DIRTY_GFN_F_RESET;
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(w->st.foreign, 2);
	assert_int_equal(w->st.harvested, 1);
	assert_int_equal(w->ring.unreset, 3);
	assert_int_equal(kvm_reset(w), 3);
}

static void slot_lookup_uses_and_survives_its_hint(void **state)
{
	struct world *w = *state;

	assert_ptr_equal(dt_slot_lookup(&w->table, SLOT_B), &w->slots[1]);
	assert_ptr_equal(dt_slot_lookup(&w->table, SLOT_A), &w->slots[0]);
	assert_null(dt_slot_lookup(&w->table, DT_SLOT(0, 0)));
	assert_null(dt_slot_lookup(&w->table, 0xffffffff));
	assert_ptr_equal(dt_slot_lookup(&w->table, SLOT_A), &w->slots[0]);
	w->table.hint = 12345;	/* stale after a removal: still safe */
	assert_ptr_equal(dt_slot_lookup(&w->table, SLOT_B), &w->slots[1]);
}
/* The fill KVM sees: every count from empty to all, and across a wrap. */
static void fill_counts_the_dirty_run_and_our_unreset_entries(void **state)
{
	struct world *w = *state;
	u32 start = 0xfffffff9, i;

	w->ring.fetch = start;
	assert_int_equal(dt_ring_fill(&w->ring), 0);
	for (i = 0; i < RING_SIZE; i++) {
		push(w, start + i, SLOT_B, i % PAGES_B);
		assert_int_equal(dt_ring_fill(&w->ring), i + 1);
	}

	/* Harvested, not yet reset: KVM still counts them. */
	memset(w->gfns, 0, sizeof(w->gfns));
	for (i = 0; i < 5; i++)
		push(w, start + i, SLOT_B, i);
	dt_ring_harvest(&w->ring, &w->table, &w->st);
	assert_int_equal(dt_ring_fill(&w->ring), 5);
	push(w, start + 5, SLOT_B, 5);
	assert_int_equal(dt_ring_fill(&w->ring), 6);
	reset_done(w);
	assert_int_equal(dt_ring_fill(&w->ring), 1);
}

/* A ring whose place is not known yet: its used entries, wherever. */
static void fill_of_an_unsynced_ring_counts_its_used_entries(void **state)
{
	struct world *w = *state;
	u32 i;

	w->ring.synced = false;
	assert_int_equal(dt_ring_fill(&w->ring), 0);
	for (i = 0; i < 7; i++)
		push(w, 13 + i, SLOT_A, i);	/* wraps the 16 entries */
	w->gfns[13].flags = KVM_DIRTY_GFN_F_RESET;	/* harvested, unreset */
	assert_int_equal(dt_ring_fill(&w->ring), 7);
}

/* Which rings a harvest takes: all, one vCPU's, or the ones filled enough. */
static void a_harvest_takes_the_rings_it_names(void **state)
{
	struct world *w = *state;
	struct dt_ring other = w->ring;
	u32 i;

	for (i = 0; i < 3; i++)
		push(w, w->ring.fetch + i, SLOT_A, i);
	assert_true(dt_ring_wanted(&w->ring, false, NULL, 0));
	assert_true(dt_ring_wanted(&w->ring, false, &other, 99));
	assert_true(dt_ring_wanted(&w->ring, true, &w->ring, 99));
	assert_false(dt_ring_wanted(&w->ring, true, &other, 0));
	assert_true(dt_ring_wanted(&w->ring, true, NULL, 3));
	assert_false(dt_ring_wanted(&w->ring, true, NULL, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(harvests_in_order_and_marks_reset),
		T(runs_in_a_word_hand_over_exactly_their_pages),
		T(invalid_entries_are_counted_not_followed),
		T(only_exactly_dirty_is_taken),
		T(never_laps_its_own_unreset_entries),
		T(entries_taken_by_another_collector_are_foreign),
		T(a_gap_is_found_and_skipped),
		T(no_gap_on_an_idle_or_caught_up_ring),
		T(the_index_wraps),
		T(a_ring_attached_late_finds_kvm),
		T(an_empty_ring_waits_for_its_first_entry),
		T(a_late_ring_with_harvested_entries_reports_them),
		T(slot_lookup_uses_and_survives_its_hint),
		T(fill_counts_the_dirty_run_and_our_unreset_entries),
		T(fill_of_an_unsynced_ring_counts_its_used_entries),
		T(a_harvest_takes_the_rings_it_names),
#undef T
	};

	return cmocka_run_group_tests_name("core: ring walk", tests, NULL, NULL);
}
