// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * KVM_RESET_DIRTY_RINGS as the shared core accounts it (dt_rings_reset(),
 * and dt_rings_reset_and_mark() at the end of a harvest),
 * against a model of KVM's side that follows virt/kvm/dirty_ring.c of
 * Linux 7.3 line for line where it matters: per-ring reset and dirty
 * indices, pushes that disarm a page's dirty logging until a reset re-arms
 * it, resets that batch the pages they re-arm (64 at a time, one memslot)
 * and, from 6.17, stop at a pending signal, dropping the batch in hand.
 * A KVM that pushes past a full ring (the overflow some hosts' KVMs show)
 * is modelled too.
 *
 * The property checked throughout: every page the guest writes is
 * reported, by the ring or as a sticky page, at the next harvest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

#define SIZE		64		/* entries per ring */
#define NR_RINGS	2
#define NR_SLOTS	2
#define PAGES		256		/* per slot */

struct fring {
	struct kvm_dirty_gfn g[SIZE];
	u32 reset_index, dirty_index;
	struct dt_ring ring;		/* the collector's view */
};

struct world {
	struct fring r[NR_RINGS];
	bool armed[NR_SLOTS][PAGES];	/* KVM logs the next write */
	int budget;			/* entries KVM resets before a signal; <0: none */
	bool stopped;			/* the last reset stopped on the signal */
	bool tell;			/* the home can tell it stopped (the module) */
	bool overflowing;		/* KVM pushes past a full ring */
	u64 words[NR_SLOTS][PAGES / 64], sum[NR_SLOTS][1];
	struct dt_bitmap bm[NR_SLOTS];
	struct dt_slot slots[NR_SLOTS];
	struct dt_slot_table table;
	struct dt_sticky sticky;
	struct dt_ring_stats st;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	int i, s;

	if (!w)
		return -1;
	for (i = 0; i < NR_RINGS; i++)
		w->r[i].ring = (struct dt_ring){ .gfns = w->r[i].g, .size = SIZE,
						 .synced = true };
	for (s = 0; s < NR_SLOTS; s++) {
		w->bm[s] = (struct dt_bitmap){ w->words[s], w->sum[s], PAGES };
		w->slots[s] = (struct dt_slot){ DT_SLOT(0, s), PAGES, &w->bm[s] };
		for (i = 0; i < PAGES; i++)
			w->armed[s][i] = true;
	}
	w->table = (struct dt_slot_table){ w->slots, NR_SLOTS, 0 };
	w->budget = -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* The guest writes page @o of slot @s from vCPU @v: KVM pushes if armed. */
static void guest_write(struct world *w, int v, u32 s, u64 o)
{
	struct fring *r = &w->r[v];
	struct kvm_dirty_gfn *e;

	if (!w->armed[s][o])
		return;
	w->armed[s][o] = false;
	if (r->dirty_index - r->reset_index >= SIZE && !w->overflowing)
		fail_msg("the model's guest wrote into a full ring");
	e = &r->g[r->dirty_index++ % SIZE];
	e->slot = DT_SLOT(0, s);
	e->offset = o;
	__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_DIRTY, __ATOMIC_RELEASE);
}

static void rearm(struct world *w, u32 slot, u64 offset, u64 mask)
{
	u32 s = (u16)slot;

	for (; mask; mask >>= 1, offset++)
		if ((mask & 1) && s < NR_SLOTS && offset < PAGES)
			w->armed[s][offset] = true;
}

/* kvm_dirty_ring_reset() of 7.3, the signal check first in the loop. */
static int kvm_ring_reset(struct world *w, struct fring *r, int *count)
{
	u32 cur_slot = 0, next_slot;
	u64 cur_offset = 0, next_offset, mask = 0;
	struct kvm_dirty_gfn *e;

	for (;;) {
		if (!w->budget) {
			w->stopped = true;
			return -1;	/* the batch in @mask is dropped */
		}
		e = &r->g[r->reset_index % SIZE];
		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
		      KVM_DIRTY_GFN_F_RESET))
			break;
		next_slot = e->slot;
		next_offset = e->offset;
		__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
		r->reset_index++;
		(*count)++;
		if (w->budget > 0)
			w->budget--;
		if (mask) {
			if (next_slot == cur_slot) {
				int64_t delta = (int64_t)(next_offset - cur_offset);

				if (delta >= 0 && delta < 64) {
					mask |= 1ull << delta;
					continue;
				}
				if (delta > -64 && delta < 0 &&
				    (mask << -delta >> -delta) == mask) {
					cur_offset = next_offset;
					mask = (mask << -delta) | 1;
					continue;
				}
			}
			rearm(w, cur_slot, cur_offset, mask);
		}
		cur_slot = next_slot;
		cur_offset = next_offset;
		mask = 1;
	}
	if (mask)
		rearm(w, cur_slot, cur_offset, mask);
	return 0;
}

