// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The iommu source, for both homes: the dirty bits an IOMMU keeps for
 * device DMA (AMD HAD, Intel SSADS, Arm SMMUv3 HTTU), read through iommufd
 * from a HWPT the VMM allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
 * translated from IOVA to GPA through the VMM's map (iommu.c) into the
 * regions' pending sets.  The home supplies the iommufd file and the
 * memory the bitmaps are written to (dt_io.h), and checks that the file
 * is an iommufd before anything here issues an ioctl on it.
 *
 * Behaviours of iommufd shape this file:
 *  - IOMMU_HWPT_SET_DIRTY_TRACKING(enable) clears every dirty bit, even on a
 *    HWPT that is tracking already (rule batched-iommu-clears): tracking is
 *    enabled only from a clean start, never on a HWPT seen or declared on;
 *  - IOMMU_HWPT_GET_DIRTY_BITMAP changed its answers in 6.12.118, with the
 *    stable backport of "iommufd/iova_bitmap: Ensure that iova_bitmap_set()
 *    handles the full IOVA", which makes iommufd return the walk's error
 *    it used to drop.  Up to 6.12.117 a read stops, still answering 0, at
 *    the first IOVA that is not mapped, a driver's error is dropped (a
 *    HWPT that is not tracking reads as clean), and a huge IO page is
 *    recorded whole, past the range.  From 6.12.118 a range not fully
 *    mapped is -EINVAL, a HWPT not tracking is the driver's -EINVAL, and a
 *    range that starts or ends inside a dirty IO page is -EPROTO.
 *    So: a call never spans two map entries (or regions, for the
 *    identity), a map must only name mapped IOVA (before 6.12.118 nothing
 *    here can tell; from it, the read fails and its range is all dirty),
 *    a source is read only while its HWPT tracks, and whether the HWPT
 *    can track at all is told by the order of iommufd's checks, never by
 *    a read's answer (dt_iommu_probe_cmd()).
 *
 * Called with the tracker's lock held.
 */
#include "dt_iommufd.h"
#include "dt_io.h"

static int dt_iommu_set_tracking(struct dt_iommu_src *src, bool enable)
{
	struct dt_iommu_set_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = enable ? DT_IOMMU_TRACKING_ENABLE : 0,
	};

	return dt_io_ioctl(src->io, DT_IOMMU_HWPT_SET_DIRTY, &cmd, sizeof(cmd));
}

/* How @src's IOVAs become @rs's pages. */
static struct dt_iommu_xlate dt_iommu_src_xlate(const struct dt_iommu_src *src,
						const struct dt_regions *rs)
{
	return (struct dt_iommu_xlate){
		.maps = src->maps, .nr_maps = src->nr_maps,
		.page_shift = src->page_shift, .rs = rs,
	};
}

/*
 * One IOMMU_HWPT_GET_DIRTY_BITMAP over @npages pages from @iova (at most
 * the memory's bits), merged.  iommufd ORs bits into the bitmap, so it is
 * cleared first.  A huge IO page is recorded whole, from where the walk
 * met it, so bits can land past @npages, up to the end of the bitmap's
 * last page (the memory ends on a page boundary, so inside it): those are
 * cleared first and merged too.  A failed call marks everything the range
 * maps dirty.
 */
static void dt_iommu_read_chunk(struct dt_iommu_src *src,
				const struct dt_regions *rs, u64 iova,
				u64 npages, struct dt_iommu_read *rd)
{
	struct dt_io *io = src->io;
	u64 start = io->ops->addr(io, 0), pg = io->page_size;
	u64 nwords = (((start + dt_bitmap_words(npages) * sizeof(u64) + pg - 1) &
		       ~(pg - 1)) - start) / sizeof(u64), w;
	struct dt_iommu_get_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = rd->flags, .iova = iova,
		.length = npages << src->page_shift, .page_size = pg,
		.data = start,
	};
	struct dt_iommu_xlate x = dt_iommu_src_xlate(src, rs);
	struct dt_gfn_hint hint = { 0 };
	int ret;

	ret = io->ops->zero(io, 0, nwords);
	if (!ret) {
		rd->calls++;
		ret = dt_io_ioctl(io, DT_IOMMU_HWPT_GET_DIRTY, &cmd, sizeof(cmd));
	}
	for (w = 0; !ret && w < nwords; w += io->chunk) {
		u64 n = nwords - w < io->chunk ? nwords - w : io->chunk;
		const u64 *words = io->ops->read(io, w, n);

		if (!words)
			ret = -EFAULT;
		else
			rd->pages += dt_iommu_take_words(&x, iova, w, words, n,
							 &hint);
	}
	if (ret && !rd->quiet) {
		rd->errors++;
		dt_iommu_mark_range(&x, iova, iova + (npages << src->page_shift));
	}
}

