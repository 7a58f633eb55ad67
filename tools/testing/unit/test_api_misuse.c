// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Misuse of the public API, and the documented errno of each: NULL
 * handles, size-prefixed structs too small or from a newer caller,
 * backend selection (option, DIRTYTRACK_BACKEND), tracker creation on
 * things that are not a VM, and, on a real KVM VM with the user backend,
 * every call made with bad arguments or in the wrong state.
 *
 * Refusals that must come before any backend work run on a hand-built
 * tracker whose backend fails the test if it is ever reached.  The VM
 * tests are skipped when /dev/kvm is missing or refuses KVM_CREATE_VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/kvm.h>

#include "dtvm.h"
#include "libdt.h"
#include "opts.h"

#define PG		4096ULL
#define MiB		(1ULL << 20)
#define MISSING_PATH	"/nonexistent/dirtytrack"

/* ---- a tracker whose backend must never be reached ---------------------- */

#define REFUSED()	do { fail_msg("%s: reached the backend", __func__); \
			     return -EIO; } while (0)

static int r_create(struct dirtytrack_tracker *t, int fd)
{ (void)t; (void)fd; REFUSED(); }
static void r_destroy(struct dirtytrack_tracker *t)
{ (void)t; }
static int r_region_add(struct dirtytrack_tracker *t, struct dt_region *r)
{ (void)t; (void)r; REFUSED(); }
static int r_region_remove(struct dirtytrack_tracker *t, struct dt_region *r,
			   uint64_t *b, uint64_t *d)
{ (void)t; (void)r; (void)b; (void)d; REFUSED(); }
static void r_region_free(struct dirtytrack_tracker *t, struct dt_region *r)
{ (void)t; (void)r; }
static int r_region_move(struct dirtytrack_tracker *t, struct dt_region *r,
			 uint64_t g)
{ (void)t; (void)r; (void)g; REFUSED(); }
static int r_attach_ring(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v)
{ (void)t; (void)v; REFUSED(); }
static int r_harvest_vcpu(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v,
			  uint32_t f, uint64_t *o)
{ (void)t; (void)v; (void)f; (void)o; REFUSED(); }
static int r_attach_kvm_bitmap(struct dirtytrack_tracker *t, uint32_t f,
			       uint64_t m)
{ (void)t; (void)f; (void)m; REFUSED(); }
static int r_vmm_mark(struct dirtytrack_tracker *t, uint64_t g, uint64_t l)
{ (void)t; (void)g; (void)l; REFUSED(); }
static int r_vmm_log_fd(struct dirtytrack_tracker *t, int *fd, uint64_t *s)
{ (void)t; (void)fd; (void)s; REFUSED(); }
static int r_attach_iommu(struct dirtytrack_tracker *t,
			  const struct dirtytrack_iommu_opts *o, uint32_t *id)
{ (void)t; (void)o; (void)id; REFUSED(); }
static int r_iommu_set_map(struct dirtytrack_tracker *t, uint32_t id,
			   const struct dirtytrack_iova_map *m, uint32_t n)
{ (void)t; (void)id; (void)m; (void)n; REFUSED(); }
static int r_iommu_peek(struct dirtytrack_tracker *t, uint32_t id, uint64_t i,
			uint64_t l, uint64_t *d)
{ (void)t; (void)id; (void)i; (void)l; (void)d; REFUSED(); }
static int r_iommu_detach(struct dirtytrack_tracker *t, uint32_t id)
{ (void)t; (void)id; REFUSED(); }
static int r_start(struct dirtytrack_tracker *t, bool all)
{ (void)t; (void)all; REFUSED(); }
static int r_stop(struct dirtytrack_tracker *t)
{ (void)t; REFUSED(); }
static int r_sync(struct dirtytrack_tracker *t, enum dt_sync_phase k,
		  struct dirtytrack_sync_stats *st)
{ (void)t; (void)k; (void)st; REFUSED(); }

static const struct dt_backend_ops refuse_ops = {
	.create = r_create, .destroy = r_destroy,
	.region_add = r_region_add, .region_remove = r_region_remove,
	.region_free = r_region_free, .region_move = r_region_move,
	.attach_ring = r_attach_ring, .harvest_vcpu = r_harvest_vcpu,
	.attach_kvm_bitmap = r_attach_kvm_bitmap, .vmm_mark = r_vmm_mark,
	.vmm_log_fd = r_vmm_log_fd, .attach_iommu = r_attach_iommu,
	.iommu_set_map = r_iommu_set_map, .iommu_peek = r_iommu_peek,
	.iommu_detach = r_iommu_detach, .start = r_start, .stop = r_stop,
	.sync = r_sync,
};

struct stub {
	struct dirtytrack dt;
	struct dirtytrack_tracker t;
};

static struct stub *stub_new(void)
{
	struct stub *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->dt.backend = DIRTYTRACK_BACKEND_USER;
	s->dt.fd = -1;
	s->dt.page_shift = 12;
	s->dt.refs = 1;
	s->t.dt = &s->dt;
	s->t.ops = &refuse_ops;
	s->t.fd = -1;
	pthread_mutex_init(&s->t.lock, NULL);
	pthread_rwlock_init(&s->t.regions_lock, NULL);
	return s;
}

static void stub_free(struct stub *s)
{
	pthread_rwlock_destroy(&s->t.regions_lock);
	pthread_mutex_destroy(&s->t.lock);
	free(s);
}

/* ---- the environment ------------------------------------------------------ */

/* No test sees the caller's DIRTYTRACK_BACKEND. */
static int env_clean(void **state)
{
	(void)state;
	unsetenv(DIRTYTRACK_BACKEND_ENV);
	return 0;
}

static int range_cb(const struct dirtytrack_dirty_range *r, void *ctx)
{
	(void)r;
	(void)ctx;
	return 0;
}

/* ---- NULL handles ---------------------------------------------------------- */