/* kvm_vm_ioctl_reset_dirty_pages(): every ring, the count so far. */
static int kvm_reset(void *ctx, bool *bailed)
{
	struct world *w = ctx;
	int count = 0, i;

	w->stopped = false;
	for (i = 0; i < NR_RINGS; i++)
		if (kvm_ring_reset(w, &w->r[i], &count))
			break;
	*bailed = w->tell && w->stopped;
	/* The signal is delivered on the way out: the next call is whole. */
	if (w->stopped)
		w->budget = -1;
	return count;
}

static struct dt_ring *nth(void *ctx, u32 i)
{
	return &((struct world *)ctx)->r[i].ring;
}

/* The model's rings, as a home hands them to the core. */
static struct dt_rings_ops rings_of(struct world *w)
{
	return (struct dt_rings_ops){
		.nr = NR_RINGS, .ring = nth, .reset = kvm_reset, .ctx = w,
		.table = &w->table,
	};
}

/* One harvest, as a home does it: walk, reset, sticky pages. */
static int harvest(struct world *w, u32 max_calls)
{
	struct dt_rings_ops ops = rings_of(w);
	int i, ret;

	for (i = 0; i < NR_RINGS; i++) {
		dt_ring_harvest(&w->r[i].ring, &w->table, &w->st);
		if (dt_ring_check_gap(&w->r[i].ring, 0, &w->st))
			dt_ring_harvest(&w->r[i].ring, &w->table, &w->st);
	}
	ret = dt_rings_reset(&ops, max_calls, &w->sticky, &w->st);
	if (!ret)
		dt_sticky_mark(&w->sticky, &w->table);
	return ret;
}

static bool reported(struct world *w, u32 s, u64 o)
{
	return w->words[s][o / 64] >> (o % 64) & 1;
}

static void clear_reported(struct world *w)
{
	memset(w->words, 0, sizeof(w->words));
	memset(w->sum, 0, sizeof(w->sum));
}

/* A reset that stops early leaves a tail of our marks, issued again. */
static void a_partial_reset_is_issued_again_and_is_not_foreign(void **state)
{
	struct world *w = *state;
	u64 o;

	for (o = 0; o < 20; o++)
		guest_write(w, 0, 0, o * 3);
	w->budget = 7;
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->st.harvested, 20);
	assert_int_equal(w->st.resets, 2);
	assert_int_equal(w->st.partial_resets, 1);
	assert_int_equal(w->st.foreign, 0);
	assert_int_equal(w->r[0].ring.unreset, 0);
	assert_int_equal(w->r[0].reset_index, 20);
	assert_true(w->r[0].ring.synced);
}

/* Still early after the last call: the marks wait, and are never foreign. */
static void leftovers_wait_for_the_next_harvest(void **state)
{
	struct world *w = *state;
	u64 o;

	for (o = 0; o < 10; o++)
		guest_write(w, 0, 1, o);
	w->budget = 4;
	assert_int_equal(harvest(w, 1), -EAGAIN);
	assert_int_equal(w->r[0].ring.unreset, 6);
	for (o = 10; o < 15; o++)
		guest_write(w, 0, 1, o);
	assert_int_equal(harvest(w, 1), 0);
	assert_int_equal(w->st.harvested, 15);
	assert_int_equal(w->st.foreign, 0);
	assert_int_equal(w->r[0].reset_index, 15);
	assert_int_equal(w->r[0].ring.unreset, 0);
}

