// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Dirty rates (lib/rates.c and their getters in lib/tracker.c), on a
 * tracker built by hand: no rate before a measured interval, `last` is
 * what was harvested over the interval's length, `avg` weighs each new
 * interval 1/4, per-vCPU rates come from each vCPU's entries, the
 * counters start again after every sync, and the getters copy out only
 * what the caller's struct holds.
 *
 * The interval is faked by moving last_sync_ns 0.5 s back; the rate is
 * checked against the interval's bounds measured around the call, so
 * nothing depends on how fast the test runs.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libdt.h"
#include "opts.h"

#define HALF_SECOND_NS	500000000ULL

struct fix {
	struct dirtytrack dt;
	struct dirtytrack_tracker *t;
};

static const uint32_t vcpu_ids[] = { 0, 5, 9 };
#define NR_VCPUS	(sizeof(vcpu_ids) / sizeof(vcpu_ids[0]))

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	uint32_t i;

	if (!f)
		return -1;
	f->dt.backend = DIRTYTRACK_BACKEND_USER;
	f->dt.fd = -1;
	f->dt.page_shift = 12;
	f->dt.refs = 1;
	f->t = calloc(1, sizeof(*f->t));
	if (!f->t)
		return -1;
	f->t->dt = &f->dt;
	f->t->fd = -1;
	pthread_mutex_init(&f->t->lock, NULL);
	pthread_rwlock_init(&f->t->regions_lock, NULL);
	f->t->vcpus = calloc(NR_VCPUS, sizeof(*f->t->vcpus));
	if (!f->t->vcpus)
		return -1;
	for (i = 0; i < NR_VCPUS; i++)
		f->t->vcpus[i].id = vcpu_ids[i];
	f->t->nr_vcpus = NR_VCPUS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	free(f->t->vcpus);
	pthread_rwlock_destroy(&f->t->regions_lock);
	pthread_mutex_destroy(&f->t->lock);
	free(f->t);
	free(f);
	return 0;
}

/* A sync's stats with these per-source counts. */
static struct dirtytrack_sync_stats stats(uint64_t ring, uint64_t kvm,
					  uint64_t vmm, uint64_t iommu)
{
	return (struct dirtytrack_sync_stats){
		.sz = sizeof(struct dirtytrack_sync_stats),
		.ring_entries = ring, .kvm_bitmap_pages = kvm,
		.vmm_pages = vmm, .iommu_pages = iommu,
		/* Not rates: must not leak into any. */
		.ring_invalid = 1000000, .ring_foreign = 1000000,
		.vmm_outside = 1000000, .iommu_calls = 1000000,
	};
}

/* The bounds of a measured interval: [lo_ns, hi_ns]. */
struct interval {
	uint64_t lo_ns, hi_ns;
};

/*
 * One sync that ends an interval started 0.5 s ago (faked), with @st.
 * Returns the interval's possible lengths.
 */
static struct interval update_after_half_second(struct dirtytrack_tracker *t,
						const struct dirtytrack_sync_stats *st)
{
	uint64_t t0 = dt_now_ns(), t1;

	t->last_sync_ns = t0 - HALF_SECOND_NS;
	dt_rates_update(t, st, dt_now_ns());
	t1 = dt_now_ns();
	/* The library's now is in [t0, t1]. */
	assert_true(t->last_sync_ns >= t0 && t->last_sync_ns <= t1);
	return (struct interval){ HALF_SECOND_NS, HALF_SECOND_NS + (t1 - t0) };
}

/* @rate is @count over some length in @iv. */
static void assert_rate(double rate, uint64_t count, struct interval iv)
{
	double lo = (double)count * 1e9 / (double)iv.hi_ns;
	double hi = (double)count * 1e9 / (double)iv.lo_ns;

	if (!(rate >= lo * (1 - 1e-12) && rate <= hi * (1 + 1e-12)))
		fail_msg("rate %.6f not in [%.6f, %.6f] for %llu pages", rate,
			 lo, hi, (unsigned long long)count);
}

