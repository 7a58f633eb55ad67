// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker with a real KVM guest: a vCPU stores to a random set of pages
 * of a data memslot, round after round; after each sync the claim reports
 * exactly those pages.  And the tracker's refusals: not a VM, a second
 * tracker, a ring mapped wrong or twice, overlapping regions, another mm.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/wait.h>

#include "dt_guest.h"

#define DATA_SLOT	DTG_FIRST_DATA_SLOT
#define DATA_PAGES	128
#define PAGE		DTG_PAGE

FIXTURE(tracker) {
	struct dt_guest g;
};

FIXTURE_SETUP(tracker)
{
	dtg_create(_metadata, &self->g, 1, 1, DATA_PAGES, 4096);
}

FIXTURE_TEARDOWN(tracker)
{
	dtg_destroy(&self->g);
}

TEST_F(tracker, each_sync_reports_exactly_the_stored_pages)
{
	unsigned int seed = 1234;
	int round;

	for (round = 0; round < 6; round++) {
		uint32_t pages[DATA_PAGES], want[DATA_PAGES] = { 0 };
		uint64_t bitmap[DATA_PAGES / 64], dirty = 0, p, nwant = 0;
		struct dirtytrack_sync s;
		int n = 1 + rand_r(&seed) % 48, i;

		for (i = 0; i < n; i++) {
			pages[i] = rand_r(&seed) % DATA_PAGES;
			nwant += !want[pages[i]];
			want[pages[i]] = 1;
		}
		dtg_store_pages(_metadata, &self->g, pages, n);
		ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
		EXPECT_EQ(0, s.out_invalid);
		EXPECT_EQ(0, s.out_foreign);
		ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
		EXPECT_EQ(nwant, dirty);
		for (p = 0; p < DATA_PAGES; p++)
			EXPECT_EQ(want[p], bitmap[p / 64] >> (p % 64) & 1)
				TH_LOG("round %d page %lu", round, (unsigned long)p);
		/* Claimed: a second claim finds nothing. */
		ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
		EXPECT_EQ(0, dirty);
	}
}

/* Several vCPUs, several memslots: each sync reports exactly the union. */
TEST(several_vcpus_and_slots)
{
	enum { VCPUS = 3, SLOTS = 4, SLOT_PAGES = 32, PAGES = SLOTS * SLOT_PAGES };
	struct dirtytrack_vcpu_stat stats[VCPUS];
	unsigned int seed = 99;
	struct dt_guest g;
	int round;

	dtg_create(_metadata, &g, VCPUS, SLOTS, SLOT_PAGES, 4096);
	for (round = 0; round < 5; round++) {
		struct dirtytrack_sync s = {
			.size = sizeof(s), .nr_vcpu_stats = VCPUS,
			.vcpu_stats = (uintptr_t)stats,
			.vcpu_stat_size = sizeof(stats[0]),
		};
		uint8_t want[PAGES] = { 0 };
		uint64_t bitmap[1], dirty, p, sum = 0;
		int v, i, slot;

		for (v = 0; v < VCPUS; v++) {
			uint32_t pages[24];
			int n = 1 + rand_r(&seed) % 24;

			for (i = 0; i < n; i++) {
				pages[i] = rand_r(&seed) % PAGES;
				want[pages[i]] = 1;
			}
			dtg_vcpu_store_pages(_metadata, &g, v, pages, n);
		}
		ASSERT_EQ(0, ioctl(g.tr, DIRTYTRACK_SYNC, &s));
		EXPECT_EQ(0, s.out_invalid);
		ASSERT_EQ(VCPUS, s.nr_vcpu_stats);
		for (v = 0; v < VCPUS; v++) {
			EXPECT_EQ(v, stats[v].vcpu_id);
			EXPECT_EQ(0, stats[v].overflow);
			sum += stats[v].harvested;
		}
		EXPECT_EQ(s.out_harvested, sum);
		for (slot = 0; slot < SLOTS; slot++) {
			ASSERT_EQ(0, dtt_claim(g.tr, DTG_FIRST_DATA_SLOT + slot, 0,
					       SLOT_PAGES, bitmap, &dirty));
			for (p = 0; p < SLOT_PAGES; p++)
				EXPECT_EQ(want[slot * SLOT_PAGES + p],
					  dtt_bit(bitmap, p))
					TH_LOG("round %d slot %d page %lu", round,
					       slot, (unsigned long)p);
		}
	}

	/* vcpu_stat_size 0 is the first layout: two u32 an element. */
	{
		struct { uint32_t vcpu_id, harvested; } v0[VCPUS + 1];
		struct dirtytrack_sync s = {
			.size = sizeof(s), .nr_vcpu_stats = VCPUS,
			.vcpu_stats = (uintptr_t)v0,
		};
		uint32_t one[] = { 1 };
		int v;

		memset(v0, 0xa5, sizeof(v0));
		dtg_vcpu_store_pages(_metadata, &g, 2, one, 1);
		ASSERT_EQ(0, ioctl(g.tr, DIRTYTRACK_SYNC, &s));
		ASSERT_EQ(VCPUS, s.nr_vcpu_stats);
		for (v = 0; v < VCPUS; v++) {
			EXPECT_EQ(v, v0[v].vcpu_id);
			/* vCPU 2 wrote the page (and any its code wrote). */
			if (v == 2) {
				EXPECT_LE(1, v0[v].harvested);
			} else {
				EXPECT_EQ(0, v0[v].harvested);
			}
		}
		EXPECT_EQ(0xa5a5a5a5, v0[VCPUS].vcpu_id);
	}
	dtg_destroy(&g);
}

