// SPDX-License-Identifier: GPL-2.0
/*
 * Mode bitmap: the plain per-memslot dirty log of a VM without rings (the
 * way cloud-hypervisor and Firecracker run), one memslot of 1, 4 or 16
 * GiB with a strided share of its pages written per round.
 *
 * Two VM configurations, each with its baseline:
 *  - KVM_GET_DIRTY_LOG (read and clear, write-protects what it reports),
 *    its nonzero words OR-ed into the VMM's bitmap with an atomic OR each,
 *    as QEMU's cpu_physical_memory_set_dirty_lebitmap() does (it does two:
 *    the VGA and the migration bitmaps);
 *  - with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: the same, then
 *    KVM_CLEAR_DIRTY_LOG of exactly what was read, per 1 GiB chunk that
 *    has bits (QEMU's default clear chunk);
 * against dirtytrack_sync() with dirtytrack_attach_kvm_bitmap() declaring
 * the same configuration (ring_with_bitmap false: the plain log, read by
 * every sync; manual_protect as the VM has it).
 *
 * The collectors share the VM: KVM's log is read and cleared (or cleared
 * by hand) by whoever collects a round, so each round's collector sees
 * that round's pages only, which the checks prove every round.  A tracker
 * does not see the baseline's reads; it needs none of what they took.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bench.h"

#define DTB_BM_COLLECTORS	3
#define DTB_BM_CLEAR_PAGES	(1ULL << 18)	/* QEMU's 1 GiB clear chunk */

struct dtb_bm_col {
	struct dtb_vm *vm;
	bool lib;
	bool manual;
	uint64_t *buf;			/* baseline: what KVM writes */
	uint64_t *acc;			/* baseline: the VMM's bitmap */
	struct dtb_tracker tr;
	bool tr_up;
	struct dtb_result res;
	uint64_t guest_ns;		/* the last warm-up round's stores */
};

static int dtb_bm_baseline(struct dtb_bm_col *c, uint64_t *out_pages)
{
	struct kvm_dirty_log log = { .slot = DTB_DATA_SLOT, .dirty_bitmap = c->buf };
	uint64_t nwords = dtb_words(c->vm->data_pages), w, n = 0, first;

	if (ioctl(c->vm->fd, KVM_GET_DIRTY_LOG, &log))
		return -errno;
	for (w = 0; w < nwords; w++) {
		if (c->buf[w]) {
			__atomic_fetch_or(&c->acc[w], c->buf[w], __ATOMIC_RELAXED);
			n += __builtin_popcountll(c->buf[w]);
		}
	}
	for (first = 0; c->manual && first < c->vm->data_pages;
	     first += DTB_BM_CLEAR_PAGES) {
		uint64_t np = dtb_min_u64(DTB_BM_CLEAR_PAGES, c->vm->data_pages - first);
		struct kvm_clear_dirty_log clr = {
			.slot = DTB_DATA_SLOT, .first_page = first,
			.num_pages = np, .dirty_bitmap = c->buf + first / 64,
		};
		uint64_t any = 0;

		for (w = 0; w < dtb_words(np); w++)
			any |= c->buf[first / 64 + w];
		if (any && ioctl(c->vm->fd, KVM_CLEAR_DIRTY_LOG, &clr))
			return -errno;
	}
	*out_pages = n;
	return 0;
}

static int dtb_bm_round(struct dtb_bm_col *c, const struct dtb_job *jobs,
			const uint64_t *expect, uint64_t want, bool timed)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint64_t pages = 0, bad = 0, t0, t;
	int ret;

	ret = dtb_vm_round(c->vm, jobs, &c->guest_ns);
	if (ret)
		return ret;
	t0 = dtb_now_ns();
	if (c->lib) {
		ret = dirtytrack_sync(c->tr.t, &st);
		pages = st.kvm_bitmap_pages;
		bad = st.kvm_bitmap_errors;
	} else {
		ret = dtb_bm_baseline(c, &pages);
	}
	t = dtb_now_ns() - t0;
	if (ret) {
		dtb_err("%s: collect: %s", c->res.collector, strerror(-ret));
		return ret;
	}
	if (pages != want || bad) {
		dtb_err("%s: collected %llu pages of %llu written (%llu bitmap errors)",
			c->res.collector, (unsigned long long)pages,
			(unsigned long long)want, (unsigned long long)bad);
		return -EBADMSG;
	}
	if (c->lib) {
		ret = dtb_tracker_check(&c->tr, expect, "claimed after the sync");
	} else {
		ret = dtb_bitmap_compare(c->acc, expect, c->vm->data_pages,
					 c->res.collector, "its bitmap");
		memset(c->acc, 0, dtb_words(c->vm->data_pages) * sizeof(uint64_t));
	}
	if (!ret && timed)
		dtb_samples_add(&c->res.t, t);
	return ret;
}

