// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm-bitmap source with a real KVM guest.
 *  - The plain per-memslot bitmap of a VM without ring, with and without
 *    manual protect and INITIALLY_SET: each sync reports exactly the pages
 *    the guest stored to, clears them (a sync with no store reports
 *    nothing) and re-arms them (a second store is reported again).
 *  - The refusals: configurations that lose pages, a scratch that cannot
 *    hold a region, a memslot larger than the VMM declared.
 *  - arm64: the backup bitmap beside the rings, written by a real ITS
 *    table save (dtvm_its.h), reported by the final sync and by region
 *    removal, and by no other sync.
 */
#include <stdlib.h>

#include "dt_guest.h"
#include "dtvm_its.h"

#define SLOT_PAGES	256

/* The guest stores to @n pages drawn from @seed; @want gets them. */
static void store_random(struct __test_metadata *_metadata, struct dt_guest *g,
			 unsigned int *seed, int n, uint8_t *want)
{
	uint32_t pages[64];
	int i;

	for (i = 0; i < n; i++) {
		pages[i] = rand_r(seed) % g->slot_pages;
		want[pages[i]] = 1;
	}
	dtg_store_pages(_metadata, g, pages, n);
}

FIXTURE(plain) {
	struct dt_guest g;
};

FIXTURE_VARIANT(plain) {
	unsigned int mode;
};

FIXTURE_VARIANT_ADD(plain, get_and_clear) {
	.mode = DTG_BITMAP,
};

FIXTURE_VARIANT_ADD(plain, manual_protect) {
	.mode = DTG_BITMAP | DTG_MANUAL,
};

FIXTURE_VARIANT_ADD(plain, initially_set) {
	.mode = DTG_BITMAP | DTG_MANUAL | DTG_INIT_SET,
};

FIXTURE_SETUP(plain)
{
	dtg_create_mode(_metadata, &self->g, 1, 1, SLOT_PAGES, 0,
			variant->mode);
}

FIXTURE_TEARDOWN(plain)
{
	dtg_destroy(&self->g);
}

TEST_F(plain, each_sync_reports_clears_and_rearms)
{
	struct dt_guest *g = &self->g;
	uint8_t all[SLOT_PAGES], none[SLOT_PAGES] = { 0 };
	unsigned int seed = 77;
	struct dirtytrack_sync s;
	int round;

	memset(all, 1, sizeof(all));
	ASSERT_EQ(0, dtt_start(g->tr, 0));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(0, s.out_bitmap_errors);
	EXPECT_EQ(0, s.out_harvested);
	/* INITIALLY_SET: KVM reports every page once, then clears them. */
	dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES,
			variant->mode & DTG_INIT_SET ? all : none);

	for (round = 0; round < 4; round++) {
		uint8_t want[SLOT_PAGES] = { 0 };

		store_random(_metadata, g, &seed, 1 + rand_r(&seed) % 64, want);
		ASSERT_EQ(0, dtt_sync(g->tr, &s));
		EXPECT_EQ(0, s.out_bitmap_errors);
		EXPECT_LE(1, s.out_bitmap_pages);
		dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, want);

		/* Cleared in KVM: a sync with no store finds nothing. */
		ASSERT_EQ(0, dtt_sync(g->tr, &s));
		dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, none);
	}

	/* Re-armed: the same pages stored to again are reported again. */
	{
		uint8_t want[SLOT_PAGES] = { 0 };
		unsigned int again = 5;

		store_random(_metadata, g, &again, 32, want);
		ASSERT_EQ(0, dtt_sync(g->tr, &s));
		dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, want);
		again = 5;
		store_random(_metadata, g, &again, 32, want);
		ASSERT_EQ(0, dtt_sync(g->tr, &s));
		dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, want);
	}
}

