// SPDX-License-Identifier: GPL-2.0
/*
 * The two-phase final sync: FINAL_BEGIN, the VMM's state saves, FINAL_END,
 * sealed.  Out-of-order calls are refused; a sealed tracker refuses every
 * harvest until START restarts it after a failed migration, and the
 * restart keeps every bit that was harvested but not claimed.
 */
#include <stdlib.h>

#include "dt_guest.h"

#define SLOT_PAGES	256
#define SLOT		DTG_FIRST_DATA_SLOT

FIXTURE(final) {
	struct dt_guest g;
};

FIXTURE_SETUP(final)
{
	dtg_create(_metadata, &self->g, 1, 1, SLOT_PAGES, 4096);
}

FIXTURE_TEARDOWN(final)
{
	dtg_destroy(&self->g);
}

static int harvest_vcpu(int tr)
{
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };

	return ioctl(tr, DIRTYTRACK_HARVEST_VCPU, &h) ? -errno : 0;
}

static int remove_region(int tr, uint16_t slot)
{
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = slot,
	};

	return ioctl(tr, DIRTYTRACK_REGION_REMOVE, &rm) ? -errno : 0;
}

static int move_region(int tr, uint16_t slot, uint64_t gfn)
{
	struct dirtytrack_region_move mv = {
		.size = sizeof(mv), .slot_id = slot, .new_first_gfn = gfn,
	};

	return ioctl(tr, DIRTYTRACK_REGION_MOVE, &mv) ? -errno : 0;
}

static int mark(int tr, uint64_t gpa, uint64_t len)
{
	struct dirtytrack_gpa_range r = { .gpa = gpa, .len = len };
	struct dirtytrack_vmm_mark m = {
		.size = sizeof(m), .nr_ranges = 1, .ranges = (uintptr_t)&r,
	};

	return ioctl(tr, DIRTYTRACK_VMM_MARK, &m) ? -errno : 0;
}

static int stop(int tr)
{
	struct dirtytrack_stop st = { .size = sizeof(st) };

	return ioctl(tr, DIRTYTRACK_STOP, &st) ? -errno : 0;
}

TEST_F(final, the_order_is_enforced)
{
	int tr = self->g.tr;
	struct dirtytrack_sync s;
	uint64_t words[SLOT_PAGES / 64], n = 0;

	/* Not tracking: there is no final sync to begin or end. */
	EXPECT_EQ(-EINVAL, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	EXPECT_EQ(-EINVAL, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(-EINVAL, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN |
					  DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(-EOPNOTSUPP, dtt_sync_flags(tr, 1 << 9, &s));

	ASSERT_EQ(0, dtt_start(tr, 0));
	EXPECT_EQ(-EINVAL, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	/* A null stats pointer is refused before the phase begins. */
	s = (struct dirtytrack_sync){
		.size = sizeof(s), .flags = DIRTYTRACK_SYNC_FINAL_BEGIN,
		.nr_vcpu_stats = 1,
	};
	EXPECT_EQ(-1, ioctl(tr, DIRTYTRACK_SYNC, &s));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(0, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	/* Between the phases: only FINAL_END harvests. */
	EXPECT_EQ(-EBUSY, dtt_sync(tr, &s));
	EXPECT_EQ(-EBUSY, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	EXPECT_EQ(-EBUSY, harvest_vcpu(tr));
	EXPECT_EQ(-EBUSY, remove_region(tr, SLOT));
	EXPECT_EQ(-EBUSY, move_region(tr, SLOT, 1 << 20));
	EXPECT_EQ(-EBUSY, dtt_start(tr, 0));
	/* The VMM's own state saves still mark what they write. */
	EXPECT_EQ(0, mark(tr, DTG_DATA_GPA, 1));

	ASSERT_EQ(0, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(1, s.out_vmm_pages);
	/* Sealed: no harvest, no write; claims go on. */
	EXPECT_EQ(-EBUSY, dtt_sync(tr, &s));
	EXPECT_EQ(-EBUSY, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	EXPECT_EQ(-EBUSY, dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(-EBUSY, harvest_vcpu(tr));
	EXPECT_EQ(-EBUSY, remove_region(tr, SLOT));
	EXPECT_EQ(-EBUSY, mark(tr, DTG_DATA_GPA, 1));
	ASSERT_EQ(0, dtt_claim(tr, SLOT, 0, SLOT_PAGES, words, &n));
	EXPECT_EQ(1, n);

	/* The migration is done: stop, and stop again is wrong. */
	EXPECT_EQ(0, stop(tr));
	EXPECT_EQ(-EINVAL, stop(tr));
	EXPECT_EQ(0, dtt_sync(tr, &s));
}

/*
 * Precopy rounds consume part of the set, the final sync runs, part of
 * the rest is claimed, and the migration fails: the guest resumes here.
 * After START every bit that was harvested and not claimed is still
 * there, beside the pages written after the restart.
 */
TEST_F(final, a_restart_keeps_what_was_not_claimed)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOT_PAGES] = { 0 }, all[SLOT_PAGES];
	uint64_t words[SLOT_PAGES / 64], n;
	uint32_t pages[64];
	struct dirtytrack_sync s;
	unsigned int seed = 5;
	int i, p;

	memset(all, 1, sizeof(all));
	ASSERT_EQ(0, dtt_start(g->tr, DIRTYTRACK_START_ALL_DIRTY));
	dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, all);

	/* Round 1: only the first half is sent. */
	for (i = 0; i < 64; i++)
		pages[i] = rand_r(&seed) % SLOT_PAGES;
	dtg_store_pages(_metadata, g, pages, 64);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	ASSERT_EQ(0, dtt_claim(g->tr, SLOT, 0, 128, words, &n));
	for (i = 0; i < 64; i++)
		if (pages[i] >= 128)
			want[pages[i]] = 1;

	/* Stop-copy: rings, a device save the VMM marks, the end. */
	for (i = 0; i < 64; i++)
		pages[i] = rand_r(&seed) % SLOT_PAGES;
	dtg_store_pages(_metadata, g, pages, 64);
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	EXPECT_LE(1, s.out_harvested);
	ASSERT_EQ(0, mark(g->tr, DTG_DATA_GPA + 200 * DTG_PAGE, 3 * DTG_PAGE));
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(3, s.out_vmm_pages);
	/* Only the first quarter reaches the destination, then it fails. */
	ASSERT_EQ(0, dtt_claim(g->tr, SLOT, 0, 64, words, &n));
	for (i = 0; i < 64; i++)
		if (pages[i] >= 64)
			want[pages[i]] = 1;
	for (p = 200; p < 203; p++)
		want[p] = 1;

	/* The guest resumes on the source and writes on. */
	ASSERT_EQ(0, dtt_start(g->tr, 0));
	for (i = 0; i < 32; i++) {
		pages[i] = rand_r(&seed) % SLOT_PAGES;
		want[pages[i]] = 1;
	}
	dtg_store_pages(_metadata, g, pages, 32);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, want);
}

TEST_HARNESS_MAIN