/* EINVAL for every exported function given a NULL handle; no crash. */
static void null_handles(void **state)
{
	struct dirtytrack_open_opts oo = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = DIRTYTRACK_BACKEND_USER);
	struct dirtytrack_module_info mi = DIRTYTRACK_OPTS_INIT(dirtytrack_module_info);
	struct dirtytrack_kvm_bitmap_opts ko = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);
	struct dirtytrack_iommu_opts io = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts,
		.iommufd = 0);
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts);
	struct dirtytrack_sync_stats ss = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dirtytrack_rates ra = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
	struct dirtytrack_bitmap_view bv = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
	struct dirtytrack_iova_map map = { .iova = 0, .gpa = 0, .length = PG };
	struct dirtytrack_tracker *tr = (void *)1;
	struct dirtytrack_rate rate;
	uint64_t u64, bitmap[1];
	uint32_t id;
	int fd;

	(void)state;
	/* The connection: no out pointer, no handle. */
	assert_int_equal(dirtytrack_open(&oo, NULL), -EINVAL);
	assert_int_equal(dirtytrack_get_module_info(NULL, &mi), -EINVAL);
	assert_int_equal(dirtytrack_get_backend(NULL), DIRTYTRACK_BACKEND_AUTO);
	dirtytrack_close(NULL);
	assert_int_equal(dirtytrack_tracker_create(NULL, 0, &tr), -EINVAL);
	assert_null(tr);
	dirtytrack_tracker_destroy(NULL);

	/* Every tracker call. */
	assert_int_equal(dirtytrack_region_add(NULL, 0, 0, PG), -EINVAL);
	assert_int_equal(dirtytrack_region_remove(NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_region_move(NULL, 0, 0), -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(NULL, 0, PG, &id), -EINVAL);
	assert_int_equal(dirtytrack_harvest_vcpu(NULL, 0, &u64), -EINVAL);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(NULL, &ko), -EINVAL);
	assert_int_equal(dirtytrack_vmm_mark(NULL, 0, PG), -EINVAL);
	assert_int_equal(dirtytrack_vmm_log_fd(NULL, &fd, &u64), -EINVAL);
	assert_int_equal(dirtytrack_attach_iommu(NULL, &io, &id), -EINVAL);
	assert_int_equal(dirtytrack_iommu_set_map(NULL, 0, &map, 1), -EINVAL);
	assert_int_equal(dirtytrack_iommu_peek(NULL, 0, 0, PG, &u64), -EINVAL);
	assert_int_equal(dirtytrack_iommu_detach(NULL, 0), -EINVAL);
	assert_int_equal(dirtytrack_start(NULL, &so), -EINVAL);
	assert_int_equal(dirtytrack_start(NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_stop(NULL), -EINVAL);
	assert_int_equal(dirtytrack_sync(NULL, &ss), -EINVAL);
	assert_int_equal(dirtytrack_sync(NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_final_begin(NULL, &ss), -EINVAL);
	assert_int_equal(dirtytrack_final_end(NULL, &ss), -EINVAL);
	assert_int_equal(dirtytrack_get_rates(NULL, &ra), -EINVAL);
	assert_int_equal(dirtytrack_get_vcpu_rate(NULL, 0, &rate), -EINVAL);
	assert_int_equal(dirtytrack_claim_ranges(NULL, range_cb, NULL, &u64),
			 -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(NULL, 0, 0, 64, bitmap, &u64),
			 -EINVAL);
	assert_int_equal(dirtytrack_region_bitmap(NULL, 0, &bv), -EINVAL);
}

/* EINVAL for a NULL pointer the call needs, before the backend. */
static void null_arguments(void **state)
{
	struct stub *s = stub_new();
	struct dirtytrack_tracker *t = &s->t;
	struct dirtytrack_iommu_opts io = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts);
	uint32_t id;

	(void)state;
	assert_int_equal(dirtytrack_get_module_info(&s->dt, NULL), -EINVAL);
	assert_int_equal(dirtytrack_tracker_create(&s->dt, 0, NULL), -EINVAL);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, NULL), -EINVAL);
	assert_int_equal(dirtytrack_vmm_log_fd(t, NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_attach_iommu(t, NULL, &id), -EINVAL);
	assert_int_equal(dirtytrack_attach_iommu(t, &io, NULL), -EINVAL);
	assert_int_equal(dirtytrack_iommu_set_map(t, 0, NULL, 1), -EINVAL);
	assert_int_equal(dirtytrack_get_rates(t, NULL), -EINVAL);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 0, NULL), -EINVAL);
	assert_int_equal(dirtytrack_claim_ranges(t, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_claim_bitmap(t, 0, 0, 64, NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_region_bitmap(t, 0, NULL), -EINVAL);
	stub_free(s);
}

/* ---- size-prefixed structs -------------------------------------------------- */

/*
 * A newer caller's struct: @base then a field this library does not know.
 * Every struct here starts with a size_t and is a multiple of 8 bytes, so
 * the unknown tail is exactly @newer.
 */
#define BIG(type)	struct { struct type base; uint64_t newer; }

/*
 * E2BIG for a size no struct of the API will ever have (above 4096):
 * garbage, refused without reading past the struct (ASan watches).
 */
#define GARBAGE_SZ_REFUSED(var, call)					\
	do {								\
		(var).sz = 4097;					\
		assert_int_equal((call), -E2BIG);			\
		(var).sz = SIZE_MAX;					\
		assert_int_equal((call), -E2BIG);			\
	} while (0)

static void open_opts_size(void **state)
{
	struct dirtytrack_open_opts o;
	BIG(dirtytrack_open_opts) big;
	struct dirtytrack *dt;
	size_t sz;

	(void)state;
	for (sz = 0; sz < sizeof(size_t); sz++) {
		o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
					 .backend = DIRTYTRACK_BACKEND_USER);
		o.sz = sz;
		dt = (void *)1;
		/* EINVAL: smaller than sz itself. */
		assert_int_equal(dirtytrack_open(&o, &dt), -EINVAL);
		assert_null(dt);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.base.backend = DIRTYTRACK_BACKEND_USER;
	big.newer = 1;
	/* E2BIG: a non-zero tail this library does not know. */
	assert_int_equal(dirtytrack_open(&big.base, &dt), -E2BIG);
	assert_null(dt);
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_open(&big.base, &dt));
	assert_null(dt);
	big.base.sz = sizeof(big);
	/* A zero tail is fine. */
	big.newer = 0;
	assert_int_equal(dirtytrack_open(&big.base, &dt), 0);
	assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
	dirtytrack_close(dt);
	/* An old caller's struct with no backend field: auto. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts, .path = MISSING_PATH,
				 .backend = DIRTYTRACK_BACKEND_KERNEL);
	o.sz = dt_offsetofend(struct dirtytrack_open_opts, path);
	assert_int_equal(dirtytrack_open(&o, &dt), 0);
	assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
	dirtytrack_close(dt);
}

static void module_info_size(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = DIRTYTRACK_BACKEND_USER);
	struct dirtytrack_module_info mi;
	BIG(dirtytrack_module_info) big;
	struct dirtytrack *dt;
	size_t sz;

	(void)state;
	assert_int_equal(dirtytrack_open(&o, &dt), 0);
	for (sz = 0; sz < sizeof(size_t); sz++) {
		mi = DIRTYTRACK_OPTS_INIT(dirtytrack_module_info);
		mi.sz = sz;
		assert_int_equal(dirtytrack_get_module_info(dt, &mi), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_get_module_info(dt, &big.base), -E2BIG);
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_get_module_info(dt, &big.base));
	big.base.sz = sizeof(big);
	/* Past the size checks: the user backend has no module (ENODEV). */
	big.newer = 0;
	assert_int_equal(dirtytrack_get_module_info(dt, &big.base), -ENODEV);
	dirtytrack_close(dt);
}

