// SPDX-License-Identifier: GPL-2.0
/*
 * libdirtytrack against a real KVM guest, the same scenarios on both
 * backends: the kernel one (the module) and the user one (this process
 * drives KVM itself).  Every variant is one backend and one way the VM
 * logs dirty pages (rings; the plain bitmap; the bitmap with manual
 * protect).  Each scenario checks the library's answer against what the
 * guest (or the test, as a VMM) wrote: exactly the pages of a store list,
 * or, with vCPUs sweeping memory during the rounds of a precopy, a copy
 * that equals guest memory byte for byte after the final sync.
 *
 * On a host without the module, run the user variants only:
 *   lib_test -v user_ring -v user_bitmap -v user_manual
 */
#include <stdlib.h>
#include <time.h>

#include <dirtytrack.h>

#include "dt_guest.h"

#define NR_SLOTS	4
#define SLOT_PAGES	128
#define RING_ENTRIES	256	/* the minimum: the sweeps fill it */
#define RING_BYTES	(RING_ENTRIES * sizeof(struct kvm_dirty_gfn))

FIXTURE(lib) {
	struct dt_guest g;
	struct dirtytrack *dt;
	struct dirtytrack_tracker *t;
	uint8_t *copy;		/* the destination's memory */
};

FIXTURE_VARIANT(lib) {
	enum dirtytrack_backend backend;
	unsigned int mode;	/* DTG_RING, DTG_BITMAP, DTG_MANUAL */
};

FIXTURE_VARIANT_ADD(lib, kernel_ring) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .mode = DTG_RING,
};

FIXTURE_VARIANT_ADD(lib, user_ring) {
	.backend = DIRTYTRACK_BACKEND_USER, .mode = DTG_RING,
};

FIXTURE_VARIANT_ADD(lib, kernel_bitmap) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .mode = DTG_BITMAP,
};

FIXTURE_VARIANT_ADD(lib, user_bitmap) {
	.backend = DIRTYTRACK_BACKEND_USER, .mode = DTG_BITMAP,
};

FIXTURE_VARIANT_ADD(lib, kernel_manual) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .mode = DTG_BITMAP | DTG_MANUAL,
};

FIXTURE_VARIANT_ADD(lib, user_manual) {
	.backend = DIRTYTRACK_BACKEND_USER, .mode = DTG_BITMAP | DTG_MANUAL,
};

static uint32_t data_slot(int i)
{
	return DIRTYTRACK_SLOT(0, DTG_FIRST_DATA_SLOT + i);
}

/* The vCPU thread's KVM_EXIT_DIRTY_RING_FULL: its own ring, through us. */
static int lib_ring_full(struct dtg_vcpu *v)
{
	return dirtytrack_harvest_vcpu(v->g->priv, v - v->g->vcpu, NULL);
}

FIXTURE_SETUP(lib)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = variant->backend);
	struct dt_guest *g = &self->g;
	int i, ret;

	dtg_create_vm(_metadata, g, 2, NR_SLOTS, SLOT_PAGES,
		      RING_ENTRIES, variant->mode);
	ret = dirtytrack_open(&o, &self->dt);
	ASSERT_EQ(0, ret) TH_LOG("dirtytrack_open: %s", strerror(-ret));
	ASSERT_EQ(variant->backend, dirtytrack_get_backend(self->dt));
	ret = dirtytrack_tracker_create(self->dt, g->vm, &self->t);
	ASSERT_EQ(0, ret) TH_LOG("tracker: %s", strerror(-ret));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DTG_CODE_SLOT, DTG_CODE_GPA,
					   DTG_CODE_SIZE));
	for (i = 0; i < NR_SLOTS; i++)
		ASSERT_EQ(0, dirtytrack_region_add(self->t, data_slot(i),
						   dtg_slot_gpa(g, i),
						   SLOT_PAGES * DTG_PAGE));
	if (variant->mode & DTG_BITMAP) {
		struct dirtytrack_kvm_bitmap_opts b =
			DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				.manual_protect = variant->mode & DTG_MANUAL);

		ASSERT_EQ(0, dirtytrack_attach_kvm_bitmap(self->t, &b));
	} else {
		for (i = 0; i < g->nr_vcpus; i++) {
			uint32_t id = ~0u;

			ASSERT_EQ(0, dirtytrack_attach_ring(self->t, g->vcpu[i].vc.fd,
					RING_BYTES, &id));
			ASSERT_EQ(i, id);
		}
	}
	g->ring_full = lib_ring_full;
	g->priv = self->t;
	self->copy = calloc(g->data_pages, DTG_PAGE);
	ASSERT_NE(NULL, self->copy);
}

