// SPDX-License-Identifier: GPL-2.0
/*
 * The iommu source against the real iommufd dirty-tracking code, with the
 * iommufd mock (CONFIG_IOMMUFD_TEST) as the IOMMU: a mock device attached
 * to a HWPT allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, guest memory
 * mapped into its IOAS, IOMMU_TEST_OP_DIRTY playing the device's DMA.  A
 * real KVM guest writes through its ring into the same tracker.
 *
 * Skips where there is no /dev/iommu (the Debian kernels); the debug
 * guest must run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "dt_guest.h"
#include "dt_mock_iommu.h"

FIXTURE(iommu) {
	struct dt_guest g;
	struct mock m;
	uint8_t *dma;
	uint8_t *scratch;
	size_t scratch_size;
	struct dirtytrack_iommu_map map;
	uint32_t source_id;
};

FIXTURE_VARIANT(iommu) {
	uint64_t iova;		/* where the DMA slot is in IOVA space */
	uint32_t dev_flags;
	uint32_t calls;		/* IOMMU_HWPT_GET_DIRTY_BITMAP calls per sync */
};

/* IOVA == GPA: every region read, one call per GPA run (there are 3). */
FIXTURE_VARIANT_ADD(iommu, identity) {
	.iova = DMA_GPA, .calls = 3,
};

/* A vIOMMU: the DMA slot at another IOVA, one map entry, one call. */
FIXTURE_VARIANT_ADD(iommu, remapped) {
	.iova = 0x4000000, .calls = 1,
};

/* Huge IO pages (1 MiB): the IOMMU reports whole huge pages. */
FIXTURE_VARIANT_ADD(iommu, huge_io_pages) {
	.iova = DMA_GPA, .dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA, .calls = 3,
};

FIXTURE_SETUP(iommu)
{
	if (access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu (iommufd) in this kernel");
	dtg_create(_metadata, &self->g, 1, 1, 256, 4096);
	self->dma = dma_alloc();
	ASSERT_NE(MAP_FAILED, self->dma);
	ASSERT_EQ(0, dtvm_set_memslot(self->g.vm, DMA_SLOT,
				      KVM_MEM_LOG_DIRTY_PAGES, DMA_GPA, DMA_LEN,
				      self->dma));
	ASSERT_EQ(0, dtt_region_add(self->g.tr, DMA_SLOT, DMA_GPA, DMA_PAGES));

	ASSERT_EQ(0, mock_create(&self->m, variant->dev_flags));
	/* Huge IO pages where the variant wants them, else host pages. */
	if (variant->dev_flags & MOCK_FLAGS_DEVICE_HUGE_IOVA) {
		ASSERT_EQ(0, mock_map(&self->m, self->dma, DMA_LEN,
				      variant->iova));
	} else {
		ASSERT_EQ(0, mock_map_small(&self->m, self->dma, DMA_LEN,
					    variant->iova));
	}
	if (variant->iova == DMA_GPA)
		ASSERT_EQ(0, mock_map_guest(&self->m, &self->g));
	self->map = (struct dirtytrack_iommu_map){
		.iova = variant->iova, .gpa = DMA_GPA, .length = DMA_LEN,
	};
	/* 1 GiB of bits at least, ending on a page. */
	self->scratch_size = 64 * 1024;
	self->scratch = mmap(NULL, self->scratch_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->scratch);
}

FIXTURE_TEARDOWN(iommu)
{
	dtg_destroy(&self->g);
	if (self->m.fd > 0)
		close(self->m.fd);
	if (self->dma && self->dma != MAP_FAILED)
		munmap(self->dma, DMA_LEN);
	if (self->scratch && self->scratch != MAP_FAILED)
		munmap(self->scratch, self->scratch_size);
}

static int attach_hwpt(FIXTURE_DATA(iommu) *self, bool identity, uint32_t flags,
		       uint32_t hwpt_id)
{
	struct dirtytrack_attach_iommu a = {
		.size = sizeof(a), .flags = flags, .iommufd = self->m.fd,
		.hwpt_id = hwpt_id, .nr_maps = identity ? 0 : 1,
		.maps = (uintptr_t)&self->map,
		.scratch_addr = (uintptr_t)self->scratch,
		.scratch_size = self->scratch_size,
	};

	if (ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a))
		return -errno;
	self->source_id = a.out_source_id;
	return 0;
}