/* A moved memslot keeps its bits, and its entries are read right. */
TEST_F(tracker, a_moved_slot_keeps_its_bits)
{
	const uint64_t shift = 256;	/* pages the slot moves up */
	struct dirtytrack_region_move mv = {
		.size = sizeof(mv), .slot_id = DATA_SLOT,
		.new_first_gfn = DTG_DATA_GPA / PAGE + shift,
	};
	uint32_t published[] = { 1 }, pending[] = { 2 };
	uint32_t after[] = { shift + 3, shift + 127 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;
	int ret;

	dtg_store_pages(_metadata, &self->g, published, 1);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	dtg_store_pages(_metadata, &self->g, pending, 1);
	/* Refused moves change nothing. */
	mv.slot_id = 42;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_REGION_MOVE, &mv));
	EXPECT_EQ(ENOENT, errno);
	mv.slot_id = DATA_SLOT;
	mv.new_first_gfn = DTG_CODE_GPA / PAGE;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_REGION_MOVE, &mv));
	EXPECT_EQ(EEXIST, errno);
	mv.new_first_gfn = ~0ULL - 10;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_REGION_MOVE, &mv));
	EXPECT_EQ(EINVAL, errno);

	mv.new_first_gfn = DTG_DATA_GPA / PAGE + shift;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_REGION_MOVE, &mv));
	ret = dtvm_set_memslot(self->g.vm, DATA_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
			       DTG_DATA_GPA + shift * PAGE, DATA_PAGES * PAGE,
			       self->g.data);
	ASSERT_EQ(0, ret) TH_LOG("KVM move: %s", strerror(-ret));
	dtg_store_pages(_metadata, &self->g, after, 2);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_invalid);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(4, dirty);
	EXPECT_EQ((1ULL << 1) | (1ULL << 2) | (1ULL << 3), bitmap[0]);
	EXPECT_EQ(1ULL << 63, bitmap[1]);
}

/*
 * A second tracker (a migration retried after one was cancelled) attaches a
 * ring KVM is half-way through: it must find where KVM is, not start at 0.
 */
