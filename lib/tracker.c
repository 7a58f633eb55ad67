// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The tracker API both backends share: argument checks, the region and
 * vCPU tables, locking, per-sync statistics.  Everything that drives a
 * source is the backend's (dt_backend_ops).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdt.h"
#include "dt_iommufd.h"
#include "opts.h"

/*
 * Every call checks its handle first: a NULL handle is -EINVAL, never a
 * crash.  The library cannot tell a freed handle from a live one; using
 * one after dirtytrack_tracker_destroy() is undefined, as for free().
 */
#define DT_CHECK_TRACKER(t)	do { if (!(t)) return -EINVAL; } while (0)

static void dt_lock(struct dirtytrack_tracker *t)
{
	pthread_mutex_lock(&t->lock);
}

static void dt_unlock(struct dirtytrack_tracker *t)
{
	pthread_mutex_unlock(&t->lock);
}

static struct dt_lib_vcpu *dt_vcpu_find(struct dirtytrack_tracker *t,
					uint32_t id)
{
	uint32_t i;

	for (i = 0; i < t->nr_vcpus; i++)
		if (t->vcpus[i].id == id)
			return &t->vcpus[i];
	return NULL;
}

int dirtytrack_tracker_create(struct dirtytrack *dt, int vm_fd,
			      struct dirtytrack_tracker **out)
{
	struct dirtytrack_tracker *t;
	pthread_rwlockattr_t rwa;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!dt)
		return -EINVAL;
	if (vm_fd < 0)
		return -EBADF;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->dt = dt;
	t->fd = -1;
	t->ops = dt->backend == DIRTYTRACK_BACKEND_KERNEL ? &dt_kernel_backend :
							    &dt_user_backend;
	pthread_mutex_init(&t->lock, NULL);
	/* Writers first: a stream of claims must not starve a region change. */
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->regions_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	ret = t->ops->create(t, vm_fd);
	if (ret) {
		pthread_rwlock_destroy(&t->regions_lock);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return ret;
	}
	__atomic_add_fetch(&dt->refs, 1, __ATOMIC_ACQ_REL);
	*out = t;
	return 0;
}

void dirtytrack_tracker_destroy(struct dirtytrack_tracker *t)
{
	uint32_t i;

	if (!t)
		return;
	t->ops->destroy(t);
	for (i = 0; i < t->regions.end; i++) {
		if (!t->regions.v[i])
			continue;
		t->ops->region_free(t, t->regions.v[i]);
		free(dt_lib_region(t->regions.v[i]));
	}
	for (i = 0; i < t->nr_vcpus; i++)
		munmap(t->vcpus[i].map, t->vcpus[i].map_size);
	free(t->vcpus);
	pthread_rwlock_destroy(&t->regions_lock);
	pthread_mutex_destroy(&t->lock);
	dt_lib_put(t->dt);
	free(t);
}

/* A page-aligned, non-empty GPA range that ends below 2^52: its frames. */
static int dt_gpa_range(struct dirtytrack_tracker *t, uint64_t gpa,
			uint64_t size, uint64_t *gfn, uint64_t *npages)
{
	uint64_t mask = dt_lib_page_size(t) - 1;

	if ((gpa & mask) || (size & mask))
		return -EINVAL;
	*gfn = gpa >> t->dt->page_shift;
	*npages = size >> t->dt->page_shift;
	return dt_check_gfn_range(*gfn, *npages, t->dt->page_shift);
}

/*
 * Region changes take the region table for writing first, then the
 * tracker's lock (the order in libdt.h): they wait for claims, and nothing
 * waits for them while holding the lock.
 */
static void dt_lock_regions(struct dirtytrack_tracker *t)
{
	pthread_rwlock_wrlock(&t->regions_lock);
	dt_lock(t);
}

static void dt_unlock_regions(struct dirtytrack_tracker *t)
{
	dt_unlock(t);
	pthread_rwlock_unlock(&t->regions_lock);
}