/* A region removed hands back its last bits, KVM's bitmap included. */
TEST_F(plain, removal_returns_the_last_bits)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOT_PAGES] = { 0 };
	uint64_t words[SLOT_PAGES / 64], p;
	struct dirtytrack_sync s;
	unsigned int seed = 3;
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DTG_FIRST_DATA_SLOT,
		.bitmap = (uintptr_t)words,
	};

	ASSERT_EQ(0, dtt_start(g->tr, 0));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	dtt_claim(g->tr, DTG_FIRST_DATA_SLOT, 0, SLOT_PAGES, words, &p);
	store_random(_metadata, g, &seed, 40, want);
	ASSERT_EQ(0, ioctl(g->tr, DIRTYTRACK_REGION_REMOVE, &rm));
	for (p = 0; p < SLOT_PAGES; p++)
		EXPECT_EQ(want[p], dtt_bit(words, p)) TH_LOG("page %lu", p);
	EXPECT_EQ(0, dtt_claim(g->tr, DTG_FIRST_DATA_SLOT, 0, 64, words, &p) + ENOENT);
}

/* Configurations that lose pages, and scratch that cannot work. */
TEST(attach_refusals)
{
	struct dt_guest g;
	uint8_t *scratch;
	size_t size = dtt_scratch_size(SLOT_PAGES);

	dtg_create(_metadata, &g, 1, 1, SLOT_PAGES, 4096);
	scratch = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, scratch);

	/*
	 * rule no-ring-with-manual-protect: a ring with manual protect or
	 * INITIALLY_SET.
	 */
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING |
					     DIRTYTRACK_KVM_MANUAL_PROTECT,
					     scratch, size));
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING |
					     DIRTYTRACK_KVM_MANUAL_PROTECT |
					     DIRTYTRACK_KVM_INITIALLY_SET,
					     scratch, size));
	/* KVM allows INITIALLY_SET only with manual protect. */
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_INITIALLY_SET,
					     scratch, size));
	/* Rings are attached: "no ring" is not true. */
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, 0, scratch, size));
	EXPECT_EQ(-EOPNOTSUPP, dtt_attach_bitmap(g.tr, 1 << 7, scratch, size));
	/* Scratch: misaligned, too small, absurdly large, not user memory. */
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     scratch + 4, size));
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     scratch, size - 4));
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     scratch, DIRTYTRACK_SCRATCH_HEADER));
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     scratch, 1ULL << 40));
	EXPECT_EQ(-EFAULT, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     (void *)(-1UL << 47), size));
	/* The VM did not enable KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP. */
	EXPECT_EQ(-ENXIO, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					    scratch, size));
	munmap(scratch, 1 << 20);
	dtg_destroy(&g);
}

TEST(a_region_larger_than_the_scratch_is_refused)
{
	struct dt_guest g;

	dtg_create_mode(_metadata, &g, 1, 1, SLOT_PAGES, 0, DTG_BITMAP);
	EXPECT_EQ(-EEXIST, dtt_attach_bitmap(g.tr, 0, g.scratch, g.scratch_size));
	/* The scratch holds (size - header) / 8 - 1 words of regions. */
	EXPECT_EQ(-ENOBUFS, dtt_region_add(g.tr, 40, 1ULL << 32,
					   ((g.scratch_size - DIRTYTRACK_SCRATCH_HEADER) / 8) * 64));
	EXPECT_EQ(0, dtt_region_add(g.tr, 40, 1ULL << 32,
				    ((g.scratch_size - DIRTYTRACK_SCRATCH_HEADER) / 8 - 1) * 64));
	dtg_destroy(&g);
}

/*
 * A memslot larger than the region the VMM declared: KVM would copy its whole
 * bitmap past the scratch.  The tracker finds out first, writes nothing past
 * the scratch, and reports the region dirty (rule errors-mean-dirty).
 */
TEST(a_memslot_larger_than_declared_is_not_overrun)
{
	enum { DECLARED = 64, REAL = 4096 };
	struct dt_guest g;
	size_t size = dtt_scratch_size(DECLARED), i;
	uint8_t all[DECLARED];
	struct dirtytrack_sync s;
	uint8_t *area;
	int tr;

	dtg_create_mode(_metadata, &g, 1, 1, REAL, 0, DTG_BITMAP);
	/* A second VM-less view: a new tracker declaring the slot small. */
	close(g.tr);
	tr = dtt_create(g.dev, g.vm);
	ASSERT_LE(0, tr);
	g.tr = tr;
	area = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	memset(area, 0xa5, 1 << 16);
	ASSERT_EQ(0, dtt_attach_bitmap(tr, 0, area, size));
	ASSERT_EQ(0, dtt_region_add(tr, DTG_FIRST_DATA_SLOT, DTG_DATA_GPA,
				    DECLARED));
	ASSERT_EQ(0, dtt_sync(tr, &s));
	EXPECT_EQ(1, s.out_bitmap_errors);
	for (i = size; i < 1 << 16; i++)
		ASSERT_EQ(0xa5, area[i]) TH_LOG("byte %zu past the scratch", i);
	memset(all, 1, sizeof(all));
	dtg_expect_slot(_metadata, tr, 0, DECLARED, all);
	munmap(area, 1 << 16);
	dtg_destroy(&g);
}

