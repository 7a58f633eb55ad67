// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker with a real KVM guest: a vCPU stores to a random set of pages
 * of a data memslot, round after round; after each sync the claim reports
 * exactly those pages.  And the tracker's refusals: not a VM, a second
 * tracker, a ring mapped wrong or twice, overlapping regions, another mm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dirtytrack.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

#define RING_ENTRIES	4096
#define CODE_SLOT	0
#define CODE_SIZE	0x10000
#define DATA_SLOT	1
#define DATA_PAGES	128
#define PAGE		4096

#if defined(__x86_64__)
#define CODE_GPA	0x0
#define ENTRY		0x1000
#define DATA_GPA	0x20000
#define RING_CAP	KVM_CAP_DIRTY_LOG_RING
#elif defined(__aarch64__)
#define CODE_GPA	0x10000000
#define ENTRY		(CODE_GPA + 0x1000)
#define DATA_GPA	0x10100000
#define RING_CAP	KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#define DONE_MMIO	0x20000000
#endif

FIXTURE(tracker) {
	int kvm, vm, vcpu, dev, tr;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *code, *data;
	void *ring;
};

static void map_slot(struct __test_metadata *_metadata, int vm, uint32_t slot,
		     uint64_t gpa, uint64_t size, uint8_t **mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = gpa, .memory_size = size,
	};

	*mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, *mem);
	r.userspace_addr = (uintptr_t)*mem;
	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r));
}

static int region_add(int tr, uint16_t slot, uint64_t gpa, uint64_t npages)
{
	struct dirtytrack_region r = {
		.size = sizeof(r), .slot_id = slot,
		.first_gfn = gpa / PAGE, .npages = npages,
	};

	return ioctl(tr, DIRTYTRACK_REGION_ADD, &r) ? -errno : 0;
}

static int attach_ring(int tr, void *ring)
{
	struct dirtytrack_attach_ring a = {
		.size = sizeof(a), .ring_addr = (uintptr_t)ring,
	};

	return ioctl(tr, DIRTYTRACK_ATTACH_RING, &a) ? -errno : 0;
}

static int create_tracker(int dev, int vm)
{
	struct dirtytrack_create c = { .size = sizeof(c), .vm_fd = vm };

	return ioctl(dev, DIRTYTRACK_CREATE, &c) ? -errno : (int)c.out_tracker_fd;
}

FIXTURE_SETUP(tracker)
{
	struct kvm_enable_cap cap = {
		.cap = RING_CAP,
		.args[0] = RING_ENTRIES * sizeof(struct kvm_dirty_gfn),
	};

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->kvm);
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm);
	ASSERT_EQ(0, ioctl(self->vm, KVM_ENABLE_CAP, &cap));
	map_slot(_metadata, self->vm, CODE_SLOT, CODE_GPA, CODE_SIZE, &self->code);
	map_slot(_metadata, self->vm, DATA_SLOT, DATA_GPA, DATA_PAGES * PAGE,
		 &self->data);
	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu);
	self->run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);
	self->ring = mmap(NULL, RING_ENTRIES * sizeof(struct kvm_dirty_gfn),
			  PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu,
			  KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
	ASSERT_NE(MAP_FAILED, self->ring);

	self->dev = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->tr = create_tracker(self->dev, self->vm);
	ASSERT_LE(0, self->tr) TH_LOG("create: %s", strerror(-self->tr));
	ASSERT_EQ(0, region_add(self->tr, CODE_SLOT, CODE_GPA, CODE_SIZE / PAGE));
	ASSERT_EQ(0, region_add(self->tr, DATA_SLOT, DATA_GPA, DATA_PAGES));
	ASSERT_EQ(0, attach_ring(self->tr, self->ring));
}

FIXTURE_TEARDOWN(tracker)
{
	close(self->tr);
	close(self->dev);
	munmap(self->ring, RING_ENTRIES * sizeof(struct kvm_dirty_gfn));
	munmap(self->run, self->run_size);
	close(self->vcpu);
	close(self->vm);
	close(self->kvm);
	munmap(self->code, CODE_SIZE);
	munmap(self->data, DATA_PAGES * PAGE);
}

