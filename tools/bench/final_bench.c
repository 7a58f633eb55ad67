// SPDX-License-Identifier: GPL-2.0
/*
 * Mode final: the final sync (dirtytrack_final_begin() then
 * dirtytrack_final_end(), vCPUs stopped) with several sources holding
 * pages at once, against each source alone with the same pages: what
 * harvesting them in one sync buys over one sync per source.
 *
 * x86 KVM keeps no bitmap beside a ring (the backup bitmap is arm64's),
 * so a VM has either rings or the plain bitmap: the combinations are
 * ring + vmm log and KVM bitmap + vmm log, each on a VM of its kind, and
 * the vmm log alone on a VM without either.  Per round: the guest stores
 * (ring or bitmap), the VMM marks (dirtytrack_vmm_mark(), other pages),
 * the two phases are timed together, everything is claimed and checked,
 * and dirtytrack_start() restarts the sealed tracker (untimed).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bench.h"

enum { DTB_F_RING, DTB_F_BITMAP, DTB_F_VMM, DTB_F_NR_TRACKERS };

struct dtb_final_tr {
	struct dtb_vm vm;
	bool vm_up;
	struct dtb_tracker tr;
	bool tr_up;
};

struct dtb_final_cfg {
	const char *name;
	int tracker;			/* DTB_F_* */
	bool guest;
	bool marks;
	int alone[2];			/* the configs it is the sum of; -1 */
};

static const struct dtb_final_cfg dtb_final_cfgs[] = {
	{ "ring", DTB_F_RING, true, false, { -1, -1 } },
	{ "vmm", DTB_F_VMM, false, true, { -1, -1 } },
	{ "ring+vmm", DTB_F_RING, true, true, { 0, 1 } },
	{ "bitmap", DTB_F_BITMAP, true, false, { -1, -1 } },
	{ "bitmap+vmm", DTB_F_BITMAP, true, true, { 3, 1 } },
};

#define DTB_F_NR_CFGS	((int)DTB_ARRAY_SIZE(dtb_final_cfgs))

struct dtb_final_be {
	struct dtb_final_tr trs[DTB_F_NR_TRACKERS];
	struct dtb_result res[DTB_F_NR_CFGS];
};

static void dtb_final_tr_down(struct dtb_final_tr *f)
{
	if (f->tr_up)
		dtb_tracker_close(&f->tr);
	if (f->vm_up)
		dtb_vm_destroy(&f->vm);
	memset(f, 0, sizeof(*f));
}

static int dtb_final_tr_up(const struct dtb_config *cfg, struct dtb_final_tr *f,
			   int kind, enum dirtytrack_backend b, uint64_t bytes)
{
	struct dtb_vm_opts o = {
		.vcpus = kind == DTB_F_VMM ? 0 : cfg->final_vcpus,
		.data_bytes = bytes,
		.ring_entries = kind == DTB_F_RING ? cfg->final_ring_entries : 0,
		.log_dirty = kind != DTB_F_VMM,
	};
	struct dirtytrack_kvm_bitmap_opts bo =
		DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				     .max_region_bytes = bytes);
	int i, ret;

	memset(f, 0, sizeof(*f));
	ret = dtb_vm_create(&f->vm, &o);
	if (ret)
		return ret;
	f->vm_up = true;
	ret = dtb_tracker_open(&f->tr, b, &f->vm);
	if (ret)
		return ret;
	f->tr_up = true;
	for (i = 0; kind == DTB_F_RING && !ret && i < f->vm.nr_vcpus; i++)
		ret = dirtytrack_attach_ring(f->tr.t, f->vm.vcpu[i].vc.fd,
					     cfg->final_ring_entries *
					     sizeof(struct kvm_dirty_gfn), NULL);
	if (kind == DTB_F_BITMAP)
		ret = dirtytrack_attach_kvm_bitmap(f->tr.t, &bo);
	if (ret) {
		dtb_err("%s: attaching the %s source: %s", f->tr.backend_name,
			kind == DTB_F_RING ? "ring" : "KVM bitmap", strerror(-ret));
		return ret;
	}
	return dtb_tracker_start(&f->tr);
}

static uint64_t dtb_stats_sum(const struct dirtytrack_sync_stats *a,
			      const struct dirtytrack_sync_stats *b, size_t off)
{
	return *(const uint64_t *)((const char *)a + off) +
	       *(const uint64_t *)((const char *)b + off);
}