static void assert_close(double a, double b)
{
	double d = a > b ? a - b : b - a;
	double m = (a > b ? a : b) * 1e-12;

	if (d > m && d > 1e-12)
		fail_msg("%.12f != %.12f", a, b);
}

static void assert_counters_reset(struct dirtytrack_tracker *t)
{
	uint32_t i;

	for (i = 0; i < DT_NR_RATES; i++)
		assert_int_equal(t->since[i], 0);
	for (i = 0; i < t->nr_vcpus; i++)
		assert_int_equal(t->vcpus[i].entries, 0);
}

static void assert_no_rates(struct dirtytrack_tracker *t)
{
	uint32_t i;

	for (i = 0; i < DT_NR_RATES; i++) {
		assert_true(t->rates[i].last == 0.0);
		assert_true(t->rates[i].avg == 0.0);
	}
	for (i = 0; i < t->nr_vcpus; i++) {
		assert_true(t->vcpus[i].rate.last == 0.0);
		assert_true(t->vcpus[i].rate.avg == 0.0);
	}
}

/* ---- dt_rates_update() / dt_rates_restart() ------------------------------ */

/* The first sync with no interval started only starts one. */
static void no_rate_before_an_interval(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(100, 200, 300, 400);
	uint64_t t0, t1;

	t->vcpus[1].entries = 50;
	t0 = dt_now_ns();
	dt_rates_update(t, &st, dt_now_ns());
	t1 = dt_now_ns();
	assert_int_equal(t->syncs, 0);
	assert_no_rates(t);
	/* The interval starts now; what came before it is not in it. */
	assert_true(t->last_sync_ns >= t0 && t->last_sync_ns <= t1);
	assert_counters_reset(t);
}

/* A clock that did not advance measures nothing either. */
static void no_rate_without_elapsed_time(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(100, 200, 300, 400);
	uint64_t t0 = dt_now_ns();

	t->last_sync_ns = t0 + 3600 * 1000000000ULL;	/* in the future */
	dt_rates_update(t, &st, dt_now_ns());
	assert_int_equal(t->syncs, 0);
	assert_no_rates(t);
	assert_true(t->last_sync_ns >= t0 && t->last_sync_ns <= dt_now_ns());
	assert_counters_reset(t);
}

/* last = what the interval harvested / its length; avg = last at first. */
static void last_is_count_over_elapsed(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(1000, 2000, 3000, 4000);
	struct interval iv;

	/* Ring entries a per-vCPU harvest took since the last sync. */
	t->since[DT_RATE_RING] = 500;
	iv = update_after_half_second(t, &st);
	assert_int_equal(t->syncs, 1);
	assert_rate(t->rates[DT_RATE_RING].last, 1500, iv);
	assert_rate(t->rates[DT_RATE_KVM_BITMAP].last, 2000, iv);
	assert_rate(t->rates[DT_RATE_VMM].last, 3000, iv);
	assert_rate(t->rates[DT_RATE_IOMMU].last, 4000, iv);
	assert_true(t->rates[DT_RATE_RING].avg == t->rates[DT_RATE_RING].last);
	assert_true(t->rates[DT_RATE_IOMMU].avg == t->rates[DT_RATE_IOMMU].last);
	assert_counters_reset(t);

	/* A measured interval with nothing harvested: rate 0. */
	st = stats(0, 0, 0, 0);
	iv = update_after_half_second(t, &st);
	assert_int_equal(t->syncs, 2);
	assert_true(t->rates[DT_RATE_VMM].last == 0.0);
}