FIXTURE_TEARDOWN(lib)
{
	dtg_stop(&self->g);
	dirtytrack_tracker_destroy(self->t);
	dirtytrack_close(self->dt);
	dtg_destroy(&self->g);
	free(self->copy);
}

/* Claimed pages of the data area, as one flag per page. */
struct lib_seen {
	struct dt_guest *g;
	uint8_t *page;		/* g->data_pages flags, or NULL */
	uint8_t *copy;		/* copy the pages here too, or NULL */
	uint64_t outside;	/* pages claimed outside the data area */
	uint64_t runs;
};

static int lib_collect(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct lib_seen *s = ctx;
	uint64_t first = (r->gpa - DTG_DATA_GPA) / DTG_PAGE, p;

	s->runs++;
	if (r->gpa < DTG_DATA_GPA || first + r->npages > s->g->data_pages) {
		s->outside += r->npages;
		return 0;
	}
	for (p = first; s->page && p < first + r->npages; p++)
		s->page[p] = 1;
	if (s->copy)
		memcpy(s->copy + first * DTG_PAGE, s->g->data + first * DTG_PAGE,
		       r->npages * DTG_PAGE);
	return 0;
}

/* One store to each listed page: the claim reports exactly those. */
TEST_F(lib, store_list_claims_exactly_the_pages_written)
{
	static const uint32_t pages[] = { 0, 1, 2, 63, 64, 127, 128, 300, 511 };
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dt_guest *g = &self->g;
	uint8_t *seen = calloc(g->data_pages, 1);
	struct lib_seen s = { .g = g, .page = seen };
	uint64_t claimed = 0, p, n = sizeof(pages) / sizeof(pages[0]);
	unsigned int i;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	/* What the set held before (the code page the set-up wrote). */
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, NULL));
	memset(seen, 0, g->data_pages);

	dtg_store_pages(_metadata, g, pages, n);
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(0, st.ring_foreign);
	s.outside = 0;
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	/*
	 * The source counted each page it reported once: what was claimed,
	 * including a page outside the data area some hypervisors dirty
	 * (nested SVM under TCG writes one in the code slot).
	 */
	if (variant->mode & DTG_BITMAP) {
		EXPECT_EQ(claimed, st.kvm_bitmap_pages);
	} else {
		EXPECT_EQ(claimed, st.ring_entries);
	}
	for (i = 0, p = 0; p < g->data_pages; p++) {
		bool want = i < n && pages[i] == p;

		EXPECT_EQ(want, seen[p]) TH_LOG("data page %lu", (unsigned long)p);
		i += want;
	}
	EXPECT_EQ(n, claimed - s.outside);
	/* A claimed page is gone: a second claim finds nothing. */
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	EXPECT_EQ(0, claimed);
	/* Nor does a sync: KVM was told the pages were taken (manual protect). */
	s.outside = 0;
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	EXPECT_EQ(0, claimed - s.outside);
	free(seen);
}

/*
 * Whole words of the vmm log, written by another mapping: each word is
 * shared out between the regions it covers, a region ending inside a word
 * takes only its own frames, and the frames between regions are counted
 * outside, one per bit.
 */
