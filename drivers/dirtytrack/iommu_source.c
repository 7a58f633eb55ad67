// SPDX-License-Identifier: GPL-2.0
/*
 * The iommu source: the dirty bits an IOMMU keeps for device DMA (AMD HAD,
 * Intel SSADS, Arm SMMUv3 HTTU), read through iommufd from a HWPT the VMM
 * allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, translated from IOVA to
 * GPA through the VMM's map and merged.
 *
 * iommufd exports nothing in-kernel to read a HWPT's dirty bits, so its
 * ioctls are issued on the VMM's iommufd file, in the VMM's context, with
 * their arguments and bitmap in the VMM's scratch (scratch.c).
 *
 * Behaviours of iommufd shape this file:
 *  - IOMMU_HWPT_SET_DIRTY_TRACKING(enable) clears every dirty bit, even on a
 *    HWPT that is tracking already (rule batched-iommu-clears): the source
 *    enables tracking only from a clean start, never on a HWPT seen or declared
 *    on;
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
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#ifdef DT_HAVE_IOMMUFD_CTX
#include <linux/iommufd.h>
#endif

#include "dirtytrack_private.h"
#include "core/dt_iommufd.h"

/* How a read goes (its bits are pending), and what it counts. */
struct dt_iommu_read {
	u32 flags;		/* DT_IOMMU_DIRTY_NO_CLEAR or 0 */
	bool quiet;		/* a failed call marks nothing (see attach) */
	u64 pages;
	u32 calls;
	u32 errors;
};

static int dt_iommu_set_tracking(struct dt_iommu_source *src, bool enable)
{
	struct dt_iommu_set_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = enable ? DT_IOMMU_TRACKING_ENABLE : 0,
	};

	return dt_scratch_ioctl(&src->scratch, src->iommufd,
				DT_IOMMU_HWPT_SET_DIRTY, &cmd, sizeof(cmd));
}

/* How @src's IOVAs become @t's pages (core/iommu.c). */
static struct dt_iommu_xlate dt_iommu_xlate(struct dt_tracker *t,
					    const struct dt_iommu_source *src)
{
	return (struct dt_iommu_xlate){
		.maps = src->maps, .nr_maps = src->nr_maps,
		.page_shift = PAGE_SHIFT, .rs = &t->regions,
	};
}

/*
 * One IOMMU_HWPT_GET_DIRTY_BITMAP over @npages pages from @iova (at most
 * the scratch's bits), merged.  iommufd ORs bits into the bitmap, so it is
 * cleared first.  A huge IO page is recorded whole, from where the walk
 * met it, so bits can land past @npages, up to the end of the bitmap's
 * last page (the scratch ends on a page boundary, so inside it): those
 * are cleared first and merged too.  A failed call marks everything the
 * range maps dirty.
 */
static void dt_iommu_read_chunk(struct dt_tracker *t,
				struct dt_iommu_source *src, u64 iova,
				u64 npages, struct dt_iommu_read *rd)
{
	unsigned long start = (unsigned long)dt_scratch_bitmap(&src->scratch);
	u64 nwords = (PAGE_ALIGN(start + dt_bitmap_words(npages) * sizeof(u64)) -
		      start) / sizeof(u64), w;
	struct dt_iommu_get_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = rd->flags, .iova = iova,
		.length = npages << PAGE_SHIFT, .page_size = PAGE_SIZE,
		.data = (u64)(uintptr_t)dt_scratch_bitmap(&src->scratch),
	};
	struct dt_iommu_xlate x = dt_iommu_xlate(t, src);
	struct dt_gfn_hint hint = {};
	int ret = 0;

	if (clear_user(dt_scratch_bitmap(&src->scratch), nwords * sizeof(u64)))
		ret = -EFAULT;
	if (!ret) {
		rd->calls++;
		ret = dt_scratch_ioctl(&src->scratch, src->iommufd,
				       DT_IOMMU_HWPT_GET_DIRTY, &cmd, sizeof(cmd));
	}
	for (w = 0; !ret && w < nwords; w += DT_SCRATCH_CHUNK_WORDS) {
		u64 n = min_t(u64, nwords - w, DT_SCRATCH_CHUNK_WORDS);

		ret = dt_scratch_read(&src->scratch, w, n);
		if (!ret)
			rd->pages += dt_iommu_take_words(&x, iova, w,
							 src->scratch.bounce,
							 n, &hint);
	}
	if (ret && !rd->quiet) {
		rd->errors++;
		dt_iommu_mark_range(&x, iova, iova + (npages << PAGE_SHIFT));
	}
}