#if defined(__x86_64__)
/* Real mode, per page: mov ax, 0x5a; mov bx, seg; mov ds, bx; mov [0], al */
static void run_guest_storing(struct __test_metadata *_metadata,
			      FIXTURE_DATA(tracker) *self,
			      const uint8_t *pages, int n)
{
	struct kvm_regs regs = { .rip = ENTRY, .rflags = 2 };
	struct kvm_sregs sregs;
	uint8_t *c = self->code + ENTRY;
	int i;

	for (i = 0; i < n; i++) {
		uint16_t seg = (DATA_GPA >> 4) + pages[i] * (PAGE >> 4);
		uint8_t ins[] = { 0xb8, 0x5a, 0x00, 0xbb, seg & 0xff, seg >> 8,
				  0x8e, 0xdb, 0xa2, 0x00, 0x00 };

		memcpy(c, ins, sizeof(ins));
		c += sizeof(ins);
	}
	*c = 0xf4;	/* hlt */
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = sregs.ds.base = 0;
	sregs.cs.selector = sregs.ds.selector = 0;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, self->run->exit_reason);
}
#else
#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     (offsetof(struct kvm_regs, x) / sizeof(__u32)))

/* MMU off, per page: x1 = address; str x0, [x1]; then an MMIO store. */
static void run_guest_storing(struct __test_metadata *_metadata,
			      FIXTURE_DATA(tracker) *self,
			      const uint8_t *pages, int n)
{
	uint32_t *c = (uint32_t *)(self->code + (ENTRY - CODE_GPA));
	static bool inited;
	uint64_t pc = ENTRY;
	struct kvm_one_reg reg = { .id = CORE_REG(regs.pc), .addr = (uintptr_t)&pc };
	struct kvm_vcpu_init init;
	int i;

	*c++ = 0xd2800840;				/* movz x0, #0x42 */
	for (i = 0; i < n; i++) {
		uint32_t a = DATA_GPA + pages[i] * PAGE;

		*c++ = 0xd2800000 | (a & 0xffff) << 5 | 1;	/* movz x1 */
		*c++ = 0xf2a00000 | (a >> 16) << 5 | 1;	/* movk x1, lsl 16 */
		*c++ = 0xf9000020;			/* str x0, [x1] */
	}
	*c++ = 0xd2a40003;				/* movz x3, DONE_MMIO */
	*c++ = 0xf9000060;				/* str x0, [x3] */
	*c++ = 0x14000000;				/* b . */
	__builtin___clear_cache((char *)self->code, (char *)c);

	if (!inited) {
		ASSERT_EQ(0, ioctl(self->vm, KVM_ARM_PREFERRED_TARGET, &init));
		ASSERT_EQ(0, ioctl(self->vcpu, KVM_ARM_VCPU_INIT, &init));
		inited = true;
	}
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_ONE_REG, &reg));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_MMIO, self->run->exit_reason);
	ASSERT_EQ(DONE_MMIO, self->run->mmio.phys_addr);
}
#endif

static int sync_tracker(int tr, struct dirtytrack_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	return ioctl(tr, DIRTYTRACK_SYNC, s) ? -errno : 0;
}

static int claim(int tr, uint16_t slot, uint64_t first, uint64_t n,
		 uint64_t *bitmap, uint64_t *dirty)
{
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = slot, .first_page = first,
		.npages = n, .bitmap = (uintptr_t)bitmap,
	};

	if (ioctl(tr, DIRTYTRACK_CLAIM, &c))
		return -errno;
	*dirty = c.out_dirty;
	return 0;
}

TEST_F(tracker, each_sync_reports_exactly_the_stored_pages)
{
	unsigned int seed = 1234;
	int round;

	for (round = 0; round < 6; round++) {
		uint8_t pages[DATA_PAGES], want[DATA_PAGES] = { 0 };
		uint64_t bitmap[DATA_PAGES / 64], dirty = 0, p, nwant = 0;
		struct dirtytrack_sync s;
		int n = 1 + rand_r(&seed) % 48, i;

		for (i = 0; i < n; i++) {
			pages[i] = rand_r(&seed) % DATA_PAGES;
			nwant += !want[pages[i]];
			want[pages[i]] = 1;
		}
		run_guest_storing(_metadata, self, pages, n);
		ASSERT_EQ(0, sync_tracker(self->tr, &s));
		EXPECT_EQ(0, s.out_invalid);
		EXPECT_EQ(0, s.out_foreign);
		ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
		EXPECT_EQ(nwant, dirty);
		for (p = 0; p < DATA_PAGES; p++)
			EXPECT_EQ(want[p], bitmap[p / 64] >> (p % 64) & 1)
				TH_LOG("round %d page %lu", round, (unsigned long)p);
		/* Claimed: a second claim finds nothing. */
		ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
		EXPECT_EQ(0, dirty);
	}
}

