// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a harvest costs, counted: the ring entries the core reads
 * (core/ring.c counts every read of an entry's flags when built with
 * DT_RING_COUNT_READS, as this test is).  A sync must read the entries it
 * takes and at most a constant more per ring, whatever the ring's size:
 * a sync that scanned its rings would cost 64 Ki reads per vCPU here.
 *
 * KVM is modelled as much as the count needs: pushes at its dirty index,
 * and a reset that takes RESET entries from its reset index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dt_core.h"

unsigned long dt_ring_reads;

#define SIZE		65536		/* KVM's largest ring */
#define NR_RINGS	8
#define PAGES		(1u << 20)
/* Per ring and harvest: the entry the walk stops at, and the gap window. */
#define SLACK		(1 + DT_RING_GAP_WINDOW)

struct fring {
	struct kvm_dirty_gfn *g;
	u32 reset_index, dirty_index;
	struct dt_ring ring;
};

struct world {
	struct fring r[NR_RINGS];
	u64 *words, *sum;
	struct dt_bitmap bm;
	struct dt_slot slot;
	struct dt_slot_table table;
	struct dt_sticky sticky;
	struct dt_ring_stats st;
	u32 next_page;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	int i;

	if (!w)
		return -1;
	for (i = 0; i < NR_RINGS; i++) {
		w->r[i].g = calloc(SIZE, sizeof(struct kvm_dirty_gfn));
		if (!w->r[i].g)
			return -1;
		w->r[i].ring = (struct dt_ring){ .gfns = w->r[i].g, .size = SIZE,
						 .synced = true };
	}
	w->words = calloc(PAGES / 64, sizeof(u64));
	w->sum = calloc(PAGES / 64 / 64, sizeof(u64));
	if (!w->words || !w->sum)
		return -1;
	w->bm = (struct dt_bitmap){ w->words, w->sum, PAGES };
	w->slot = (struct dt_slot){ DT_SLOT(0, 0), PAGES, &w->bm };
	w->table = (struct dt_slot_table){ &w->slot, 1, 0 };
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	int i;

	for (i = 0; i < NR_RINGS; i++)
		free(w->r[i].g);
	free(w->words);
	free(w->sum);
	free(w);
	return 0;
}

/* vCPU @v writes @n pages never written before: KVM pushes each. */
static void guest_writes(struct world *w, int v, u32 n)
{
	struct fring *r = &w->r[v];

	while (n--) {
		struct kvm_dirty_gfn *e = &r->g[r->dirty_index++ % SIZE];

		e->slot = DT_SLOT(0, 0);
		e->offset = w->next_page++ % PAGES;
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_DIRTY,
				 __ATOMIC_RELEASE);
	}
}

static int kvm_reset(void *ctx, bool *bailed)
{
	struct world *w = ctx;
	int count = 0, i;

	for (i = 0; i < NR_RINGS; i++) {
		struct fring *r = &w->r[i];

		while (r->g[r->reset_index % SIZE].flags & KVM_DIRTY_GFN_F_RESET) {
			r->g[r->reset_index++ % SIZE].flags = 0;
			count++;
		}
	}
	*bailed = false;
	return count;
}

static struct dt_ring *nth(void *ctx, u32 i)
{
	return &((struct world *)ctx)->r[i].ring;
}

/*
 * One harvest as a home does it: the rings (all, or vCPU @alone's), then
 * the reset.  Returns the entries read; @taken gets the entries taken.
 */
static unsigned long harvest(struct world *w, int alone, u32 *taken)
{
	struct dt_rings_ops ops = {
		.nr = NR_RINGS, .ring = nth, .reset = kvm_reset, .ctx = w,
		.table = &w->table,
	};
	unsigned long before = dt_ring_reads;
	int i;

	*taken = 0;
	for (i = 0; i < NR_RINGS; i++)
		if (alone < 0 || alone == i)
			*taken += dt_ring_collect(&w->r[i].ring, &w->table,
						  alone == i, &w->st);
	assert_int_equal(dt_rings_reset(&ops, 4, &w->sticky, &w->st), 0);
	if (alone >= 0)
		dt_ring_stuck(&w->r[alone].ring, *taken);
	return dt_ring_reads - before;
}