/*
 * Every place a signal can stop KVM, in both homes: what the guest writes
 * next is reported, by the ring or as a sticky page.  The library cannot
 * tell a stop right after the last ring's last entry (no count shows it):
 * there it is not checked, and it is the case the module's own signal
 * check covers.
 */
static void every_page_written_after_a_stop_is_reported(void **state)
{
	int total, stop, tell;

	(void)state;
	for (tell = 0; tell < 2; tell++) {
		for (stop = 0; stop <= 40; stop++) {
			struct world *w;
			void *ws;
			u64 o;
			u32 s;

			assert_int_equal(setup(&ws), 0);
			w = ws;
			w->tell = tell;
			/* Runs in one slot, a jump, and the other slot. */
			for (o = 0; o < 12; o++)
				guest_write(w, 0, 0, 10 + o);
			for (o = 0; o < 8; o++)
				guest_write(w, 0, 0, 150 + o);
			for (o = 0; o < 20; o++)
				guest_write(w, 1, 1, 200 - o * 2);
			total = 40;
			w->budget = stop;
			assert_int_equal(harvest(w, 8), 0);
			assert_int_equal(w->st.foreign, 0);
			clear_reported(w);
			w->budget = -1;
			/* Everything again, harvested before a ring fills. */
			for (s = 0; s < NR_SLOTS; s++) {
				for (o = 0; o < PAGES; o++) {
					if ((s == 0 && o > 160) || (s == 1 && o < 100))
						continue;
					guest_write(w, s, s, o);
					if (o % 32 == 31)
						assert_int_equal(harvest(w, 8), 0);
				}
			}
			assert_int_equal(harvest(w, 8), 0);
			for (s = 0; s < NR_SLOTS; s++) {
				for (o = 0; o < PAGES; o++) {
					if ((s == 0 && o > 160) || (s == 1 && o < 100))
						continue;
					/* The library cannot see a stop after the last entry. */
					if (!tell && stop == total)
						continue;
					if (!reported(w, s, o))
						fail_msg("tell %d, stop %d: page %u/%llu lost",
							 tell, stop, s,
							 (unsigned long long)o);
				}
			}
			teardown(&ws);
		}
	}
}

/* The sticky pages: at most a batch's span around where KVM stopped. */
static void sticky_pages_are_few_and_stay(void **state)
{
	struct world *w = *state;
	u64 o;

	for (o = 0; o < 30; o++)
		guest_write(w, 0, 0, o);
	w->budget = 12;
	w->tell = true;
	assert_int_equal(harvest(w, 4), 0);
	assert_true(w->st.sticky > 0 && w->st.sticky <= 64);
	assert_int_equal(w->sticky.n, w->st.sticky);
	assert_false(w->sticky.all);
	/* Reported at every harvest from now on, with nothing written. */
	clear_reported(w);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(dt_bitmap_weight(&w->bm[0]), w->sticky.n);
	/* Until their memslot goes. */
	dt_sticky_forget_slot(&w->sticky, DT_SLOT(0, 0));
	assert_int_equal(w->sticky.n, 0);
	clear_reported(w);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(dt_bitmap_weight(&w->bm[0]), 0);
}

/* More than DT_STICKY_MAX: every page of every region, every harvest. */
static void too_many_sticky_pages_make_everything_dirty(void **state)
{
	struct world *w = *state;
	int round;
	u64 o;

	/* 60 pages a round, each a batch KVM may have dropped. */
	w->tell = true;
	for (round = 0; round < 6; round++) {
		for (o = 0; o < 60; o++)
			guest_write(w, 0, round % 2, round / 2 * 64 + o);
		w->budget = 60;
		assert_int_equal(harvest(w, 4), 0);
	}
	assert_true(w->sticky.all);
	clear_reported(w);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(dt_bitmap_weight(&w->bm[0]) + dt_bitmap_weight(&w->bm[1]),
			 NR_SLOTS * PAGES);
}