static int attach(FIXTURE_DATA(iommu) *self,
		  const FIXTURE_VARIANT(iommu) *variant, uint32_t flags)
{
	return attach_hwpt(self, variant->iova == DMA_GPA, flags,
			   self->m.hwpt_id);
}

/* The pages a device write to @pages dirties, huge IO pages included. */
static void dma_want(const FIXTURE_VARIANT(iommu) *variant,
		     const uint32_t *pages, int n, uint8_t *want)
{
	int i, p;

	for (i = 0; i < n; i++) {
		if (!(variant->dev_flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)) {
			want[pages[i]] = 1;
			continue;
		}
		for (p = 0; p < HUGE_PAGES; p++)
			want[pages[i] / HUGE_PAGES * HUGE_PAGES + p] = 1;
	}
}

static void expect_dma(struct __test_metadata *_metadata,
		       FIXTURE_DATA(iommu) *self, const uint8_t *want)
{
	dtg_expect_slot(_metadata, self->g.tr, DMA_SLOT - DTG_FIRST_DATA_SLOT,
			DMA_PAGES, want);
}

TEST_F(iommu, dma_and_ring_pages_are_merged)
{
	uint32_t dma[] = { 0, 7, 300, 511 }, ring[] = { 1, 2, 200 };
	uint8_t want_dma[DMA_PAGES] = { 0 }, want_ring[256] = { 0 };
	uint8_t none[DMA_PAGES] = { 0 };
	struct dirtytrack_sync s;
	int i;

	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	dtg_store_pages(_metadata, &self->g, ring, 3);
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 4));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(variant->calls, s.out_iommu_calls);
	EXPECT_EQ(0, s.out_iommu_errors);
	EXPECT_LE(3, s.out_harvested);
	dma_want(variant, dma, 4, want_dma);
	for (i = 0; i < 3; i++)
		want_ring[ring[i]] = 1;
	dtg_expect_slot(_metadata, self->g.tr, 0, 256, want_ring);
	expect_dma(_metadata, self, want_dma);

	/* Read and cleared: the next sync finds nothing. */
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_iommu_pages);
	expect_dma(_metadata, self, none);
}

TEST_F(iommu, a_peek_leaves_the_bits_for_the_next_sync)
{
	struct dirtytrack_iommu_peek pk = {
		.size = sizeof(pk), .iova = variant->iova, .length = DMA_LEN,
	};
	uint32_t dma[] = { 3, 260 };
	uint8_t want[DMA_PAGES] = { 0 }, none[DMA_PAGES] = { 0 };
	uint64_t found = 2 * (variant->dev_flags ? HUGE_PAGES : 1);
	struct dirtytrack_sync s;

	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 2));
	dma_want(variant, dma, 2, want);
	pk.source_id = self->source_id;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_PEEK, &pk));
	EXPECT_EQ(found, pk.out_dirty);
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_PEEK, &pk));
	EXPECT_EQ(found, pk.out_dirty);
	/* NO_CLEAR: the sync finds them in the IOMMU again, and clears. */
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(found, s.out_iommu_pages);
	expect_dma(_metadata, self, want);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_iommu_pages);
	expect_dma(_metadata, self, none);
}

/* Tracking on before the attach: the bits set earlier are not cleared. */
TEST_F(iommu, a_hwpt_already_tracking_loses_nothing)
{
	uint32_t dma[] = { 9, 400 };
	uint8_t want[DMA_PAGES] = { 0 };
	struct dirtytrack_sync s;

	ASSERT_EQ(0, mock_set_tracking(&self->m, true));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 2));
	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	dma_want(variant, dma, 2, want);
	expect_dma(_metadata, self, want);
}

/* Declared on, with nothing dirty yet: START must not enable (clear). */
TEST_F(iommu, a_declared_tracking_hwpt_is_never_reenabled)
{
	uint32_t dma[] = { 5 };
	uint8_t want[DMA_PAGES] = { 0 };
	struct dirtytrack_sync s;

	struct dirtytrack_stop st = { .size = sizeof(st) };

	ASSERT_EQ(0, mock_set_tracking(&self->m, true));
	ASSERT_EQ(0, attach(self, variant, DIRTYTRACK_IOMMU_TRACKING_ON));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 1));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	dma_want(variant, dma, 1, want);
	expect_dma(_metadata, self, want);
	/*
	 * The tracker never turned it on, so STOP leaves it on: the mock
	 * takes DMA marks only while tracking.
	 */
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_STOP, &st));
	EXPECT_EQ(0, mock_dma(&self->m, variant->iova, dma, 1));
}

