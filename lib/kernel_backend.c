// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The kernel backend: every call is one ioctl on the tracker the module
 * made; the merged sets are the module's, mapped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdt.h"

#define DT_IOCTL(fd, cmd, arg)	(ioctl(fd, cmd, arg) ? -errno : 0)

/* Scratch for the module's KVM and iommufd calls, in this process. */
struct dt_kscratch {
	void *addr;
	size_t size;
};

struct dt_kernel {
	struct dt_kscratch kvm_bitmap;
	struct dt_kscratch iommu[DT_MAX_IOMMU];
	struct dirtytrack_vcpu_stat *vcpu_stats;	/* one per ring */
	uint32_t nr_vcpu_stats;
};

static struct dt_kernel *dt_k(struct dirtytrack_tracker *t)
{
	return (struct dt_kernel *)t->priv;
}

static int dt_kscratch_alloc(struct dt_kscratch *s, size_t size)
{
	s->addr = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->addr == MAP_FAILED) {
		s->addr = NULL;
		return -ENOMEM;
	}
	s->size = size;
	return 0;
}

static void dt_kscratch_free(struct dt_kscratch *s)
{
	if (s->addr)
		munmap(s->addr, s->size);
	s->addr = NULL;
}

static int dt_k_create(struct dirtytrack_tracker *t, int vm_fd)
{
	struct dirtytrack_create c = { .size = sizeof(c), .vm_fd = vm_fd };
	int ret;

	t->priv = calloc(1, sizeof(struct dt_kernel));
	if (!t->priv)
		return -ENOMEM;
	ret = DT_IOCTL(t->dt->fd, DIRTYTRACK_CREATE, &c);
	if (ret) {
		free(t->priv);
		t->priv = NULL;
		return ret;
	}
	t->fd = c.out_tracker_fd;
	return 0;
}

static void dt_k_destroy(struct dirtytrack_tracker *t)
{
	int i;

	close(t->fd);
	dt_kscratch_free(&dt_k(t)->kvm_bitmap);
	for (i = 0; i < DT_MAX_IOMMU; i++)
		dt_kscratch_free(&dt_k(t)->iommu[i]);
	free(dt_k(t)->vcpu_stats);
	free(t->priv);
}

/*
 * Room for every ring's share of a harvest (the module reports them in
 * attach order, which is ours); NULL when there is no ring, or no memory.
 */
static struct dirtytrack_vcpu_stat *dt_k_vcpu_stats(struct dirtytrack_tracker *t)
{
	struct dt_kernel *k = dt_k(t);
	void *p;

	if (k->nr_vcpu_stats < t->nr_vcpus) {
		p = realloc(k->vcpu_stats, t->nr_vcpus * sizeof(*k->vcpu_stats));
		if (!p)
			return NULL;
		k->vcpu_stats = p;
		k->nr_vcpu_stats = t->nr_vcpus;
	}
	return k->vcpu_stats;
}

/* Each ring's share of what the module harvested, written in @vs. */
static void dt_k_vcpus_took(struct dirtytrack_tracker *t,
			    const struct dirtytrack_vcpu_stat *vs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && i < t->nr_vcpus; i++)
		dt_lib_vcpu_took(&t->vcpus[i], vs[i].harvested, vs[i].overflow);
}

static int dt_k_region_add(struct dirtytrack_tracker *t, struct dt_region *r)
{
	struct dirtytrack_region c = {
		.size = sizeof(c), .as_id = r->slot.slot >> 16,
		.slot_id = (uint16_t)r->slot.slot, .first_gfn = r->first_gfn,
		.npages = r->slot.npages,
	};
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .as_id = c.as_id, .slot_id = c.slot_id,
	};
	void *map;
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_REGION_ADD, &c);
	if (ret)
		return ret;
	map = mmap(NULL, c.out_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   t->fd, (off_t)c.out_mmap_offset);
	if (map == MAP_FAILED) {
		ret = -errno;
		/* Nothing can have been harvested into it: drop it. */
		ioctl(t->fd, DIRTYTRACK_REGION_REMOVE, &rm);
		return ret;
	}
	dt_lib_region(r)->map = map;
	dt_lib_region(r)->map_size = c.out_mmap_size;
	r->merged.words = map;
	r->merged.summary = (uint64_t *)((char *)map + c.out_summary_offset);
	r->merged.npages = r->slot.npages;
	return 0;
}