TEST_F(lib, vmm_log_words_are_split_between_regions)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dt_guest *g = &self->g;
	uint64_t first = DTG_CODE_GPA / 4096, end, size, claimed, *log, i;
	uint64_t code = DTG_CODE_SIZE / DTG_PAGE, shrunk = 100;
	uint8_t *seen = calloc(g->data_pages, 1);
	struct lib_seen s = { .g = g, .page = seen };
	int fd;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, first % 64);
	end = dtg_slot_gpa(g, NR_SLOTS - 1) / 4096 + SLOT_PAGES;
	/* Slot 0's region ends inside a log word. */
	ASSERT_EQ(0, dirtytrack_region_remove(self->t, data_slot(0), NULL, NULL));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, data_slot(0),
					   dtg_slot_gpa(g, 0), shrunk * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, NULL));
	memset(seen, 0, g->data_pages);
	s.outside = 0;

	ASSERT_EQ(0, dirtytrack_vmm_log_fd(self->t, &fd, &size));
	ASSERT_LE((end + 63) / 64 * 8, size);
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);
	for (i = first / 64; i < (end + 63) / 64; i++)
		__atomic_store_n(&log[i], ~0ULL, __ATOMIC_RELEASE);
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(code + shrunk + (NR_SLOTS - 1) * SLOT_PAGES, st.vmm_pages);
	EXPECT_EQ((end + 63) / 64 * 64 - first - st.vmm_pages, st.vmm_outside);
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	EXPECT_EQ(st.vmm_pages, claimed);
	EXPECT_EQ(code, s.outside);
	for (i = 0; i < g->data_pages; i++)
		EXPECT_EQ(i < shrunk || i >= SLOT_PAGES, seen[i])
			TH_LOG("data page %lu", (unsigned long)i);
	munmap(log, size);
	close(fd);
	free(seen);
}

/*
 * A sync leaves the calling thread's signal mask as it found it: open,
 * partly blocked, or all blocked (where the user backend skips the
 * restore, on kernels whose ring reset it runs with signals blocked).
 */
TEST_F(lib, a_sync_leaves_the_signal_mask_as_it_found_it)
{
	static const uint32_t pages[] = { 5 };
	struct lib_seen s = { .g = &self->g };
	sigset_t masks[3], before, after;
	uint64_t claimed;
	int m, sig;

	sigemptyset(&masks[0]);
	sigemptyset(&masks[1]);
	sigaddset(&masks[1], SIGUSR1);
	sigfillset(&masks[2]);
	ASSERT_EQ(0, pthread_sigmask(SIG_SETMASK, NULL, &before));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	for (m = 0; m < 3; m++) {
		ASSERT_EQ(0, pthread_sigmask(SIG_SETMASK, &masks[m], NULL));
		dtg_store_pages(_metadata, &self->g, pages, 1);
		ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
		ASSERT_EQ(0, pthread_sigmask(SIG_SETMASK, NULL, &after));
		ASSERT_EQ(0, pthread_sigmask(SIG_SETMASK, &before, NULL));
		for (sig = 1; sig <= SIGRTMAX; sig++) {
			if (sig == SIGKILL || sig == SIGSTOP ||
			    (sig > SIGSYS && sig < SIGRTMIN))
				continue;
			EXPECT_EQ(sigismember(&masks[m], sig),
				  sigismember(&after, sig))
				TH_LOG("mask %d, signal %d", m, sig);
		}
		ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s,
						     &claimed));
		EXPECT_LE(1, claimed);
	}
}

static void lib_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Precopy with the vCPUs sweeping memory: rounds of sync and copy, then
 * the vCPUs stop, the final sync, the last copy.  The copy must equal
 * guest memory byte for byte; the rates must show who dirtied.
 */