TEST(a_new_tracker_follows_kvm_where_it_is)
{
	struct dt_guest g;
	struct dirtytrack_sync s;
	uint32_t pages[100], later[] = { 5, 70 };
	uint64_t bitmap[2], dirty = 0;
	int i;

	dtg_create(_metadata, &g, 1, 1, 128, 4096);
	for (i = 0; i < 100; i++)
		pages[i] = i;
	for (i = 0; i < 3; i++) {	/* KVM's index moves past 300 */
		dtg_store_pages(_metadata, &g, pages, 100);
		ASSERT_EQ(0, dtt_sync(g.tr, &s));
	}
	close(g.tr);
	g.tr = dtt_create(g.dev, g.vm);
	ASSERT_LE(0, g.tr);
	ASSERT_EQ(0, dtt_region_add(g.tr, DTG_CODE_SLOT, DTG_CODE_GPA,
				    DTG_CODE_SIZE / DTG_PAGE));
	ASSERT_EQ(0, dtt_region_add(g.tr, DATA_SLOT, DTG_DATA_GPA, 128));
	ASSERT_EQ(0, dtt_attach_ring(g.tr, g.vcpu[0].vc.ring));

	dtg_store_pages(_metadata, &g, later, 2);
	ASSERT_EQ(0, dtt_sync(g.tr, &s));
	EXPECT_EQ(0, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(g.tr, DATA_SLOT, 0, 128, bitmap, &dirty));
	EXPECT_EQ(2, dirty);
	EXPECT_EQ(1ULL << 5, bitmap[0]);
	EXPECT_EQ(1ULL << 6, bitmap[1]);
	dtg_destroy(&g);
}

TEST_F(tracker, unsynced_pages_wait_for_the_next_sync)
{
	uint32_t pages[] = { 3, 70, 127 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 3);
	/* Nothing is published before a sync has reset the ring. */
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 64, 64, bitmap, &dirty));
	EXPECT_EQ(2, dirty);	/* 70 and 127 */
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, 64, bitmap, &dirty));
	EXPECT_EQ(1, dirty);
	EXPECT_EQ(1ULL << 3, bitmap[0]);
}

/*
 * A reset that KVM ends early (from 6.17, on a signal; here the test
 * hook's model of it): issued again at once, the sync completes, every
 * page is published and nothing counts as foreign.
 */
