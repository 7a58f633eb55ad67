// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded stress: on a slot layout drawn at random (the seed is printed),
 * vCPUs sweep every data page while the test, for a fixed time, syncs and
 * claims (whole regions, parts of them, through the mapping or the ioctl)
 * and unplugs and replugs random memslots under the running guest.  At the
 * end the vCPUs stop, every slot is plugged back, a final sync and claim
 * copy the rest, and the copy must equal guest memory page for page: no
 * page lost, and (in the debug guest) no KASAN, lockdep or kmemleak report.
 *
 * Each vCPU sweeps pages of its own.  When two vCPUs fault on one page as
 * its memslot is plugged back, one may still see the old memslots (no slot:
 * an MMIO fault) after the other mapped the page; KVM then finds a present
 * SPTE whose pfn is not the fault's and, from the releases after 6.12 (7.3
 * here), WARNs before it retries the fault.  The retry is right and loses
 * nothing, but the warning fails the guest; a VMM that plugs memory under
 * running vCPUs can meet it too (Documentation/testing.rst).
 */
#include <stdlib.h>
#include <time.h>

#include "dt_guest.h"

#define NR_VCPUS	2
#define MAX_SLOTS	8
#define MAX_SLOT_PAGES	128
#define SECONDS		30

/* Slot layouts, one drawn per run; the sweep needs a power-of-two total. */
static const struct { int slots, pages; } layouts[] = {
	{ 8, 32 }, { 4, 64 }, { 2, 128 }, { 8, 16 }, { 4, 16 }, { 1, 128 },
};