TEST_F(tracker, unsynced_pages_wait_for_the_next_sync)
{
	uint8_t pages[] = { 3, 70, 127 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	run_guest_storing(_metadata, self, pages, 3);
	/* Nothing is published before a sync has reset the ring. */
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(0, dirty);
	ASSERT_EQ(0, sync_tracker(self->tr, &s));
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 64, 64, bitmap, &dirty));
	EXPECT_EQ(2, dirty);	/* 70 and 127 */
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, 64, bitmap, &dirty));
	EXPECT_EQ(1, dirty);
	EXPECT_EQ(1ULL << 3, bitmap[0]);
}

TEST_F(tracker, a_foreign_collector_makes_everything_dirty)
{
	uint8_t pages[] = { 9 };
	struct kvm_dirty_gfn *g = self->ring;
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	run_guest_storing(_metadata, self, pages, 1);
	/* The VMM harvests behind the tracker's back. */
	ASSERT_NE(0, g[0].flags & KVM_DIRTY_GFN_F_DIRTY);
	__atomic_store_n(&g[0].flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
	ASSERT_EQ(0, sync_tracker(self->tr, &s));
	EXPECT_LT(0, s.out_foreign);
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(DATA_PAGES, dirty);
}

TEST_F(tracker, refusals)
{
	struct dirtytrack_claim c = { .size = sizeof(c), .slot_id = DATA_SLOT };
	uint64_t bitmap[2];
	int null = open("/dev/null", O_RDWR);

	EXPECT_EQ(-EBADF, create_tracker(self->dev, null));
	EXPECT_EQ(-EBADF, create_tracker(self->dev, self->kvm));
	EXPECT_EQ(-EBADF, create_tracker(self->dev, 9999));
	EXPECT_EQ(-EEXIST, create_tracker(self->dev, self->vm));
	EXPECT_EQ(-EEXIST, attach_ring(self->tr, self->ring));
	EXPECT_EQ(-EINVAL, attach_ring(self->tr, self->data));
	EXPECT_EQ(-EINVAL, attach_ring(self->tr, (char *)self->ring + 4096));
	EXPECT_EQ(-EEXIST, region_add(self->tr, DATA_SLOT, 0x40000000, 1));
	EXPECT_EQ(-EEXIST, region_add(self->tr, 5, DATA_GPA + PAGE, 1));
	EXPECT_EQ(-EINVAL, region_add(self->tr, 6, 0x40000000, 0));
	EXPECT_EQ(-EINVAL, region_add(self->tr, 6, 0x40000000, 1ULL << 40));
	c.bitmap = (uintptr_t)bitmap;
	c.npages = 64;
	c.first_page = 1;
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EINVAL, errno);
	c.first_page = 0;
	c.slot_id = 42;
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(ENOENT, errno);
	c.slot_id = DATA_SLOT;
	c.bitmap = 8;
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EFAULT, errno);
	c.flags = 1;
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(null);
}

TEST_F(tracker, a_claim_that_faults_loses_nothing)
{
	uint8_t pages[] = { 1, 2, 100 };
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = DATA_SLOT, .npages = DATA_PAGES,
		.bitmap = 8,
	};
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	run_guest_storing(_metadata, self, pages, 3);
	ASSERT_EQ(0, sync_tracker(self->tr, &s));
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_CLAIM, &c));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(3, dirty);
}

TEST_F(tracker, another_process_is_refused)
{
	struct dirtytrack_sync s;
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(sync_tracker(self->tr, &s) == -EPERM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, sync_tracker(self->tr, &s));
}

TEST_F(tracker, the_vm_fd_closed_first_is_safe)
{
	uint8_t pages[] = { 5 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	run_guest_storing(_metadata, self, pages, 1);
	close(self->vcpu);
	close(self->vm);
	self->vcpu = self->vm = -1;
	ASSERT_EQ(0, sync_tracker(self->tr, &s));
	ASSERT_EQ(0, claim(self->tr, DATA_SLOT, 0, DATA_PAGES, bitmap, &dirty));
	EXPECT_EQ(1, dirty);
}

TEST_F(tracker, removing_a_region_harvests_first)
{
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DATA_SLOT,
	};
	uint8_t pages[] = { 7 };
	uint64_t bitmap[2], dirty = 0;
	struct dirtytrack_sync s;

	run_guest_storing(_metadata, self, pages, 1);
	ASSERT_EQ(0, ioctl(self->tr, DIRTYTRACK_REGION_REMOVE, &rm));
	/* The entry was taken while its slot existed: nothing invalid later. */
	ASSERT_EQ(0, sync_tracker(self->tr, &s));
	EXPECT_EQ(0, s.out_invalid);
	EXPECT_EQ(-1, ioctl(self->tr, DIRTYTRACK_REGION_REMOVE, &rm));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, claim(self->tr, DATA_SLOT, 0, 64, bitmap, &dirty));
}

TEST_HARNESS_MAIN