/*
 * Read [@iova, + @npages pages) in calls of at most the scratch's bits,
 * cut only at DT_IOMMU_MAX_IO_PAGE boundaries (the scratch holds at least
 * that many).  A fatal signal stops it; the rest is marked dirty.
 */
static void dt_iommu_read_run(struct dt_tracker *t,
			      struct dt_iommu_source *src, u64 iova,
			      u64 npages, struct dt_iommu_read *rd)
{
	u64 max = src->scratch.words * DT_WORD_BITS;
	u64 end = iova + (npages << PAGE_SHIFT);

	while (iova < end) {
		u64 cut = dt_iommu_cut(iova, end, max, PAGE_SHIFT);
		struct dt_iommu_xlate x;

		dt_iommu_read_chunk(t, src, iova, (cut - iova) >> PAGE_SHIFT, rd);
		iova = cut;
		if (iova < end && fatal_signal_pending(current)) {
			rd->errors++;
			x = dt_iommu_xlate(t, src);
			dt_iommu_mark_range(&x, iova, end);
			return;
		}
		cond_resched();
	}
}

/*
 * Read the whole source: each entry of its map (each region of address
 * space 0, for the identity) in as few calls as the scratch allows.  Never
 * one call across two: an entry or region not fully mapped in the IOAS
 * would hide the next, or fail it (see the top of the file).  A HWPT that
 * is not tracking records nothing, and is not read.
 */
static void dt_iommu_read_all(struct dt_tracker *t,
			      struct dt_iommu_source *src,
			      struct dt_iommu_read *rd)
{
	u32 i;

	if (!src->tracking)
		return;
	if (src->maps) {
		for (i = 0; i < src->nr_maps; i++)
			dt_iommu_read_run(t, src, src->maps[i].iova,
					  src->maps[i].length >> PAGE_SHIFT, rd);
		return;
	}
	for (i = 0; i < t->regions.end; i++) {
		struct dt_region *r = t->regions.v[i];

		if (r && !(r->slot.slot >> 16))
			dt_iommu_read_run(t, src, r->first_gfn << PAGE_SHIFT,
					  r->slot.npages, rd);
	}
}

static void dt_iommu_add(struct dt_harvest *h, struct dt_iommu_read *rd)
{
	h->iommu_pages += rd->pages;
	h->iommu_calls += rd->calls;
	h->iommu_errors += rd->errors;
}

/* Read and clear every source; the IOTLB is flushed once per call. */
static int dt_iommu_harvest(struct dt_tracker *t, struct dt_harvest *h)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		struct dt_iommu_read rd = {};

		if (!t->iommu[i])
			continue;
		dt_iommu_read_all(t, t->iommu[i], &rd);
		dt_iommu_add(h, &rd);
	}
	return 0;
}

static bool dt_iommu_takes_part(const struct dt_tracker *t,
				const struct dt_harvest *h)
{
	return t->nr_iommu && h->kind != DT_HARVEST_VCPU;
}

const struct dt_source_ops dt_iommu_source_ops = {
	.id = DIRTYTRACK_SOURCE_IOMMU,
	.takes_part = dt_iommu_takes_part,
	.harvest = dt_iommu_harvest,
};

static void dt_iommu_free(struct dt_iommu_source *src)
{
	if (src->iommufd)
		fput(src->iommufd);
	dt_scratch_free(&src->scratch);
	kvfree(src->maps);
	kfree(src);
}