struct world {
	struct dt_guest g;
	uint8_t *shadow;
	int nr_slots, slot_pages;
	uint8_t *map[MAX_SLOTS];
	bool plugged[MAX_SLOTS];
	unsigned long claims, unplugs, replugs, syncs, invalid;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int map_slot(struct world *w, int slot)
{
	struct dirtytrack_region *r = &w->g.region[slot];

	w->map[slot] = mmap(NULL, r->out_mmap_size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, w->g.tr, r->out_mmap_offset);
	return w->map[slot] == MAP_FAILED ? -errno : 0;
}

/* Claim all or the start of a plugged slot, either way, and copy it. */
static int claim_and_copy(struct world *w, int slot, unsigned int *seed)
{
	struct dt_guest *g = &w->g;
	uint64_t bitmap[MAX_SLOT_PAGES / 64], dirty, n = w->slot_pages, p;
	int ret;

	switch (rand_r(seed) % 3) {
	case 0:
		dtt_mmap_claim(w->map[slot], &g->region[slot], bitmap);
		break;
	case 1:
		n = 1 + rand_r(seed) % w->slot_pages;	/* may end mid-word */
		/* fall through */
	default:
		ret = dtt_claim(g->tr, DTG_FIRST_DATA_SLOT + slot, 0, n,
				bitmap, &dirty);
		if (ret)
			return ret;
	}
	for (p = 0; p < n; p++) {
		uint64_t off = (slot * w->slot_pages + p) * DTG_PAGE;

		if (dtt_bit(bitmap, p))
			memcpy(w->shadow + off, g->data + off, DTG_PAGE);
	}
	w->claims++;
	return 0;
}

static int sync_and_copy(struct world *w, unsigned int *seed)
{
	struct dirtytrack_sync s;
	int slot, ret;

	ret = dtt_sync(w->g.tr, &s);
	if (ret)
		return ret;
	if (s.out_foreign)
		return -EPROTO;
	/* Entries logged between a region's removal and its memslot's. */
	w->invalid += s.out_invalid;
	w->syncs++;
	for (slot = 0; slot < w->nr_slots; slot++) {
		if (!w->plugged[slot])
			continue;
		ret = claim_and_copy(w, slot, seed);
		if (ret)
			return ret;
	}
	return 0;
}

/* The harness has timeouts for fixture tests only. */
FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, loses_nothing, 120)
{
	struct dirtytrack_start st = { .size = sizeof(st) };
	const char *env = getenv("DT_STRESS_SEED");
	unsigned int seed = env ? strtoul(env, NULL, 0) : (unsigned int)now_ms();
	struct world *w = calloc(1, sizeof(*w));
	uint64_t end, p, lost = 0, compared = 0;
	int slot, l;

	ASSERT_NE(NULL, w);
	TH_LOG("seed %u (DT_STRESS_SEED=%u reruns this layout and sequence)",
	       seed, seed);
	l = rand_r(&seed) % (sizeof(layouts) / sizeof(layouts[0]));
	w->nr_slots = layouts[l].slots;
	w->slot_pages = layouts[l].pages;
	dtg_create(_metadata, &w->g, NR_VCPUS, w->nr_slots, w->slot_pages, 4096);
	w->g.allow_mmio = true;
	w->g.own_pages = true;
	w->shadow = calloc(w->nr_slots * w->slot_pages, DTG_PAGE);
	ASSERT_NE(NULL, w->shadow);
	for (slot = 0; slot < w->nr_slots; slot++) {
		w->plugged[slot] = true;
		ASSERT_EQ(0, map_slot(w, slot));
	}
	/* Tracking: a replugged slot comes back all dirty. */
	ASSERT_EQ(0, ioctl(w->g.tr, DIRTYTRACK_START, &st));
	dtg_start_sweep(_metadata, &w->g);

	end = now_ms() + SECONDS * 1000;
	while (now_ms() < end && !w->g.error) {
		int r = rand_r(&seed) % 10;

		slot = rand_r(&seed) % w->nr_slots;
		if (r == 0 && w->plugged[slot]) {
			munmap(w->map[slot], w->g.region[slot].out_mmap_size);
			ASSERT_EQ(0, dtg_slot_unplug(&w->g, slot));
			w->plugged[slot] = false;
			w->unplugs++;
		} else if (r == 1 && !w->plugged[slot]) {
			ASSERT_EQ(0, dtg_slot_replug(&w->g, slot));
			ASSERT_EQ(0, map_slot(w, slot));
			w->plugged[slot] = true;
			w->replugs++;
		} else {
			ASSERT_EQ(0, sync_and_copy(w, &seed));
		}
	}

	dtg_stop(&w->g);
	ASSERT_EQ(0, w->g.error) TH_LOG("vCPU thread: %s (exit reason %u)",
					strerror(-w->g.error), w->g.bad_exit);
	/* Every slot back (all dirty, since tracking), so every page is compared. */
	for (slot = 0; slot < w->nr_slots; slot++) {
		if (w->plugged[slot])
			continue;
		ASSERT_EQ(0, dtg_slot_replug(&w->g, slot));
		ASSERT_EQ(0, map_slot(w, slot));
		w->plugged[slot] = true;
	}
	ASSERT_EQ(0, sync_and_copy(w, &seed));
	/* The final claim must be whole: claim every plugged slot again. */
	for (slot = 0; slot < w->nr_slots; slot++) {
		uint64_t bitmap[MAX_SLOT_PAGES / 64], dirty;

		if (!w->plugged[slot])
			continue;
		ASSERT_EQ(0, dtt_claim(w->g.tr, DTG_FIRST_DATA_SLOT + slot, 0,
				       w->slot_pages, bitmap, &dirty));
		for (p = 0; p < (uint64_t)w->slot_pages; p++) {
			uint64_t off = (slot * w->slot_pages + p) * DTG_PAGE;

			if (dtt_bit(bitmap, p))
				memcpy(w->shadow + off, w->g.data + off, DTG_PAGE);
		}
		for (p = 0; p < (uint64_t)w->slot_pages; p++) {
			uint64_t off = (slot * w->slot_pages + p) * DTG_PAGE;

			compared++;
			if (memcmp(w->shadow + off, w->g.data + off, DTG_PAGE))
				lost++;
		}
	}
	EXPECT_EQ(0, lost) TH_LOG("%lu of %lu pages differ from the copy",
				  (unsigned long)lost, (unsigned long)compared);
	EXPECT_EQ((uint64_t)w->nr_slots * w->slot_pages, compared);
	EXPECT_LT(100, w->syncs);
	EXPECT_LT(5, w->unplugs);
	EXPECT_LT(5, w->replugs);
	TH_LOG("layout: %d slots of %d pages", w->nr_slots, w->slot_pages);
	TH_LOG("%lu syncs, %lu claims, %lu unplugs, %lu replugs, %lu invalid entries, %lu dropped stores, %lu pages compared",
	       w->syncs, w->claims, w->unplugs, w->replugs, w->invalid,
	       w->g.mmio_exits, (unsigned long)compared);
	for (slot = 0; slot < w->nr_slots; slot++)
		if (w->plugged[slot])
			munmap(w->map[slot], w->g.region[slot].out_mmap_size);
	dtg_destroy(&w->g);
	free(w->shadow);
	free(w);
}

TEST_HARNESS_MAIN