/* A count beyond our marks: someone else marked entries too. */
static void a_count_beyond_our_marks_is_foreign(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	u64 o;

	for (o = 0; o < 5; o++)
		guest_write(w, 1, 0, o);
	dt_ring_harvest(&w->r[1].ring, &w->table, &w->st);
	/* Between our walk and our reset, another collector takes two. */
	guest_write(w, 1, 0, 40);
	guest_write(w, 1, 0, 41);
	w->r[1].g[5].flags = KVM_DIRTY_GFN_F_RESET;
	w->r[1].g[6].flags = KVM_DIRTY_GFN_F_RESET;
	assert_int_equal(dt_rings_reset(&ops, 4, &w->sticky, &w->st), 0);
	assert_int_equal(w->st.foreign, 2);
	/* Every ring finds KVM again: here, after the two taken. */
	assert_false(w->r[1].ring.synced);
	guest_write(w, 1, 0, 42);
	assert_int_equal(harvest(w, 4), 0);
	assert_true(w->r[1].ring.synced);
	assert_true(reported(w, 0, 42));
}

/* Our marks gone without KVM counting them: another reset took them. */
static void marks_reset_behind_our_back_are_foreign(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	bool b;
	u64 o;

	for (o = 0; o < 6; o++)
		guest_write(w, 0, 1, o);
	dt_ring_harvest(&w->r[0].ring, &w->table, &w->st);
	kvm_reset(w, &b);	/* the VMM's own KVM_RESET_DIRTY_RINGS */
	assert_int_equal(dt_rings_reset(&ops, 4, &w->sticky, &w->st), 0);
	assert_int_equal(w->st.foreign, 6);
}

/*
 * A KVM that pushes past a full ring: the walk finds it full (an
 * overflow), and the next harvest marks the zeroed entries KVM still
 * counts, so that its reset index moves again and the ring is in step.
 */
static void an_overflow_is_seen_and_the_ring_recovers(void **state)
{
	struct world *w = *state;
	u64 o;
	int round;

	w->overflowing = true;
	for (o = 0; o < SIZE + 9; o++)
		guest_write(w, 0, 0, o);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->st.overflow, 1);
	assert_true(w->r[0].ring.overflow);
	/* KVM still counts 9 entries it pushed over our harvested ones. */
	assert_int_equal(w->r[0].dirty_index - w->r[0].reset_index, 9);
	for (round = 0; round < 3; round++) {
		clear_reported(w);
		for (o = 100; o < 110; o++)
			guest_write(w, 0, 0, o);
		assert_int_equal(harvest(w, 4), 0);
		for (o = 100; o < 110; o++)
			assert_true(reported(w, 0, o));
	}
	assert_int_equal(w->st.recovered, 9);
	assert_int_equal(w->st.overflow, 1);
	assert_int_equal(w->st.foreign, 0);
	assert_int_equal(w->r[0].dirty_index, w->r[0].reset_index);
	assert_false(w->r[0].ring.overflow);
}

/*
 * What this project's hosts' KVM does, measured: after an overflow it goes
 * on pushing past the ring's end, so its next pushes wrap over the first
 * phantoms before the next harvest.  That walk finds dirty entries (the
 * newest), the rest of the phantoms, then dirty entries again (older): it
 * must take them all, mark the phantoms, and never call them foreign, or
 * KVM's reset index stays on them and the vCPU stalls.
 */