static void dtb_bm_col_down(struct dtb_bm_col *c)
{
	if (c->tr_up)
		dtb_tracker_close(&c->tr);
	dtb_bitmap_free(c->buf);
	dtb_bitmap_free(c->acc);
	memset(c, 0, sizeof(*c));
}

static int dtb_bm_col_up(struct dtb_bm_col *c, struct dtb_vm *vm,
			 const char *name, bool lib, enum dirtytrack_backend b,
			 bool manual)
{
	struct dirtytrack_kvm_bitmap_opts o = DIRTYTRACK_OPTS_INIT(
		dirtytrack_kvm_bitmap_opts, .manual_protect = manual,
		.max_region_bytes = vm->data_bytes);
	int ret;

	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->lib = lib;
	c->manual = manual;
	c->res.collector = name;
	if (!lib) {
		c->buf = dtb_bitmap_alloc(vm->data_pages);
		c->acc = dtb_bitmap_alloc(vm->data_pages);
		return c->buf && c->acc ? 0 : -ENOMEM;
	}
	ret = dtb_tracker_open(&c->tr, b, vm);
	if (ret)
		return ret;
	c->tr_up = true;
	ret = dirtytrack_attach_kvm_bitmap(c->tr.t, &o);
	if (ret) {
		dtb_err("%s: dirtytrack_attach_kvm_bitmap: %s", name, strerror(-ret));
		return ret;
	}
	return dtb_tracker_start(&c->tr);
}

/* @n pages @stride apart, in one chunk per vCPU. */
static void dtb_bm_jobs(struct dtb_job *jobs, int vcpus, uint64_t n,
			uint64_t stride)
{
	int i;

	for (i = 0; i < vcpus; i++) {
		uint64_t k0 = n * i / vcpus, k1 = n * (i + 1) / vcpus;

		jobs[i] = (struct dtb_job){ .first_page = k0 * stride,
					    .npages = k1 - k0, .stride = stride };
	}
}

/*
 * What the guest's stores cost per page, from the last point measured: a
 * store to a page KVM write-protected is a page fault (about 10 us each
 * natively on the shadow-paging hosts this runs on, whatever the vCPUs),
 * which makes the large points' rounds last tens of seconds.
 */
static double dtb_bm_ns_per_page;

/*
 * A point's rounds.  A small one: --warmup rounds per collector, then
 * --reps each.  A large one (its stores for one round of every collector
 * exceed --point-budget): a single warm-up round, which faults the memory
 * in for all of them (they share the VM), then as many rounds as fit the
 * budget, two at least.  The skip estimate counts the large plan.
 */
struct dtb_bm_plan {
	bool large;
	int warmup;			/* rounds per collector, or 1 in all */
	int reps;
};

static void dtb_bm_plan(const struct dtb_config *cfg, int ncol,
			double round_ns, struct dtb_bm_plan *p)
{
	double budget = cfg->point_budget_s * 1e9, fit;

	p->large = budget > 0 && round_ns * ncol > budget;
	p->warmup = p->large || cfg->warmup < 1 ? 1 : cfg->warmup;
	p->reps = cfg->reps;
	if (budget > 0 && round_ns > 0) {
		fit = budget / (round_ns * ncol);
		if (fit < p->reps)
			p->reps = fit < 2 ? 2 : (int)fit;
	}
}