static void kvm_bitmap_opts_size(void **state)
{
	struct stub *s = stub_new();
	size_t min = dt_offsetofend(struct dirtytrack_kvm_bitmap_opts, initially_set);
	struct dirtytrack_kvm_bitmap_opts o;
	BIG(dirtytrack_kvm_bitmap_opts) big;
	size_t sz;

	(void)state;
	/* EINVAL: smaller than the flags the library needs. */
	for (sz = 0; sz < min; sz++) {
		o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);
		o.sz = sz;
		assert_int_equal(dirtytrack_attach_kvm_bitmap(&s->t, &o), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_attach_kvm_bitmap(&s->t, &big.base), -E2BIG);
	big.newer = 0;
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_attach_kvm_bitmap(&s->t, &big.base));
	stub_free(s);
}

static void iommu_opts_size(void **state)
{
	struct stub *s = stub_new();
	size_t min = dt_offsetofend(struct dirtytrack_iommu_opts, maps);
	struct dirtytrack_iommu_opts o;
	BIG(dirtytrack_iommu_opts) big;
	uint32_t id = 77;
	size_t sz;

	(void)state;
	/* EINVAL: every field is needed. */
	for (sz = 0; sz < min; sz++) {
		o = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts, .iommufd = 0);
		o.sz = sz;
		assert_int_equal(dirtytrack_attach_iommu(&s->t, &o, &id), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_attach_iommu(&s->t, &big.base, &id), -E2BIG);
	big.newer = 0;
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_attach_iommu(&s->t, &big.base, &id));
	assert_int_equal(id, 77);
	stub_free(s);
}

static void start_opts_size(void **state)
{
	struct stub *s = stub_new();
	struct dirtytrack_start_opts o;
	BIG(dirtytrack_start_opts) big;
	size_t sz;

	(void)state;
	for (sz = 0; sz < sizeof(size_t); sz++) {
		o = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts);
		o.sz = sz;
		assert_int_equal(dirtytrack_start(&s->t, &o), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_start(&s->t, &big.base), -E2BIG);
	big.newer = 0;
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_start(&s->t, &big.base));
	stub_free(s);
}

/* The three syncs check their stats struct before any harvest. */
static void sync_stats_size(void **state)
{
	int (*const fns[])(struct dirtytrack_tracker *,
			   struct dirtytrack_sync_stats *) = {
		dirtytrack_sync, dirtytrack_final_begin, dirtytrack_final_end,
	};
	struct stub *s = stub_new();
	struct dirtytrack_sync_stats st;
	BIG(dirtytrack_sync_stats) big;
	size_t i, sz;

	(void)state;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		for (sz = 0; sz < sizeof(size_t); sz++) {
			memset(&st, 0x5a, sizeof(st));
			st.sz = sz;
			assert_int_equal(fns[i](&s->t, &st), -EINVAL);
		}
		memset(&big, 0, sizeof(big));
		big.base.sz = sizeof(big);
		big.newer = 1;
		assert_int_equal(fns[i](&s->t, &big.base), -E2BIG);
		big.newer = 0;
		GARBAGE_SZ_REFUSED(big.base, fns[i](&s->t, &big.base));
		/* Nothing was written: no rates were measured either. */
		assert_int_equal(big.base.duration_ns, 0);
		assert_int_equal(s->t.syncs, 0);
	}
	stub_free(s);
}

static void rates_size(void **state)
{
	struct stub *s = stub_new();
	struct dirtytrack_rates r;
	BIG(dirtytrack_rates) big;
	size_t sz;

	(void)state;
	for (sz = 0; sz < sizeof(size_t); sz++) {
		r = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
		r.sz = sz;
		assert_int_equal(dirtytrack_get_rates(&s->t, &r), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_get_rates(&s->t, &big.base), -E2BIG);
	big.newer = 0;
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_get_rates(&s->t, &big.base));
	big.base.sz = sizeof(big);
	assert_int_equal(dirtytrack_get_rates(&s->t, &big.base), 0);
	stub_free(s);
}

static void bitmap_view_size(void **state)
{
	struct stub *s = stub_new();
	struct dirtytrack_bitmap_view v;
	BIG(dirtytrack_bitmap_view) big;
	size_t sz;

	(void)state;
	/* The size is checked before the slot: EINVAL, E2BIG, then ENOENT. */
	for (sz = 0; sz < sizeof(size_t); sz++) {
		v = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);
		v.sz = sz;
		assert_int_equal(dirtytrack_region_bitmap(&s->t, 0, &v), -EINVAL);
	}
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_region_bitmap(&s->t, 0, &big.base), -E2BIG);
	big.newer = 0;
	GARBAGE_SZ_REFUSED(big.base, dirtytrack_region_bitmap(&s->t, 0, &big.base));
	big.base.sz = sizeof(big);
	assert_int_equal(dirtytrack_region_bitmap(&s->t, 0, &big.base), -ENOENT);
	stub_free(s);
}