static void phantoms_behind_wrapped_pushes_are_recovered(void **state)
{
	struct world *w = *state;
	struct fring *r = &w->r[0];
	u64 o;

	w->overflowing = true;
	for (o = 0; o < SIZE + 9; o++)
		guest_write(w, 0, 0, o);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(r->dirty_index - r->reset_index, 9);
	/* Past the ring again: 4 pushes land on the first 4 phantoms. */
	clear_reported(w);
	for (o = 100; o < 100 + SIZE - 9 + 4; o++)
		guest_write(w, 0, 1, o % PAGES);
	assert_int_equal(harvest(w, 4), 0);
	for (o = 100; o < 100 + SIZE - 9 + 4; o++)
		assert_true(reported(w, 1, o % PAGES));
	assert_int_equal(w->st.recovered, 5);
	assert_int_equal(w->st.overflow, 2);
	assert_int_equal(r->dirty_index - r->reset_index, 4);
	/* And the 4 new phantoms, once KVM pushes after them. */
	clear_reported(w);
	for (o = 200; o < 205; o++)
		guest_write(w, 0, 0, o);
	assert_int_equal(harvest(w, 4), 0);
	for (o = 200; o < 205; o++)
		assert_true(reported(w, 0, o));
	assert_int_equal(w->st.recovered, 9);
	assert_int_equal(r->dirty_index, r->reset_index);
	assert_false(r->ring.overflow);
	assert_int_equal(w->st.foreign, 0);
}

/*
 * The same KVM pushes over our marks between the walk and the reset: its
 * reset stops at the first one it pushed over, which reads DIRTY.  Those
 * are taken again, the reset moves, and the phantoms that leaves are
 * found once KVM pushes past them.  Nothing is foreign, nothing stalls.
 */
static void pushes_over_our_marks_are_taken_again(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	struct fring *r = &w->r[0];
	u64 o;

	w->overflowing = true;
	for (o = 0; o < 60; o++)
		guest_write(w, 0, 0, o);
	dt_ring_harvest(&r->ring, &w->table, &w->st);
	for (o = 60; o < 70; o++)		/* 6 over our first marks */
		guest_write(w, 0, 0, o);
	assert_int_equal(dt_rings_reset(&ops, 4, &w->sticky, &w->st), 0);
	assert_int_equal(w->st.overflow, 1);
	for (o = 64; o < 70; o++)
		assert_true(reported(w, 0, o));
	for (o = 100; o < 110; o++)
		guest_write(w, 0, 0, o);
	clear_reported(w);
	assert_int_equal(harvest(w, 4), 0);
	for (o = 60; o < 64; o++)
		assert_true(reported(w, 0, o));
	for (o = 100; o < 110; o++)
		assert_true(reported(w, 0, o));
	assert_int_equal(r->dirty_index, r->reset_index);
	assert_int_equal(w->st.foreign, 0);
}

/* Exactly full, nothing overwritten: counted, and nothing to recover. */
static void a_ring_exactly_full_needs_no_recovery(void **state)
{
	struct world *w = *state;
	u64 o;

	for (o = 0; o < SIZE; o++)
		guest_write(w, 1, 1, o);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->st.overflow, 1);
	guest_write(w, 1, 1, 200);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->st.recovered, 0);
	assert_false(w->r[1].ring.overflow);
	assert_true(reported(w, 1, 200));
}

/*
 * A hole at our fetch index after an overflow that is not KVM's: a
 * foreign collector took and reset those entries.  KVM does not take our
 * recovery marks; they are withdrawn, and counted as foreign.
 */
static void a_foreign_hole_is_not_taken_for_phantoms(void **state)
{
	struct world *w = *state;
	struct fring *r = &w->r[0];
	bool b;
	u64 o;

	w->overflowing = true;
	for (o = 0; o < SIZE; o++)
		guest_write(w, 0, 0, o);
	assert_int_equal(harvest(w, 4), 0);
	assert_true(r->ring.overflow);
	/* Someone harvests and resets 3 entries behind our back. */
	for (o = 0; o < 5; o++)
		guest_write(w, 0, 1, o);
	for (o = 0; o < 3; o++)
		r->g[(r->reset_index + o) % SIZE].flags = KVM_DIRTY_GFN_F_RESET;
	w->tell = false;
	kvm_reset(w, &b);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->st.recovered, 3);
	assert_int_equal(w->st.foreign, 3);
	assert_true(reported(w, 1, 3) && reported(w, 1, 4));
	for (o = 0; o < 3; o++)
		assert_int_equal(r->g[(r->ring.fetch - 5 + o) % SIZE].flags, 0);
	assert_int_equal(r->dirty_index, r->reset_index);
}