/**
 * dt_iommu_read_run() - read a range of a source's IOVA
 * @src: the source
 * @rs: the regions its pages go to (pending)
 * @iova: the start, page-aligned
 * @npages: pages from it
 * @rd: how to read (flags, quiet), and the counts
 *
 * In calls of at most the memory's bits, cut only at DT_IOMMU_MAX_IO_PAGE
 * boundaries (the memory holds at least that many).  When the home says
 * stop (a fatal signal), the rest is marked dirty.
 */
void dt_iommu_read_run(struct dt_iommu_src *src, const struct dt_regions *rs,
		       u64 iova, u64 npages, struct dt_iommu_read *rd)
{
	u64 max = src->io->words * DT_WORD_BITS;
	u64 end = iova + (npages << src->page_shift);

	while (iova < end) {
		u64 cut = dt_iommu_cut(iova, end, max, src->page_shift);
		struct dt_iommu_xlate x;

		dt_iommu_read_chunk(src, rs, iova,
				    (cut - iova) >> src->page_shift, rd);
		iova = cut;
		if (iova < end && src->io->ops->stop(src->io)) {
			rd->errors++;
			x = dt_iommu_src_xlate(src, rs);
			dt_iommu_mark_range(&x, iova, end);
			return;
		}
	}
}

/*
 * Read the whole source: each entry of its map (each region of address
 * space 0, for the identity) in as few calls as the memory allows.  Never
 * one call across two: an entry or region not fully mapped in the IOAS
 * would hide the next, or fail it (see the top of the file).  A HWPT that
 * is not tracking records nothing, and is not read.
 */
static void dt_iommu_read_all(struct dt_iommu_src *src,
			      const struct dt_regions *rs,
			      struct dt_iommu_read *rd)
{
	unsigned int s = src->page_shift;
	u32 i;

	if (!src->tracking)
		return;
	if (src->maps) {
		for (i = 0; i < src->nr_maps; i++)
			dt_iommu_read_run(src, rs, src->maps[i].iova,
					  src->maps[i].length >> s, rd);
		return;
	}
	for (i = 0; i < rs->end; i++) {
		struct dt_region *r = rs->v[i];

		if (r && !(r->slot.slot >> 16))
			dt_iommu_read_run(src, rs, r->first_gfn << s,
					  r->slot.npages, rd);
	}
}

/**
 * dt_iommu_srcs_harvest() - read and clear every source
 * @ss: the sources
 * @rs: the regions their pages go to (pending)
 * @rd: the counts, accumulated
 *
 * The IOTLB is flushed once per call.
 */
void dt_iommu_srcs_harvest(struct dt_iommu_srcs *ss,
			   const struct dt_regions *rs,
			   struct dt_iommu_read *rd)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++)
		if (ss->v[i])
			dt_iommu_read_all(ss->v[i], rs, rd);
}

/**
 * dt_iommu_srcs_free_id() - the id a new source gets
 * @ss: the sources
 *
 * Return: the lowest free id, or -ENOSPC past DT_MAX_IOMMU sources.
 */
int dt_iommu_srcs_free_id(const struct dt_iommu_srcs *ss)
{
	int id;

	for (id = 0; id < DT_MAX_IOMMU && ss->v[id]; id++)
		;
	return id == DT_MAX_IOMMU ? -ENOSPC : id;
}

/**
 * dt_iommu_src_attach() - make a checked iommufd's HWPT a source
 * @ss: the sources
 * @rs: the regions
 * @src: the new source: its io, an iommufd (the home checked), its HWPT,
 *       its checked map and page shift
 * @id: its id, from dt_iommu_srcs_free_id()
 * @tracking_on: the VMM declares its tracking on
 * @tracking: the tracker is tracking (not idle)
 *
 * Two sources on one HWPT would turn its tracking off for each other: one
 * HWPT of one iommufd is a source once.  Whether the HWPT can track at all
 * is asked of iommufd's checks (dt_iommu_probe_cmd()), not of a read.
 *
 * Bits set before the attach: if tracking is on they are here, and stay
 * pending for the next sync.  Declared on, a failed read marks its range
 * dirty (rule errors-mean-dirty).  Not declared, the read finds out: bits
 * mean it is on; a failed read (from 6.12.118, how a HWPT that is not
 * tracking answers) or a clean one, that it is off, and START enables it.
 * Before START that loses nothing: the first round sends every page;
 * while tracking (a device hot-plugged mid-migration, its DMA so far
 * unknown), tracking is enabled and everything it maps is marked dirty.
 *
 * Return: 0; -EEXIST if that HWPT of that iommufd is a source already;
 * -EOPNOTSUPP for a HWPT without dirty tracking; -ENOENT for an unknown
 * HWPT; or the error of enabling tracking.
 */