/* Each new interval weighs 1/4 of the smoothed rate. */
static void avg_weighs_new_interval_a_quarter(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	static const uint64_t counts[] = { 1000, 3000, 0, 8000, 8000 };
	struct dirtytrack_sync_stats st;
	struct interval iv;
	double lo = 0, hi = 0;	/* the ring's avg, from the intervals' bounds */
	size_t k;

	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct dirtytrack_rate before[DT_NR_RATES];
		uint32_t i;

		memcpy(before, t->rates, sizeof(before));
		st = stats(counts[k], 2 * counts[k], 3 * counts[k], 4 * counts[k]);
		iv = update_after_half_second(t, &st);
		assert_int_equal(t->syncs, k + 1);
		for (i = 0; i < DT_NR_RATES; i++) {
			struct dirtytrack_rate *r = &t->rates[i];

			assert_rate(r->last, (i + 1) * counts[k], iv);
			if (!k)
				assert_true(r->avg == r->last);
			else
				assert_close(r->avg, before[i].avg +
					     (r->last - before[i].avg) / 4);
		}
		/* Independently of the above: 1/4 of each interval's rate. */
		{
			double l_lo = counts[k] * 1e9 / (double)iv.hi_ns;
			double l_hi = counts[k] * 1e9 / (double)iv.lo_ns;

			lo = k ? lo + (l_lo - lo) / 4 : l_lo;
			hi = k ? hi + (l_hi - hi) / 4 : l_hi;
		}
	}
	/* Over exactly 0.5 s each: 2000, 3000, 2250, 5687.5, 8265.625 pages/s. */
	assert_true(hi == 8265.625);
	assert_true(t->rates[DT_RATE_RING].avg >= lo * (1 - 1e-12) &&
		    t->rates[DT_RATE_RING].avg <= hi * (1 + 1e-12));
}

static void vcpu_rates_from_entries(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(0, 0, 0, 0);
	struct dirtytrack_rate first[NR_VCPUS];
	struct interval iv;
	uint32_t i;

	t->vcpus[0].entries = 300;
	t->vcpus[1].entries = 0;
	t->vcpus[2].entries = 50;
	iv = update_after_half_second(t, &st);
	assert_rate(t->vcpus[0].rate.last, 300, iv);
	assert_true(t->vcpus[1].rate.last == 0.0);
	assert_rate(t->vcpus[2].rate.last, 50, iv);
	for (i = 0; i < NR_VCPUS; i++) {
		assert_true(t->vcpus[i].rate.avg == t->vcpus[i].rate.last);
		first[i] = t->vcpus[i].rate;
	}
	/* The sources' rates are not the vCPUs'. */
	assert_true(t->rates[DT_RATE_RING].last == 0.0);
	assert_counters_reset(t);

	t->vcpus[0].entries = 100;
	t->vcpus[1].entries = 4000;
	t->vcpus[2].entries = 50;
	iv = update_after_half_second(t, &st);
	assert_rate(t->vcpus[0].rate.last, 100, iv);
	assert_rate(t->vcpus[1].rate.last, 4000, iv);
	assert_rate(t->vcpus[2].rate.last, 50, iv);
	for (i = 0; i < NR_VCPUS; i++)
		assert_close(t->vcpus[i].rate.avg, first[i].avg +
			     (t->vcpus[i].rate.last - first[i].avg) / 4);
	assert_counters_reset(t);
}

/* A vCPU attached after the first intervals: its first one sets avg too. */
static void late_vcpu_first_interval_sets_avg(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(0, 0, 0, 0);
	uint32_t nr = t->nr_vcpus;

	t->nr_vcpus = 0;
	update_after_half_second(t, &st);
	update_after_half_second(t, &st);
	assert_int_equal(t->syncs, 2);
	t->nr_vcpus = nr;
	t->vcpus[0].entries = 1000;
	update_after_half_second(t, &st);
	assert_true(t->vcpus[0].rate.last > 0.0);
	assert_true(t->vcpus[0].rate.avg == t->vcpus[0].rate.last);
}