TEST_F(tracker, a_reset_ended_early_is_issued_again)
{
	uint32_t pages[] = { 4, 5, 99 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 3);
	ASSERT_EQ(0, dtt_hook("reset_partial", 1));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(1, s.out_ring_partial_resets);
	EXPECT_EQ(2, s.out_ring_resets);
	EXPECT_EQ(0, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ((1ULL << 4) | (1ULL << 5), bitmap[0]);
	EXPECT_EQ(1ULL << 35, bitmap[1] & (1ULL << 35));
}

/*
 * A reset KVM keeps ending early: the sync fails (EAGAIN) with nothing
 * published and nothing lost; re-issued, it publishes every page.
 */
TEST_F(tracker, a_reset_that_never_completes_keeps_pages_pending)
{
	uint32_t pages[] = { 4, 5, 99 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 3);
	ASSERT_EQ(0, dtt_hook("reset_partial", 1000));
	EXPECT_EQ(-EAGAIN, dtt_sync(self->g.tr, &s));
	/* Not published: the reset did not complete. */
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
	ASSERT_EQ(0, dtt_hook("reset_partial", 0));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ((1ULL << 4) | (1ULL << 5), bitmap[0]);
	EXPECT_EQ(1ULL << 35, bitmap[1]);
}

TEST_F(tracker, a_foreign_collector_makes_everything_dirty)
{
	uint32_t pages[] = { 9 };
	struct kvm_dirty_gfn *g = self->g.vcpu[0].vc.ring;
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 1);
	/* The VMM harvests behind the tracker's back. */
	ASSERT_NE(0, g[0].flags & KVM_DIRTY_GFN_F_DIRTY);
	__atomic_store_n(&g[0].flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_LT(0, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(DATA_PAGES, dirty);
}

/* The VMM harvests and resets the ring itself: a gap, then more entries. */
TEST_F(tracker, a_harvest_and_reset_behind_its_back_is_found)
{
	struct kvm_dirty_gfn *gfn = self->g.vcpu[0].vc.ring;
	uint32_t first[] = { 1, 2, 3 }, later[] = { 40 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;
	int i, n;

	/* The tracker follows the ring: it has seen entries 0 and 1. */
	dtg_store_pages(_metadata, &self->g, later, 1);
	dtg_store_pages(_metadata, &self->g, first, 1);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_LE(2, s.out_harvested);	/* x86 may log the code page too */
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));

	/* Then the VMM takes the next three stores itself. */
	dtg_store_pages(_metadata, &self->g, first, 3);
	for (i = 0, n = 0; i < (int)self->g.ring_entries; i++) {
		if (__atomic_load_n(&gfn[i].flags, __ATOMIC_ACQUIRE) !=
		    KVM_DIRTY_GFN_F_DIRTY)
			continue;
		__atomic_store_n(&gfn[i].flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		n++;
	}
	ASSERT_LE(3, n);
	ASSERT_LE(3, ioctl(self->g.vm, KVM_RESET_DIRTY_RINGS, 0));
	dtg_store_pages(_metadata, &self->g, later, 1);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_LE(3, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(DATA_PAGES, dirty);
	/* Back in step: the next round is exact again. */
	dtg_store_pages(_metadata, &self->g, first, 2);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_foreign);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(2, dirty);
}

TEST_F(tracker, refusals)
{
	struct dirtytrack_harvest_vcpu hv = { .size = sizeof(hv), .vcpu_id = 3 };
	struct dirtytrack_claim c = { .size = sizeof(c), .slot_id = DATA_SLOT };
	uint64_t bitmap[2];
	int null = open("/dev/null", O_RDWR);

	EXPECT_EQ(-EBADF, dtt_create(self->g.dev, null));
	EXPECT_EQ(-EBADF, dtt_create(self->g.dev, self->g.kvm));
	EXPECT_EQ(-EBADF, dtt_create(self->g.dev, 9999));
	EXPECT_EQ(-EEXIST, dtt_create(self->g.dev, self->g.vm));
	EXPECT_EQ(-EEXIST, dtt_attach_ring(self->g.tr, self->g.vcpu[0].vc.ring));
	EXPECT_EQ(-EINVAL, dtt_attach_ring(self->g.tr, self->g.data));
	EXPECT_EQ(-EINVAL, dtt_attach_ring(self->g.tr, (char *)self->g.vcpu[0].vc.ring + 4096));
	EXPECT_EQ(-EEXIST, dtt_region_add(self->g.tr, DATA_SLOT, 0x40000000, 1));
	EXPECT_EQ(-EEXIST, dtt_region_add(self->g.tr, 5, DTG_DATA_GPA + PAGE, 1));
	EXPECT_EQ(-EINVAL, dtt_region_add(self->g.tr, 6, 0x40000000, 0));
	EXPECT_EQ(-EINVAL, dtt_region_add(self->g.tr, 6, 0x40000000, 1ULL << 40));
	/* A vCPU whose ring is not attached. */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_HARVEST_VCPU, &hv));
	EXPECT_EQ(ENOENT, errno);
	c.bitmap = (uintptr_t)bitmap;
	c.npages = 64;
	c.first_page = 1;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.first_page = 0;
	c.slot_id = 42;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(ENOENT, errno);
	c.slot_id = DATA_SLOT;
	c.bitmap = 8;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EFAULT, errno);
	c.flags = 1;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(null);
}

TEST_F(tracker, a_claim_that_faults_loses_nothing)
{
	uint32_t pages[] = { 1, 2, 100 };
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = DATA_SLOT, .npages = DATA_PAGES,
		.bitmap = 8,
	};
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 3);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(3, dirty);
}

TEST_F(tracker, another_process_is_refused)
{
	struct dirtytrack_sync s;
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(dtt_sync(self->g.tr, &s) == -EPERM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, dtt_sync(self->g.tr, &s));
}

TEST_F(tracker, the_vm_fd_closed_first_is_safe)
{
	uint32_t pages[] = { 5 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 1);
	close(self->g.vcpu[0].vc.fd);
	close(self->g.vm);
	self->g.vcpu[0].vc.fd = -1;
	self->g.vm = -1;
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(1, dirty);
}

