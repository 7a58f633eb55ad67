// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's iommu source: a HWPT's dirty bits, read through
 * iommufd, translated from IOVA to GPA through the VMM's map and merged.
 * The module's iommu_source.c, in this process, with the same answers to
 * iommufd's behaviour (the top of that file says how 6.12.118 changed it):
 *  - enabling tracking clears every dirty bit, so it is enabled only from a
 *    clean start, never on a HWPT declared or seen tracking (rule
 *    batched-iommu-clears);
 *  - a read stops silently at the first unmapped IOVA (before 6.12.118)
 *    or fails (from it), so a call never spans two map entries (or
 *    regions, for the identity);
 *  - a HWPT that is not tracking is never read (from 6.12.118 the read
 *    fails), and whether it can track is asked of iommufd's checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_iommufd.h"
#include "user_backend.h"

struct dt_u_iommu {
	int fd;
	uint32_t hwpt_id;
	struct dt_iommu_map *maps;	/* NULL: the identity */
	uint32_t nr_maps;
	bool tracking;		/* on, whoever turned it on */
	bool enabled;		/* turned on by this tracker */
	uint64_t *buf;		/* the bitmap of one call, page-aligned */
	uint64_t buf_bits;
};

struct dt_u_iommu_read {
	uint32_t flags;
	bool quiet;		/* a failed call marks nothing (see attach) */
	uint64_t pages, calls, errors;
};

static int dt_u_iommu_tracking(struct dt_u_iommu *src, bool enable)
{
	struct dt_iommu_set_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = enable ? DT_IOMMU_TRACKING_ENABLE : 0,
	};

	return ioctl(src->fd, DT_IOMMU_HWPT_SET_DIRTY, &cmd) ? -errno : 0;
}

/* How @src's IOVAs become @t's pages (core/iommu.c). */
static struct dt_iommu_xlate dt_u_iommu_xlate(struct dirtytrack_tracker *t,
					      const struct dt_u_iommu *src)
{
	return (struct dt_iommu_xlate){
		.maps = src->maps, .nr_maps = src->nr_maps,
		.page_shift = t->dt->page_shift, .rs = &t->regions,
	};
}

/*
 * One IOMMU_HWPT_GET_DIRTY_BITMAP over @npages pages from @iova, merged.
 * iommufd ORs bits in and records a huge IO page whole, possibly past
 * @npages up to the end of the bitmap's last page: the buffer reaches that
 * far, is cleared first, and those bits are merged too.
 */
static void dt_u_iommu_read_chunk(struct dirtytrack_tracker *t,
				  struct dt_u_iommu *src, uint64_t iova,
				  uint64_t npages, struct dt_u_iommu_read *rd)
{
	uint64_t pg = dt_lib_page_size(t);
	uint64_t bytes = (dt_bitmap_words(npages) * 8 + pg - 1) & ~(pg - 1);
	uint64_t nwords = bytes / 8;
	struct dt_iommu_get_dirty cmd = {
		.size = sizeof(cmd), .hwpt_id = src->hwpt_id,
		.flags = rd->flags, .iova = iova,
		.length = npages << t->dt->page_shift, .page_size = pg,
		.data = (uintptr_t)src->buf,
	};
	struct dt_iommu_xlate x = dt_u_iommu_xlate(t, src);
	struct dt_gfn_hint hint = { 0 };

	memset(src->buf, 0, bytes);
	rd->calls++;
	if (ioctl(src->fd, DT_IOMMU_HWPT_GET_DIRTY, &cmd)) {
		if (rd->quiet)
			return;
		rd->errors++;
		dt_iommu_mark_range(&x, iova,
				    iova + (npages << t->dt->page_shift));
		return;
	}
	rd->pages += dt_iommu_take_words(&x, iova, 0, src->buf, nwords, &hint);
}

/* [@iova, + @npages pages) in calls of at most the buffer's bits. */
static void dt_u_iommu_read_run(struct dirtytrack_tracker *t,
				struct dt_u_iommu *src, uint64_t iova,
				uint64_t npages, struct dt_u_iommu_read *rd)
{
	uint64_t end = iova + (npages << t->dt->page_shift);

	while (iova < end) {
		uint64_t cut = dt_iommu_cut(iova, end, src->buf_bits,
					    t->dt->page_shift);

		dt_u_iommu_read_chunk(t, src, iova,
				      (cut - iova) >> t->dt->page_shift, rd);
		iova = cut;
	}
}

/*
 * Each map entry (each region of address space 0: the identity) apart.
 * A HWPT that is not tracking records nothing, and is not read.
 */
static void dt_u_iommu_read_all(struct dirtytrack_tracker *t,
				struct dt_u_iommu *src,
				struct dt_u_iommu_read *rd)
{
	uint32_t i;