/*
 * A VMM zeroed the entry at KVM's reset index: KVM's reset cannot move
 * past it, takes nothing, and no call ever will.  ENOSPC, after two.
 */
static void a_reset_that_cannot_move_is_enospc(void **state)
{
	struct world *w = *state;
	u64 o;

	for (o = 0; o < 10; o++)
		guest_write(w, 0, 0, o);
	w->r[0].g[0].flags = 0;
	assert_int_equal(harvest(w, 16), -ENOSPC);
	assert_int_equal(w->st.resets, 2);
	assert_int_equal(w->st.foreign, 1);	/* the gap the VMM made */
	assert_int_equal(w->r[0].ring.unreset, 9);
}

/*
 * An overflow by a whole ring: KVM counts as many zeroed entries as the
 * ring holds, so it can never push past them, and the vCPU exits RING_FULL
 * with nothing to harvest.  Two harvests for such exits that take nothing,
 * with nothing freed between, say so; an empty ring harvested any number
 * of times does not, nor a second harvest for one exit.
 */
static void a_ring_that_overflowed_for_good_is_stuck(void **state)
{
	struct world *w = *state;
	u64 o;

	assert_false(dt_ring_stuck(&w->r[1].ring, 0));
	assert_int_equal(harvest(w, 4), 0);
	assert_false(dt_ring_stuck(&w->r[1].ring, 0));
	assert_false(dt_ring_stuck(&w->r[1].ring, 0));

	w->overflowing = true;
	for (o = 0; o < 2 * SIZE; o++)
		guest_write(w, 0, 0, o);
	assert_int_equal(harvest(w, 4), 0);
	assert_int_equal(w->r[0].dirty_index - w->r[0].reset_index, SIZE);
	assert_false(dt_ring_stuck(&w->r[0].ring, SIZE));
	assert_int_equal(harvest(w, 4), 0);
	assert_false(dt_ring_stuck(&w->r[0].ring, 0));	/* once: it freed */
	assert_int_equal(harvest(w, 4), 0);
	assert_true(dt_ring_stuck(&w->r[0].ring, 0));
	assert_int_equal(w->st.foreign, 0);
}

/* Regions over the world's pending sets, with merged sets of their own. */
/*
 * A vCPU's harvest takes its ring alone; a sync every ring; a filled
 * harvest the rings holding min_fill entries.  Each ring tells what the
 * last harvest took from it, and nothing for a ring not taken.
 */
static void collect_takes_the_rings_asked_for(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	int o;

	for (o = 0; o < 3; o++)
		guest_write(w, 0, 0, o);
	guest_write(w, 1, 1, 7);
	dt_rings_collect(&ops, true, &w->r[1].ring, 0, &w->st);
	assert_int_equal(w->r[0].ring.last, 0);
	assert_int_equal(w->r[1].ring.last, 1);
	assert_true(reported(w, 1, 7));
	assert_false(reported(w, 0, 0));
	/*
	 * Filled to 3 used entries at least: ring 0 only (ring 1 holds 2,
	 * its first taken but not reset yet), and ring 1 forgets its last.
	 */
	guest_write(w, 1, 1, 8);
	dt_rings_collect(&ops, true, NULL, 3, &w->st);
	assert_int_equal(w->r[0].ring.last, 3);
	assert_int_equal(w->r[1].ring.last, 0);
	assert_false(w->r[0].ring.last_overflow);
	dt_rings_collect(&ops, false, NULL, 0, &w->st);
	assert_int_equal(w->r[0].ring.last, 0);
	assert_int_equal(w->r[1].ring.last, 1);
	assert_int_equal(w->st.harvested, 5);
}