/* Arguments refused before the backend (EINVAL), on the stub. */
static void bad_ranges_refused_early(void **state)
{
	struct stub *s = stub_new();
	struct dirtytrack_tracker *t = &s->t;
	struct dirtytrack_iova_map bad[] = {
		{ .iova = 1, .gpa = 0, .length = PG },		/* unaligned */
		{ .iova = 0, .gpa = 0, .length = 0 },		/* empty */
		{ .iova = 0, .gpa = 1ULL << 52, .length = PG },	/* past 2^52 */
	};
	struct dirtytrack_iova_map unsorted[] = {
		{ .iova = 2 * PG, .gpa = 0, .length = PG },
		{ .iova = 0, .gpa = PG, .length = PG },
	};
	struct dirtytrack_iommu_opts io = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts,
		.iommufd = 0, .nr_maps = 1);
	uint64_t d;
	uint32_t id;
	size_t i;

	(void)state;
	/*
	 * Regions: unaligned, empty, past 2^52 (the size limit is the
	 * backend's: the module has its own).
	 */
	assert_int_equal(dirtytrack_region_add(t, 0, 0x1001, PG), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, 0, PG + 1), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, 0, 0), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, (1ULL << 52) - PG, 2 * PG),
			 -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, ~(PG - 1), 2 * PG), -EINVAL);
	/*
	 * Rings: EBADF for no fd; EINVAL for a size below a page, not a power
	 * of two of entries, or above 65536 entries; EINVAL for an fd that
	 * is no vCPU (stdin here), before any mapping.
	 */
	assert_int_equal(dirtytrack_attach_ring(t, -1, PG, &id), -EBADF);
	assert_int_equal(dirtytrack_attach_ring(t, 0, PG / 2, &id), -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, 0, 3 * PG, &id), -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, 0, PG + 1, &id), -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, 0, 2 * 65536 * 16, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, 0, PG, &id), -EINVAL);
	/* vmm marks: empty, wrapping. */
	assert_int_equal(dirtytrack_vmm_mark(t, 0, 0), -EINVAL);
	assert_int_equal(dirtytrack_vmm_mark(t, UINT64_MAX - 10, 100), -EINVAL);
	/* IOMMU maps and peeks. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dirtytrack_iommu_set_map(t, 0, &bad[i], 1), -EINVAL);
		io.maps = &bad[i];
		assert_int_equal(dirtytrack_attach_iommu(t, &io, &id), -EINVAL);
	}
	assert_int_equal(dirtytrack_iommu_set_map(t, 0, unsorted, 2), -EINVAL);
	/* More than 4096 entries (never read). */
	assert_int_equal(dirtytrack_iommu_set_map(t, 0, bad, 4097), -EINVAL);
	assert_int_equal(dirtytrack_iommu_peek(t, 0, 0, 0, &d), -EINVAL);
	assert_int_equal(dirtytrack_iommu_peek(t, 0, 1, PG, &d), -EINVAL);
	assert_int_equal(dirtytrack_iommu_peek(t, 0, 0, PG + 1, &d), -EINVAL);
	/* EBADF: a negative iommufd, once the rest is valid. */
	io.nr_maps = 0;
	io.maps = NULL;
	io.iommufd = -1;
	assert_int_equal(dirtytrack_attach_iommu(t, &io, &id), -EBADF);
	stub_free(s);
}

/* ---- backend selection ------------------------------------------------------ */

static void open_invalid_backend(void **state)
{
	static const unsigned int bad[] = { 3, 4, 0x7fffffff, 0xffffffff };
	struct dirtytrack *dt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
			.backend = (enum dirtytrack_backend)bad[i]);

		dt = (void *)1;
		/* EINVAL: not a backend. */
		assert_int_equal(dirtytrack_open(&o, &dt), -EINVAL);
		assert_null(dt);
	}
}

static void env_bogus_refused(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = MISSING_PATH);
	struct dirtytrack *dt;

	(void)state;
	assert_int_equal(setenv(DIRTYTRACK_BACKEND_ENV, "bogus", 1), 0);
	/* EINVAL: the environment names no backend. */
	dt = (void *)1;
	assert_int_equal(dirtytrack_open(NULL, &dt), -EINVAL);
	assert_null(dt);
	assert_int_equal(dirtytrack_open(&o, &dt), -EINVAL);
	assert_null(dt);
	/* An explicit backend wins over the environment. */
	o.backend = DIRTYTRACK_BACKEND_USER;
	assert_int_equal(dirtytrack_open(&o, &dt), 0);
	assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
	dirtytrack_close(dt);
}

static void env_user(void **state)
{
	struct dirtytrack_module_info mi = DIRTYTRACK_OPTS_INIT(dirtytrack_module_info);
	struct dirtytrack *dt;

	(void)state;
	assert_int_equal(setenv(DIRTYTRACK_BACKEND_ENV, "user", 1), 0);
	assert_int_equal(dirtytrack_open(NULL, &dt), 0);
	assert_non_null(dt);
	assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
	/* ENODEV: the user backend has no module to describe. */
	assert_int_equal(dirtytrack_get_module_info(dt, &mi), -ENODEV);
	dirtytrack_close(dt);
}

static void env_kernel_missing_node(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = MISSING_PATH);
	struct dirtytrack *dt;

	(void)state;
	/* ENOENT: the kernel backend, forced, without its node: no fallback. */
	assert_int_equal(setenv(DIRTYTRACK_BACKEND_ENV, "kernel", 1), 0);
	dt = (void *)1;
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOENT);
	assert_null(dt);
	/* An explicit user backend wins over the environment. */
	o.backend = DIRTYTRACK_BACKEND_USER;
	assert_int_equal(dirtytrack_open(&o, &dt), 0);
	assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
	dirtytrack_close(dt);
}

static void kernel_forced_missing_node(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = MISSING_PATH, .backend = DIRTYTRACK_BACKEND_KERNEL);
	struct dirtytrack *dt = (void *)1;

	(void)state;
	/* ENOENT, even with the environment asking for the user backend. */
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOENT);
	assert_null(dt);
	assert_int_equal(setenv(DIRTYTRACK_BACKEND_ENV, "user", 1), 0);
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOENT);
	assert_null(dt);
}