/*
 * A memslot a little longer than declared (inside the scratch's guard
 * word): the bits KVM reports past the declared end are counted as an
 * error, the region's own bits are exact.
 */
TEST(bits_past_the_declared_end_are_counted)
{
	enum { DECLARED = 100, REAL = 128 };
	uint32_t pages[] = { 5, 99, 110 };
	uint8_t want[DECLARED] = { 0 };
	struct dirtytrack_sync s;
	struct dt_guest g;

	dtg_create_mode(_metadata, &g, 1, 1, REAL, 0, DTG_BITMAP);
	close(g.tr);
	g.tr = dtt_create(g.dev, g.vm);
	ASSERT_LE(0, g.tr);
	ASSERT_EQ(0, dtt_attach_bitmap(g.tr, 0, g.scratch, g.scratch_size));
	ASSERT_EQ(0, dtt_region_add(g.tr, DTG_FIRST_DATA_SLOT, DTG_DATA_GPA,
				    DECLARED));
	dtg_store_pages(_metadata, &g, pages, 3);
	ASSERT_EQ(0, dtt_sync(g.tr, &s));
	EXPECT_EQ(1, s.out_bitmap_errors);
	EXPECT_EQ(2, s.out_bitmap_pages);
	want[5] = want[99] = 1;
	dtg_expect_slot(_metadata, g.tr, 0, DECLARED, want);
	dtg_destroy(&g);
}

/* A declared ring the VM does not have. */
TEST(a_declared_ring_must_exist)
{
	struct dt_guest g;

	dtg_create_mode(_metadata, &g, 1, 1, SLOT_PAGES, 0, DTG_BITMAP);
	close(g.tr);
	g.tr = dtt_create(g.dev, g.vm);
	ASSERT_LE(0, g.tr);
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g.tr, DIRTYTRACK_KVM_RING,
					     g.scratch, g.scratch_size));
	dtg_destroy(&g);
}

#if defined(__aarch64__)
/*
 * The real non-vCPU writer: a vGICv3 ITS whose collection table (1500
 * entries, 3 pages at data page TABLE_PAGE) KVM rewrites on every
 * KVM_DEV_ARM_ITS_SAVE_TABLES, with no vCPU running: backup bitmap only.
 */
#define TABLE_PAGE	128
#define COLLECTIONS	1500

FIXTURE(its) {
	struct dt_guest g;
	struct dtvm_its its;
	uint8_t table[SLOT_PAGES];	/* the pages a save writes */
};

FIXTURE_SETUP(its)
{
	uint64_t p, n = dtvm_its_save_pages(COLLECTIONS, DTG_PAGE);

	dtg_create_mode(_metadata, &self->g, 2, 1, SLOT_PAGES, 4096,
			DTG_RING_BITMAP);
	ASSERT_EQ(0, dtvm_its_create(self->g.vm, &self->its));
	ASSERT_EQ(0, dtvm_its_load_collections(&self->its,
					       self->g.data + TABLE_PAGE * DTG_PAGE,
					       DTG_DATA_GPA + TABLE_PAGE * DTG_PAGE,
					       COLLECTIONS, 2));
	ASSERT_EQ(3, n);
	memset(self->table, 0, sizeof(self->table));
	for (p = 0; p < n; p++)
		self->table[TABLE_PAGE + p] = 1;
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
}

FIXTURE_TEARDOWN(its)
{
	dtvm_its_destroy(&self->its);
	dtg_destroy(&self->g);
}

