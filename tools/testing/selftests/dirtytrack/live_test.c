// SPDX-License-Identifier: GPL-2.0
/*
 * Migration-shaped checks with the guest running: vCPUs sweep the data
 * pages, storing an ever-increasing counter, while the test syncs, claims
 * and copies the claimed pages into a shadow, round after round.  Then the
 * vCPUs stop, a final sync and claim copy the rest, and the shadow must
 * equal guest memory byte for byte: a page written after its last copy and
 * never reported would differ.
 */
#include <stdlib.h>
#include <time.h>

#include "dt_guest.h"

#define NR_SLOTS	4

FIXTURE(live) {
	struct dt_guest g;
	uint8_t *shadow;
	uint64_t copied;
	uint8_t *map[NR_SLOTS];	/* each data region's merged set, mapped */
};

FIXTURE_VARIANT(live) {
	int nr_vcpus;
	uint32_t ring_entries;
	uint64_t slot_pages;
	int sync_every_ms;
	int rounds;
	int syncers;		/* threads syncing concurrently */
	bool expect_ring_full;
	bool use_mmap;		/* claim through the mapping, not the ioctl */
};

/* Syncs often: the rings never fill. */
FIXTURE_VARIANT_ADD(live, running) {
	.nr_vcpus = 2, .ring_entries = 4096, .slot_pages = 32,
	.sync_every_ms = 5, .rounds = 40, .syncers = 1,
};

/*
 * Rings of the minimum size (256 entries, 192 usable) over 512 pages: a
 * page is logged once per reset by whichever vCPU writes it first, so each
 * vCPU logs about 256 between syncs, exits with KVM_EXIT_DIRTY_RING_FULL
 * and harvests its own ring.
 */
FIXTURE_VARIANT_ADD(live, ring_full) {
	.nr_vcpus = 2, .ring_entries = 256, .slot_pages = 128,
	.sync_every_ms = 100, .rounds = 8, .syncers = 1,
	.expect_ring_full = true,
};

/* Two threads sync and claim at once. */
FIXTURE_VARIANT_ADD(live, two_syncers) {
	.nr_vcpus = 2, .ring_entries = 4096, .slot_pages = 32,
	.sync_every_ms = 3, .rounds = 40, .syncers = 2,
};

/* The consumer claims through the mapping while the kernel publishes. */
FIXTURE_VARIANT_ADD(live, mmap_consumer) {
	.nr_vcpus = 2, .ring_entries = 4096, .slot_pages = 32,
	.sync_every_ms = 3, .rounds = 40, .syncers = 2, .use_mmap = true,
};

FIXTURE_SETUP(live)
{
	int i;

	dtg_create(_metadata, &self->g, variant->nr_vcpus, NR_SLOTS,
		   variant->slot_pages, variant->ring_entries);
	self->shadow = calloc(self->g.data_pages, DTG_PAGE);
	ASSERT_NE(NULL, self->shadow);
	self->copied = 0;
	for (i = 0; i < NR_SLOTS; i++) {
		self->map[i] = mmap(NULL, self->g.region[i].out_mmap_size,
				    PROT_READ | PROT_WRITE, MAP_SHARED,
				    self->g.tr, self->g.region[i].out_mmap_offset);
		ASSERT_NE(MAP_FAILED, self->map[i]);
	}
}

FIXTURE_TEARDOWN(live)
{
	int i;

	for (i = 0; i < NR_SLOTS; i++)
		if (self->map[i] && self->map[i] != MAP_FAILED)
			munmap(self->map[i], self->g.region[i].out_mmap_size);
	dtg_stop(&self->g);
	dtg_destroy(&self->g);
	free(self->shadow);
}

struct syncer {
	FIXTURE_DATA(live) *self;
	int rounds, every_ms, err;
	pthread_mutex_t *copy_lock;
	bool use_mmap;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Sync, claim every data slot, copy what was claimed. */
static int sync_and_copy(FIXTURE_DATA(live) *self, pthread_mutex_t *copy_lock,
			 bool use_mmap)
{
	struct dt_guest *g = &self->g;
	uint64_t bitmap[4096 / 64], dirty, p;
	struct dirtytrack_sync s;
	int slot, ret;

	ret = dtt_sync(g->tr, &s);
	if (ret)
		return ret;
	if (s.out_invalid || s.out_foreign)
		return -EPROTO;
	for (slot = 0; slot < g->nr_slots; slot++) {
		if (use_mmap) {
			dtt_mmap_claim(self->map[slot], &g->region[slot], bitmap);
		} else {
			ret = dtt_claim(g->tr, DTG_FIRST_DATA_SLOT + slot, 0,
					g->slot_pages, bitmap, &dirty);
			if (ret)
				return ret;
		}
		pthread_mutex_lock(copy_lock);
		for (p = 0; p < g->slot_pages; p++) {
			uint64_t off = (slot * g->slot_pages + p) * DTG_PAGE;

			if (!dtt_bit(bitmap, p))
				continue;
			memcpy(self->shadow + off, g->data + off, DTG_PAGE);
			self->copied++;
		}
		pthread_mutex_unlock(copy_lock);
	}
	return 0;
}

static void *syncer_thread(void *arg)
{
	struct syncer *s = arg;
	int i;

	for (i = 0; i < s->rounds && !s->err; i++) {
		sleep_ms(s->every_ms);
		s->err = sync_and_copy(s->self, s->copy_lock, s->use_mmap);
	}
	return NULL;
}

TEST_F(live, nothing_is_lost)
{
	pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;
	struct syncer syncers[2];
	pthread_t threads[2];
	unsigned long ring_full = 0;
	uint64_t p, lost = 0, before_final;
	int i;

	dtg_start_sweep(_metadata, &self->g);
	for (i = 0; i < variant->syncers; i++) {
		syncers[i] = (struct syncer){ self, variant->rounds,
					      variant->sync_every_ms, 0,
					      &copy_lock, variant->use_mmap };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, syncer_thread,
					    &syncers[i]));
	}
	for (i = 0; i < variant->syncers; i++) {
		pthread_join(threads[i], NULL);
		EXPECT_EQ(0, syncers[i].err) TH_LOG("syncer %d: %s", i,
						     strerror(-syncers[i].err));
	}

	/* Stop-copy: vCPUs out of the guest, then the final sync. */
	dtg_stop(&self->g);
	ASSERT_EQ(0, self->g.error) TH_LOG("vCPU thread: %s",
					   strerror(-self->g.error));
	before_final = self->copied;
	ASSERT_EQ(0, sync_and_copy(self, &copy_lock, variant->use_mmap));

	for (p = 0; p < self->g.data_pages; p++)
		if (memcmp(self->shadow + p * DTG_PAGE,
			   self->g.data + p * DTG_PAGE, DTG_PAGE))
			lost++;
	EXPECT_EQ(0, lost) TH_LOG("%lu of %lu pages differ from the copy",
				  (unsigned long)lost,
				  (unsigned long)self->g.data_pages);

	/* The guest really ran and the rounds really copied. */
	EXPECT_LT(self->g.data_pages, before_final);
	for (i = 0; i < self->g.nr_vcpus; i++)
		ring_full += self->g.vcpu[i].ring_full_exits;
	if (variant->expect_ring_full)
		EXPECT_LT(0, ring_full);
	TH_LOG("%lu pages copied before the final sync, %lu after, %lu ring-full exits",
	       (unsigned long)before_final,
	       (unsigned long)(self->copied - before_final), ring_full);
}

TEST_HARNESS_MAIN