/* A claim whose buffer faults after its first chunk loses nothing. */
TEST_F(tracker, a_claim_faulting_partway_loses_nothing)
{
	const uint64_t npages = 65536;	/* two claim chunks of 32768 */
	struct dirtytrack_start st = {
		.size = sizeof(st), .flags = DIRTYTRACK_START_ALL_DIRTY,
	};
	uint64_t *buf, dirty = 0;
	uint8_t *two;

	/* A region that starts all dirty; no memslot is needed for that. */
	ASSERT_EQ(0, dtt_region_add(self->g.tr, 9, 0x80000000ULL, npages));
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_START, &st));
	/* The first 4 KiB of the bitmap buffer exist, the next do not. */
	two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mprotect(two + 4096, 4096, PROT_NONE));
	EXPECT_EQ(-EFAULT, dtt_claim(self->g.tr, 9, 0, npages, (uint64_t *)two,
				     &dirty));
	buf = calloc(npages / 64, sizeof(uint64_t));
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, dtt_claim(self->g.tr, 9, 0, npages, buf, &dirty));
	EXPECT_EQ(npages, dirty);
	free(buf);
	munmap(two, 8192);
}

TEST_F(tracker, removing_a_region_harvests_first)
{
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DATA_SLOT,
	};
	uint32_t pages[] = { 7 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 1);
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_REGION_REMOVE, &rm));
	/* The entry was taken while its slot existed: nothing invalid later. */
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_invalid);
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_REGION_REMOVE, &rm));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, dtt_claim(self->g.tr, DATA_SLOT, 0, 64, bitmap, &dirty));
}

/*
 * A memslot deleted only to be created again: the removal hands back the
 * region's last bits, the ring's unsynced entries included; a bitmap the
 * kernel cannot write keeps the region, bits and all.
 */
TEST_F(tracker, removal_hands_back_the_last_bits)
{
	uint64_t bitmap[DATA_PAGES / 64] = { 0 }, dirty = 0;
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DATA_SLOT,
		.bitmap = (uintptr_t)8,
	};
	uint32_t pages[] = { 3, 64, 100 };
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, &self->g, pages, 2);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	dtg_store_pages(_metadata, &self->g, pages + 2, 1);
	/* Unwritable bitmap: refused, the region and its bits stay. */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_REGION_REMOVE, &rm));
	EXPECT_EQ(EFAULT, errno);
	rm.bitmap = (uintptr_t)bitmap;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_REGION_REMOVE, &rm));
	EXPECT_EQ(3, rm.out_dirty);
	EXPECT_EQ(1ULL << 3, bitmap[0]);
	EXPECT_EQ(1ULL | 1ULL << (100 - 64), bitmap[1]);
	EXPECT_EQ(-ENOENT, dtt_claim(self->g.tr, DATA_SLOT, 0, 64, bitmap, &dirty));
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/* Read *p; return the signal that stopped it, or 0. */
static int touch(volatile uint64_t *p)
{
	struct sigaction sa = { .sa_handler = fault_handler }, obus, osegv;
	int sig;

	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig)
		(void)*p;
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}

static void *map_region(struct dirtytrack_region *r, int tr)
{
	return mmap(NULL, r->out_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    tr, r->out_mmap_offset);
}

TEST_F(tracker, claims_through_the_mapping)
{
	struct dirtytrack_region *r = &self->g.region[0];
	uint32_t pages[] = { 0, 63, 64, 127, 77 };
	uint64_t got[2], bitmap[2], dirty = 0;
	struct dirtytrack_sync s;
	uint8_t *map = map_region(r, self->g.tr);

	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, r->out_mmap_offset % getpagesize());
	EXPECT_LT(0, r->out_summary_offset);
	dtg_store_pages(_metadata, &self->g, pages, 5);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(5, dtt_mmap_claim(map, r, got));
	EXPECT_EQ((1ULL << 0) | (1ULL << 63), got[0]);
	EXPECT_EQ((1ULL << 0) | (1ULL << 63) | (1ULL << 13), got[1]);
	/* One set, two views: the ioctl finds them claimed. */
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
	/* And what the ioctl claims, the mapping no longer shows. */
	dtg_store_pages(_metadata, &self->g, pages, 2);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_claim(self->g.tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(2, dirty);
	EXPECT_EQ(0, dtt_mmap_claim(map, r, got));
	munmap(map, r->out_mmap_size);
}