static int dt_k_region_remove(struct dirtytrack_tracker *t,
			      struct dt_region *r, uint64_t *bitmap,
			      uint64_t *out_dirty)
{
	struct dirtytrack_region_remove c = {
		.size = sizeof(c), .as_id = r->slot.slot >> 16,
		.slot_id = (uint16_t)r->slot.slot, .bitmap = (uintptr_t)bitmap,
	};
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_REGION_REMOVE, &c);
	if (!ret)
		*out_dirty = c.out_dirty;
	return ret;
}

static void dt_k_region_free(struct dirtytrack_tracker *t,
			     struct dt_region *r)
{
	struct dt_lib_region *lr = dt_lib_region(r);

	(void)t;
	if (lr->map)
		munmap(lr->map, lr->map_size);
}

static int dt_k_region_move(struct dirtytrack_tracker *t,
			    struct dt_region *r, uint64_t new_gfn)
{
	struct dirtytrack_region_move c = {
		.size = sizeof(c), .as_id = r->slot.slot >> 16,
		.slot_id = (uint16_t)r->slot.slot, .new_first_gfn = new_gfn,
	};
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_REGION_MOVE, &c);
	if (!ret)
		r->first_gfn = new_gfn;
	return ret;
}

/* The library's mapping of the ring: the module pins it. */
static int dt_k_attach_ring(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v)
{
	struct dirtytrack_attach_ring c = {
		.size = sizeof(c), .ring_addr = (uintptr_t)v->map,
	};

	return DT_IOCTL(t->fd, DIRTYTRACK_ATTACH_RING, &c);
}

static int dt_k_harvest_vcpu(struct dirtytrack_tracker *t,
			     struct dt_lib_vcpu *v, uint32_t min_fill,
			     uint64_t *out)
{
	struct dirtytrack_vcpu_stat *vs = dt_k_vcpu_stats(t);
	struct dirtytrack_harvest_vcpu c = {
		.size = sizeof(c), .vcpu_stat_size = sizeof(*vs),
	};
	int ret;

	if (!vs)
		return -ENOMEM;
	/* A module older than the flag would refuse it; say why first. */
	if (!v && !(t->dt->info.features & DIRTYTRACK_FEATURE_RING_RESET))
		return -EOPNOTSUPP;
	if (v) {
		c.vcpu_id = v->id;
	} else {
		c.flags = DIRTYTRACK_HARVEST_FILLED;
		c.min_fill = min_fill;
	}
	c.nr_vcpu_stats = t->nr_vcpus;
	c.vcpu_stats = (uintptr_t)vs;
	ret = DT_IOCTL(t->fd, DIRTYTRACK_HARVEST_VCPU, &c);
	/* ENOSPC: the harvest happened, and the ring is stuck full. */
	if (!ret || ret == -ENOSPC) {
		dt_k_vcpus_took(t, vs, c.nr_vcpu_stats);
		*out = c.out_harvested;
	}
	return ret;
}

static int dt_k_attach_kvm_bitmap(struct dirtytrack_tracker *t, uint32_t flags,
				  uint64_t max_pages)
{
	struct dt_kscratch *s = &dt_k(t)->kvm_bitmap;
	struct dirtytrack_attach_kvm_bitmap c = {
		.size = sizeof(c), .flags = flags,
	};
	int ret;

	/*
	 * Attached already: the module says why not (-EEXIST, or rule
	 * no-ring-with-manual-protect).
	 */
	if (s->addr) {
		c.scratch_addr = (uintptr_t)s->addr;
		c.scratch_size = s->size;
		ret = DT_IOCTL(t->fd, DIRTYTRACK_ATTACH_KVM_BITMAP, &c);
		return ret ? ret : -EEXIST;
	}
	/* The largest region's words and the guard word. */
	ret = dt_kscratch_alloc(s, DIRTYTRACK_SCRATCH_HEADER +
				   (dt_bitmap_words(max_pages) + 1) * 8);
	if (ret)
		return ret;
	c.scratch_addr = (uintptr_t)s->addr;
	c.scratch_size = s->size;
	ret = DT_IOCTL(t->fd, DIRTYTRACK_ATTACH_KVM_BITMAP, &c);
	if (ret)
		dt_kscratch_free(s);
	return ret;
}