	if (!src->tracking)
		return;
	if (src->maps) {
		for (i = 0; i < src->nr_maps; i++)
			dt_u_iommu_read_run(t, src, src->maps[i].iova,
					    src->maps[i].length >> t->dt->page_shift,
					    rd);
		return;
	}
	for (i = 0; i < t->regions.end; i++) {
		struct dt_region *r = t->regions.v[i];

		if (r && !(r->slot.slot >> 16))
			dt_u_iommu_read_run(t, src,
					    r->first_gfn << t->dt->page_shift,
					    r->slot.npages, rd);
	}
}

void dt_u_iommu_harvest(struct dirtytrack_tracker *t, struct dt_u_harvest *h)
{
	int i;

	for (i = 0; i < DT_LIB_MAX_IOMMU; i++) {
		struct dt_u_iommu_read rd = { 0 };

		if (!dt_u(t)->iommu[i])
			continue;
		dt_u_iommu_read_all(t, dt_u(t)->iommu[i], &rd);
		h->st.iommu_pages += rd.pages;
		h->st.iommu_calls += rd.calls;
		h->st.iommu_errors += rd.errors;
	}
}

static void dt_u_iommu_free(struct dt_u_iommu *src)
{
	if (src->fd >= 0)
		close(src->fd);
	if (src->buf)
		munmap(src->buf, (dt_bitmap_words(src->buf_bits) * 8));
	free(src->maps);
	free(src);
}

void dt_u_iommu_free_all(struct dirtytrack_tracker *t)
{
	int i;

	for (i = 0; i < DT_LIB_MAX_IOMMU; i++) {
		if (dt_u(t)->iommu[i])
			dt_u_iommu_free(dt_u(t)->iommu[i]);
		dt_u(t)->iommu[i] = NULL;
	}
}

/* The bitmap of one call, to a page end (iommufd may write up to it). */
static int dt_u_iommu_buf(struct dirtytrack_tracker *t, struct dt_u_iommu *src,
			  const struct dirtytrack_iova_map *maps, uint32_t nr)
{
	uint64_t bits = dt_lib_iommu_call_pages(t, maps, nr);
	uint64_t pg = dt_lib_page_size(t);

	bits = ((dt_bitmap_words(bits) * 8 + pg - 1) & ~(pg - 1)) * 8;
	src->buf = mmap(NULL, bits / 8, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (src->buf == MAP_FAILED) {
		src->buf = NULL;
		return -ENOMEM;
	}
	src->buf_bits = bits;
	return 0;
}

/*
 * Are @a and @b the same open file (one iommufd context)?  The module
 * compares files; here kcmp(2) does.  Without kcmp (a kernel built without
 * CONFIG_CHECKPOINT_RESTORE, or a seccomp filter) two opens of /dev/iommu
 * cannot be told apart, and they count as one: refusing a second source is
 * an error the VMM sees, two sources on one HWPT would silently turn its
 * tracking off for each other.
 */
static bool dt_same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) || fstat(b, &sb) || sa.st_rdev != sb.st_rdev ||
	    sa.st_ino != sb.st_ino)
		return false;
	return dt_u_kcmp_files(a, b) <= 0;
}

/*
 * Is the fd an iommufd?  A character device that answers IOMMU_OPTION,
 * which changes nothing; and can the HWPT track dirty pages at all (asked
 * of iommufd's checks, dt_iommu_probe_cmd(), not of a read)?
 */
static int dt_u_iommu_check(struct dt_u_iommu *src)
{
	struct dt_iommu_option opt = {
		.size = sizeof(opt), .option_id = DT_IOMMU_OPTION_RLIMIT_MODE,
		.op = DT_IOMMU_OPTION_OP_GET,
	};
	struct dt_iommu_get_dirty cmd;
	struct stat st;

	if (fstat(src->fd, &st) || !S_ISCHR(st.st_mode))
		return -EBADF;
	if (ioctl(src->fd, DT_IOMMU_OPTION, &opt))
		return errno == ENOTTY || errno == EINVAL ? -EBADF : -errno;
	dt_iommu_probe_cmd(&cmd, src->hwpt_id, (uintptr_t)src->buf);
	return dt_iommu_probe_result(ioctl(src->fd, DT_IOMMU_HWPT_GET_DIRTY,
					   &cmd) ? -errno : 0);
}

