/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The iommufd ABI the iommu source uses (stable since 6.7), spelled out so
 * the module builds against kernels whose headers predate it (6.1) and
 * libdirtytrack against older installed headers; and the bounds both homes
 * put on an iommu source's map.
 */
#ifndef DT_CORE_IOMMUFD_H
#define DT_CORE_IOMMUFD_H

#include "dt_core.h"

#define DT_IOMMUFD_TYPE			';'
#define DT_IOMMU_OPTION			_IO(DT_IOMMUFD_TYPE, 0x87)
#define DT_IOMMU_HWPT_SET_DIRTY		_IO(DT_IOMMUFD_TYPE, 0x8b)
#define DT_IOMMU_HWPT_GET_DIRTY		_IO(DT_IOMMUFD_TYPE, 0x8c)
#define DT_IOMMU_OPTION_RLIMIT_MODE	0
#define DT_IOMMU_OPTION_OP_GET		1
#define DT_IOMMU_TRACKING_ENABLE	1
#define DT_IOMMU_DIRTY_NO_CLEAR		1

struct dt_iommu_option {
	u32 size;
	u32 option_id;
	u16 op;
	u16 __reserved;
	u32 object_id;
	u64 val64;
};

struct dt_iommu_set_dirty {
	u32 size;
	u32 flags;
	u32 hwpt_id;
	u32 __reserved;
};

struct dt_iommu_get_dirty {
	u32 size;
	u32 hwpt_id;
	u32 flags;
	u32 __reserved;
	u64 iova;
	u64 length;
	u64 page_size;
	u64 data;
};

#define DT_MAX_IOMMU_MAPS	4096
/*
 * No IOMMU's IO page is larger (x86, arm64: 1 GiB); calls are cut at its
 * multiples only, so no huge IO page is read and cleared by one call and
 * reported by half.
 */
#define DT_IOMMU_MAX_IO_PAGE	((u64)1 << 30)
/* IOVA the maps may name; GPA is bounded like the regions' (2^52). */
#define DT_IOMMU_MAX_IOVA	((u64)1 << 63)
#define DT_IOMMU_MAX_GPA	((u64)1 << 52)

/*
 * Does a HWPT have dirty ops at all (was it allocated with
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING)?  No iommufd call says so; the order
 * in which IOMMU_HWPT_GET_DIRTY_BITMAP checks its call does: flags, the
 * HWPT (-ENOENT), the range's alignment (-EINVAL, -EOVERFLOW), the dirty
 * ops (-EOPNOTSUPP), and only then the walk of the IO page table.  What
 * the walk answers changed within 6.12 (see the iommu source): up to
 * 6.12.117 always 0; from 6.12.118 -EINVAL for a range not fully mapped
 * or a HWPT that is not tracking (every driver refuses to read one), and
 * -EPROTO for a range that cuts a dirty IO page.
 *
 * So the probe reads, without clearing, one bit for the first largest IO
 * page of IOVA, whose alignment every IOMMU's page size divides: the
 * range checks pass, and any answer of the walk means the dirty ops were
 * there.  Nothing at that IOVA, mapped or not, tracking or not, changes
 * the verdict.  @data: 8 writable bytes (one bit may be set).
 */
static inline void dt_iommu_probe_cmd(struct dt_iommu_get_dirty *cmd,
				      u32 hwpt_id, u64 data)
{
	*cmd = (struct dt_iommu_get_dirty){
		.size = sizeof(*cmd), .hwpt_id = hwpt_id,
		.flags = DT_IOMMU_DIRTY_NO_CLEAR, .iova = 0,
		.length = DT_IOMMU_MAX_IO_PAGE,
		.page_size = DT_IOMMU_MAX_IO_PAGE,
		.data = data,
	};
}

/* The probe's answer (0 or -errno) as 0, -EOPNOTSUPP or another error. */
static inline int dt_iommu_probe_result(int ret)
{
	return ret == -EINVAL || ret == -EPROTO ? 0 : ret;
}

/* ---- translation and chunking (iommu.c) ---------------------------------- */

/*
 * One entry of an iommu source's map: @length bytes of IOVA from @iova are
 * guest physical memory from @gpa.  The layout of the uAPI's struct
 * dirtytrack_iommu_map and of the library's struct dirtytrack_iova_map.
 */
struct dt_iommu_map {
	u64 iova;
	u64 gpa;
	u64 length;
};

