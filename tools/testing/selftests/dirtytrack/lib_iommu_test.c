// SPDX-License-Identifier: GPL-2.0
/*
 * libdirtytrack's iommu source on both backends, against the real iommufd
 * code with the iommufd mock as the IOMMU (dt_mock_iommu.h): the kernel
 * backend asks the module, the user backend reads the HWPT itself.  The
 * same DMA must come out of both, exactly, with the same answers to
 * misuse.
 *
 * Skips where there is no /dev/iommu (the Debian kernels); the debug
 * guest must run it.
 */
#include <stdlib.h>

#include <dirtytrack.h>

#include "dt_guest.h"
#include "dt_mock_iommu.h"

FIXTURE(lib_iommu) {
	struct dt_guest g;
	struct mock m;
	uint8_t *dma;
	struct dirtytrack *dt;
	struct dirtytrack_tracker *t;
	struct dirtytrack_iova_map map;
	uint32_t source_id;
};

FIXTURE_VARIANT(lib_iommu) {
	enum dirtytrack_backend backend;
	uint64_t iova;		/* where the DMA slot is in IOVA space */
};

FIXTURE_VARIANT_ADD(lib_iommu, kernel_identity) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .iova = DMA_GPA,
};

FIXTURE_VARIANT_ADD(lib_iommu, user_identity) {
	.backend = DIRTYTRACK_BACKEND_USER, .iova = DMA_GPA,
};

FIXTURE_VARIANT_ADD(lib_iommu, kernel_remapped) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .iova = 0x4000000,
};

FIXTURE_VARIANT_ADD(lib_iommu, user_remapped) {
	.backend = DIRTYTRACK_BACKEND_USER, .iova = 0x4000000,
};

#define DMA_SLOT_ID	DIRTYTRACK_SLOT(0, DMA_SLOT)

FIXTURE_SETUP(lib_iommu)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = variant->backend);
	struct dt_guest *g = &self->g;

	if (access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu (iommufd) in this kernel");
	dtg_create_vm(_metadata, g, 1, 1, 256, 4096, DTG_RING);
	self->dma = dma_alloc();
	ASSERT_NE(MAP_FAILED, self->dma);
	ASSERT_EQ(0, dtvm_set_memslot(g->vm, DMA_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				      DMA_GPA, DMA_LEN, self->dma));

	ASSERT_EQ(0, dirtytrack_open(&o, &self->dt));
	ASSERT_EQ(0, dirtytrack_tracker_create(self->dt, g->vm, &self->t));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DTG_CODE_SLOT, DTG_CODE_GPA,
					   DTG_CODE_SIZE));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DTG_FIRST_DATA_SLOT,
					   dtg_slot_gpa(g, 0), 256 * DTG_PAGE));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DMA_SLOT_ID, DMA_GPA, DMA_LEN));

	ASSERT_EQ(0, mock_create(&self->m, 0));
	ASSERT_EQ(0, mock_map_small(&self->m, self->dma, DMA_LEN, variant->iova));
	if (variant->iova == DMA_GPA)
		ASSERT_EQ(0, mock_map_guest(&self->m, g));
	self->map = (struct dirtytrack_iova_map){
		.iova = variant->iova, .gpa = DMA_GPA, .length = DMA_LEN,
	};
}

FIXTURE_TEARDOWN(lib_iommu)
{
	dirtytrack_tracker_destroy(self->t);
	dirtytrack_close(self->dt);
	dtg_destroy(&self->g);
	if (self->m.fd > 0)
		close(self->m.fd);
	if (self->dma && self->dma != MAP_FAILED)
		munmap(self->dma, DMA_LEN);
}

static int lib_attach(FIXTURE_DATA(lib_iommu) *self,
		      const FIXTURE_VARIANT(lib_iommu) *variant, int fd,
		      uint32_t hwpt_id)
{
	bool identity = variant->iova == DMA_GPA;
	struct dirtytrack_iommu_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts,
		.iommufd = fd, .hwpt_id = hwpt_id,
		.nr_maps = identity ? 0 : 1, .maps = identity ? NULL : &self->map);

	return dirtytrack_attach_iommu(self->t, &o, &self->source_id);
}