TEST_F(lib, sweep_precopy_copy_is_byte_exact)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts,
		.all_dirty = true);
	struct dirtytrack_rates rates = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
	struct dt_guest *g = &self->g;
	struct lib_seen s = { .g = g, .copy = self->copy };
	bool rings = !(variant->mode & DTG_BITMAP);
	uint64_t claimed, total = 0;
	unsigned long ring_full = 0;
	int round, i;

	ASSERT_EQ(0, dirtytrack_start(self->t, &so));
	dtg_start_sweep(_metadata, g);
	for (round = 0; round < 8; round++) {
		/* Long enough for the minimum-size rings to fill (under TCG too). */
		lib_sleep_ms(100);
		ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
		ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s,
						     &claimed));
		total += claimed;
	}
	dtg_stop(g);
	ASSERT_EQ(0, g->error) TH_LOG("vCPU: %s (exit %u)", strerror(-g->error),
				      g->bad_exit);
	for (i = 0; i < g->nr_vcpus; i++)
		ring_full += g->vcpu[i].ring_full_exits;
	/* The vCPUs harvested their own full rings through the library. */
	if (rings) {
		EXPECT_LT(0, ring_full);
	}
	ASSERT_EQ(0, dirtytrack_final_begin(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_final_end(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	total += claimed;
	/* Round one sent everything; the sweeps dirtied more. */
	EXPECT_LT(g->data_pages, total);
	EXPECT_EQ(0, memcmp(self->copy, g->data, g->data_pages * DTG_PAGE));

	ASSERT_EQ(0, dirtytrack_get_rates(self->t, &rates));
	EXPECT_LE(8, rates.syncs);
	if (!rings) {
		EXPECT_LT(0, rates.kvm_bitmap.avg);
		EXPECT_EQ(0, rates.ring.avg);
	} else {
		struct dirtytrack_rate r;

		EXPECT_LT(0, rates.ring.avg);
		for (i = 0; i < g->nr_vcpus; i++) {
			ASSERT_EQ(0, dirtytrack_get_vcpu_rate(self->t, i, &r));
			EXPECT_LT(0, r.avg) TH_LOG("vCPU %d", i);
		}
	}
	ASSERT_EQ(0, dirtytrack_stop(self->t));
}

/* A claimer thread copies pages while the test thread syncs. */
struct lib_claimer {
	struct dirtytrack_tracker *t;
	struct lib_seen s;
	volatile int stop;
	int error;
	unsigned long rounds;	/* atomic: the test thread reads it */
};

static void *lib_claimer_fn(void *arg)
{
	struct lib_claimer *c = arg;

	while (!c->stop && !c->error) {
		c->error = dirtytrack_claim_ranges(c->t, lib_collect, &c->s, NULL);
		__atomic_fetch_add(&c->rounds, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Claims run without the tracker's lock, beside syncs and the vCPUs' own
 * harvests: a second thread claims and copies all along, and the copy is
 * still byte-exact after the final sync.
 */
TEST_F(lib, a_claimer_thread_beside_syncs_loses_nothing)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts,
		.all_dirty = true);
	struct dt_guest *g = &self->g;
	struct lib_claimer c = {
		.t = self->t, .s = { .g = g, .copy = self->copy },
	};
	pthread_t th;
	int round;

	ASSERT_EQ(0, dirtytrack_start(self->t, &so));
	dtg_start_sweep(_metadata, g);
	ASSERT_EQ(0, pthread_create(&th, NULL, lib_claimer_fn, &c));
	/*
	 * 20 syncs, and more until the claimer has finished two claims beside
	 * them (its first copies every page: under TCG with KASAN it can take
	 * the 20), within 500 syncs.
	 */
	for (round = 0; round < 500; round++) {
		if (round >= 20 &&
		    __atomic_load_n(&c.rounds, __ATOMIC_ACQUIRE) >= 2)
			break;
		lib_sleep_ms(20);
		ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	}
	dtg_stop(g);
	c.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, c.error);
	ASSERT_EQ(0, g->error);
	EXPECT_LT(1, c.rounds);
	ASSERT_EQ(0, dirtytrack_final_begin(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_final_end(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &c.s, NULL));
	EXPECT_EQ(0, memcmp(self->copy, g->data, g->data_pages * DTG_PAGE));
}

/*
 * The VMM's own writes: one reported with dirtytrack_vmm_mark(), one
 * through the vmm log mapped the way a vhost backend maps it.
 */
TEST_F(lib, vmm_writes_are_claimed)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dt_guest *g = &self->g;
	uint8_t *seen = calloc(g->data_pages, 1);
	struct lib_seen s = { .g = g, .page = seen };
	uint64_t size, claimed, *log;
	uint64_t a = 5, b = 3 * SLOT_PAGES + 7, bit;
	int fd;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_vmm_log_fd(self->t, &fd, &size));
	ASSERT_LE((DTG_DATA_GPA + g->data_pages * DTG_PAGE) / 4096 / 8, size);
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);

	g->data[a * DTG_PAGE] = 1;
	ASSERT_EQ(0, dirtytrack_vmm_mark(self->t, DTG_DATA_GPA + a * DTG_PAGE + 8,
					 16));
	g->data[b * DTG_PAGE] = 1;
	bit = (DTG_DATA_GPA + b * DTG_PAGE) / 4096;
	__atomic_fetch_or(&log[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELEASE);

	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(2, st.vmm_pages);
	EXPECT_EQ(0, st.vmm_outside);
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	EXPECT_EQ(2, claimed - s.outside);
	EXPECT_EQ(1, seen[a]);
	EXPECT_EQ(1, seen[b]);
	/* Outside every region: refused, nothing marked. */
	EXPECT_EQ(-ENOENT, dirtytrack_vmm_mark(self->t, 1ULL << 40, 4096));
	munmap(log, size);
	close(fd);
	free(seen);
}

/*
 * A memslot deleted and re-created: the region's last bits come back
 * through the remove, and the region added again while tracking starts
 * all dirty (the destination has none of it).
 */
TEST_F(lib, remove_hands_back_bits_and_readd_is_all_dirty)
{
	static const uint32_t pages[] = { SLOT_PAGES + 3, SLOT_PAGES + 90 };
	struct dt_guest *g = &self->g;
	uint64_t bits[SLOT_PAGES / 64], dirty = 0, claimed;
	struct lib_seen s = { .g = g };

	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, NULL));
	dtg_store_pages(_metadata, g, pages, 2);
	/*
	 * No sync: the remove harvests the slot itself (rule
	 * reap-before-memslot-change).
	 */
	memset(bits, 0xff, sizeof(bits));
	ASSERT_EQ(0, dirtytrack_region_remove(self->t, data_slot(1), bits, &dirty));
	EXPECT_EQ(2, dirty);
	EXPECT_EQ(1ULL << 3, bits[0]);
	EXPECT_EQ(1ULL << (90 - 64), bits[1]);
	EXPECT_EQ(-ENOENT, dirtytrack_region_remove(self->t, data_slot(1), NULL,
						    NULL));

	ASSERT_EQ(0, dirtytrack_region_add(self->t, data_slot(1),
					   dtg_slot_gpa(g, 1), SLOT_PAGES * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(1), 0, SLOT_PAGES,
					     bits, &claimed));
	EXPECT_EQ(SLOT_PAGES, claimed);
}