static int dt_k_vmm_mark(struct dirtytrack_tracker *t, uint64_t gpa,
			 uint64_t len)
{
	struct dirtytrack_gpa_range range = { .gpa = gpa, .len = len };
	struct dirtytrack_vmm_mark c = {
		.size = sizeof(c), .nr_ranges = 1, .ranges = (uintptr_t)&range,
	};

	return DT_IOCTL(t->fd, DIRTYTRACK_VMM_MARK, &c);
}

static int dt_k_vmm_log_fd(struct dirtytrack_tracker *t, int *out_fd,
			   uint64_t *out_size)
{
	struct dirtytrack_vmm_log_fd c = { .size = sizeof(c) };
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_VMM_LOG_FD, &c);
	if (ret)
		return ret;
	*out_fd = c.out_fd;
	if (out_size)
		*out_size = c.out_log_size;
	return 0;
}

/* The iommu scratch: the header, then one call's bitmap, to a page end. */
static size_t dt_k_iommu_scratch_size(struct dirtytrack_tracker *t,
				      const struct dirtytrack_iova_map *maps,
				      uint32_t nr)
{
	uint64_t pages = dt_lib_iommu_call_pages(t, maps, nr);
	uint64_t pg = dt_lib_page_size(t);

	return (DIRTYTRACK_SCRATCH_HEADER + dt_bitmap_words(pages) * 8 + pg - 1) &
	       ~(pg - 1);
}

static int dt_k_attach_iommu(struct dirtytrack_tracker *t,
			     const struct dirtytrack_iommu_opts *o,
			     uint32_t *out_id)
{
	struct dirtytrack_attach_iommu c = {
		.size = sizeof(c), .iommufd = o->iommufd, .hwpt_id = o->hwpt_id,
		.flags = o->tracking_on ? DIRTYTRACK_IOMMU_TRACKING_ON : 0,
		.nr_maps = o->nr_maps, .maps = (uintptr_t)o->maps,
	};
	struct dt_kscratch s;
	int ret;

	/* struct dirtytrack_iova_map is the module's map entry, field for field. */
	_Static_assert(sizeof(struct dirtytrack_iova_map) ==
		       sizeof(struct dirtytrack_iommu_map), "map layout");
	ret = dt_kscratch_alloc(&s, dt_k_iommu_scratch_size(t, o->maps,
							      o->nr_maps));
	if (ret)
		return ret;
	c.scratch_addr = (uintptr_t)s.addr;
	c.scratch_size = s.size;
	ret = DT_IOCTL(t->fd, DIRTYTRACK_ATTACH_IOMMU, &c);
	if (!ret && c.out_source_id >= DT_MAX_IOMMU) {
		/* A newer module with more sources than this library knows. */
		struct dirtytrack_iommu_detach d = {
			.size = sizeof(d), .source_id = c.out_source_id,
		};

		ioctl(t->fd, DIRTYTRACK_IOMMU_DETACH, &d);
		ret = -ENOSPC;
	}
	if (ret) {
		dt_kscratch_free(&s);
		return ret;
	}
	dt_k(t)->iommu[c.out_source_id] = s;
	*out_id = c.out_source_id;
	return 0;
}