/* Auto (by option, by "auto" or an empty variable): no node, user. */
static void auto_missing_node_is_user(void **state)
{
	static const char *const envs[] = { NULL, "auto", "" };
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = MISSING_PATH, .backend = DIRTYTRACK_BACKEND_AUTO);
	struct dirtytrack *dt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		if (envs[i])
			assert_int_equal(setenv(DIRTYTRACK_BACKEND_ENV, envs[i], 1), 0);
		else
			unsetenv(DIRTYTRACK_BACKEND_ENV);
		dt = NULL;
		assert_int_equal(dirtytrack_open(&o, &dt), 0);
		assert_non_null(dt);
		assert_int_equal(dirtytrack_get_backend(dt), DIRTYTRACK_BACKEND_USER);
		dirtytrack_close(dt);
	}
	/* A node that is there but no dirtytrack device is an error: ENOTTY. */
	unsetenv(DIRTYTRACK_BACKEND_ENV);
	o.path = "/dev/null";
	dt = (void *)1;
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOTTY);
	assert_null(dt);
}

/* ---- tracker creation on things that are no VM ---------------------------- */

static struct dirtytrack *open_user(void)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = DIRTYTRACK_BACKEND_USER);
	struct dirtytrack *dt = NULL;

	assert_int_equal(dirtytrack_open(&o, &dt), 0);
	assert_non_null(dt);
	return dt;
}

static void tracker_create_not_a_vm(void **state)
{
	struct dirtytrack *dt = open_user();
	struct dirtytrack_tracker *t;
	int fd;

	(void)state;
	/* EBADF: no fd. */
	t = (void *)1;
	assert_int_equal(dirtytrack_tracker_create(dt, -1, &t), -EBADF);
	assert_null(t);
	/* EBADF: an fd just closed. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	t = (void *)1;
	assert_int_equal(dirtytrack_tracker_create(dt, fd, &t), -EBADF);
	assert_null(t);
	/* EBADF: an fd that is not a KVM VM. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	t = (void *)1;
	assert_int_equal(dirtytrack_tracker_create(dt, fd, &t), -EBADF);
	assert_null(t);
	close(fd);
	/* EBADF: /dev/kvm itself is no VM either. */
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		t = (void *)1;
		assert_int_equal(dirtytrack_tracker_create(dt, fd, &t), -EBADF);
		assert_null(t);
		close(fd);
	}
	dirtytrack_close(dt);
}

/* ---- a real VM, user backend -------------------------------------------------- */

/* The ring every ring VM gets: 4096 entries. */
#define RING_ENTRIES	4096
#define RING_BYTES	(RING_ENTRIES * 16)

struct vm {
	struct dirtytrack *dt;
	int kvm_fd, vm_fd;
	struct dtvm_vcpu vcpu;
	bool ready;		/* KVM gave us what the test needs */
	int create_ret;
	struct dirtytrack_tracker *t;
};

/* Enable a dirty ring of RING_BYTES, before any vCPU exists. */
static bool vm_enable_ring(int vm_fd)
{
	static const uint32_t caps[] = {
		KVM_CAP_DIRTY_LOG_RING_ACQ_REL, KVM_CAP_DIRTY_LOG_RING,
	};
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int max = ioctl(vm_fd, KVM_CHECK_EXTENSION, caps[i]);

		if (max >= RING_BYTES &&
		    !dtvm_enable_ring(vm_fd, caps[i], RING_ENTRIES))
			return true;
	}
	return false;
}

/*
 * A VM with vCPU 0, and a tracker on it (user backend); with @ring, the
 * VM uses dirty rings.  What KVM cannot give leaves @ready false, and the
 * test is skipped.
 */
static int vm_open(void **state, bool ring)
{
	struct vm *v = calloc(1, sizeof(*v));

	if (!v)
		return -1;
	*state = v;
	unsetenv(DIRTYTRACK_BACKEND_ENV);
	v->vm_fd = -1;
	v->kvm_fd = dtvm_kvm_open();
	if (v->kvm_fd < 0)
		return 0;
	v->vm_fd = dtvm_vm_create(v->kvm_fd);
	if (v->vm_fd < 0 || (ring && !vm_enable_ring(v->vm_fd)))
		return 0;
	if (dtvm_vcpu_create(&v->vcpu, v->kvm_fd, v->vm_fd, 0))
		return 0;
	v->ready = true;
	{
		struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(
			dirtytrack_open_opts, .backend = DIRTYTRACK_BACKEND_USER);

		v->create_ret = dirtytrack_open(&o, &v->dt);
		if (!v->create_ret)
			v->create_ret = dirtytrack_tracker_create(v->dt, v->vm_fd,
								  &v->t);
	}
	return 0;
}

static int vm_setup(void **state)
{
	return vm_open(state, false);
}

static int ring_vm_setup(void **state)
{
	return vm_open(state, true);
}

static int vm_teardown(void **state)
{
	struct vm *v = *state;

	dirtytrack_tracker_destroy(v->t);
	dirtytrack_close(v->dt);
	dtvm_vcpu_destroy(&v->vcpu);
	if (v->vm_fd >= 0)
		close(v->vm_fd);
	if (v->kvm_fd >= 0)
		close(v->kvm_fd);
	free(v);
	unsetenv(DIRTYTRACK_BACKEND_ENV);
	return 0;
}

/* The VM's tracker; the test is skipped on a host without KVM. */
static struct dirtytrack_tracker *need_vm(void **state)
{
	struct vm *v = *state;

	if (!v->ready)
		skip();
	/* KVM made the VM: the tracker must have been made too. */
	assert_int_equal(v->create_ret, 0);
	assert_non_null(v->t);
	assert_int_equal(dirtytrack_get_backend(v->dt), DIRTYTRACK_BACKEND_USER);
	return v->t;
}