/* The guest stores to the first @n pages, the VMM marks the next @n. */
static int dtb_final_round(const struct dtb_final_cfg *c, struct dtb_final_tr *f,
			   struct dtb_result *res, uint64_t n, uint64_t *expect,
			   bool timed)
{
	struct dirtytrack_sync_stats s1 = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dirtytrack_sync_stats s2 = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dtb_job jobs[DTB_MAX_VCPUS + 1];
	uint64_t t0, t, ring, kbm, vmm;
	int i, nv = f->vm.nr_vcpus, ret;
	const char *who = f->tr.backend_name;

	for (i = 0; i < nv; i++)
		jobs[i] = (struct dtb_job){ .first_page = n * i / nv,
			.npages = c->guest ? n * (i + 1) / nv - n * i / nv : 0,
			.stride = 1 };
	jobs[nv] = (struct dtb_job){ .first_page = n, .npages = c->marks ? n : 0,
				     .stride = 1 };
	dtb_bitmap_from_jobs(expect, f->vm.data_pages, jobs, nv + 1);
	if (nv) {
		ret = dtb_vm_round(&f->vm, jobs, NULL);
		if (ret)
			return ret;
	}
	if (c->marks) {
		ret = dirtytrack_vmm_mark(f->tr.t, DTB_DATA_GPA + n * DTB_PAGE,
					  n * DTB_PAGE);
		if (ret) {
			dtb_err("%s: dirtytrack_vmm_mark: %s", who, strerror(-ret));
			return ret;
		}
	}
	t0 = dtb_now_ns();
	ret = dirtytrack_final_begin(f->tr.t, &s1);
	if (!ret)
		ret = dirtytrack_final_end(f->tr.t, &s2);
	t = dtb_now_ns() - t0;
	if (ret) {
		dtb_err("%s: %s: final sync: %s", who, c->name, strerror(-ret));
		return ret;
	}
	ring = dtb_stats_sum(&s1, &s2, offsetof(struct dirtytrack_sync_stats, ring_entries));
	kbm = dtb_stats_sum(&s1, &s2, offsetof(struct dirtytrack_sync_stats, kvm_bitmap_pages));
	vmm = dtb_stats_sum(&s1, &s2, offsetof(struct dirtytrack_sync_stats, vmm_pages));
	if (ring != (c->guest && c->tracker == DTB_F_RING ? n : 0) ||
	    kbm != (c->guest && c->tracker == DTB_F_BITMAP ? n : 0) ||
	    vmm != (c->marks ? n : 0)) {
		dtb_err("%s: %s: the final sync took %llu ring entries, %llu KVM bitmap pages, %llu vmm pages; %llu of each source expected",
			who, c->name, (unsigned long long)ring,
			(unsigned long long)kbm, (unsigned long long)vmm,
			(unsigned long long)n);
		return -EBADMSG;
	}
	ret = dtb_tracker_check(&f->tr, expect, c->name);
	if (!ret)
		ret = dtb_tracker_start(&f->tr);
	if (!ret && timed)
		dtb_samples_add(&res->t, t);
	res->items = (c->guest ? n : 0) + (c->marks ? n : 0);
	return ret;
}

static void dtb_final_report(struct dtb_report *rep, struct dtb_final_be *be,
			     const char *backend, uint64_t n)
{
	char kt[64], kc[64], note[160];
	int i;

	for (i = 0; i < DTB_F_NR_CFGS; i++) {
		const struct dtb_final_cfg *c = &dtb_final_cfgs[i];
		uint64_t bmed = 0, bmin = 0;

		snprintf(kt, sizeof(kt), "%6llu %7s", (unsigned long long)n, backend);
		snprintf(kc, sizeof(kc), "%llu,%s", (unsigned long long)n, backend);
		note[0] = 0;
		if (c->alone[0] >= 0) {
			const struct dtb_result *a = &be->res[c->alone[0]];
			const struct dtb_result *b = &be->res[c->alone[1]];

			uint64_t amed = dtb_samples_median(&a->t);
			uint64_t bm = dtb_samples_median(&b->t);
			uint64_t slow = amed > bm ? amed : bm;

			bmed = amed + bm;
			bmin = dtb_samples_min(&a->t) + dtb_samples_min(&b->t);
			/* What a harvest of both at once would cost: the slower. */
			snprintf(note, sizeof(note),
				 "x = / (%s + %s alone: %.1f us); %.3f x the slower alone (%.1f us)",
				 dtb_final_cfgs[c->alone[0]].name,
				 dtb_final_cfgs[c->alone[1]].name, bmed / 1e3,
				 (double)dtb_samples_median(&be->res[i].t) / slow,
				 slow / 1e3);
		}
		dtb_report_row(rep, kt, kc, &be->res[i], bmed, bmin, note);
	}
}

