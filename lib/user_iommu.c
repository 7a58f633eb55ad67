// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's iommu source: the module's iommu_source.c, in this
 * process.  Its own copy of the VMM's iommufd, checked to be one, and
 * memory of its own for the bitmaps (user_io.c).  What is read, when, and
 * how iommufd's behaviours shape it is the core's
 * (drivers/dirtytrack/core/iommu_source.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_iommufd.h"
#include "user_backend.h"

struct dt_u_iommu {
	struct dt_iommu_src src;
	struct dt_u_io io;	/* its fd is ours */
};

static struct dt_u_iommu *dt_u_iommu(struct dt_iommu_src *src)
{
	return (struct dt_u_iommu *)((char *)src -
				     offsetof(struct dt_u_iommu, src));
}

static bool dt_u_iommu_attached(void *ctx)
{
	return dt_u(ctx)->iommu.nr;
}

static int dt_u_iommu_harvest(void *ctx, struct dt_harvest *h)
{
	struct dirtytrack_tracker *t = ctx;
	struct dt_iommu_read rd = { 0 };

	dt_iommu_srcs_harvest(&dt_u(t)->iommu, &t->regions, &rd);
	h->iommu_pages += rd.pages;
	h->iommu_calls += rd.calls;
	h->iommu_errors += rd.errors;
	return 0;
}

const struct dt_source_ops dt_u_iommu_source = {
	.attached = dt_u_iommu_attached,
	.harvest = dt_u_iommu_harvest,
};

static void dt_u_iommu_free(struct dt_u_iommu *s)
{
	if (s->io.fd >= 0)
		close(s->io.fd);
	dt_u_io_free(&s->io);
	free(s->src.maps);
	free(s);
}

void dt_u_iommu_free_all(struct dirtytrack_tracker *t)
{
	struct dt_iommu_srcs *ss = &dt_u(t)->iommu;
	int i;

	for (i = 0; i < DT_MAX_IOMMU; i++) {
		if (ss->v[i])
			dt_u_iommu_free(dt_u_iommu(ss->v[i]));
		ss->v[i] = NULL;
	}
	ss->nr = 0;
}

/*
 * Is the fd an iommufd?  A character device that answers IOMMU_OPTION,
 * which changes nothing (the module asks iommufd itself).
 */
static int dt_u_iommu_check_file(int fd)
{
	struct dt_iommu_option opt = {
		.size = sizeof(opt), .option_id = DT_IOMMU_OPTION_RLIMIT_MODE,
		.op = DT_IOMMU_OPTION_OP_GET,
	};
	struct stat st;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return -EBADF;
	if (ioctl(fd, DT_IOMMU_OPTION, &opt))
		return errno == ENOTTY || errno == EINVAL ? -EBADF : -errno;
	return 0;
}

int dt_u_iommu_attach(struct dirtytrack_tracker *t,
		      const struct dirtytrack_iommu_opts *o, uint32_t *out_id)
{
	uint64_t pg = dt_lib_page_size(t);
	struct dt_u_iommu *s;
	int id, ret;

	id = dt_iommu_srcs_free_id(&dt_u(t)->iommu);
	if (id < 0)
		return id;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* The bitmap of one call, to a page end (iommufd may write up to it). */
	ret = dt_u_io_init(&s->io, -1,
			   dt_bitmap_words(dt_lib_iommu_call_pages(t, o->maps,
								   o->nr_maps)),
			   pg, false);
	if (!ret)
		ret = dt_lib_iommu_maps(o->maps, o->nr_maps, &s->src.maps);
	if (ret)
		goto err;
	s->io.fd = fcntl(o->iommufd, F_DUPFD_CLOEXEC, 0);
	ret = s->io.fd < 0 ? -errno : dt_u_iommu_check_file(s->io.fd);
	if (ret)
		goto err;
	s->src.io = &s->io.io;
	s->src.hwpt_id = o->hwpt_id;
	s->src.nr_maps = o->nr_maps;
	s->src.page_shift = t->dt->page_shift;
	ret = dt_iommu_src_attach(&dt_u(t)->iommu, &t->regions, &s->src, id,
				  o->tracking_on, dt_u(t)->state != DT_IDLE);
	if (ret)
		goto err;
	*out_id = (uint32_t)id;
	return 0;
err:
	dt_u_iommu_free(s);
	return ret;
}

static struct dt_iommu_src *dt_u_iommu_get(struct dirtytrack_tracker *t,
					   uint32_t id)
{
	return id < DT_MAX_IOMMU ? dt_u(t)->iommu.v[id] : NULL;
}

int dt_u_iommu_set_map(struct dirtytrack_tracker *t, uint32_t id,
		       const struct dirtytrack_iova_map *maps, uint32_t nr)
{
	struct dt_iommu_src *src = dt_u_iommu_get(t, id);
	struct dt_iommu_map *copy;
	int ret;

	if (!src)
		return -ENOENT;
	ret = dt_lib_iommu_maps(maps, nr, &copy);
	if (ret)
		return ret;
	free(dt_iommu_src_set_map(src, &t->regions, copy, nr));
	return 0;
}

int dt_u_iommu_peek(struct dirtytrack_tracker *t, uint32_t id, uint64_t iova,
		    uint64_t length, uint64_t *out_dirty)
{
	struct dt_iommu_src *src = dt_u_iommu_get(t, id);

	if (!src)
		return -ENOENT;
	*out_dirty = dt_iommu_src_peek(src, &t->regions, iova, length);
	return 0;
}

int dt_u_iommu_detach(struct dirtytrack_tracker *t, uint32_t id)
{
	struct dt_iommu_src *src = dt_iommu_src_detach(&dt_u(t)->iommu,
						       &t->regions, id);

	if (!src)
		return -ENOENT;
	dt_u_iommu_free(dt_u_iommu(src));
	return 0;
}