TEST_F(tracker, removing_a_mapped_region_unmaps_it)
{
	struct dirtytrack_region *r = &self->g.region[0];
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DATA_SLOT,
	};
	volatile uint64_t *map = map_region(r, self->g.tr);

	ASSERT_NE(MAP_FAILED, (void *)map);
	EXPECT_EQ(0, touch(map));		/* faulted in */
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_REGION_REMOVE, &rm));
	/* The pages are gone from the mapping before they were freed. */
	EXPECT_EQ(SIGBUS, touch(map));
	EXPECT_EQ(SIGBUS, touch(map + r->out_summary_offset / 8));
	/* A region added again gets a new offset; the old one stays dead. */
	ASSERT_EQ(0, dtt_region_add(self->g.tr, DATA_SLOT, DTG_DATA_GPA, DATA_PAGES));
	EXPECT_EQ(SIGBUS, touch(map));
	munmap((void *)map, r->out_mmap_size);
}

TEST_F(tracker, mapping_refusals)
{
	struct dirtytrack_region *r = &self->g.region[0];
	volatile uint64_t *map;
	int status;
	pid_t pid;

	map = mmap(NULL, r->out_mmap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		   self->g.tr, r->out_mmap_offset);
	EXPECT_EQ(MAP_FAILED, (void *)map);
	EXPECT_EQ(EINVAL, errno);
	/* Past every region: it maps, but there is nothing to touch. */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->g.tr, 1UL << 40);
	ASSERT_NE(MAP_FAILED, (void *)map);
	EXPECT_EQ(SIGBUS, touch(map));
	munmap((void *)map, 4096);

	map = map_region(r, self->g.tr);
	ASSERT_NE(MAP_FAILED, (void *)map);
	EXPECT_EQ(0, touch(map));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Not inherited, and not mappable from here. */
		if (touch(map) != SIGSEGV)
			_exit(1);
		_exit(map_region(r, self->g.tr) == MAP_FAILED && errno == EPERM ?
		      0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x", status);
	munmap((void *)map, r->out_mmap_size);
}

static int start_stop(int tr, unsigned long cmd, uint32_t flags)
{
	struct dirtytrack_start st = { .size = sizeof(st), .flags = flags };

	return ioctl(tr, cmd, &st) ? -errno : 0;
}