/* Syncs of 0 to 16 Ki dirty pages per vCPU, across the rings' wrap. */
static void a_sync_reads_what_it_takes_and_a_constant(void **state)
{
	static const u32 per_vcpu[] = { 0, 1, 64, 256, 1024, 16384, 0, 3,
					16384, 16384, 16384, 16384, 7 };
	struct world *w = *state;
	unsigned long reads;
	u32 taken, k;
	int i;

	for (k = 0; k < sizeof(per_vcpu) / sizeof(per_vcpu[0]); k++) {
		for (i = 0; i < NR_RINGS; i++)
			guest_writes(w, i, per_vcpu[k]);
		reads = harvest(w, -1, &taken);
		assert_int_equal(taken, per_vcpu[k] * NR_RINGS);
		if (reads > taken + NR_RINGS * SLACK)
			fail_msg("sync %u: %lu reads for %u entries taken",
				 k, reads, taken);
	}
	assert_true(w->r[0].dirty_index > SIZE);	/* wrapped */
	assert_int_equal(w->st.foreign, 0);
}

/* A vCPU's own harvest reads its ring's entries, not the others'. */
static void a_vcpu_harvest_reads_its_entries(void **state)
{
	struct world *w = *state;
	unsigned long reads;
	u32 taken;
	int i;

	for (i = 0; i < NR_RINGS; i++)
		guest_writes(w, i, 500);
	reads = harvest(w, 3, &taken);
	assert_int_equal(taken, 500);
	assert_true(reads <= taken + SLACK);
	/*
	 * A reaper's harvest takes vCPU 3's next entries just before its
	 * RING_FULL exit is handled: that harvest finds nothing, but its ring
	 * was freed since the last, so it is no stall and reads no more.
	 */
	guest_writes(w, 3, 200);
	harvest(w, -1, &taken);
	assert_int_equal(taken, 200 + 500 * (NR_RINGS - 1));
	reads = harvest(w, 3, &taken);
	assert_int_equal(taken, 0);
	assert_true(reads <= SLACK);
}

/*
 * The one whole-ring read: KVM calls a ring full, the harvest finds
 * nothing, and nothing was freed since the last: a foreign collector's
 * gap too long for the window.  Found, and counted as foreign.
 */
static void only_a_stalled_ring_is_read_whole(void **state)
{
	struct world *w = *state;
	struct fring *r = &w->r[2];
	unsigned long reads;
	bool b;
	u32 taken, i;

	guest_writes(w, 2, 10);
	harvest(w, 2, &taken);
	/* Someone harvests and resets 100 entries, then KVM pushes 5 more. */
	guest_writes(w, 2, 100);
	for (i = 0; i < 100; i++)
		r->g[(r->reset_index + i) % SIZE].flags = KVM_DIRTY_GFN_F_RESET;
	kvm_reset(w, &b);
	guest_writes(w, 2, 5);
	reads = harvest(w, -1, &taken);		/* a sync does not see it */
	assert_int_equal(taken, 0);
	assert_true(reads <= NR_RINGS * SLACK);
	reads = harvest(w, 2, &taken);		/* its RING_FULL exit does */
	assert_int_equal(taken, 5);
	assert_int_equal(w->st.foreign, 100);
	assert_true(reads >= 100 && reads <= SIZE + 2 * SLACK + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(a_sync_reads_what_it_takes_and_a_constant),
		T(a_vcpu_harvest_reads_its_entries),
		T(only_a_stalled_ring_is_read_whole),
#undef T
	};

	return cmocka_run_group_tests_name("core: ring reads per harvest",
					   tests, NULL, NULL);
}