/* A failed migration: the sealed tracker restarts and keeps its bits. */
TEST_F(lib, restart_after_final_sync_keeps_unclaimed_bits)
{
	static const uint32_t pages[] = { 17, 200 };
	struct dt_guest *g = &self->g;
	uint8_t *seen = calloc(g->data_pages, 1);
	struct lib_seen s = { .g = g, .page = seen };
	uint64_t claimed;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, NULL));
	memset(seen, 0, g->data_pages);
	dtg_store_pages(_metadata, g, pages, 2);
	ASSERT_EQ(0, dirtytrack_final_begin(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_final_end(self->t, NULL));
	/* Sealed: nothing is harvested until a restart. */
	EXPECT_EQ(-EBUSY, dirtytrack_sync(self->t, NULL));
	EXPECT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, &claimed));
	EXPECT_EQ(2, claimed - s.outside);
	EXPECT_EQ(1, seen[17]);
	EXPECT_EQ(1, seen[200]);
	free(seen);
}

/* Calls out of order get the module's errnos, whichever the backend. */
TEST_F(lib, calls_in_the_wrong_order_are_refused)
{
	struct dirtytrack_tracker *t = self->t;
	struct dirtytrack_tracker *t2;
	uint64_t n;

	EXPECT_EQ(-EINVAL, dirtytrack_stop(t));
	EXPECT_EQ(-EINVAL, dirtytrack_final_begin(t, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_final_end(t, NULL));
	ASSERT_EQ(0, dirtytrack_start(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_start(t, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_final_end(t, NULL));
	ASSERT_EQ(0, dirtytrack_final_begin(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_sync(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_final_begin(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_region_remove(t, data_slot(0), NULL, NULL));
	if (!(variant->mode & DTG_BITMAP)) {
		EXPECT_EQ(-EBUSY, dirtytrack_harvest_vcpu(t, 0, &n));
	}
	ASSERT_EQ(0, dirtytrack_final_end(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_final_end(t, NULL));
	EXPECT_EQ(-EBUSY, dirtytrack_vmm_mark(t, DTG_DATA_GPA, 1));
	ASSERT_EQ(0, dirtytrack_stop(t));
	EXPECT_EQ(-EINVAL, dirtytrack_stop(t));
	/* Sources: one per kind; a ring for a ringless VM and the other way. */
	if (variant->mode & DTG_BITMAP) {
		struct dirtytrack_kvm_bitmap_opts b =
			DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);

		EXPECT_EQ(-EEXIST, dirtytrack_attach_kvm_bitmap(t, &b));
	} else {
		struct dirtytrack_kvm_bitmap_opts b =
			DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);

		EXPECT_EQ(-EINVAL, dirtytrack_attach_kvm_bitmap(t, &b));
		EXPECT_EQ(-EEXIST, dirtytrack_attach_ring(t, self->g.vcpu[0].vc.fd,
							  RING_BYTES, NULL));
	}
	/* A closed VM fd is no VM; a VM has one tracker. */
	EXPECT_EQ(-EBADF, dirtytrack_tracker_create(self->dt, 1000, &t2));
	EXPECT_EQ(NULL, t2);
	EXPECT_EQ(-EEXIST, dirtytrack_tracker_create(self->dt, self->g.vm, &t2));
	EXPECT_EQ(NULL, t2);
}

/*
 * A ring is the size the VMM declares, checked against KVM: a walk of a
 * smaller one would never see the entries past it.  A file that is no
 * vCPU, or a closed one, is refused too.
 */
TEST_F(lib, a_ring_of_the_wrong_size_or_no_ring_is_refused)
{
	struct dirtytrack_tracker *t = self->t;
	struct dt_guest *g = &self->g;
	int null = open("/dev/null", O_RDWR);
	int vcpu;

	ASSERT_LE(0, null);
	if (variant->mode & DTG_BITMAP) {
		/* A ringless VM: its vCPUs have no ring to map. */
		EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, g->vcpu[0].vc.fd,
							  RING_BYTES, NULL));
		close(null);
		return;
	}
	vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 3);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, vcpu, RING_BYTES / 2, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, vcpu, RING_BYTES * 2, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, vcpu, RING_BYTES + 16, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, null, RING_BYTES, NULL));
	EXPECT_EQ(-EINVAL, dirtytrack_attach_ring(t, g->vm, RING_BYTES, NULL));
	EXPECT_EQ(-EBADF, dirtytrack_attach_ring(t, 1000, RING_BYTES, NULL));
	EXPECT_EQ(-EBADF, dirtytrack_attach_ring(t, -1, RING_BYTES, NULL));
	EXPECT_EQ(0, dirtytrack_attach_ring(t, vcpu, RING_BYTES, NULL));
	EXPECT_EQ(-ENOENT, dirtytrack_harvest_vcpu(t, 7, NULL));
	close(vcpu);
	close(null);
}