struct regions {
	u64 words[NR_SLOTS][PAGES / 64], sum[NR_SLOTS][1];
	struct dt_region r[NR_SLOTS];
	struct dt_regions rs;
};

static void regions_init(struct world *w, struct regions *g)
{
	int s;

	memset(g, 0, sizeof(*g));
	for (s = 0; s < NR_SLOTS; s++) {
		g->r[s].slot = w->slots[s];
		g->r[s].pending = w->bm[s];
		g->r[s].merged = (struct dt_bitmap){ g->words[s], g->sum[s],
						     PAGES };
		dt_regions_link(&g->rs, s, &g->r[s]);
	}
}

static u64 merged_weight(struct regions *g)
{
	return dt_bitmap_weight(&g->r[0].merged) +
	       dt_bitmap_weight(&g->r[1].merged);
}

/*
 * Entries lost to us make every region dirty: pending while the reset
 * has not completed (nothing may be published before it), published by
 * the call that completes it.
 */
static void lost_entries_make_every_region_dirty_once_reset(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	struct regions g;

	regions_init(w, &g);
	guest_write(w, 0, 0, 1);
	dt_ring_harvest(&w->r[0].ring, &w->table, &w->st);
	w->budget = 0;		/* a signal stops the reset at once */
	w->tell = true;
	assert_int_equal(dt_rings_reset_and_mark(&ops, 1, &w->sticky, &g.rs,
						 true, &w->st), -EAGAIN);
	assert_int_equal(merged_weight(&g), 0);
	assert_int_equal(dt_bitmap_weight(&w->bm[1]), PAGES);
	assert_int_equal(dt_rings_reset_and_mark(&ops, 4, &w->sticky, &g.rs,
						 true, &w->st), 0);
	assert_int_equal(merged_weight(&g), NR_SLOTS * PAGES);
	/* Nothing lost: nothing more is published. */
	regions_init(w, &g);
	assert_int_equal(dt_rings_reset_and_mark(&ops, 4, &w->sticky, &g.rs,
						 false, &w->st), 0);
	assert_int_equal(merged_weight(&g), 0);
}

/* A foreign collector the reset's count shows is a loss too. */
static void a_foreign_reset_makes_every_region_dirty(void **state)
{
	struct world *w = *state;
	struct dt_rings_ops ops = rings_of(w);
	struct regions g;
	u64 o;

	regions_init(w, &g);
	for (o = 0; o < 3; o++)
		guest_write(w, 1, 0, o);
	dt_ring_harvest(&w->r[1].ring, &w->table, &w->st);
	guest_write(w, 1, 0, 40);
	w->r[1].g[3].flags = KVM_DIRTY_GFN_F_RESET;
	assert_int_equal(dt_rings_reset_and_mark(&ops, 4, &w->sticky, &g.rs,
						 false, &w->st), 0);
	assert_int_equal(w->st.foreign, 1);
	assert_int_equal(merged_weight(&g), NR_SLOTS * PAGES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(a_partial_reset_is_issued_again_and_is_not_foreign),
		T(leftovers_wait_for_the_next_harvest),
		T(every_page_written_after_a_stop_is_reported),
		T(sticky_pages_are_few_and_stay),
		T(too_many_sticky_pages_make_everything_dirty),
		T(a_count_beyond_our_marks_is_foreign),
		T(marks_reset_behind_our_back_are_foreign),
		T(an_overflow_is_seen_and_the_ring_recovers),
		T(phantoms_behind_wrapped_pushes_are_recovered),
		T(pushes_over_our_marks_are_taken_again),
		T(a_ring_exactly_full_needs_no_recovery),
		T(a_foreign_hole_is_not_taken_for_phantoms),
		T(a_reset_that_cannot_move_is_enospc),
		T(a_ring_that_overflowed_for_good_is_stuck),
		T(collect_takes_the_rings_asked_for),
		T(lost_entries_make_every_region_dirty_once_reset),
		T(a_foreign_reset_makes_every_region_dirty),
#undef T
	};

	return cmocka_run_group_tests_name("core: ring reset", tests, NULL, NULL);
}