int dirtytrack_region_add(struct dirtytrack_tracker *t, uint32_t slot,
			  uint64_t gpa, uint64_t size)
{
	struct dt_lib_region *lr;
	struct dt_region *r;
	int idx, ret;

	DT_CHECK_TRACKER(t);
	lr = calloc(1, sizeof(*lr));
	if (!lr)
		return -ENOMEM;
	r = &lr->r;
	r->slot.slot = slot;
	ret = dt_gpa_range(t, gpa, size, &r->first_gfn, &r->slot.npages);
	if (ret) {
		free(lr);
		return ret;
	}
	dt_lock_regions(t);
	idx = dt_regions_check_new(&t->regions, slot, r->first_gfn,
				   r->slot.npages);
	ret = idx < 0 ? idx : t->ops->region_add(t, r);
	if (!ret) {
		dt_regions_link(&t->regions, idx, r);
		t->regions_gen++;
	}
	dt_unlock_regions(t);
	if (ret)
		free(lr);
	return ret;
}

int dirtytrack_region_remove(struct dirtytrack_tracker *t, uint32_t slot,
			     uint64_t *bitmap, uint64_t *out_dirty)
{
	struct dt_region *r;
	uint64_t dirty = 0;
	int ret;

	DT_CHECK_TRACKER(t);
	/* No consumer may be in the region while its set goes away. */
	dt_lock_regions(t);
	r = dt_regions_find(&t->regions, slot);
	ret = r ? t->ops->region_remove(t, r, bitmap, &dirty) : -ENOENT;
	if (!ret) {
		dt_regions_unlink(&t->regions, r);
		t->regions_gen++;
		t->ops->region_free(t, r);
		free(dt_lib_region(r));
	}
	dt_unlock_regions(t);
	if (!ret && out_dirty)
		*out_dirty = dirty;
	return ret;
}

int dirtytrack_region_move(struct dirtytrack_tracker *t, uint32_t slot,
			   uint64_t new_gpa)
{
	struct dt_region *r;
	uint64_t gfn, npages;
	int ret;

	DT_CHECK_TRACKER(t);
	dt_lock_regions(t);
	r = dt_regions_find(&t->regions, slot);
	if (!r) {
		ret = -ENOENT;
		goto out;
	}
	ret = dt_gpa_range(t, new_gpa, r->slot.npages << t->dt->page_shift,
			   &gfn, &npages);
	if (ret)
		goto out;
	if (dt_regions_overlap(&t->regions, r, slot >> 16, gfn, gfn + npages)) {
		ret = -EEXIST;
		goto out;
	}
	/* The backend follows the region to @gfn. */
	ret = t->ops->region_move(t, r, gfn);
out:
	dt_unlock_regions(t);
	return ret;
}

/* A ring is a power of two of 16-byte entries, a page at least. */
static bool dt_ring_size_ok(struct dirtytrack_tracker *t, size_t bytes)
{
	size_t entries = bytes / sizeof(struct kvm_dirty_gfn);

	return bytes % sizeof(struct kvm_dirty_gfn) == 0 &&
	       bytes >= dt_lib_page_size(t) &&
	       entries <= DT_LIB_RING_MAX_ENTRIES && !(entries & (entries - 1));
}

/*
 * Can this process read the page at @addr?  A write of one byte of it to
 * a pipe makes the kernel fault it in: a page the mapping's file does not
 * serve fails with -EFAULT, with no SIGBUS (the fault is the kernel's).
 * Unlike MADV_POPULATE_READ this works on any kernel.
 */
static int dt_page_readable(const void *addr)
{
	int p[2], ret = 0;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	if (write(p[1], addr, 1) != 1)
		ret = -errno;
	close(p[0]);
	close(p[1]);
	return ret;
}

/*
 * Map a vCPU's ring and check that it is exactly @bytes long: KVM serves
 * every page of its ring and faults past it.  A walk that believed a
 * smaller ring would never see the entries past it, a larger one would
 * read past the mapping.
 */