static int dtb_bm_point(const struct dtb_config *cfg, struct dtb_report *rep,
			struct dtb_bm_col *cols, int ncol, double pct,
			const char *kt, const char *kc)
{
	struct dtb_vm *vm = cols[0].vm;
	struct dtb_job jobs[DTB_MAX_VCPUS];
	struct dtb_result res[DTB_BM_COLLECTORS];
	uint64_t stride = llround(100.0 / pct), n, *expect, guest = 0;
	struct dtb_bm_plan plan;
	int i, r, ret = 0;

	if (stride < 1)
		stride = 1;
	n = (vm->data_pages + stride - 1) / stride;
	expect = dtb_bitmap_alloc(vm->data_pages);
	if (!expect)
		return -ENOMEM;
	dtb_bm_jobs(jobs, vm->nr_vcpus, n, stride);
	dtb_bitmap_from_jobs(expect, vm->data_pages, jobs, vm->nr_vcpus);
	for (i = 0; i < ncol; i++) {
		cols[i].res.t.n = 0;
		cols[i].res.items = n;
		cols[i].guest_ns = 0;
	}
	dtb_bm_plan(cfg, ncol, dtb_bm_ns_per_page * n, &plan);
	for (r = 0; !ret && r < plan.warmup; r++)
		for (i = 0; !ret && i < (plan.large ? 1 : ncol); i++)
			ret = dtb_bm_round(&cols[i], jobs, expect, n, false);
	/* A round measured after the first, which faulted the memory in. */
	guest = cols[plan.large ? 0 : ncol - 1].guest_ns;
	if (!ret)
		dtb_bm_plan(cfg, ncol, guest, &plan);	/* as many as fit */
	for (r = 0; !ret && r < plan.reps; r++)
		for (i = 0; !ret && i < ncol; i++)
			ret = dtb_bm_round(&cols[i], jobs, expect, n, true);
	dtb_bitmap_free(expect);
	if (ret)
		return ret;
	/* The last round's stores: the memory is faulted in by then. */
	dtb_bm_ns_per_page = (double)cols[ncol - 1].guest_ns / n;
	for (i = 0; i < ncol; i++)
		res[i] = cols[i].res;
	dtb_report_point(rep, kt, kc, res, ncol);
	dtb_report_note(rep, "guest: %llu pages stored in %.1f ms per round (%.0f ns/page, not timed)",
			(unsigned long long)n, cols[ncol - 1].guest_ns / 1e6,
			dtb_bm_ns_per_page);
	return 0;
}

/* How long a point's guest stores would take, from the last point's cost. */
static double dtb_bm_estimate(const struct dtb_config *cfg, int ncol,
			      uint64_t n, int *out_rounds)
{
	struct dtb_bm_plan plan;
	double round_ns = dtb_bm_ns_per_page * n;

	dtb_bm_plan(cfg, ncol, round_ns, &plan);
	*out_rounds = (plan.large ? 1 : plan.warmup * ncol) + plan.reps * ncol;
	return round_ns * *out_rounds / 1e9;
}

static const char *const dtb_bm_names[2][3] = {
	{ "get-log", "user", "kernel" },
	{ "get+clear", "user-mp", "kernel-mp" },
};