int dt_u_iommu_attach(struct dirtytrack_tracker *t,
		      const struct dirtytrack_iommu_opts *o, uint32_t *out_id)
{
	struct dt_u_iommu_read rd = { 0 };
	struct dt_user *u = dt_u(t);
	struct dt_iommu_xlate x;
	struct dt_u_iommu *src;
	int id, i, ret;

	for (id = 0; id < DT_LIB_MAX_IOMMU && u->iommu[id]; id++)
		;
	if (id == DT_LIB_MAX_IOMMU)
		return -ENOSPC;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->hwpt_id = o->hwpt_id;
	src->fd = fcntl(o->iommufd, F_DUPFD_CLOEXEC, 0);
	if (src->fd < 0) {
		ret = errno == EBADF ? -EBADF : -errno;
		goto err;
	}
	ret = dt_u_iommu_buf(t, src, o->maps, o->nr_maps);
	if (!ret)
		ret = dt_lib_iommu_maps(o->maps, o->nr_maps, &src->maps);
	if (ret)
		goto err;
	src->nr_maps = o->nr_maps;
	/* Two sources on one HWPT would turn its tracking off for each other. */
	for (i = 0; i < DT_LIB_MAX_IOMMU; i++) {
		if (u->iommu[i] && u->iommu[i]->hwpt_id == src->hwpt_id &&
		    dt_same_file(u->iommu[i]->fd, src->fd)) {
			ret = -EEXIST;
			goto err;
		}
	}
	ret = dt_u_iommu_check(src);
	if (ret)
		goto err;
	/*
	 * Bits set before the attach: if any is, tracking is on.  Not
	 * declared, a failed read means off (the module's attach says why).
	 */
	src->tracking = true;
	rd.quiet = !o->tracking_on;
	dt_u_iommu_read_all(t, src, &rd);
	src->tracking = rd.pages || o->tracking_on;
	if (u->state != DT_IDLE) {
		/* A device hot-plugged mid-migration: its DMA so far is unknown. */
		if (!src->tracking) {
			ret = dt_u_iommu_tracking(src, true);
			if (ret)
				goto err;
			src->tracking = src->enabled = true;
		}
		x = dt_u_iommu_xlate(t, src);
		dt_iommu_mark_all(&x);
	}
	u->iommu[id] = src;
	*out_id = (uint32_t)id;
	return 0;
err:
	dt_u_iommu_free(src);
	return ret;
}

static struct dt_u_iommu *dt_u_iommu_get(struct dirtytrack_tracker *t,
					 uint32_t id)
{
	return id < DT_LIB_MAX_IOMMU ? dt_u(t)->iommu[id] : NULL;
}

/* The old map's bits, read without clearing, go through the old map. */
int dt_u_iommu_set_map(struct dirtytrack_tracker *t, uint32_t id,
		       const struct dirtytrack_iova_map *maps, uint32_t nr)
{
	struct dt_u_iommu *src = dt_u_iommu_get(t, id);
	struct dt_u_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };
	struct dt_iommu_map *copy;
	int ret;

	if (!src)
		return -ENOENT;
	ret = dt_lib_iommu_maps(maps, nr, &copy);
	if (ret)
		return ret;
	dt_u_iommu_read_all(t, src, &rd);
	free(src->maps);
	src->maps = copy;
	src->nr_maps = nr;
	return 0;
}

/* Before an unmap, once DMA to the range stopped: read without clearing. */
int dt_u_iommu_peek(struct dirtytrack_tracker *t, uint32_t id, uint64_t iova,
		    uint64_t length, uint64_t *out_dirty)
{
	struct dt_u_iommu *src = dt_u_iommu_get(t, id);
	struct dt_u_iommu_read rd = { .flags = DT_IOMMU_DIRTY_NO_CLEAR };

	if (!src)
		return -ENOENT;
	/* A HWPT that is not tracking holds no bits to keep. */
	if (src->tracking)
		dt_u_iommu_read_run(t, src, iova, length >> t->dt->page_shift,
				    &rd);
	*out_dirty = rd.pages;
	return 0;
}

int dt_u_iommu_detach(struct dirtytrack_tracker *t, uint32_t id)
{
	struct dt_u_iommu *src = dt_u_iommu_get(t, id);
	struct dt_u_iommu_read rd = { 0 };

	if (!src)
		return -ENOENT;
	dt_u_iommu_read_all(t, src, &rd);
	/* A HWPT already gone cannot be turned off, and needs not be. */
	if (src->enabled)
		dt_u_iommu_tracking(src, false);
	dt_u(t)->iommu[id] = NULL;
	dt_u_iommu_free(src);
	return 0;
}

/* Tracking begins: enabled where it is off (from a clean snapshot). */
int dt_u_iommu_start(struct dirtytrack_tracker *t)
{
	int i, ret;

	for (i = 0; i < DT_LIB_MAX_IOMMU; i++) {
		struct dt_u_iommu *src = dt_u(t)->iommu[i];

		if (!src || src->tracking)
			continue;
		ret = dt_u_iommu_tracking(src, true);
		if (ret)
			return ret;
		src->tracking = src->enabled = true;
	}
	return 0;
}

/* Tracking ends: off again where this tracker turned it on. */
void dt_u_iommu_stop(struct dirtytrack_tracker *t)
{
	int i;

	for (i = 0; i < DT_LIB_MAX_IOMMU; i++) {
		struct dt_u_iommu *src = dt_u(t)->iommu[i];

		if (!src || !src->enabled)
			continue;
		/*
		 * Still on if it failed: never enabled again (rule
		 * batched-iommu-clears).
		 */
		if (dt_u_iommu_tracking(src, false))
			continue;
		src->tracking = src->enabled = false;
	}
}