static void vm_region_add_refusals(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_bitmap_view bv = DIRTYTRACK_OPTS_INIT(dirtytrack_bitmap_view);

	/* EINVAL: unaligned GPA or size, no size. */
	assert_int_equal(dirtytrack_region_add(t, 0, MiB + 1, MiB), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, MiB + PG / 2, MiB), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, MiB, MiB + 1), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, MiB, 100), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, MiB, 0), -EINVAL);
	/* EINVAL: ending above 2^52, wrapping, more than 2^28 pages. */
	assert_int_equal(dirtytrack_region_add(t, 0, (1ULL << 52) - PG, 2 * PG),
			 -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, ~(PG - 1), 2 * PG), -EINVAL);
	assert_int_equal(dirtytrack_region_add(t, 0, 0,
					       (DT_LIB_MAX_REGION_PAGES + 1) * PG),
			 -EINVAL);

	assert_int_equal(dirtytrack_region_add(t, 0, MiB, MiB), 0);
	/* EEXIST: the slot again, elsewhere. */
	assert_int_equal(dirtytrack_region_add(t, 0, 16 * MiB, MiB), -EEXIST);
	/* EEXIST: another slot over any page of it. */
	assert_int_equal(dirtytrack_region_add(t, 1, MiB + MiB / 2, MiB), -EEXIST);
	assert_int_equal(dirtytrack_region_add(t, 1, 0, MiB + PG), -EEXIST);
	assert_int_equal(dirtytrack_region_add(t, 1, 2 * MiB - PG, PG), -EEXIST);
	assert_int_equal(dirtytrack_region_add(t, 1, 0, 4 * MiB), -EEXIST);
	/* Next to it is fine, and so is the same range in address space 1. */
	assert_int_equal(dirtytrack_region_add(t, 1, 0, MiB), 0);
	assert_int_equal(dirtytrack_region_add(t, 2, 2 * MiB, PG), 0);
	assert_int_equal(dirtytrack_region_add(t, DIRTYTRACK_SLOT(1, 0), MiB, MiB),
			 0);
	/* ... but not twice there either. */
	assert_int_equal(dirtytrack_region_add(t, DIRTYTRACK_SLOT(1, 1),
					       MiB + PG, PG), -EEXIST);
	/* The refusals left the first region as it was. */
	assert_int_equal(dirtytrack_region_bitmap(t, 0, &bv), 0);
	assert_int_equal(bv.npages, MiB / PG);
	assert_int_equal(bv.gpa, MiB);
}

static void vm_region_remove_move(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	uint64_t bitmap[4], d = 99;

	/* ENOENT: no such region. */
	assert_int_equal(dirtytrack_region_remove(t, 0, NULL, NULL), -ENOENT);
	assert_int_equal(dirtytrack_region_move(t, 0, 0), -ENOENT);

	assert_int_equal(dirtytrack_region_add(t, 0, 0, 64 * PG), 0);
	assert_int_equal(dirtytrack_region_add(t, 1, MiB, 64 * PG), 0);
	assert_int_equal(dirtytrack_region_remove(t, 2, bitmap, &d), -ENOENT);
	assert_int_equal(dirtytrack_region_remove(t, DIRTYTRACK_SLOT(1, 0), bitmap,
						  &d), -ENOENT);
	assert_int_equal(d, 99);
	assert_int_equal(dirtytrack_region_move(t, 2, 4 * MiB), -ENOENT);
	/* EINVAL: unaligned; past 2^52. */
	assert_int_equal(dirtytrack_region_move(t, 0, 4 * MiB + 1), -EINVAL);
	assert_int_equal(dirtytrack_region_move(t, 0, (1ULL << 52) - PG), -EINVAL);
	/* EEXIST: onto the other region. */
	assert_int_equal(dirtytrack_region_move(t, 0, MiB + 63 * PG), -EEXIST);
	/* A move over its own old place is fine. */
	assert_int_equal(dirtytrack_region_move(t, 0, 32 * PG), 0);
	assert_int_equal(dirtytrack_region_remove(t, 0, bitmap, &d), 0);
	assert_int_equal(d, 0);
	/* Gone: ENOENT again. */
	assert_int_equal(dirtytrack_region_remove(t, 0, NULL, NULL), -ENOENT);
	assert_int_equal(dirtytrack_region_move(t, 0, 0), -ENOENT);
}

/* A VM without rings: sizes, fds. */
static void vm_attach_ring_refusals(void **state)
{
	struct vm *v = *state;
	struct dirtytrack_tracker *t = need_vm(state);
	uint32_t id = 77;
	int fd;

	/* EINVAL: not a power of two of entries, or less than a page. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, 3 * PG, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, PG + 16, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, PG / 2, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, 16, &id), -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, 0, &id), -EINVAL);
	/* EINVAL: not whole entries; above 65536 entries. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, PG + 1, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, 2 * 65536 * 16,
						&id), -EINVAL);
	/* EINVAL: a good size, but this VM has no rings. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, PG, &id), -EINVAL);
	/* EINVAL: not a vCPU (the VM, /dev/null). */
	assert_int_equal(dirtytrack_attach_ring(t, v->vm_fd, PG, &id), -EINVAL);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dirtytrack_attach_ring(t, fd, PG, &id), -EINVAL);
	close(fd);
	/* EBADF: no fd, or one just closed. */
	assert_int_equal(dirtytrack_attach_ring(t, -1, PG, &id), -EBADF);
	assert_int_equal(dirtytrack_attach_ring(t, fd, PG, &id), -EBADF);
	/* Nothing was attached. */
	assert_int_equal(id, 77);
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, NULL), -ENOENT);
}

/* A VM with rings: the size must be the ring's; once per vCPU. */
static void vm_attach_ring(void **state)
{
	struct vm *v = *state;
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_kvm_bitmap_opts o;
	struct dirtytrack_rate rate;
	uint32_t id = 77;
	uint64_t n = 99;

	/* EINVAL: valid sizes, but not this ring's. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, RING_BYTES / 2, &id),
			 -EINVAL);
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, RING_BYTES * 2, &id),
			 -EINVAL);
	assert_int_equal(id, 77);
	/* ENOENT: nothing attached yet. */
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, &n), -ENOENT);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 0, &rate), -ENOENT);

	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, RING_BYTES, &id), 0);
	assert_int_equal(id, 0);
	/* EEXIST: attached already. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, RING_BYTES, NULL),
			 -EEXIST);
	/* ENOENT: no ring of that vCPU is attached. */
	assert_int_equal(dirtytrack_harvest_vcpu(t, 1, &n), -ENOENT);
	assert_int_equal(dirtytrack_harvest_vcpu(t, UINT32_MAX, &n), -ENOENT);
	assert_int_equal(n, 99);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 1, &rate), -ENOENT);
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 0, &rate), 0);

	/* EINVAL: "no ring" while a ring is attached. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);
	/* EINVAL: a ring with manual protect loses pages, whatever the VM. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .ring_with_bitmap = true, .manual_protect = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);
	/* ENXIO: a backup bitmap this VM did not enable (none on x86). */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .ring_with_bitmap = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -ENXIO);

	/* The ring works: a sync and a round of the states. */
	assert_int_equal(dirtytrack_sync(t, NULL), 0);
	assert_int_equal(dirtytrack_start(t, NULL), 0);
	assert_int_equal(dirtytrack_final_begin(t, NULL), 0);
	/* EBUSY: a vCPU harvest during the final sync, and sealed. */
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, &n), -EBUSY);
	assert_int_equal(dirtytrack_final_end(t, NULL), 0);
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, &n), -EBUSY);
	assert_int_equal(dirtytrack_stop(t), 0);
	assert_int_equal(dirtytrack_harvest_vcpu(t, 0, &n), 0);
}