TEST_F(tracker, start_and_stop)
{
	uint64_t bitmap[2], dirty = 0;
	int tr = self->g.tr;

	EXPECT_EQ(-EINVAL, start_stop(tr, DIRTYTRACK_STOP, 0));
	EXPECT_EQ(-EOPNOTSUPP, start_stop(tr, DIRTYTRACK_START, 1u << 1));
	ASSERT_EQ(0, start_stop(tr, DIRTYTRACK_START, DIRTYTRACK_START_ALL_DIRTY));
	/* The first round sends everything. */
	ASSERT_EQ(0, dtt_claim(tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(DATA_PAGES, dirty);
	EXPECT_EQ(-EBUSY, start_stop(tr, DIRTYTRACK_START, 0));
	/* Memory hotplugged while tracking starts all dirty... */
	ASSERT_EQ(0, dtt_region_add(tr, 7, 0x40000000, 100));
	ASSERT_EQ(0, dtt_claim(tr, 7, 0, 100, bitmap, &dirty));
	EXPECT_EQ(100, dirty);
	EXPECT_EQ(-EOPNOTSUPP, start_stop(tr, DIRTYTRACK_STOP, 1));
	ASSERT_EQ(0, start_stop(tr, DIRTYTRACK_STOP, 0));
	EXPECT_EQ(-EINVAL, start_stop(tr, DIRTYTRACK_STOP, 0));
	/* ...and after the stop, clean. */
	ASSERT_EQ(0, dtt_region_add(tr, 8, 0x50000000, 100));
	ASSERT_EQ(0, dtt_claim(tr, 8, 0, 100, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
	/* Started again without ALL_DIRTY: nothing is made up. */
	ASSERT_EQ(0, start_stop(tr, DIRTYTRACK_START, 0));
	ASSERT_EQ(0, dtt_claim(tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
}

/*
 * KVM lets a VMM map a prefix of a vCPU's ring, and the module took a
 * ring's size from the mapping: a 256-entry mapping of a 1024-entry ring
 * walked a quarter of it, and the pages of the entries past it were lost
 * with no error (and the ring wedged).  The page past the mapping is
 * served by KVM there: the attach is refused; the whole ring is taken.
 */
TEST_F(tracker, a_ring_mapped_in_part_is_refused)
{
	struct dt_guest g2;
	size_t ring = 1024 * sizeof(struct kvm_dirty_gfn);
	void *prefix;
	int tr;

	dtg_create_vm(_metadata, &g2, 1, 1, 64, 1024, DTG_RING);
	tr = dtt_create(self->g.dev, g2.vm);
	ASSERT_LE(0, tr);
	prefix = mmap(NULL, ring / 4, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g2.vcpu[0].vc.fd, KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
	ASSERT_NE(MAP_FAILED, prefix);
	EXPECT_EQ(-EINVAL, dtt_attach_ring(tr, prefix));
	EXPECT_EQ(0, dtt_attach_ring(tr, g2.vcpu[0].vc.ring));
	munmap(prefix, ring / 4);
	close(tr);
	dtg_destroy(&g2);
}

/*
 * A VMM zeroes the entry at KVM's reset index (it wrote its ring, against
 * the rules): KVM's reset can never move past it, and the vCPU would exit
 * RING_FULL for good.  A sync says so (ENOSPC) instead of looping, and so
 * does the vCPU's harvest; the pages it took stay pending.
 */
TEST_F(tracker, a_ring_whose_reset_cannot_move_is_enospc)
{
	struct dirtytrack_harvest_vcpu hv = { .size = sizeof(hv) };
	struct kvm_dirty_gfn *g = self->g.vcpu[0].vc.ring;
	uint32_t pages[] = { 1, 2, 3, 40, 41 };
	struct dirtytrack_sync s;

	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	dtg_store_pages(_metadata, &self->g, pages, 5);
	g[0].flags = 0;
	EXPECT_EQ(-ENOSPC, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_HARVEST_VCPU, &hv));
	EXPECT_EQ(ENOSPC, errno);
}

TEST_F(tracker, unknown_flags_are_eopnotsupp_everywhere)
{
	static const struct {
		unsigned long cmd;
		uint32_t size;
	} ops[] = {
		{ DIRTYTRACK_REGION_ADD, sizeof(struct dirtytrack_region) },
		{ DIRTYTRACK_REGION_REMOVE, sizeof(struct dirtytrack_region_remove) },
		{ DIRTYTRACK_REGION_MOVE, sizeof(struct dirtytrack_region_move) },
		{ DIRTYTRACK_ATTACH_RING, sizeof(struct dirtytrack_attach_ring) },
		{ DIRTYTRACK_SYNC, sizeof(struct dirtytrack_sync) },
		{ DIRTYTRACK_CLAIM, sizeof(struct dirtytrack_claim) },
		{ DIRTYTRACK_HARVEST_VCPU, sizeof(struct dirtytrack_harvest_vcpu) },
		{ DIRTYTRACK_START, sizeof(struct dirtytrack_start) },
		{ DIRTYTRACK_STOP, sizeof(struct dirtytrack_stop) },
	};
	uint32_t buf[32];
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = ops[i].size;
		buf[1] = 1u << 31;
		EXPECT_EQ(-1, ioctl(self->g.tr, ops[i].cmd, buf));
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("ioctl %zu", i);
	}
	/* The device's own ioctls answer only on the device. */
	buf[0] = sizeof(struct dirtytrack_create);
	buf[1] = 0;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_CREATE, buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->g.dev, DIRTYTRACK_SYNC, buf));
	EXPECT_EQ(ENOTTY, errno);
}

/* The lowest free fd number: where the next new fd would go. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * A reply the VMM cannot receive (its struct is read-only) installs no fd:
 * the VMM could not know it, and a tracker left behind would refuse every
 * retry (EEXIST).  The same for the vmm log's fd.
 */
TEST_F(tracker, a_reply_that_faults_installs_no_fd)
{
	struct dirtytrack_create *c;
	struct dirtytrack_vmm_log_fd *l;
	int before, tr;
	void *page;

	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);

	/* The fixture's tracker goes first: the VM takes one tracker. */
	close(self->g.tr);
	self->g.tr = -1;
	c = page;
	*c = (struct dirtytrack_create){ .size = sizeof(*c), .vm_fd = self->g.vm };
	ASSERT_EQ(0, mprotect(page, PAGE, PROT_READ));
	before = lowest_free_fd();
	EXPECT_EQ(-1, ioctl(self->g.dev, DIRTYTRACK_CREATE, c));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(before, lowest_free_fd());
	/* Nothing left behind: the VM takes a tracker again. */
	tr = dtt_create(self->g.dev, self->g.vm);
	ASSERT_LE(0, tr) TH_LOG("create after a faulting reply: %s",
				strerror(-tr));
	self->g.tr = tr;

	ASSERT_EQ(0, mprotect(page, PAGE, PROT_READ | PROT_WRITE));
	l = page;
	*l = (struct dirtytrack_vmm_log_fd){ .size = sizeof(*l) };
	ASSERT_EQ(0, mprotect(page, PAGE, PROT_READ));
	before = lowest_free_fd();
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_VMM_LOG_FD, l));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(before, lowest_free_fd());
	munmap(page, PAGE);

	/* The tracker still works, and gives the fd to a reply that lands. */
	{
		struct dirtytrack_vmm_log_fd ok = { .size = sizeof(ok) };

		ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_VMM_LOG_FD, &ok));
		EXPECT_EQ(before, ok.out_fd);
		close(ok.out_fd);
	}
}