/* Claim the DMA slot: exactly @want (DMA_PAGES flags) must be dirty. */
static void expect_dma(struct __test_metadata *_metadata,
		       FIXTURE_DATA(lib_iommu) *self, const uint8_t *want)
{
	uint64_t bits[DMA_PAGES / 64], dirty, p, n = 0;

	ASSERT_EQ(0, dirtytrack_claim_bitmap(self->t, DMA_SLOT_ID, 0, DMA_PAGES,
					     bits, &dirty));
	for (p = 0; p < DMA_PAGES; p++) {
		n += want[p];
		EXPECT_EQ(want[p], dtt_bit(bits, p)) TH_LOG("DMA page %lu",
							   (unsigned long)p);
	}
	EXPECT_EQ(n, dirty);
}

TEST_F(lib_iommu, dma_pages_are_claimed_exactly)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint32_t dma[] = { 0, 7, 300, 511 };
	uint8_t want[DMA_PAGES] = { 0 }, none[DMA_PAGES] = { 0 };
	int i;

	ASSERT_EQ(0, lib_attach(self, variant, self->m.fd, self->m.hwpt_id));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 4));
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(4, st.iommu_pages);
	EXPECT_EQ(0, st.iommu_errors);
	/* One call per region (identity: 3) or per map entry. */
	EXPECT_EQ(variant->iova == DMA_GPA ? 3 : 1, st.iommu_calls);
	for (i = 0; i < 4; i++)
		want[dma[i]] = 1;
	expect_dma(_metadata, self, want);
	/* Read and cleared: the next sync finds nothing. */
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(0, st.iommu_pages);
	expect_dma(_metadata, self, none);
	ASSERT_EQ(0, dirtytrack_stop(self->t));
	ASSERT_EQ(0, dirtytrack_iommu_detach(self->t, self->source_id));
	EXPECT_EQ(-ENOENT, dirtytrack_iommu_detach(self->t, self->source_id));
}

/*
 * Both backends ask iommufd's checks whether a HWPT can track, never a
 * read (which answers -EINVAL from 6.12.118 while tracking is off, and
 * where nothing is mapped): tracking off and nothing at IOVA 0, the attach
 * passes, and nothing is read before START.
 */
TEST_F(lib_iommu, the_attach_needs_neither_tracking_nor_iova_0)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint64_t found = 1;

	ASSERT_EQ(0, lib_attach(self, variant, self->m.fd, self->m.hwpt_id));
	ASSERT_EQ(0, dirtytrack_iommu_peek(self->t, self->source_id,
					   variant->iova, DMA_LEN, &found));
	EXPECT_EQ(0, found);
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_sync(self->t, &st));
	EXPECT_EQ(0, st.iommu_errors);
}

/* A peek (before an unmap) leaves the bits; the next sync reports them. */
TEST_F(lib_iommu, a_peek_is_published_by_the_next_sync)
{
	uint32_t dma[] = { 3, 260 };
	uint8_t want[DMA_PAGES] = { 0 }, none[DMA_PAGES] = { 0 };
	uint64_t found = 0;

	ASSERT_EQ(0, lib_attach(self, variant, self->m.fd, self->m.hwpt_id));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 2));
	ASSERT_EQ(0, dirtytrack_iommu_peek(self->t, self->source_id,
					   variant->iova, DMA_LEN, &found));
	EXPECT_EQ(2, found);
	expect_dma(_metadata, self, none);
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	want[3] = want[260] = 1;
	expect_dma(_metadata, self, want);
	EXPECT_EQ(-EINVAL, dirtytrack_iommu_peek(self->t, self->source_id,
						 variant->iova + 1, DTG_PAGE, &found));
}