/* The states: idle, tracking, final, sealed, and what each refuses. */
static void vm_state_machine(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	BIG(dirtytrack_sync_stats) big;
	BIG(dirtytrack_start_opts) sbig;
	uint64_t bitmap[1];

	assert_int_equal(dirtytrack_region_add(t, 0, 0, 64 * PG), 0);
	assert_int_equal(dirtytrack_region_add(t, 1, MiB, 64 * PG), 0);

	/* Idle. */
	assert_int_equal(dirtytrack_final_begin(t, &st), -EINVAL);
	assert_int_equal(dirtytrack_final_end(t, &st), -EINVAL);
	assert_int_equal(dirtytrack_stop(t), -EINVAL);
	assert_int_equal(dirtytrack_sync(t, &st), 0);	/* syncs work idle */

	/* Tracking (a newer caller's start opts with a zero tail). */
	memset(&sbig, 0, sizeof(sbig));
	sbig.base.sz = sizeof(sbig);
	assert_int_equal(dirtytrack_start(t, &sbig.base), 0);
	assert_int_equal(dirtytrack_start(t, NULL), -EBUSY);
	assert_int_equal(dirtytrack_final_end(t, &st), -EINVAL);
	memset(&big, 0, sizeof(big));
	big.base.sz = sizeof(big);
	assert_int_equal(dirtytrack_sync(t, &big.base), 0);
	assert_int_equal(big.newer, 0);
	assert_int_equal(dirtytrack_sync(t, NULL), 0);

	/* Final. */
	assert_int_equal(dirtytrack_final_begin(t, &st), 0);
	assert_int_equal(dirtytrack_sync(t, &st), -EBUSY);
	assert_int_equal(dirtytrack_final_begin(t, &st), -EBUSY);
	assert_int_equal(dirtytrack_start(t, NULL), -EBUSY);
	assert_int_equal(dirtytrack_region_remove(t, 1, NULL, NULL), -EBUSY);
	assert_int_equal(dirtytrack_region_move(t, 1, 4 * MiB), -EBUSY);
	assert_int_equal(dirtytrack_vmm_mark(t, 0, PG), 0);	/* device state */
	assert_int_equal(dirtytrack_claim_bitmap(t, 0, 0, 64, bitmap, NULL), 0);

	/* Sealed. */
	assert_int_equal(dirtytrack_final_end(t, &st), 0);
	assert_int_equal(dirtytrack_sync(t, &st), -EBUSY);
	assert_int_equal(dirtytrack_sync(t, NULL), -EBUSY);
	assert_int_equal(dirtytrack_final_begin(t, &st), -EBUSY);
	assert_int_equal(dirtytrack_final_end(t, &st), -EBUSY);
	assert_int_equal(dirtytrack_vmm_mark(t, 0, PG), -EBUSY);
	assert_int_equal(dirtytrack_region_remove(t, 1, NULL, NULL), -EBUSY);
	assert_int_equal(dirtytrack_region_move(t, 1, 4 * MiB), -EBUSY);
	/* Claims and region adds work in every state. */
	assert_int_equal(dirtytrack_claim_bitmap(t, 0, 0, 64, bitmap, NULL), 0);
	assert_int_equal(dirtytrack_region_add(t, 2, 2 * MiB, PG), 0);

	/* STOP works sealed; then idle again. */
	assert_int_equal(dirtytrack_stop(t), 0);
	assert_int_equal(dirtytrack_stop(t), -EINVAL);
	assert_int_equal(dirtytrack_final_begin(t, &st), -EINVAL);

	/* Once more to sealed: START there restarts the tracker. */
	assert_int_equal(dirtytrack_start(t, NULL), 0);
	assert_int_equal(dirtytrack_final_begin(t, NULL), 0);
	assert_int_equal(dirtytrack_final_end(t, NULL), 0);
	assert_int_equal(dirtytrack_start(t, NULL), 0);
	assert_int_equal(dirtytrack_start(t, NULL), -EBUSY);
	assert_int_equal(dirtytrack_stop(t), 0);
}

static void vm_vmm_mark(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	int fd = 7;

	/* ENOENT: no region at all. */
	assert_int_equal(dirtytrack_vmm_mark(t, 0, PG), -ENOENT);
	assert_int_equal(dirtytrack_region_add(t, 0, MiB, MiB), 0);
	/* EINVAL: zero length; a range that wraps. */
	assert_int_equal(dirtytrack_vmm_mark(t, MiB, 0), -EINVAL);
	assert_int_equal(dirtytrack_vmm_mark(t, UINT64_MAX - 100, 200), -EINVAL);
	/* ENOENT: outside the regions, or partly. */
	assert_int_equal(dirtytrack_vmm_mark(t, 3 * MiB, PG), -ENOENT);
	assert_int_equal(dirtytrack_vmm_mark(t, 0, 1), -ENOENT);
	assert_int_equal(dirtytrack_vmm_mark(t, MiB - 1, 2), -ENOENT);
	assert_int_equal(dirtytrack_vmm_mark(t, 2 * MiB - PG, 2 * PG), -ENOENT);
	assert_int_equal(dirtytrack_vmm_mark(t, UINT64_MAX - PG, PG), -ENOENT);
	/* ENOENT: only address space 0 holds what the VMM writes. */
	assert_int_equal(dirtytrack_region_add(t, DIRTYTRACK_SLOT(1, 0), 8 * MiB,
					       MiB), 0);
	assert_int_equal(dirtytrack_vmm_mark(t, 8 * MiB, PG), -ENOENT);
	/* Inside: fine, to the last byte, and over adjacent regions. */
	assert_int_equal(dirtytrack_vmm_mark(t, MiB, 1), 0);
	assert_int_equal(dirtytrack_vmm_mark(t, MiB + 100, MiB - 100), 0);
	assert_int_equal(dirtytrack_region_add(t, 1, 2 * MiB, MiB), 0);
	assert_int_equal(dirtytrack_vmm_mark(t, 2 * MiB - PG, 2 * PG), 0);
	/* vmm_log_fd needs somewhere to put the fd. */
	assert_int_equal(dirtytrack_vmm_log_fd(t, NULL, NULL), -EINVAL);
	assert_int_equal(dirtytrack_vmm_log_fd(t, &fd, NULL), 0);
	assert_true(fd >= 0);
	close(fd);
}