/*
 * Whether a HWPT can track is asked of iommufd's checks, not of a read:
 * from 6.12.118 a read answers -EINVAL while tracking is off or where
 * nothing is mapped (IOVA 0 here: the mock's aperture starts at 16 MiB).
 * So the attach passes with tracking off and on an IOAS with nothing
 * mapped at all (a HWPT with no dirty ops is refused: see refusals), and
 * nothing is read before START: a peek finds nothing, and fails nothing.
 */
TEST_F(iommu, the_attach_needs_neither_tracking_nor_iova_0)
{
	struct dirtytrack_iommu_peek pk = {
		.size = sizeof(pk), .iova = variant->iova, .length = DMA_LEN,
	};
	struct dirtytrack_iommu_detach det = { .size = sizeof(det) };
	struct dirtytrack_attach_iommu a = {
		.size = sizeof(a), .nr_maps = 1, .maps = (uintptr_t)&self->map,
		.scratch_addr = (uintptr_t)self->scratch,
		.scratch_size = self->scratch_size,
	};
	struct mock empty = {};
	struct dirtytrack_sync s;

	ASSERT_EQ(0, attach(self, variant, 0));
	pk.source_id = self->source_id;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_PEEK, &pk));
	EXPECT_EQ(0, pk.out_dirty);

	ASSERT_EQ(0, mock_create(&empty, variant->dev_flags));
	a.iommufd = empty.fd;
	a.hwpt_id = empty.hwpt_id;
	EXPECT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	det.source_id = a.out_source_id;
	EXPECT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_DETACH, &det));
	close(empty.fd);

	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_iommu_errors);
}

/* Off before the attach: START turns it on, STOP off again. */
TEST_F(iommu, start_and_stop_turn_tracking_on_and_off)
{
	struct dirtytrack_stop st = { .size = sizeof(st) };
	uint32_t dma[] = { 5 };

	ASSERT_EQ(0, attach(self, variant, 0));
	EXPECT_EQ(-EINVAL, mock_dma(&self->m, variant->iova, dma, 1));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	EXPECT_EQ(0, mock_dma(&self->m, variant->iova, dma, 1));
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_STOP, &st));
	EXPECT_EQ(-EINVAL, mock_dma(&self->m, variant->iova, dma, 1));
}

/*
 * A vIOMMU remaps the first half of the DMA slot's IOVA onto its second
 * half: the bits of the old mapping are merged through it first, so the
 * page the device wrote is reported (and, read again through the new
 * map, its new target too: an over-report).
 */
TEST_F(iommu, a_map_update_loses_no_bit_of_the_old_map)
{
	struct dirtytrack_iommu_map half = {
		.iova = variant->iova, .gpa = DMA_GPA, .length = DMA_LEN / 2,
	};
	struct dirtytrack_iommu_set_map sm = {
		.size = sizeof(sm), .nr_maps = 1, .maps = (uintptr_t)&half,
	};
	uint8_t old[DMA_PAGES] = { 0 }, want[DMA_PAGES] = { 0 };
	uint32_t dma[] = { 10 };
	struct dirtytrack_sync s;
	int p;

	self->map = half;
	ASSERT_EQ(0, attach_hwpt(self, false, 0, self->m.hwpt_id));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 1));
	half.gpa = DMA_GPA + DMA_LEN / 2;
	sm.source_id = self->source_id;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_SET_MAP, &sm));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	/* The old target, and (read again through the new map) the new one. */
	dma_want(variant, dma, 1, old);
	for (p = 0; p < DMA_PAGES / 2; p++) {
		want[p] |= old[p];
		want[p + DMA_PAGES / 2] |= old[p];
	}
	expect_dma(_metadata, self, want);
}