static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* Ring pins count against RLIMIT_MEMLOCK. */
TEST_F(tracker, ring_pins_count_against_memlock)
{
	size_t ring_bytes = dtvm_ring_bytes(self->g.ring_entries);
	struct rlimit none = { 0, RLIM_INFINITY }, all = { RLIM_INFINITY, RLIM_INFINITY };
	struct dtvm_vcpu v;
	long before;

	/* The fixture's ring is pinned and counted already. */
	EXPECT_LE((long)(ring_bytes / 1024), vm_locked_kb());

	ASSERT_EQ(0, dtvm_vcpu_create(&v, self->g.kvm, self->g.vm, 1));
	ASSERT_EQ(0, dtvm_vcpu_map_ring(&v, self->g.ring_entries));

	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &none));
	before = vm_locked_kb();
	EXPECT_EQ(-ENOMEM, dtt_attach_ring(self->g.tr, v.ring));
	EXPECT_EQ(before, vm_locked_kb());	/* nothing left counted */

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &all));
	EXPECT_EQ(0, dtt_attach_ring(self->g.tr, v.ring));
	EXPECT_EQ(before + (long)(ring_bytes / 1024), vm_locked_kb());
	dtvm_vcpu_destroy(&v);
}

TEST_F(tracker, module_unload_is_refused_while_a_tracker_exists)
{
	/* Only the tracker holds the module now. */
	close(self->g.dev);
	self->g.dev = -1;
	EXPECT_EQ(-1, syscall(SYS_delete_module, "dirtytrack", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_EQ(0, access("/dev/dirtytrack", F_OK));
}

/* A VMM killed while it syncs with its guest running leaks nothing. */
TEST(sigkill_mid_sync)
{
	int round;

	for (round = 0; round < 3; round++) {
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (!pid) {
			struct dt_guest g;
			struct dirtytrack_sync s;

			dtg_create(_metadata, &g, 2, 2, 64, 4096);
			dtg_start_sweep(_metadata, &g);
			for (;;)
				dtt_sync(g.tr, &s);
		}
		usleep(100000 + round * 150000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	/* The module still serves a new VMM. */
	{
		struct dt_guest g;
		struct dirtytrack_sync s;

		dtg_create(_metadata, &g, 1, 1, 8, 4096);
		EXPECT_EQ(0, dtt_sync(g.tr, &s));
		dtg_destroy(&g);
	}
}

TEST_HARNESS_MAIN