int dt_iommu_src_attach(struct dt_iommu_srcs *ss, const struct dt_regions *rs,
			struct dt_iommu_src *src, int id, bool tracking_on,
			bool tracking)
{
	struct dt_iommu_read rd = { .quiet = !tracking_on };
	struct dt_iommu_get_dirty cmd;
	struct dt_iommu_xlate x;
	int i, ret;

	for (i = 0; i < DT_MAX_IOMMU; i++)
		if (ss->v[i] && ss->v[i]->hwpt_id == src->hwpt_id &&
		    src->io->ops->same(ss->v[i]->io, src->io))
			return -EEXIST;
	dt_iommu_probe_cmd(&cmd, src->hwpt_id, src->io->ops->addr(src->io, 0));
	ret = dt_iommu_probe_result(dt_io_ioctl(src->io,
						DT_IOMMU_HWPT_GET_DIRTY,
						&cmd, sizeof(cmd)));
	if (ret)
		return ret;
	src->tracking = true;
	dt_iommu_read_all(src, rs, &rd);
	src->tracking = rd.pages || tracking_on;
	if (tracking) {
		if (!src->tracking) {
			ret = dt_iommu_set_tracking(src, true);
			if (ret)
				return ret;
			src->tracking = true;
			src->enabled = true;
		}
		x = dt_iommu_src_xlate(src, rs);
		dt_iommu_mark_all(&x);
	}
	ss->v[id] = src;
	ss->nr++;
	return 0;
}

/**
 * dt_iommu_src_set_map() - give a source a new map
 * @src: the source
 * @rs: the regions
 * @maps: the new map, checked, now the source's
 * @nr: its entries
 *
 * The old map's bits are read without clearing and merged through it
 * first: the IOVA may map elsewhere from now on.  They stay in the IOMMU
 * and the next sync reads them again through the new map, which can only
 * over-report.
 *
 * Return: the old map, for the home to free.
 */
struct dt_iommu_map *dt_iommu_src_set_map(struct dt_iommu_src *src,
					  const struct dt_regions *rs,
					  struct dt_iommu_map *maps, u32 nr)
{
	struct dt_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };
	struct dt_iommu_map *old = src->maps;

	dt_iommu_read_all(src, rs, &rd);
	src->maps = maps;
	src->nr_maps = nr;
	return old;
}

/**
 * dt_iommu_src_peek() - read a range without clearing, before its unmap
 * @src: the source
 * @rs: the regions its pages go to (pending, published by the next sync)
 * @iova: the range's start, page-aligned
 * @length: its length, page-aligned (dt_check_iommu_range())
 *
 * No IOTLB flush: the VMM is about to unmap the range, and its bits go
 * with the mapping.  DMA to the range must have stopped.
 *
 * Return: pages it found dirty.
 */
u64 dt_iommu_src_peek(struct dt_iommu_src *src, const struct dt_regions *rs,
		      u64 iova, u64 length)
{
	struct dt_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };

	/* A HWPT that is not tracking holds no bits to keep. */
	if (src->tracking)
		dt_iommu_read_run(src, rs, iova, length >> src->page_shift,
				  &rd);
	return rd.pages;
}

/**
 * dt_iommu_src_detach() - take a source out
 * @ss: the sources
 * @rs: the regions
 * @id: its id
 *
 * A last read and clear (a failed one marks the source's pages dirty, so
 * a HWPT already destroyed loses nothing), and tracking off if the
 * tracker turned it on.
 *
 * Return: the source, for the home to free, or NULL for an unknown @id.
 */
struct dt_iommu_src *dt_iommu_src_detach(struct dt_iommu_srcs *ss,
					 const struct dt_regions *rs, u32 id)
{
	struct dt_iommu_src *src = id < DT_MAX_IOMMU ? ss->v[id] : NULL;
	struct dt_iommu_read rd = { 0 };

	if (!src)
		return NULL;
	dt_iommu_read_all(src, rs, &rd);
	/* A HWPT already gone cannot be turned off, and needs not be. */
	if (src->enabled)
		dt_iommu_set_tracking(src, false);
	ss->v[id] = NULL;
	ss->nr--;
	return src;
}

/**
 * dt_iommu_srcs_start() - tracking begins: enable it where it is off
 * @ss: the sources
 *
 * Enabling clears the HWPT's dirty bits (a clean snapshot), so it is done
 * only on a HWPT that was not tracking (rule batched-iommu-clears).
 *
 * Return: 0, or the first enable's error.
 */
int dt_iommu_srcs_start(struct dt_iommu_srcs *ss)
{
	u32 i;
	int ret;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		struct dt_iommu_src *src = ss->v[i];

		if (!src || src->tracking)
			continue;
		ret = dt_iommu_set_tracking(src, true);
		if (ret)
			return ret;
		src->tracking = true;
		src->enabled = true;
	}
	return 0;
}

/**
 * dt_iommu_srcs_stop() - tracking ends: off again where the tracker turned it on
 * @ss: the sources
 */
void dt_iommu_srcs_stop(struct dt_iommu_srcs *ss)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		struct dt_iommu_src *src = ss->v[i];

		if (!src || !src->enabled)
			continue;
		/*
		 * Still on if it failed: never enabled again (rule
		 * batched-iommu-clears).
		 */
		if (dt_iommu_set_tracking(src, false))
			continue;
		src->tracking = false;
		src->enabled = false;
	}
}