/* A claim callback that syncs the tracker it claims from. */
static int lib_sync_in_callback(const struct dirtytrack_dirty_range *r,
				void *ctx)
{
	struct lib_seen *s = ctx;

	(void)r;
	/* Claims hold no lock a sync needs: a callback may sync. */
	return dirtytrack_sync(s->g->priv, NULL);
}

/* A stored page's slot moves: its bit follows the slot to the new GPA. */
TEST_F(lib, a_moved_region_keeps_its_bits_and_a_callback_may_sync)
{
	static const uint32_t pages[] = { 2 * SLOT_PAGES + 5 };
	struct dt_guest *g = &self->g;
	struct dirtytrack_bitmap_view v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	struct lib_seen s = { .g = g };
	uint64_t bits[SLOT_PAGES / 64], n;

	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_collect, &s, NULL));
	dtg_store_pages(_metadata, g, pages, 1);
	/* The tracker first (rule reap-before-memslot-change), then KVM. */
	ASSERT_EQ(0, dirtytrack_region_move(self->t, data_slot(2), 0x40000000));
	ASSERT_EQ(0, dtvm_set_memslot(g->vm, DTG_FIRST_DATA_SLOT + 2,
				      KVM_MEM_LOG_DIRTY_PAGES, 0x40000000,
				      SLOT_PAGES * DTG_PAGE,
				      g->data + 2 * SLOT_PAGES * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_region_bitmap(self->t, data_slot(2), &v));
	EXPECT_EQ(0x40000000, v.gpa);
	EXPECT_EQ(SLOT_PAGES, v.npages);
	EXPECT_EQ(-EEXIST, dirtytrack_region_move(self->t, data_slot(2),
						  dtg_slot_gpa(g, 0)));
	EXPECT_EQ(-EINVAL, dirtytrack_region_move(self->t, data_slot(2), 0x1001));
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(2), 0, SLOT_PAGES,
					     bits, &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(1ULL << 5, bits[0]);

	/* A callback that syncs: the tracker's lock is free during claims. */
	dtg_store_pages(_metadata, g, (const uint32_t[]){ 7 }, 1);
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, lib_sync_in_callback, &s, &n));
	EXPECT_LE(1, n);
}