static int dt_ring_map(struct dirtytrack_tracker *t, int vcpu_fd, size_t bytes,
		       void **out)
{
	size_t pg = dt_lib_page_size(t);
	char *map;
	int ret;

	map = mmap(NULL, bytes + pg, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd,
		   (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * (off_t)pg);
	if (map == MAP_FAILED)
		return errno == EBADF ? -EBADF : -EINVAL;
	ret = dt_page_readable(map + bytes - pg);
	if (!ret)
		ret = dt_page_readable(map + bytes) == -EFAULT ? 0 : -EINVAL;
	else if (ret == -EFAULT)
		ret = -EINVAL;
	if (ret) {
		munmap(map, bytes + pg);
		return ret;
	}
	munmap(map + bytes, pg);
	*out = map;
	return 0;
}

int dirtytrack_attach_ring(struct dirtytrack_tracker *t, int vcpu_fd,
			   size_t ring_bytes, uint32_t *out_vcpu_id)
{
	struct dt_lib_vcpu *v;
	uint32_t id;
	void *map;
	int ret;

	DT_CHECK_TRACKER(t);
	if (vcpu_fd < 0)
		return -EBADF;
	if (!dt_ring_size_ok(t, ring_bytes))
		return -EINVAL;
	ret = dt_kvm_vcpu_fd_id(vcpu_fd, &id);
	if (ret)
		return ret;
	dt_lock(t);
	if (dt_vcpu_find(t, id)) {
		ret = -EEXIST;
		goto out;
	}
	if (t->nr_vcpus == DT_LIB_MAX_VCPUS) {
		ret = -ENOSPC;
		goto out;
	}
	v = realloc(t->vcpus, (t->nr_vcpus + 1) * sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	t->vcpus = v;
	ret = dt_ring_map(t, vcpu_fd, ring_bytes, &map);
	if (ret)
		goto out;
	v = &t->vcpus[t->nr_vcpus];
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->map = map;
	v->map_size = ring_bytes;
	ret = t->ops->attach_ring(t, v);
	if (ret) {
		munmap(map, ring_bytes);
		goto out;
	}
	t->nr_vcpus++;
	if (out_vcpu_id)
		*out_vcpu_id = id;
out:
	dt_unlock(t);
	return ret;
}

int dirtytrack_harvest_vcpu(struct dirtytrack_tracker *t, uint32_t vcpu_id,
			    uint64_t *out_entries)
{
	struct dt_lib_vcpu *v;
	uint64_t n = 0;
	int ret;

	DT_CHECK_TRACKER(t);
	dt_lock(t);
	v = dt_vcpu_find(t, vcpu_id);
	ret = v ? t->ops->harvest_vcpu(t, v, 0, &n) : -ENOENT;
	/* ENOSPC: harvested all the same, and the ring is stuck full. */
	if (!ret || ret == -ENOSPC) {
		t->since[DT_RATE_RING] += n;
		if (out_entries)
			*out_entries = n;
	}
	dt_unlock(t);
	return ret;
}

int dirtytrack_harvest_filled(struct dirtytrack_tracker *t,
			      unsigned int fill_percent, uint64_t *out_entries)
{
	uint64_t n = 0;
	uint32_t min_fill;
	int ret = 0;

	DT_CHECK_TRACKER(t);
	if (!fill_percent || fill_percent > 100)
		return -EINVAL;
	dt_lock(t);
	/* KVM's ring size is the VM's: every ring has the first's. */
	if (t->nr_vcpus) {
		min_fill = t->vcpus[0].map_size / sizeof(struct kvm_dirty_gfn) *
			   fill_percent / 100;
		ret = t->ops->harvest_vcpu(t, NULL, min_fill ? min_fill : 1, &n);
		if (!ret)
			t->since[DT_RATE_RING] += n;
	}
	dt_unlock(t);
	if (!ret && out_entries)
		*out_entries = n;
	return ret;
}

int dirtytrack_attach_kvm_bitmap(struct dirtytrack_tracker *t,
				 const struct dirtytrack_kvm_bitmap_opts *opts)
{
	uint64_t max_pages;
	uint32_t flags = 0;
	uint32_t i;
	int ret;

	DT_CHECK_TRACKER(t);
	if (!opts)
		return -EINVAL;
	ret = DT_OPTS_CHECK(opts, dirtytrack_kvm_bitmap_opts, initially_set);
	if (ret)
		return ret;
	if (opts->ring_with_bitmap)
		flags |= DIRTYTRACK_KVM_RING;
	if (opts->manual_protect)
		flags |= DIRTYTRACK_KVM_MANUAL_PROTECT;
	if (opts->initially_set)
		flags |= DIRTYTRACK_KVM_INITIALLY_SET;
	max_pages = DT_OPTS_GET(opts, dirtytrack_kvm_bitmap_opts,
				max_region_bytes, 0);
	max_pages = (max_pages >> t->dt->page_shift) +
		    !!(max_pages & (dt_lib_page_size(t) - 1));
	dt_lock(t);
	if (!max_pages) {
		max_pages = (64ULL << 30) >> t->dt->page_shift;	/* 64 GiB */
		for (i = 0; i < t->regions.end; i++)
			if (t->regions.v[i] && t->regions.v[i]->slot.npages > max_pages)
				max_pages = t->regions.v[i]->slot.npages;
	}
	if (max_pages > DT_LIB_MAX_REGION_PAGES)
		max_pages = DT_LIB_MAX_REGION_PAGES;
	ret = t->ops->attach_kvm_bitmap(t, flags, max_pages);
	dt_unlock(t);
	return ret;
}

int dirtytrack_vmm_mark(struct dirtytrack_tracker *t, uint64_t gpa,
			uint64_t len)
{
	int ret;

	DT_CHECK_TRACKER(t);
	if (dt_check_gpa_range(gpa, len))
		return -EINVAL;
	dt_lock(t);
	ret = t->ops->vmm_mark(t, gpa, len);
	dt_unlock(t);
	return ret;
}

int dirtytrack_vmm_log_fd(struct dirtytrack_tracker *t, int *out_fd,
			  uint64_t *out_size)
{
	int ret;

	DT_CHECK_TRACKER(t);
	if (!out_fd)
		return -EINVAL;
	*out_fd = -1;
	dt_lock(t);
	ret = t->ops->vmm_log_fd(t, out_fd, out_size);
	dt_unlock(t);
	return ret;
}

/* @nr entries of a caller's map, in the core's form (NULL for none). */
int dt_lib_iommu_maps(const struct dirtytrack_iova_map *m, uint32_t nr,
		      struct dt_iommu_map **out)
{
	uint32_t i;

	*out = NULL;
	if (!nr)
		return 0;
	*out = calloc(nr, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		(*out)[i] = (struct dt_iommu_map){ m[i].iova, m[i].gpa,
						   m[i].length };
	return 0;
}

/*
 * A map both backends accept, before any call: each entry as the core
 * checks it (dt_iommu_map_check()), with nothing to allocate.
 */
static int dt_check_maps(struct dirtytrack_tracker *t,
			 const struct dirtytrack_iova_map *m, uint32_t nr)
{
	uint64_t end = 0;
	uint32_t i;

	if (nr > DT_MAX_IOMMU_MAPS || (nr && !m))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		const struct dt_iommu_map e = { m[i].iova, m[i].gpa,
						m[i].length };

		if (dt_iommu_map_check(&e, end, t->dt->page_shift))
			return -EINVAL;
		end = e.iova + e.length;
	}
	return 0;
}

/*
 * How many pages one IOMMU_HWPT_GET_DIRTY_BITMAP covers, and so the size
 * of the bitmap each backend lends iommufd: a largest IO page's at least,
 * so a huge page is never cut, the largest map entry's (one call per
 * entry), at most 2^28 (the module's bound).
 */
uint64_t dt_lib_iommu_call_pages(struct dirtytrack_tracker *t,
				 const struct dirtytrack_iova_map *maps,
				 uint32_t nr)
{
	uint64_t pages = DT_IOMMU_MAX_IO_PAGE >> t->dt->page_shift;
	uint32_t i;

	for (i = 0; i < nr; i++)
		if (maps[i].length >> t->dt->page_shift > pages)
			pages = maps[i].length >> t->dt->page_shift;
	return pages < 1ULL << 28 ? pages : 1ULL << 28;
}

int dirtytrack_attach_iommu(struct dirtytrack_tracker *t,
			    const struct dirtytrack_iommu_opts *opts,
			    uint32_t *out_source_id)
{
	int ret;

	DT_CHECK_TRACKER(t);
	if (!opts || !out_source_id)
		return -EINVAL;
	ret = DT_OPTS_CHECK(opts, dirtytrack_iommu_opts, maps);
	if (!ret)
		ret = dt_check_maps(t, opts->maps, opts->nr_maps);
	if (ret)
		return ret;
	if (opts->iommufd < 0)
		return -EBADF;
	dt_lock(t);
	ret = t->ops->attach_iommu(t, opts, out_source_id);
	dt_unlock(t);
	return ret;
}

int dirtytrack_iommu_set_map(struct dirtytrack_tracker *t, uint32_t source_id,
			     const struct dirtytrack_iova_map *maps,
			     uint32_t nr_maps)
{
	int ret;

	DT_CHECK_TRACKER(t);
	ret = dt_check_maps(t, maps, nr_maps);
	if (ret)
		return ret;
	dt_lock(t);
	ret = t->ops->iommu_set_map(t, source_id, maps, nr_maps);
	dt_unlock(t);
	return ret;
}

int dirtytrack_iommu_peek(struct dirtytrack_tracker *t, uint32_t source_id,
			  uint64_t iova, uint64_t length, uint64_t *out_dirty)
{
	uint64_t dirty = 0;
	int ret;

	DT_CHECK_TRACKER(t);
	if (dt_check_iommu_range(iova, length, t->dt->page_shift))
		return -EINVAL;
	dt_lock(t);
	ret = t->ops->iommu_peek(t, source_id, iova, length, &dirty);
	dt_unlock(t);
	if (!ret && out_dirty)
		*out_dirty = dirty;
	return ret;
}

int dirtytrack_iommu_detach(struct dirtytrack_tracker *t, uint32_t source_id)
{
	int ret;

	DT_CHECK_TRACKER(t);
	dt_lock(t);
	ret = t->ops->iommu_detach(t, source_id);
	dt_unlock(t);
	return ret;
}

int dirtytrack_start(struct dirtytrack_tracker *t,
		     const struct dirtytrack_start_opts *opts)
{
	int ret;

	DT_CHECK_TRACKER(t);
	if (opts) {
		ret = DT_OPTS_CHECK(opts, dirtytrack_start_opts, sz);
		if (ret)
			return ret;
	}
	dt_lock(t);
	ret = t->ops->start(t, DT_OPTS_GET(opts, dirtytrack_start_opts,
					   all_dirty, false));
	if (!ret)
		dt_rates_restart(t);
	dt_unlock(t);
	return ret;
}

int dirtytrack_stop(struct dirtytrack_tracker *t)
{
	int ret;

	DT_CHECK_TRACKER(t);
	dt_lock(t);
	ret = t->ops->stop(t);
	dt_unlock(t);
	return ret;
}

/* DIRTYTRACK_SYNC's figures, as the library reports them (both backends). */
void dt_lib_sync_stats(const struct dirtytrack_sync *c,
		       struct dirtytrack_sync_stats *st)
{
	st->ring_entries = c->out_harvested;
	st->ring_invalid = c->out_invalid;
	st->ring_foreign = c->out_foreign;
	st->kvm_bitmap_pages = c->out_bitmap_pages;
	st->kvm_bitmap_errors = c->out_bitmap_errors;
	st->vmm_pages = c->out_vmm_pages;
	st->vmm_outside = c->out_vmm_outside;
	st->iommu_pages = c->out_iommu_pages;
	st->iommu_calls = c->out_iommu_calls;
	st->iommu_errors = c->out_iommu_errors;
	st->ring_overflow = c->out_ring_overflow;
	st->ring_resets = c->out_ring_resets;
	st->ring_partial_resets = c->out_ring_partial_resets;
	st->ring_sticky = c->out_ring_sticky;
}

static int dt_sync(struct dirtytrack_tracker *t, enum dt_sync_phase phase,
		   struct dirtytrack_sync_stats *stats)
{
	struct dirtytrack_sync_stats full = { .sz = sizeof(full) };
	uint64_t start, end;
	int ret;

	DT_CHECK_TRACKER(t);
	if (stats) {
		ret = DT_OPTS_CHECK(stats, dirtytrack_sync_stats, sz);
		if (ret)
			return ret;
	}
	dt_lock(t);
	start = dt_now_ns();
	ret = t->ops->sync(t, phase, &full);
	end = dt_now_ns();
	full.duration_ns = end - start;
	if (!ret)
		dt_rates_update(t, &full, end);
	dt_unlock(t);
	if (!ret && stats)
		dt_opts_copy_out(stats, stats->sz, &full, sizeof(full));
	return ret;
}

int dirtytrack_sync(struct dirtytrack_tracker *t,
		    struct dirtytrack_sync_stats *stats)
{
	return dt_sync(t, DT_PHASE_PRECOPY, stats);
}

int dirtytrack_final_begin(struct dirtytrack_tracker *t,
			   struct dirtytrack_sync_stats *stats)
{
	return dt_sync(t, DT_PHASE_FINAL_BEGIN, stats);
}

int dirtytrack_final_end(struct dirtytrack_tracker *t,
			 struct dirtytrack_sync_stats *stats)
{
	return dt_sync(t, DT_PHASE_FINAL_END, stats);
}

int dirtytrack_get_rates(struct dirtytrack_tracker *t,
			 struct dirtytrack_rates *rates)
{
	struct dirtytrack_rates full = { .sz = sizeof(full) };
	int ret;

	DT_CHECK_TRACKER(t);
	if (!rates)
		return -EINVAL;
	ret = DT_OPTS_CHECK(rates, dirtytrack_rates, sz);
	if (ret)
		return ret;
	dt_lock(t);
	full.syncs = t->syncs;
	full.ring = t->rates[DT_RATE_RING];
	full.kvm_bitmap = t->rates[DT_RATE_KVM_BITMAP];
	full.vmm = t->rates[DT_RATE_VMM];
	full.iommu = t->rates[DT_RATE_IOMMU];
	dt_unlock(t);
	dt_opts_copy_out(rates, rates->sz, &full, sizeof(full));
	return 0;
}

int dirtytrack_get_vcpu_stats(struct dirtytrack_tracker *t, uint32_t vcpu_id,
			      struct dirtytrack_vcpu_stats *stats)
{
	struct dirtytrack_vcpu_stats full = { .sz = sizeof(full) };
	struct dt_lib_vcpu *v;
	int ret;

	DT_CHECK_TRACKER(t);
	if (!stats)
		return -EINVAL;
	ret = DT_OPTS_CHECK(stats, dirtytrack_vcpu_stats, sz);
	if (ret)
		return ret;
	dt_lock(t);
	v = dt_vcpu_find(t, vcpu_id);
	if (v) {
		full.entries = v->harvested;
		full.overflows = v->overflows;
		full.ring_entries = v->map_size / sizeof(struct kvm_dirty_gfn);
	}
	dt_unlock(t);
	if (!v)
		return -ENOENT;
	dt_opts_copy_out(stats, stats->sz, &full, sizeof(full));
	return 0;
}

int dirtytrack_get_vcpu_rate(struct dirtytrack_tracker *t, uint32_t vcpu_id,
			     struct dirtytrack_rate *rate)
{
	struct dt_lib_vcpu *v;
	int ret = 0;

	DT_CHECK_TRACKER(t);
	if (!rate)
		return -EINVAL;
	dt_lock(t);
	v = dt_vcpu_find(t, vcpu_id);
	if (v)
		*rate = v->rate;
	else
		ret = -ENOENT;
	dt_unlock(t);
	return ret;
}