/* The guest stores to pages outside the table; @want gets them. */
static void store_outside_table(struct __test_metadata *_metadata,
				struct dt_guest *g, unsigned int seed,
				uint8_t *want)
{
	uint32_t pages[40];
	int i;

	for (i = 0; i < 40; i++) {
		pages[i] = rand_r(&seed) % (SLOT_PAGES - 8);
		if (pages[i] >= TABLE_PAGE)
			pages[i] += 8;
		want[pages[i]] = 1;
	}
	dtg_store_pages(_metadata, g, pages, 40);
}

/* FINAL_END: the table pages, beside @want, and nothing else. */
static void final_end_reports_table_and(struct __test_metadata *_metadata,
					FIXTURE_DATA(its) *self, uint8_t *want)
{
	struct dirtytrack_sync s;
	int p;

	ASSERT_EQ(0, dtt_sync_flags(self->g.tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	EXPECT_EQ(0, s.out_harvested);
	EXPECT_EQ(3, s.out_bitmap_pages);
	EXPECT_EQ(0, s.out_bitmap_errors);
	for (p = 0; p < SLOT_PAGES; p++)
		want[p] |= self->table[p];
	dtg_expect_slot(_metadata, self->g.tr, 0, SLOT_PAGES, want);
}

TEST_F(its, the_final_sync_reports_table_and_ring_pages)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOT_PAGES] = { 0 };
	struct dirtytrack_sync s;

	store_outside_table(_metadata, g, 11, want);
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	EXPECT_LE(1, s.out_harvested);
	EXPECT_EQ(0, s.out_bitmap_pages);
	ASSERT_EQ(0, dtvm_its_save(&self->its));
	final_end_reports_table_and(_metadata, self, want);
}

TEST_F(its, a_precopy_sync_in_between_loses_nothing)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOT_PAGES] = { 0 };
	struct dirtytrack_sync s;

	store_outside_table(_metadata, g, 21, want);
	ASSERT_EQ(0, dtvm_its_save(&self->its));
	/* A precopy sync leaves the backup bitmap for the final sync. */
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(0, s.out_bitmap_pages);
	dtg_expect_slot(_metadata, g->tr, 0, SLOT_PAGES, want);

	memset(want, 0, sizeof(want));
	store_outside_table(_metadata, g, 22, want);
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	final_end_reports_table_and(_metadata, self, want);
}

/* Logging is about to be turned off, which drops the backup bitmap. */
TEST_F(its, stop_reads_the_backup_bitmap)
{
	struct dirtytrack_stop st = { .size = sizeof(st) };

	ASSERT_EQ(0, dtvm_its_save(&self->its));
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_STOP, &st));
	dtg_expect_slot(_metadata, self->g.tr, 0, SLOT_PAGES, self->table);
}

/* A ring VM with no ring attached yet cannot be declared ringless. */
TEST_F(its, a_ring_vm_is_not_ringless)
{
	struct dt_guest *g = &self->g;

	close(g->tr);
	g->tr = dtt_create(g->dev, g->vm);
	ASSERT_LE(0, g->tr);
	EXPECT_EQ(-EINVAL, dtt_attach_bitmap(g->tr, 0, g->scratch,
					     g->scratch_size));
	EXPECT_EQ(0, dtt_attach_bitmap(g->tr, DIRTYTRACK_KVM_RING, g->scratch,
				       g->scratch_size));
}

/* A memslot about to be deleted takes its backup bits: removal reads them. */
TEST_F(its, removal_reads_the_backup_bitmap)
{
	struct dt_guest *g = &self->g;
	uint64_t words[SLOT_PAGES / 64];
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DTG_FIRST_DATA_SLOT,
		.bitmap = (uintptr_t)words,
	};
	int p;

	ASSERT_EQ(0, dtvm_its_save(&self->its));
	ASSERT_EQ(0, ioctl(g->tr, DIRTYTRACK_REGION_REMOVE, &rm));
	EXPECT_EQ(3, rm.out_dirty);
	for (p = 0; p < SLOT_PAGES; p++)
		EXPECT_EQ(self->table[p], dtt_bit(words, p)) TH_LOG("page %d", p);
}
#endif /* __aarch64__ */

TEST_HARNESS_MAIN