/**
 * struct dt_iommu_xlate - how an iommu source's IOVAs become regions' pages
 * @maps: the map, sorted by IOVA, checked by dt_iommu_maps_check(); NULL
 *        for the identity (IOVA = GPA)
 * @nr_maps: entries in @maps
 * @page_shift: the host's page size, log2: a bit of a read is a page
 * @rs: the regions whose pending sets the pages go to
 */
struct dt_iommu_xlate {
	const struct dt_iommu_map *maps;
	u32 nr_maps;
	unsigned int page_shift;
	const struct dt_regions *rs;
};

int dt_iommu_map_check(const struct dt_iommu_map *m, u64 prev_end,
		       unsigned int page_shift);
int dt_iommu_maps_check(const struct dt_iommu_map *m, u32 nr,
			unsigned int page_shift);
bool dt_iommu_gfn(const struct dt_iommu_xlate *x, u64 iova, u64 *gfn);
void dt_iommu_mark_range(const struct dt_iommu_xlate *x, u64 iova, u64 end);
void dt_iommu_mark_all(const struct dt_iommu_xlate *x);
u64 dt_iommu_take_words(const struct dt_iommu_xlate *x, u64 iova,
			u64 first_word, const u64 *words, u64 n,
			struct dt_gfn_hint *hint);
u64 dt_iommu_cut(u64 iova, u64 end, u64 max_pages, unsigned int page_shift);

/* ---- the source (iommu_source.c) ----------------------------------------- */

/* Iommu sources a tracker takes at most. */
#define DT_MAX_IOMMU		16

struct dt_io;

/**
 * struct dt_iommu_src - one HWPT's dirty bits, through iommufd
 * @io: the iommufd file and the memory its reads write (the home's)
 * @hwpt_id: the HWPT in it
 * @tracking: its dirty tracking is on (found on, declared on, or enabled)
 * @enabled: the tracker turned it on, and turns it off at STOP or detach
 * @maps: the IOVA to GPA map, sorted by IOVA; NULL for the identity
 * @nr_maps: entries in @maps
 * @page_shift: the host's page size, log2
 */
struct dt_iommu_src {
	struct dt_io *io;
	u32 hwpt_id;
	bool tracking;
	bool enabled;
	struct dt_iommu_map *maps;
	u32 nr_maps;
	unsigned int page_shift;
};

/**
 * struct dt_iommu_srcs - a tracker's iommu sources
 * @v: by id
 * @nr: how many
 */
struct dt_iommu_srcs {
	struct dt_iommu_src *v[DT_MAX_IOMMU];
	u32 nr;
};

/**
 * struct dt_iommu_read - how a read goes (its bits are pending), and what
 *                        it counts
 * @flags: DT_IOMMU_DIRTY_NO_CLEAR or 0
 * @quiet: a failed call marks nothing (see dt_iommu_src_attach())
 * @pages: pages it found that fall in a region
 * @calls: IOMMU_HWPT_GET_DIRTY_BITMAP calls
 * @errors: failed calls (their ranges marked dirty)
 */
struct dt_iommu_read {
	u32 flags;
	bool quiet;
	u64 pages;
	u32 calls;
	u32 errors;
};

void dt_iommu_read_run(struct dt_iommu_src *src, const struct dt_regions *rs,
		       u64 iova, u64 npages, struct dt_iommu_read *rd);
void dt_iommu_srcs_harvest(struct dt_iommu_srcs *ss,
			   const struct dt_regions *rs,
			   struct dt_iommu_read *rd);
int dt_iommu_srcs_free_id(const struct dt_iommu_srcs *ss);
int dt_iommu_src_attach(struct dt_iommu_srcs *ss, const struct dt_regions *rs,
			struct dt_iommu_src *src, int id, bool tracking_on,
			bool tracking);
struct dt_iommu_map *dt_iommu_src_set_map(struct dt_iommu_src *src,
					  const struct dt_regions *rs,
					  struct dt_iommu_map *maps, u32 nr);
u64 dt_iommu_src_peek(struct dt_iommu_src *src, const struct dt_regions *rs,
		      u64 iova, u64 length);
struct dt_iommu_src *dt_iommu_src_detach(struct dt_iommu_srcs *ss,
					 const struct dt_regions *rs, u32 id);
int dt_iommu_srcs_start(struct dt_iommu_srcs *ss);
void dt_iommu_srcs_stop(struct dt_iommu_srcs *ss);

#endif /* DT_CORE_IOMMUFD_H */