void dt_iommu_free_all(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		if (t->iommu[i])
			dt_iommu_free(t->iommu[i]);
		t->iommu[i] = NULL;
	}
	t->nr_iommu = 0;
}

/*
 * Copy and check a map (dt_iommu_maps_check()), refusing more than
 * DT_MAX_IOMMU_MAPS entries before allocating.  @nr 0 is the
 * identity (*@maps NULL).
 */
static int dt_iommu_map_copy(u64 uptr, u32 nr, struct dt_iommu_map **maps)
{
	struct dt_iommu_map *m;

	BUILD_BUG_ON(sizeof(*m) != sizeof(struct dirtytrack_iommu_map));
	*maps = NULL;
	if (!nr)
		return 0;
	if (nr > DT_MAX_IOMMU_MAPS)
		return -EINVAL;
	m = kvmalloc_array(nr, sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	if (copy_from_user(m, u64_to_user_ptr(uptr), nr * sizeof(*m))) {
		kvfree(m);
		return -EFAULT;
	}
	if (dt_iommu_maps_check(m, nr, PAGE_SHIFT)) {
		kvfree(m);
		return -EINVAL;
	}
	*maps = m;
	return 0;
}

static struct dt_iommu_source *dt_iommu_get(struct dt_tracker *t, u32 id)
{
	return id < DT_MAX_IOMMU ? t->iommu[id] : NULL;
}

#ifdef DT_HAVE_IOMMUFD_CTX
/*
 * Is @src->iommufd an iommufd?  Asked of iommufd itself, which compares
 * the file's operations with its own: no ioctl reaches a file before it
 * is known to be iommufd's, so nothing the VMM passes can run its own
 * ioctl code under the tracker's lock.  Through symbol_get(): the module
 * needs no iommufd to load, and where none is loaded no file is one.
 */
static int dt_iommu_check_file(struct dt_iommu_source *src)
{
	struct iommufd_ctx *(*from_file)(struct file *file);
	void (*put)(struct iommufd_ctx *ictx);
	struct iommufd_ctx *ictx;
	int ret = -EBADF;

	from_file = symbol_get(iommufd_ctx_from_file);
	put = symbol_get(iommufd_ctx_put);
	if (from_file && put) {
		ictx = from_file(src->iommufd);
		if (!IS_ERR(ictx)) {
			put(ictx);
			ret = 0;
		}
	}
	if (from_file)
		symbol_put(iommufd_ctx_from_file);
	if (put)
		symbol_put(iommufd_ctx_put);
	return ret;
}
#else
/* A kernel without iommufd_ctx_from_file() has no iommufd (6.1). */
static int dt_iommu_check_file(struct dt_iommu_source *src)
{
	return -EBADF;
}
#endif

/*
 * Can the HWPT track dirty pages at all?  Asked of iommufd's checks, not
 * of a read (dt_iommu_probe_cmd()), so neither the IOVA mapped nor
 * tracking being on yet changes the answer.
 */
static int dt_iommu_check_hwpt(struct dt_iommu_source *src)
{
	struct dt_iommu_get_dirty cmd;

	dt_iommu_probe_cmd(&cmd, src->hwpt_id,
			   (u64)(uintptr_t)dt_scratch_bitmap(&src->scratch));
	return dt_iommu_probe_result(dt_scratch_ioctl(&src->scratch,
						      src->iommufd,
						      DT_IOMMU_HWPT_GET_DIRTY,
						      &cmd, sizeof(cmd)));
}

/**
 * dt_iommu_attach() - ioctl(DIRTYTRACK_ATTACH_IOMMU)
 * @t: the tracker
 * @cmd: the call; out_source_id is filled in
 *
 * Return: 0; -EOPNOTSUPP for unknown flags or a HWPT without dirty
 * tracking; -EINVAL for a bad map or scratch; -EBADF if @iommufd is not an
 * iommufd; -ENOENT for an unknown HWPT; -EEXIST if that HWPT of that
 * iommufd is a source already; -ENOSPC past DT_MAX_IOMMU sources; -EFAULT;
 * -ENOMEM; or the error of enabling tracking (while tracking).
 */
int dt_iommu_attach(struct dt_tracker *t, struct dirtytrack_attach_iommu *cmd)
{
	struct dt_iommu_read rd = {};
	struct dt_iommu_source *src;
	struct dt_iommu_xlate x;
	int id, i, ret;

	for (id = 0; id < DT_MAX_IOMMU && t->iommu[id]; id++)
		;
	if (id == DT_MAX_IOMMU)
		return -ENOSPC;
	src = kzalloc(sizeof(*src), GFP_KERNEL_ACCOUNT);
	if (!src)
		return -ENOMEM;
	src->hwpt_id = cmd->hwpt_id;
	/*
	 * At least a largest IO page's worth of bits; at most 2^28 pages
	 * per call; ending on a page (iommufd's writes past a call stay
	 * inside); pinnable, as iommufd pins it and silently drops the bits
	 * it cannot write.
	 */
	ret = -EINVAL;
	if (!PAGE_ALIGNED(cmd->scratch_addr + cmd->scratch_size))
		goto err;
	ret = dt_scratch_init(&src->scratch, cmd->scratch_addr,
			      cmd->scratch_size,
			      dt_bitmap_words(DT_IOMMU_MAX_IO_PAGE >> PAGE_SHIFT),
			      dt_bitmap_words(1ULL << 28) + PAGE_SIZE / sizeof(u64));
	if (!ret)
		ret = dt_scratch_check_pinnable(&src->scratch);
	if (ret)
		goto err;
	ret = dt_iommu_map_copy(cmd->maps, cmd->nr_maps, &src->maps);
	if (ret)
		goto err;
	src->nr_maps = cmd->nr_maps;
	src->iommufd = fget(cmd->iommufd);
	if (!src->iommufd) {
		ret = -EBADF;
		goto err;
	}
	/* Two sources on one HWPT would turn its tracking off for each other. */
	for (i = 0; i < DT_MAX_IOMMU; i++) {
		if (t->iommu[i] && t->iommu[i]->iommufd == src->iommufd &&
		    t->iommu[i]->hwpt_id == src->hwpt_id) {
			ret = -EEXIST;
			goto err;
		}
	}
	ret = dt_iommu_check_file(src);
	if (!ret)
		ret = dt_iommu_check_hwpt(src);
	if (ret)
		goto err;

	/*
	 * Bits set before the attach: if tracking is on they are here, and stay
	 * pending for the next sync.  Declared on, a failed read marks its
	 * range dirty (rule errors-mean-dirty).  Not declared, the read finds
	 * out: bits mean it is on; a failed read (from 6.12.118, how a HWPT
	 * that is not tracking answers) or a clean one, that it is off, and
	 * START enables it.  Before START that loses nothing: the first round
	 * sends every page; while tracking, everything is marked dirty below
	 * anyway.
	 */
	src->tracking = true;
	rd.quiet = !(cmd->flags & DIRTYTRACK_IOMMU_TRACKING_ON);
	dt_iommu_read_all(t, src, &rd);
	src->tracking = rd.pages || (cmd->flags & DIRTYTRACK_IOMMU_TRACKING_ON);
	if (t->state != DT_IDLE) {
		/*
		 * Attached mid-migration (a hot-plugged device): its DMA so
		 * far is unknown, whoever enabled its tracking and when.
		 */
		if (!src->tracking) {
			ret = dt_iommu_set_tracking(src, true);
			if (ret)
				goto err;
			src->tracking = true;
			src->enabled = true;
		}
		x = dt_iommu_xlate(t, src);
		dt_iommu_mark_all(&x);
	}
	t->iommu[id] = src;
	t->nr_iommu++;
	cmd->out_source_id = id;
	return 0;

err:
	dt_iommu_free(src);
	return ret;
}

/**
 * dt_iommu_set_map() - ioctl(DIRTYTRACK_IOMMU_SET_MAP)
 * @t: the tracker
 * @cmd: the call
 *
 * The old map's bits are read without clearing and merged through it
 * first: the IOVA may map elsewhere from now on.  They stay in the IOMMU
 * and the next sync reads them again through the new map, which can only
 * over-report.
 *
 * Return: 0; -ENOENT for an unknown source; -EINVAL for a bad map;
 * -EFAULT; -ENOMEM.
 */
int dt_iommu_set_map(struct dt_tracker *t, struct dirtytrack_iommu_set_map *cmd)
{
	struct dt_iommu_source *src = dt_iommu_get(t, cmd->source_id);
	struct dt_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };
	struct dt_iommu_map *maps;
	int ret;

	if (!src)
		return -ENOENT;
	ret = dt_iommu_map_copy(cmd->maps, cmd->nr_maps, &maps);
	if (ret)
		return ret;
	dt_iommu_read_all(t, src, &rd);
	kvfree(src->maps);
	src->maps = maps;
	src->nr_maps = cmd->nr_maps;
	return 0;
}