static int dt_k_iommu_set_map(struct dirtytrack_tracker *t, uint32_t id,
			      const struct dirtytrack_iova_map *maps,
			      uint32_t nr_maps)
{
	struct dirtytrack_iommu_set_map c = {
		.size = sizeof(c), .source_id = id, .nr_maps = nr_maps,
		.maps = (uintptr_t)maps,
	};

	return DT_IOCTL(t->fd, DIRTYTRACK_IOMMU_SET_MAP, &c);
}

static int dt_k_iommu_peek(struct dirtytrack_tracker *t, uint32_t id,
			   uint64_t iova, uint64_t length, uint64_t *out_dirty)
{
	struct dirtytrack_iommu_peek c = {
		.size = sizeof(c), .source_id = id, .iova = iova,
		.length = length,
	};
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_IOMMU_PEEK, &c);
	if (!ret)
		*out_dirty = c.out_dirty;
	return ret;
}

static int dt_k_iommu_detach(struct dirtytrack_tracker *t, uint32_t id)
{
	struct dirtytrack_iommu_detach c = { .size = sizeof(c), .source_id = id };
	int ret;

	ret = DT_IOCTL(t->fd, DIRTYTRACK_IOMMU_DETACH, &c);
	/* The module is done with the scratch only once detached. */
	if (!ret && id < DT_MAX_IOMMU)
		dt_kscratch_free(&dt_k(t)->iommu[id]);
	return ret;
}

static int dt_k_start(struct dirtytrack_tracker *t, bool all_dirty)
{
	struct dirtytrack_start c = {
		.size = sizeof(c),
		.flags = all_dirty ? DIRTYTRACK_START_ALL_DIRTY : 0,
	};

	return DT_IOCTL(t->fd, DIRTYTRACK_START, &c);
}

static int dt_k_stop(struct dirtytrack_tracker *t)
{
	struct dirtytrack_stop c = { .size = sizeof(c) };

	return DT_IOCTL(t->fd, DIRTYTRACK_STOP, &c);
}

static int dt_k_sync(struct dirtytrack_tracker *t, enum dt_sync_phase phase,
		     struct dirtytrack_sync_stats *st)
{
	static const uint32_t flags[] = {
		[DT_PHASE_PRECOPY] = 0,
		[DT_PHASE_FINAL_BEGIN] = DIRTYTRACK_SYNC_FINAL_BEGIN,
		[DT_PHASE_FINAL_END] = DIRTYTRACK_SYNC_FINAL_END,
	};
	struct dirtytrack_vcpu_stat *vs = dt_k_vcpu_stats(t);
	struct dirtytrack_sync c = {
		.size = sizeof(c), .flags = flags[phase],
		.vcpu_stat_size = sizeof(*vs),
	};
	int ret;

	if (t->nr_vcpus) {
		if (!vs)
			return -ENOMEM;
		c.nr_vcpu_stats = t->nr_vcpus;
		c.vcpu_stats = (uintptr_t)vs;
	}
	ret = DT_IOCTL(t->fd, DIRTYTRACK_SYNC, &c);
	if (!ret) {
		dt_k_vcpus_took(t, vs, c.nr_vcpu_stats);
		dt_lib_sync_stats(&c, st);
	}
	return ret;
}

const struct dt_backend_ops dt_kernel_backend = {
	.create = dt_k_create,
	.destroy = dt_k_destroy,
	.region_add = dt_k_region_add,
	.region_remove = dt_k_region_remove,
	.region_free = dt_k_region_free,
	.region_move = dt_k_region_move,
	.attach_ring = dt_k_attach_ring,
	.harvest_vcpu = dt_k_harvest_vcpu,
	.attach_kvm_bitmap = dt_k_attach_kvm_bitmap,
	.vmm_mark = dt_k_vmm_mark,
	.vmm_log_fd = dt_k_vmm_log_fd,
	.attach_iommu = dt_k_attach_iommu,
	.iommu_set_map = dt_k_iommu_set_map,
	.iommu_peek = dt_k_iommu_peek,
	.iommu_detach = dt_k_iommu_detach,
	.start = dt_k_start,
	.stop = dt_k_stop,
	.sync = dt_k_sync,
};