/*
 * A memslot larger than the region the VMM declared for it: KVM copies the
 * whole memslot's bitmap.  A word more shows in the guard words (an error;
 * the region's own pages still reported); more than the guard holds (one
 * word in the module, a cache line in the library) is an error that
 * reports the whole region dirty, and is never written past the buffer.
 * Both backends, plain and manual protect.
 */
#define BIG_PAGES	1024	/* the memslot: 16 words of bitmap */

FIXTURE(big) {
	struct dt_guest g;
	struct dirtytrack *dt;
	struct dirtytrack_tracker *t;
};

FIXTURE_VARIANT(big) {
	enum dirtytrack_backend backend;
	unsigned int mode;
};

FIXTURE_VARIANT_ADD(big, kernel_bitmap) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .mode = DTG_BITMAP,
};

FIXTURE_VARIANT_ADD(big, user_bitmap) {
	.backend = DIRTYTRACK_BACKEND_USER, .mode = DTG_BITMAP,
};

FIXTURE_VARIANT_ADD(big, kernel_manual) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .mode = DTG_BITMAP | DTG_MANUAL,
};

FIXTURE_VARIANT_ADD(big, user_manual) {
	.backend = DIRTYTRACK_BACKEND_USER, .mode = DTG_BITMAP | DTG_MANUAL,
};

FIXTURE_SETUP(big)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = variant->backend);
	struct dirtytrack_kvm_bitmap_opts b = DIRTYTRACK_OPTS_INIT(
		dirtytrack_kvm_bitmap_opts,
		.manual_protect = variant->mode & DTG_MANUAL);
	int ret;

	dtg_create_vm(_metadata, &self->g, 1, 1, BIG_PAGES, RING_ENTRIES,
		      variant->mode);
	ret = dirtytrack_open(&o, &self->dt);
	ASSERT_EQ(0, ret) TH_LOG("dirtytrack_open: %s", strerror(-ret));
	ASSERT_EQ(0, dirtytrack_tracker_create(self->dt, self->g.vm, &self->t));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DTG_CODE_SLOT, DTG_CODE_GPA,
					   DTG_CODE_SIZE));
	ASSERT_EQ(0, dirtytrack_attach_kvm_bitmap(self->t, &b));
}

FIXTURE_TEARDOWN(big)
{
	dtg_stop(&self->g);
	dirtytrack_tracker_destroy(self->t);
	dirtytrack_close(self->dt);
	dtg_destroy(&self->g);
}

TEST_F(big, a_memslot_larger_than_its_region_loses_nothing)
{
	static const uint32_t far[] = { 10, 200 }, near[] = { 11, 1000 };
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dt_guest *g = &self->g;
	uint64_t bits[BIG_PAGES / 64], claimed;

	/* 64 pages declared of 1024: KVM's copy cannot fit. */
	ASSERT_EQ(0, dirtytrack_region_add(self->t, data_slot(0),
					   dtg_slot_gpa(g, 0), 64 * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(0), 0, 64,
					     bits, &claimed));
	dtg_store_pages(_metadata, g, far, 2);
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_LE(1, st.kvm_bitmap_errors);
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(0), 0, 64,
					     bits, &claimed));
	EXPECT_EQ(64, claimed);

	/* 960 declared: one word more, which holds page 1000. */
	ASSERT_EQ(0, dirtytrack_region_remove(self->t, data_slot(0), NULL, NULL));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, data_slot(0),
					   dtg_slot_gpa(g, 0), 960 * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(0), 0, 960,
					     bits, &claimed));
	dtg_store_pages(_metadata, g, near, 2);
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_LE(1, st.kvm_bitmap_errors);
	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, data_slot(0), 0, 960,
					     bits, &claimed));
	EXPECT_LE(1, claimed);
	EXPECT_EQ(1, bits[0] >> 11 & 1);
}

TEST_HARNESS_MAIN