/**
 * dt_iommu_peek() - ioctl(DIRTYTRACK_IOMMU_PEEK)
 * @t: the tracker
 * @cmd: the call; out_dirty is filled in
 *
 * Reads without clearing (no IOTLB flush) into the pending set, published
 * by the next sync: the VMM is about to unmap the range, and its bits go
 * with the mapping.  DMA to the range must have stopped.
 *
 * Return: 0; -ENOENT for an unknown source; -EINVAL for an unaligned or
 * empty range.
 */
int dt_iommu_peek(struct dt_tracker *t, struct dirtytrack_iommu_peek *cmd)
{
	struct dt_iommu_source *src = dt_iommu_get(t, cmd->source_id);
	struct dt_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };

	if (!src)
		return -ENOENT;
	if (dt_check_iommu_range(cmd->iova, cmd->length, PAGE_SHIFT))
		return -EINVAL;
	/* A HWPT that is not tracking holds no bits to keep. */
	if (src->tracking)
		dt_iommu_read_run(t, src, cmd->iova, cmd->length >> PAGE_SHIFT,
				  &rd);
	cmd->out_dirty = rd.pages;
	return 0;
}

/**
 * dt_iommu_detach() - ioctl(DIRTYTRACK_IOMMU_DETACH)
 * @t: the tracker
 * @id: the source
 *
 * A last read and clear (a failed one marks the source's pages dirty, so
 * a HWPT already destroyed loses nothing), tracking off if the tracker
 * turned it on, and the iommufd released.
 *
 * Return: 0, or -ENOENT for an unknown source.
 */
int dt_iommu_detach(struct dt_tracker *t, u32 id)
{
	struct dt_iommu_source *src = dt_iommu_get(t, id);
	struct dt_iommu_read rd = {};

	if (!src)
		return -ENOENT;
	dt_iommu_read_all(t, src, &rd);
	/* A HWPT already gone cannot be turned off, and needs not be. */
	if (src->enabled)
		dt_iommu_set_tracking(src, false);
	t->iommu[id] = NULL;
	t->nr_iommu--;
	dt_iommu_free(src);
	return 0;
}

/**
 * dt_iommu_start() - tracking begins: enable it where it is off
 * @t: the tracker
 *
 * Enabling clears the HWPT's dirty bits (a clean snapshot), so it is done
 * only on a HWPT that was not tracking (rule batched-iommu-clears).
 *
 * Return: 0, or the first enable's error.
 */
int dt_iommu_start(struct dt_tracker *t)
{
	u32 i;
	int ret;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		struct dt_iommu_source *src = t->iommu[i];

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

/* Tracking ends: off again where the tracker turned it on. */
void dt_iommu_stop(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		struct dt_iommu_source *src = t->iommu[i];

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