/* Counts add up between syncs and start again after each. */
static void counters_reset_after_each_update(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(10, 20, 30, 40);
	struct interval iv;

	iv = update_after_half_second(t, &st);
	assert_rate(t->rates[DT_RATE_KVM_BITMAP].last, 20, iv);
	assert_counters_reset(t);
	/* Only this interval's 7 pages, not 20 + 7. */
	st = stats(7, 7, 7, 7);
	iv = update_after_half_second(t, &st);
	assert_rate(t->rates[DT_RATE_KVM_BITMAP].last, 7, iv);
	assert_rate(t->rates[DT_RATE_RING].last, 7, iv);
	assert_counters_reset(t);
}

/* A restart (dirtytrack_start()) drops the counts, keeps the rates. */
static void restart_drops_counts_keeps_rates(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(1000, 1000, 1000, 1000);
	struct dirtytrack_rate saved[DT_NR_RATES];
	struct interval iv;
	uint64_t t0;

	t->vcpus[2].entries = 10;
	update_after_half_second(t, &st);
	memcpy(saved, t->rates, sizeof(saved));

	t->since[DT_RATE_VMM] = 99;
	t->vcpus[0].entries = 99;
	t0 = dt_now_ns();
	dt_rates_restart(t);
	assert_true(t->last_sync_ns >= t0 && t->last_sync_ns <= dt_now_ns());
	assert_counters_reset(t);
	assert_memory_equal(saved, t->rates, sizeof(saved));
	assert_int_equal(t->syncs, 1);

	/* The next interval has only what comes after the restart. */
	st = stats(0, 0, 5, 0);
	iv = update_after_half_second(t, &st);
	assert_rate(t->rates[DT_RATE_VMM].last, 5, iv);
	assert_true(t->vcpus[0].rate.last == 0.0);
}

/* ---- dirtytrack_get_rates() / dirtytrack_get_vcpu_rate() ---------------- */

/* Each source's rate lands in its own field. */
static void get_rates_copies_each_source(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_rates r = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
	uint32_t i;

	t->syncs = 42;
	for (i = 0; i < DT_NR_RATES; i++) {
		t->rates[i].last = 10.0 * (i + 1);
		t->rates[i].avg = 10.0 * (i + 1) + 0.5;
	}
	assert_int_equal(dirtytrack_get_rates(t, &r), 0);
	assert_int_equal(r.sz, sizeof(r));
	assert_int_equal(r.syncs, 42);
	assert_true(r.ring.last == 10.0 && r.ring.avg == 10.5);
	assert_true(r.kvm_bitmap.last == 20.0 && r.kvm_bitmap.avg == 20.5);
	assert_true(r.vmm.last == 30.0 && r.vmm.avg == 30.5);
	assert_true(r.iommu.last == 40.0 && r.iommu.avg == 40.5);
}

/* An older caller's struct, ending at @ring: nothing past it is written. */
static void get_rates_copies_only_sz(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	size_t sz = dt_offsetofend(struct dirtytrack_rates, ring);
	struct dirtytrack_rates r;
	unsigned char *p = (unsigned char *)&r;
	size_t i;

	t->syncs = 3;
	t->rates[DT_RATE_RING] = (struct dirtytrack_rate){ 1.5, 2.5 };
	t->rates[DT_RATE_KVM_BITMAP] = (struct dirtytrack_rate){ 7.0, 7.0 };
	memset(&r, 0xa5, sizeof(r));
	r.sz = sz;
	assert_int_equal(dirtytrack_get_rates(t, &r), 0);
	assert_int_equal(r.sz, sz);
	assert_int_equal(r.syncs, 3);
	assert_true(r.ring.last == 1.5 && r.ring.avg == 2.5);
	for (i = sz; i < sizeof(r); i++)
		assert_int_equal(p[i], 0xa5);

	/* Only sz itself: nothing written at all. */
	memset(&r, 0xa5, sizeof(r));
	r.sz = sizeof(size_t);
	assert_int_equal(dirtytrack_get_rates(t, &r), 0);
	for (i = sizeof(size_t); i < sizeof(r); i++)
		assert_int_equal(p[i], 0xa5);
}