/* A vIOMMU remaps: the old map's bits go through the old map first. */
TEST_F(lib_iommu, a_map_update_loses_no_bit_of_the_old_map)
{
	struct dirtytrack_iova_map half = {
		.iova = variant->iova, .gpa = DMA_GPA, .length = DMA_LEN / 2,
	};
	uint8_t want[DMA_PAGES] = { 0 };
	uint32_t dma[] = { 10 };

	/* An explicit map in both variants (IOVA == GPA is one too). */
	self->map = half;
	ASSERT_EQ(0, dirtytrack_attach_iommu(self->t,
		&DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts,
			.iommufd = self->m.fd, .hwpt_id = self->m.hwpt_id,
			.nr_maps = 1, .maps = &self->map),
		&self->source_id));
	ASSERT_EQ(0, dirtytrack_start(self->t, NULL));
	ASSERT_EQ(0, mock_dma(&self->m, variant->iova, dma, 1));
	half.gpa = DMA_GPA + DMA_LEN / 2;
	ASSERT_EQ(0, dirtytrack_iommu_set_map(self->t, self->source_id, &half, 1));
	ASSERT_EQ(0, dirtytrack_sync(self->t, NULL));
	/* The old target, and (read again through the new map) the new one. */
	want[10] = want[10 + DMA_PAGES / 2] = 1;
	expect_dma(_metadata, self, want);
	EXPECT_EQ(-ENOENT, dirtytrack_iommu_set_map(self->t, 7, &half, 1));
}

/* The refusals, with the same errno on both backends. */
TEST_F(lib_iommu, refusals)
{
	struct dirtytrack_iova_map bad = { .iova = 1, .gpa = 0, .length = DTG_PAGE };
	struct dirtytrack_iommu_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts,
		.iommufd = self->m.fd, .hwpt_id = self->m.hwpt_id);
	struct mock nodirty = {};
	uint32_t id;
	int null = open("/dev/null", O_RDWR);

	ASSERT_LE(0, null);
	/* A device whose IOMMU cannot track: its HWPT has no dirty ops. */
	ASSERT_EQ(0, mock_create(&nodirty, MOCK_FLAGS_DEVICE_NO_DIRTY));
	o.iommufd = nodirty.fd;
	o.hwpt_id = nodirty.hwpt_id;
	EXPECT_EQ(-EOPNOTSUPP, dirtytrack_attach_iommu(self->t, &o, &id));
	close(nodirty.fd);
	o.hwpt_id = self->m.hwpt_id;
	o.iommufd = self->g.vm;			/* not an iommufd */
	EXPECT_EQ(-EBADF, dirtytrack_attach_iommu(self->t, &o, &id));
	o.iommufd = null;			/* a character device, not one */
	EXPECT_EQ(-EBADF, dirtytrack_attach_iommu(self->t, &o, &id));
	o.iommufd = 999;			/* closed */
	EXPECT_EQ(-EBADF, dirtytrack_attach_iommu(self->t, &o, &id));
	o.iommufd = self->m.fd;
	o.hwpt_id = 0xdead;			/* no such HWPT */
	EXPECT_EQ(-ENOENT, dirtytrack_attach_iommu(self->t, &o, &id));
	o.hwpt_id = self->m.hwpt_id;
	o.nr_maps = 1;
	o.maps = &bad;				/* unaligned */
	EXPECT_EQ(-EINVAL, dirtytrack_attach_iommu(self->t, &o, &id));
	o.maps = NULL;				/* entries, but no map */
	EXPECT_EQ(-EINVAL, dirtytrack_attach_iommu(self->t, &o, &id));
	o.nr_maps = 0;
	/* One HWPT, one source: two would turn tracking off for each other. */
	ASSERT_EQ(0, dirtytrack_attach_iommu(self->t, &o, &id));
	EXPECT_EQ(-EEXIST, dirtytrack_attach_iommu(self->t, &o, &id));
	EXPECT_EQ(-ENOENT, dirtytrack_iommu_peek(self->t, id + 1, 0, DTG_PAGE, NULL));
	close(null);
}

TEST_HARNESS_MAIN