/* One VM configuration and memslot size, every fraction. */
static int dtb_bm_slot(const struct dtb_config *cfg, struct dtb_report *rep,
		       bool manual, uint64_t bytes)
{
	struct dtb_vm_opts o = {
		.vcpus = cfg->bitmap_vcpus, .data_bytes = bytes,
		.manual_protect = manual, .log_dirty = true,
	};
	struct dtb_bm_col cols[DTB_BM_COLLECTORS];
	struct dtb_vm vm, vm2;
	bool vm2_up = false;
	int ncol = 0, vms = 1, f, i, ret;
	char kt[96], kc[96], why[192], sz[32];

	memset(cols, 0, sizeof(cols));
	ret = dtb_vm_create(&vm, &o);
	if (ret)
		return ret;
	ret = dtb_bm_col_up(&cols[ncol++], &vm, dtb_bm_names[manual][0], false,
			    0, manual);
	if (!ret && cfg->user)
		ret = dtb_bm_col_up(&cols[ncol++], &vm, dtb_bm_names[manual][1],
				    true, DIRTYTRACK_BACKEND_USER, manual);
	if (!ret && cfg->kernel) {
		ret = dtb_bm_col_up(&cols[ncol], &vm, dtb_bm_names[manual][2],
				    true, DIRTYTRACK_BACKEND_KERNEL, manual);
		/* One tracker per VM across backends: the module gets its own. */
		if (ret == -EEXIST) {
			dtb_bm_col_down(&cols[ncol]);
			ret = dtb_vm_create(&vm2, &o);
			vm2_up = !ret;
			vms = 2;
			if (!ret)
				ret = dtb_bm_col_up(&cols[ncol], &vm2,
						    dtb_bm_names[manual][2], true,
						    DIRTYTRACK_BACKEND_KERNEL, manual);
		}
		ncol++;
	}
	for (f = 0; !ret && f < cfg->nr_fractions; f++) {
		double pct = cfg->fractions[f];
		uint64_t stride = llround(100.0 / pct) ? llround(100.0 / pct) : 1;
		uint64_t touched = (vm.data_pages + stride - 1) / stride * DTB_PAGE * vms;

		snprintf(kt, sizeof(kt), "%9s %7s %7g", manual ? "manual" : "plain",
			 dtb_size_str(sz, sizeof(sz), bytes), pct);
		snprintf(kc, sizeof(kc), "%s,%llu,%g,%llu", manual ? "manual" : "plain",
			 (unsigned long long)(bytes >> 20), pct,
			 (unsigned long long)((vm.data_pages + stride - 1) / stride));
		uint64_t n = (vm.data_pages + stride - 1) / stride;
		int rounds;
		double est = dtb_bm_estimate(cfg, ncol, n, &rounds);

		if (touched > cfg->max_mem) {
			snprintf(why, sizeof(why),
				 "the guest would touch %llu MiB, over the memory cap of %llu MiB (--max-mem)",
				 (unsigned long long)(touched >> 20),
				 (unsigned long long)(cfg->max_mem >> 20));
			dtb_report_skip(rep, kt, kc, why);
			continue;
		}
		if (cfg->point_max_s > 0 && est > cfg->point_max_s) {
			snprintf(why, sizeof(why),
				 "%llu guest page faults per round at %.1f us each here: %d rounds would take ~%.0f s, over --point-max %g s",
				 (unsigned long long)n, dtb_bm_ns_per_page / 1e3,
				 rounds, est, cfg->point_max_s);
			dtb_report_skip(rep, kt, kc, why);
			continue;
		}
		ret = dtb_bm_point(cfg, rep, cols, ncol, pct, kt, kc);
	}
	for (i = 0; i < ncol; i++)
		dtb_bm_col_down(&cols[i]);
	if (vm2_up)
		dtb_vm_destroy(&vm2);
	dtb_vm_destroy(&vm);
	return ret;
}

int dtb_bitmap_bench(const struct dtb_config *cfg)
{
	struct dtb_report rep;
	char hdr[64];
	int m, s, ret;

	snprintf(hdr, sizeof(hdr), "%9s %7s %7s", "log", "slot", "dirty%");
	ret = dtb_report_open(&rep, cfg, "bitmap",
			      "plain KVM dirty log (no ring), one memslot, a strided share of its pages written per round;\n"
			      "time of the collect, ns/item per dirty page; x = time / KVM_GET_DIRTY_LOG's (+ KVM_CLEAR_DIRTY_LOG with\n"
			      "manual protect), each OR-ed into a VMM bitmap; same VM, same run, rounds alternating",
			      hdr, "log,slot_mib,dirty_percent,dirty_pages", "page", false);
	if (ret)
		return ret;
	for (m = 0; !ret && m < 2; m++)
		for (s = 0; !ret && s < cfg->slot_bytes.n; s++)
			ret = dtb_bm_slot(cfg, &rep, m, cfg->slot_bytes.v[s]);
	dtb_report_close(&rep);
	return ret;
}