int dtb_final_bench(const struct dtb_config *cfg)
{
	enum dirtytrack_backend bs[2];
	struct dtb_final_be be[2];
	struct dtb_report rep;
	uint64_t max_n = 0, soft, *expect = NULL, bytes;
	char hdr[64], kt[64], kc[64], why[160];
	int nbe = 0, b, i, k, p, r, ret;

	memset(be, 0, sizeof(be));
	snprintf(hdr, sizeof(hdr), "%6s %7s", "pages", "backend");
	ret = dtb_report_open(&rep, cfg, "final",
			      "final sync (final_begin + final_end, timed together) with each source alone and two at once,\n"
			      "the same pages per source; ns/item per page harvested; x (combined rows) = time / the sum of its sources alone",
			      hdr, "pages,backend", "page", false);
	if (ret)
		return ret;
	if (cfg->user)
		bs[nbe++] = DIRTYTRACK_BACKEND_USER;
	if (cfg->kernel)
		bs[nbe++] = DIRTYTRACK_BACKEND_KERNEL;
	soft = cfg->final_ring_entries - DTB_RING_RESERVED;
	for (p = 0; p < cfg->final_pages.n; p++)
		if (cfg->final_pages.v[p] / cfg->final_vcpus + 1 < soft &&
		    cfg->final_pages.v[p] > max_n)
			max_n = cfg->final_pages.v[p];
	bytes = 2 * max_n * DTB_PAGE;
	for (b = 0; !ret && max_n && b < nbe; b++)
		for (k = 0; !ret && k < DTB_F_NR_TRACKERS; k++)
			ret = dtb_final_tr_up(cfg, &be[b].trs[k], k, bs[b], bytes);
	if (!ret && max_n) {
		expect = dtb_bitmap_alloc(be[0].trs[0].vm.data_pages);
		if (!expect)
			ret = -ENOMEM;
	}
	for (p = 0; !ret && p < cfg->final_pages.n; p++) {
		uint64_t n = cfg->final_pages.v[p];

		if (n / cfg->final_vcpus + 1 >= soft) {
			snprintf(kt, sizeof(kt), "%6llu", (unsigned long long)n);
			snprintf(kc, sizeof(kc), "%llu,", (unsigned long long)n);
			snprintf(why, sizeof(why),
				 "%llu pages over %d vCPUs do not fit a %u-entry ring's soft limit",
				 (unsigned long long)n, cfg->final_vcpus,
				 cfg->final_ring_entries);
			dtb_report_skip(&rep, kt, kc, why);
			continue;
		}
		for (b = 0; b < nbe; b++)
			for (i = 0; i < DTB_F_NR_CFGS; i++)
				be[b].res[i] = (struct dtb_result){
					.collector = dtb_final_cfgs[i].name };
		/* Every (backend, sources) in turn, round after round. */
		for (r = 0; !ret && r < cfg->warmup + cfg->reps; r++)
			for (b = 0; !ret && b < nbe; b++)
				for (i = 0; !ret && i < DTB_F_NR_CFGS; i++)
					ret = dtb_final_round(&dtb_final_cfgs[i],
						&be[b].trs[dtb_final_cfgs[i].tracker],
						&be[b].res[i], n, expect,
						r >= cfg->warmup);
		for (b = 0; !ret && b < nbe; b++)
			dtb_final_report(&rep, &be[b], dtb_backend_name(bs[b]), n);
	}
	dtb_bitmap_free(expect);
	for (b = 0; b < nbe; b++)
		for (k = 0; k < DTB_F_NR_TRACKERS; k++)
			dtb_final_tr_down(&be[b].trs[k]);
	dtb_report_close(&rep);
	return ret;
}