static void vm_iommu_unknown_source(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_iova_map map = { .iova = 0, .gpa = 0, .length = PG };
	static const uint32_t ids[] = { 0, 1, DT_MAX_IOMMU - 1,
					DT_MAX_IOMMU, UINT32_MAX };
	uint64_t d = 99;
	size_t i;

	assert_int_equal(dirtytrack_region_add(t, 0, 0, MiB), 0);
	/* ENOENT: no such source. */
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(dirtytrack_iommu_set_map(t, ids[i], &map, 1),
				 -ENOENT);
		assert_int_equal(dirtytrack_iommu_set_map(t, ids[i], NULL, 0),
				 -ENOENT);
		assert_int_equal(dirtytrack_iommu_peek(t, ids[i], 0, PG, &d),
				 -ENOENT);
		assert_int_equal(dirtytrack_iommu_detach(t, ids[i]), -ENOENT);
	}
	assert_int_equal(d, 99);
}

static void vm_attach_iommu_bad_fd(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_iommu_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_iommu_opts);
	uint32_t id = 77;
	int fd;

	assert_int_equal(dirtytrack_region_add(t, 0, 0, MiB), 0);
	/* EBADF: no fd. */
	o.iommufd = -1;
	assert_int_equal(dirtytrack_attach_iommu(t, &o, &id), -EBADF);
	/* EBADF: a character device that is not an iommufd. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	o.iommufd = fd;
	assert_int_equal(dirtytrack_attach_iommu(t, &o, &id), -EBADF);
	close(fd);
	/* EBADF: an fd just closed. */
	assert_int_equal(dirtytrack_attach_iommu(t, &o, &id), -EBADF);
	/* EBADF: not a character device. */
	fd = memfd_create("not-iommufd", MFD_CLOEXEC);
	assert_true(fd >= 0);
	o.iommufd = fd;
	assert_int_equal(dirtytrack_attach_iommu(t, &o, &id), -EBADF);
	close(fd);
	assert_int_equal(id, 77);
	/* Nothing was attached. */
	assert_int_equal(dirtytrack_iommu_detach(t, 0), -ENOENT);
}

static void vm_attach_kvm_bitmap(void **state)
{
	struct vm *v = *state;
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_kvm_bitmap_opts o;

	/* EINVAL: a ring with manual protect (or initially set) loses pages. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .ring_with_bitmap = true, .manual_protect = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .ring_with_bitmap = true, .manual_protect = true,
				 .initially_set = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);
	/* EINVAL: initially set without manual protect. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts, .initially_set = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);
	/* EINVAL: a ring declared, but this VM has none. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .ring_with_bitmap = true);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EINVAL);

	/*
	 * This VM has no ring: its plain log, declared by an older caller
	 * whose struct ends before max_region_bytes.
	 */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				 .max_region_bytes = 1);
	o.sz = dt_offsetofend(struct dirtytrack_kvm_bitmap_opts, initially_set);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), 0);
	/* EEXIST: attached already. */
	o = DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);
	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), -EEXIST);
	/* EINVAL: a ring on a VM declared without one. */
	assert_int_equal(dirtytrack_attach_ring(t, v->vcpu.fd, PG, NULL), -EINVAL);
	/* The default bound (64 GiB) took, not max_region_bytes = 1. */
	assert_int_equal(dirtytrack_region_add(t, 0, 0, 64 * MiB), 0);
}

static void vm_kvm_bitmap_max_region(void **state)
{
	struct dirtytrack_tracker *t = need_vm(state);
	struct dirtytrack_kvm_bitmap_opts o = DIRTYTRACK_OPTS_INIT(
		dirtytrack_kvm_bitmap_opts, .max_region_bytes = MiB);

	assert_int_equal(dirtytrack_attach_kvm_bitmap(t, &o), 0);
	assert_int_equal(dirtytrack_region_add(t, 0, 0, MiB), 0);
	/* ENOBUFS: larger than the tracker was told to expect. */
	assert_int_equal(dirtytrack_region_add(t, 1, 4 * MiB, 4 * MiB), -ENOBUFS);
	assert_int_equal(dirtytrack_region_remove(t, 1, NULL, NULL), -ENOENT);
}

#define VM_TEST(fn)	cmocka_unit_test_setup_teardown(fn, vm_setup, vm_teardown)
#define RING_VM_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, ring_vm_setup, vm_teardown)
#define ENV_TEST(fn)	cmocka_unit_test_setup_teardown(fn, env_clean, env_clean)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ENV_TEST(null_handles),
		ENV_TEST(null_arguments),
		ENV_TEST(open_opts_size),
		ENV_TEST(module_info_size),
		ENV_TEST(kvm_bitmap_opts_size),
		ENV_TEST(iommu_opts_size),
		ENV_TEST(start_opts_size),
		ENV_TEST(sync_stats_size),
		ENV_TEST(rates_size),
		ENV_TEST(bitmap_view_size),
		ENV_TEST(bad_ranges_refused_early),
		ENV_TEST(open_invalid_backend),
		ENV_TEST(env_bogus_refused),
		ENV_TEST(env_user),
		ENV_TEST(env_kernel_missing_node),
		ENV_TEST(kernel_forced_missing_node),
		ENV_TEST(auto_missing_node_is_user),
		ENV_TEST(tracker_create_not_a_vm),
		VM_TEST(vm_region_add_refusals),
		VM_TEST(vm_region_remove_move),
		VM_TEST(vm_attach_ring_refusals),
		RING_VM_TEST(vm_attach_ring),
		VM_TEST(vm_state_machine),
		VM_TEST(vm_vmm_mark),
		VM_TEST(vm_iommu_unknown_source),
		VM_TEST(vm_attach_iommu_bad_fd),
		VM_TEST(vm_attach_kvm_bitmap),
		VM_TEST(vm_kvm_bitmap_max_region),
	};

	return cmocka_run_group_tests_name("libdirtytrack API misuse", tests,
					   NULL, NULL);
}
