// SPDX-License-Identifier: GPL-2.0
/*
 * The iommu source's home in the module: the VMM's iommufd file, checked
 * to be one before any ioctl reaches it, and the scratch its reads write
 * (scratch.c).  What is read, when, and how iommufd's behaviours shape it
 * is the core's (core/iommu_source.c).
 *
 * Called with the tracker's lock held.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#ifdef DT_HAVE_IOMMUFD_CTX
#include <linux/iommufd.h>
#endif

#include "dirtytrack_private.h"

static struct dt_iommu_source *dt_iommu_source(struct dt_iommu_src *src)
{
	return container_of(src, struct dt_iommu_source, src);
}

/* Read and clear every source (core/iommu_source.c). */
static int dt_iommu_harvest(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	struct dt_iommu_read rd = {};

	dt_iommu_srcs_harvest(&t->iommu, &t->regions, &rd);
	h->iommu_pages += rd.pages;
	h->iommu_calls += rd.calls;
	h->iommu_errors += rd.errors;
	return 0;
}

static bool dt_iommu_attached(void *ctx)
{
	return ((struct dt_tracker *)ctx)->iommu.nr;
}

const struct dt_source_ops dt_iommu_source_ops = {
	.attached = dt_iommu_attached,
	.harvest = dt_iommu_harvest,
};

static void dt_iommu_free(struct dt_iommu_source *is)
{
	if (is->scratch.file)
		fput(is->scratch.file);
	dt_scratch_free(&is->scratch);
	kvfree(is->src.maps);
	kfree(is);
}

void dt_iommu_free_all(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		if (t->iommu.v[i])
			dt_iommu_free(dt_iommu_source(t->iommu.v[i]));
		t->iommu.v[i] = NULL;
	}
	t->iommu.nr = 0;
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

static struct dt_iommu_src *dt_iommu_get(struct dt_tracker *t, u32 id)
{
	return id < DT_MAX_IOMMU ? t->iommu.v[id] : NULL;
}

#ifdef DT_HAVE_IOMMUFD_CTX
/*
 * Is @file an iommufd?  Asked of iommufd itself, which compares the
 * file's operations with its own: no ioctl reaches a file before it is
 * known to be iommufd's, so nothing the VMM passes can run its own ioctl
 * code under the tracker's lock.  Through symbol_get(): the module needs
 * no iommufd to load, and where none is loaded no file is one.
 */
static int dt_iommu_check_file(struct file *file)
{
	struct iommufd_ctx *(*from_file)(struct file *file);
	void (*put)(struct iommufd_ctx *ictx);
	struct iommufd_ctx *ictx;
	int ret = -EBADF;

	from_file = symbol_get(iommufd_ctx_from_file);
	put = symbol_get(iommufd_ctx_put);
	if (from_file && put) {
		ictx = from_file(file);
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
static int dt_iommu_check_file(struct file *file)
{
	return -EBADF;
}
#endif

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
	struct dt_iommu_source *is;
	int id, ret;

	id = dt_iommu_srcs_free_id(&t->iommu);
	if (id < 0)
		return id;
	is = kzalloc(sizeof(*is), GFP_KERNEL_ACCOUNT);
	if (!is)
		return -ENOMEM;
	/*
	 * At least a largest IO page's worth of bits; at most 2^28 pages
	 * per call; ending on a page (iommufd's writes past a call stay
	 * inside); pinnable, as iommufd pins it and silently drops the bits
	 * it cannot write.
	 */
	ret = -EINVAL;
	if (!PAGE_ALIGNED(cmd->scratch_addr + cmd->scratch_size))
		goto err;
	ret = dt_scratch_init(&is->scratch, cmd->scratch_addr,
			      cmd->scratch_size,
			      dt_bitmap_words(DT_IOMMU_MAX_IO_PAGE >> PAGE_SHIFT),
			      dt_bitmap_words(1ULL << 28) + PAGE_SIZE / sizeof(u64));
	if (!ret)
		ret = dt_scratch_check_pinnable(&is->scratch);
	if (!ret)
		ret = dt_iommu_map_copy(cmd->maps, cmd->nr_maps, &is->src.maps);
	if (ret)
		goto err;
	is->src.io = &is->scratch.io;
	is->src.hwpt_id = cmd->hwpt_id;
	is->src.nr_maps = cmd->nr_maps;
	is->src.page_shift = PAGE_SHIFT;
	is->scratch.file = fget(cmd->iommufd);
	ret = is->scratch.file ? dt_iommu_check_file(is->scratch.file) : -EBADF;
	if (!ret)
		ret = dt_iommu_src_attach(&t->iommu, &t->regions, &is->src, id,
					  cmd->flags & DIRTYTRACK_IOMMU_TRACKING_ON,
					  t->state != DT_IDLE);
	if (ret)
		goto err;
	cmd->out_source_id = id;
	return 0;

err:
	dt_iommu_free(is);
	return ret;
}

/**
 * dt_iommu_set_map() - ioctl(DIRTYTRACK_IOMMU_SET_MAP)
 * @t: the tracker
 * @cmd: the call
 *
 * Return: 0; -ENOENT for an unknown source; -EINVAL for a bad map;
 * -EFAULT; -ENOMEM.
 */
int dt_iommu_set_map(struct dt_tracker *t, struct dirtytrack_iommu_set_map *cmd)
{
	struct dt_iommu_src *src = dt_iommu_get(t, cmd->source_id);
	struct dt_iommu_map *maps;
	int ret;

	if (!src)
		return -ENOENT;
	ret = dt_iommu_map_copy(cmd->maps, cmd->nr_maps, &maps);
	if (ret)
		return ret;
	kvfree(dt_iommu_src_set_map(src, &t->regions, maps, cmd->nr_maps));
	return 0;
}

/**
 * dt_iommu_peek() - ioctl(DIRTYTRACK_IOMMU_PEEK)
 * @t: the tracker
 * @cmd: the call; out_dirty is filled in
 *
 * Return: 0; -ENOENT for an unknown source; -EINVAL for an unaligned or
 * empty range.
 */
int dt_iommu_peek(struct dt_tracker *t, struct dirtytrack_iommu_peek *cmd)
{
	struct dt_iommu_src *src = dt_iommu_get(t, cmd->source_id);

	if (!src)
		return -ENOENT;
	if (dt_check_iommu_range(cmd->iova, cmd->length, PAGE_SHIFT))
		return -EINVAL;
	cmd->out_dirty = dt_iommu_src_peek(src, &t->regions, cmd->iova,
					   cmd->length);
	return 0;
}

/**
 * dt_iommu_detach() - ioctl(DIRTYTRACK_IOMMU_DETACH)
 * @t: the tracker
 * @id: the source
 *
 * Return: 0, or -ENOENT for an unknown source.
 */
int dt_iommu_detach(struct dt_tracker *t, u32 id)
{
	struct dt_iommu_src *src = dt_iommu_src_detach(&t->iommu, &t->regions,
						       id);

	if (!src)
		return -ENOENT;
	dt_iommu_free(dt_iommu_source(src));
	return 0;
}