TEST_F(iommu, refusals)
{
	struct dirtytrack_iommu_map bad = { .iova = 1, .gpa = 0, .length = DTG_PAGE };
	struct dirtytrack_attach_iommu a = {
		.size = sizeof(a), .iommufd = self->m.fd, .hwpt_id = self->m.hwpt_id,
		.scratch_addr = (uintptr_t)self->scratch,
		.scratch_size = self->scratch_size,
	};
	struct mock nodirty = {};
	static struct dirtytrack_iommu_map many[4097];

	/* A device whose IOMMU cannot track: its HWPT has no dirty ops. */
	ASSERT_EQ(0, mock_create(&nodirty, MOCK_FLAGS_DEVICE_NO_DIRTY));
	a.iommufd = nodirty.fd;
	a.hwpt_id = nodirty.hwpt_id;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(nodirty.fd);

	a.iommufd = self->g.vm;			/* not an iommufd */
	a.hwpt_id = self->m.hwpt_id;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EBADF, errno);
	/* A character device that is not one: no ioctl of ours reaches it. */
	a.iommufd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, a.iommufd);
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EBADF, errno);
	close(a.iommufd);
	a.iommufd = self->m.fd;
	a.hwpt_id = 0xdead;			/* no such HWPT */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(ENOENT, errno);
	a.hwpt_id = self->m.hwpt_id;
	a.nr_maps = 1;
	a.maps = (uintptr_t)&bad;		/* unaligned */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EINVAL, errno);
	a.nr_maps = 4097;
	a.maps = (uintptr_t)many;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EINVAL, errno);
	a.nr_maps = 0;
	a.scratch_size = 4096;			/* less than 1 GiB of bits */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EINVAL, errno);
	a.scratch_size = self->scratch_size - 8;	/* not ending on a page */
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EINVAL, errno);
	a.scratch_size = self->scratch_size;
	a.flags = 1 << 5;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EOPNOTSUPP, errno);
	a.flags = 0;
	/* A tracker is no iommufd: refused before any ioctl reaches it. */
	a.iommufd = self->g.tr;
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EBADF, errno);
	/* One HWPT, one source: two would turn tracking off for each other. */
	a.iommufd = self->m.fd;
	ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_ATTACH_IOMMU, &a));
	EXPECT_EQ(EEXIST, errno);
}

/*
 * A device hot-plugged mid-migration: whatever it wrote before is
 * unknown, so everything it maps is dirty, whether the tracker turns its
 * tracking on or finds it on.
 */
TEST_F(iommu, attached_mid_migration_everything_is_dirty)
{
	uint8_t all[DMA_PAGES];
	struct dirtytrack_sync s;

	memset(all, 1, sizeof(all));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	expect_dma(_metadata, self, all);
}

TEST_F(iommu, attached_mid_migration_already_tracking)
{
	uint8_t all[DMA_PAGES];
	struct dirtytrack_sync s;

	memset(all, 1, sizeof(all));
	ASSERT_EQ(0, mock_set_tracking(&self->m, true));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	ASSERT_EQ(0, attach(self, variant, DIRTYTRACK_IOMMU_TRACKING_ON));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	expect_dma(_metadata, self, all);
}

/* The HWPT goes first: the sync marks what it mapped dirty, detach works. */
TEST_F(iommu, the_hwpt_destroyed_first)
{
	struct iommu_hwpt_alloc other = {
		.size = sizeof(other), .dev_id = self->m.idev_id,
		.pt_id = self->m.ioas_id,
	};
	struct iommu_test_cmd move = {
		.size = sizeof(move), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = self->m.stdev_id,
	};
	struct iommu_destroy d = { .size = sizeof(d), .id = self->m.hwpt_id };
	struct dirtytrack_iommu_detach det = { .size = sizeof(det) };
	uint8_t all[DMA_PAGES];
	struct dirtytrack_sync s;

	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	/* The device moves to another HWPT; the tracked one is destroyed. */
	ASSERT_EQ(0, iommufd_ioctl(self->m.fd, IOMMU_HWPT_ALLOC, &other));
	move.mock_domain_replace.pt_id = other.out_hwpt_id;
	ASSERT_EQ(0, iommufd_ioctl(self->m.fd, IOMMU_TEST_CMD, &move));
	ASSERT_EQ(0, iommufd_ioctl(self->m.fd, IOMMU_DESTROY, &d));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_LE(1, s.out_iommu_errors);
	memset(all, 1, sizeof(all));
	expect_dma(_metadata, self, all);
	det.source_id = self->source_id;
	EXPECT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_DETACH, &det));
	EXPECT_EQ(-1, ioctl(self->g.tr, DIRTYTRACK_IOMMU_DETACH, &det));
	EXPECT_EQ(ENOENT, errno);
}