static void get_rates_refusals(void **state)
{
	struct fix *f = *state;
	struct {
		struct dirtytrack_rates r;
		uint64_t newer;
	} big;
	struct dirtytrack_rates r;

	/* EINVAL: NULL tracker or struct, sz smaller than sz itself. */
	r = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
	assert_int_equal(dirtytrack_get_rates(NULL, &r), -EINVAL);
	assert_int_equal(dirtytrack_get_rates(f->t, NULL), -EINVAL);
	r.sz = sizeof(size_t) - 1;
	assert_int_equal(dirtytrack_get_rates(f->t, &r), -EINVAL);
	/* E2BIG: a larger struct with a non-zero tail; zero tail is fine. */
	memset(&big, 0, sizeof(big));
	big.r.sz = sizeof(big);
	big.newer = 1;
	assert_int_equal(dirtytrack_get_rates(f->t, &big.r), -E2BIG);
	big.newer = 0;
	f->t->syncs = 8;
	assert_int_equal(dirtytrack_get_rates(f->t, &big.r), 0);
	assert_int_equal(big.r.syncs, 8);
	assert_int_equal(big.newer, 0);
}

static void get_vcpu_rate(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_rate r = { -1.0, -1.0 };

	t->vcpus[1].rate = (struct dirtytrack_rate){ 123.0, 45.0 };
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 5, &r), 0);
	assert_true(r.last == 123.0 && r.avg == 45.0);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 0, &r), 0);
	assert_true(r.last == 0.0 && r.avg == 0.0);

	/* ENOENT: no ring of that vCPU is attached; r untouched. */
	r = (struct dirtytrack_rate){ -1.0, -1.0 };
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 1, &r), -ENOENT);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 1024, &r), -ENOENT);
	assert_true(r.last == -1.0 && r.avg == -1.0);
	/* EINVAL: NULL tracker or rate. */
	assert_int_equal(dirtytrack_get_vcpu_rate(NULL, 5, &r), -EINVAL);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 5, NULL), -EINVAL);
}

/* Rates measured by dt_rates_update() are what the getters report. */
static void getters_report_measured_rates(void **state)
{
	struct fix *f = *state;
	struct dirtytrack_tracker *t = f->t;
	struct dirtytrack_sync_stats st = stats(600, 0, 0, 0);
	struct dirtytrack_rates r = DIRTYTRACK_OPTS_INIT(dirtytrack_rates);
	struct dirtytrack_rate v;
	struct interval iv;

	t->vcpus[2].entries = 600;
	iv = update_after_half_second(t, &st);
	assert_int_equal(dirtytrack_get_rates(t, &r), 0);
	assert_int_equal(r.syncs, 1);
	assert_rate(r.ring.last, 600, iv);
	assert_true(r.kvm_bitmap.last == 0.0);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 9, &v), 0);
	assert_rate(v.last, 600, iv);
	assert_int_equal(dirtytrack_get_vcpu_rate(t, 5, &v), 0);
	assert_true(v.last == 0.0);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(no_rate_before_an_interval),
		T(no_rate_without_elapsed_time),
		T(last_is_count_over_elapsed),
		T(avg_weighs_new_interval_a_quarter),
		T(vcpu_rates_from_entries),
		T(late_vcpu_first_interval_sets_avg),
		T(counters_reset_after_each_update),
		T(restart_drops_counts_keeps_rates),
		T(get_rates_copies_each_source),
		T(get_rates_copies_only_sz),
		T(get_rates_refusals),
		T(get_vcpu_rate),
		T(getters_report_measured_rates),
	};

	return cmocka_run_group_tests_name("libdirtytrack rates", tests,
					   NULL, NULL);
}