/* The iommufd closed first: the tracker holds it; sync and detach work. */
TEST_F(iommu, the_iommufd_closed_first)
{
	struct dirtytrack_iommu_detach det = { .size = sizeof(det) };
	struct dirtytrack_sync s;

	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	close(self->m.fd);
	self->m.fd = -1;
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	EXPECT_EQ(0, s.out_iommu_errors);
	det.source_id = self->source_id;
	EXPECT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_DETACH, &det));
}

/* The tracker closed with the source attached: everything is released. */
TEST_F(iommu, the_tracker_closed_first)
{
	ASSERT_EQ(0, attach(self, variant, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	close(self->g.tr);
	self->g.tr = -1;
	/* The HWPT is still the VMM's: its dirty tracking can be turned off. */
	EXPECT_EQ(0, mock_set_tracking(&self->m, false));
}

/* Arm this thread's fail-nth: the @n-th fault-injection point fails. */
static int fail_nth_set(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

/* 0 once the armed failure was injected, else the points still to go. */
static int fail_nth_get(int fd)
{
	char buf[16];
	int len = pread(fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0)
		return -1;
	buf[len] = 0;
	return atoi(buf);
}

static void debugfs_write(struct __test_metadata *_metadata, const char *path,
			  const char *val)
{
	int fd = open(path, O_WRONLY);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)strlen(val), write(fd, val, strlen(val)));
	close(fd);
}

/*
 * Fail GFP_KERNEL allocations too, and every point quietly (a trace is a
 * "warning").
 */
static void fault_injection_setup(struct __test_metadata *_metadata)
{
	debugfs_write(_metadata, "/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	debugfs_write(_metadata, "/sys/kernel/debug/failslab/verbose", "0");
	debugfs_write(_metadata, "/sys/kernel/debug/fail_iommufd/verbose", "0");
	debugfs_write(_metadata, "/sys/kernel/debug/fail_page_alloc/verbose", "0");
}

/*
 * Every fault-injection point on the attach and sync paths fails once,
 * one after another (slab and page allocations, and iommufd's own
 * points): each failure is a clean error, or is absorbed (the range
 * marked dirty); a clean sync afterwards reports every page the device
 * wrote, so nothing was reported clean that was dirty; kmemleak and the
 * warning scan of the guest runner see no leak and no splat.
 */
TEST_F(iommu, fail_nth_on_attach_and_sync)
{
	uint32_t dma[] = { 17, 330 };
	uint8_t want[DMA_PAGES] = { 0 };
	uint64_t words[DMA_PAGES / 64], p, n = 0;
	struct dirtytrack_sync s;
	int fd, nth, ret, fails = 0;

	fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fd < 0)
		SKIP(return, "no fail-nth: %s", strerror(errno));
	fault_injection_setup(_metadata);
	dma_want(variant, dma, 2, want);

	for (nth = 1;; nth++) {
		ASSERT_EQ(0, fail_nth_set(fd, nth));
		ret = attach(self, variant, 0);
		if (fail_nth_get(fd)) {
			ASSERT_EQ(0, fail_nth_set(fd, 0));
			ASSERT_EQ(0, ret);
			break;
		}
		fails++;
		if (!ret) {
			/* Absorbed: attached all the same.  Start over. */
			struct dirtytrack_iommu_detach det = {
				.size = sizeof(det), .source_id = self->source_id,
			};

			ASSERT_EQ(0, ioctl(self->g.tr, DIRTYTRACK_IOMMU_DETACH, &det));
		}
	}
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	for (nth = 1;; nth++) {
		ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 2));
		ASSERT_EQ(0, fail_nth_set(fd, nth));
		ret = dtt_sync(self->g.tr, &s);
		if (fail_nth_get(fd)) {
			ASSERT_EQ(0, fail_nth_set(fd, 0));
			ASSERT_EQ(0, ret);
			break;
		}
		fails++;
		/* Failed or absorbed, a clean sync reports every written page. */
		ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
		ASSERT_EQ(0, dtt_claim(self->g.tr, DMA_SLOT, 0, DMA_PAGES, words, &n));
		for (p = 0; p < DMA_PAGES; p++)
			if (want[p])
				ASSERT_TRUE(dtt_bit(words, p))
					TH_LOG("nth %d: page %lu lost", nth, p);
	}
	TH_LOG("%d injected failures on the attach and sync paths", fails);
	EXPECT_LE(2, fails);
	close(fd);
}

TEST_HARNESS_MAIN
