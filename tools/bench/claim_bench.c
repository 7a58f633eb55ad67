// SPDX-License-Identifier: GPL-2.0
/*
 * Mode claim: taking the merged set, dirtytrack_claim_ranges() (one
 * callback per run of dirty pages) and dirtytrack_claim_bitmap() (the
 * region as a bitmap), on a sparse, a half and a full set, against a
 * memcpy of a bitmap of the region's size: the least a VMM that keeps its
 * own bitmap pays to hand it over.
 *
 * No guest runs: before every timed claim the set is filled through the
 * vmm log's mapping (dirtytrack_vmm_log_fd(), the vhost layout: bits set
 * with an atomic OR) and a sync publishes it (untimed).  Every claim must
 * take exactly those pages.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

static const double dtb_claim_pct[] = { 0.1, 50, 100 };

struct dtb_claim_be {
	struct dtb_vm vm;
	bool vm_up;
	struct dtb_tracker tr;
	bool tr_up;
	uint64_t *log;			/* the vmm log, mapped shared */
	uint64_t log_bytes;
	struct dtb_result ranges;
	struct dtb_result bitmap;
	char ranges_name[32];
	char bitmap_name[32];
};

struct dtb_claim_count {
	uint64_t pages;
	uint64_t runs;
};

static int dtb_claim_count_fn(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct dtb_claim_count *c = ctx;

	c->pages += r->npages;
	c->runs++;
	return 0;
}

static void dtb_claim_be_down(struct dtb_claim_be *be)
{
	if (be->log)
		munmap(be->log, be->log_bytes);
	if (be->tr_up)
		dtb_tracker_close(&be->tr);
	if (be->vm_up)
		dtb_vm_destroy(&be->vm);
	memset(be, 0, sizeof(*be));
}

static int dtb_claim_be_up(struct dtb_claim_be *be, enum dirtytrack_backend b,
			   uint64_t bytes)
{
	/* No vCPU, nothing logged by KVM: the vmm log is the only source. */
	struct dtb_vm_opts o = { .vcpus = 0, .data_bytes = bytes };
	int fd, ret;

	memset(be, 0, sizeof(*be));
	ret = dtb_vm_create(&be->vm, &o);
	if (ret)
		return ret;
	be->vm_up = true;
	ret = dtb_tracker_open(&be->tr, b, &be->vm);
	if (ret)
		return ret;
	be->tr_up = true;
	ret = dtb_tracker_start(&be->tr);
	if (ret)
		return ret;
	ret = dirtytrack_vmm_log_fd(be->tr.t, &fd, &be->log_bytes);
	if (ret) {
		dtb_err("%s: dirtytrack_vmm_log_fd: %s", be->tr.backend_name,
			strerror(-ret));
		return ret;
	}
	be->log = mmap(NULL, be->log_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	close(fd);
	if (be->log == MAP_FAILED) {
		be->log = NULL;
		dtb_err("%s: mmap of the vmm log: %s", be->tr.backend_name,
			strerror(errno));
		return -errno;
	}
	snprintf(be->ranges_name, sizeof(be->ranges_name), "ranges-%s",
		 be->tr.backend_name);
	snprintf(be->bitmap_name, sizeof(be->bitmap_name), "bitmap-%s",
		 be->tr.backend_name);
	be->ranges.collector = be->ranges_name;
	be->bitmap.collector = be->bitmap_name;
	return 0;
}

/* Set @expect's pages in the vmm log, then publish them (untimed). */
static int dtb_claim_fill(struct dtb_claim_be *be, const uint64_t *expect,
			  uint64_t want)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint64_t base = DTB_DATA_GPA / DTB_PAGE / 64, w;
	int ret;

	/* The region starts at a multiple of 64 pages: words line up. */
	for (w = 0; w < dtb_words(be->vm.data_pages); w++)
		if (expect[w])
			__atomic_fetch_or(&be->log[base + w], expect[w],
					  __ATOMIC_RELEASE);
	ret = dirtytrack_sync(be->tr.t, &st);
	if (ret) {
		dtb_err("%s: dirtytrack_sync: %s", be->tr.backend_name, strerror(-ret));
		return ret;
	}
	if (st.vmm_pages != want) {
		dtb_err("%s: the sync took %llu vmm log pages of %llu set",
			be->tr.backend_name, (unsigned long long)st.vmm_pages,
			(unsigned long long)want);
		return -EBADMSG;
	}
	return 0;
}

static int dtb_claim_round(struct dtb_claim_be *be, bool ranges,
			   const uint64_t *expect, uint64_t want, bool timed)
{
	struct dtb_claim_count cnt = { 0 };
	uint64_t t0, t, got = 0;
	int ret;

	ret = dtb_claim_fill(be, expect, want);
	if (ret)
		return ret;
	t0 = dtb_now_ns();
	if (ranges)
		ret = dirtytrack_claim_ranges(be->tr.t, dtb_claim_count_fn, &cnt, &got);
	else
		ret = dirtytrack_claim_bitmap(be->tr.t, be->tr.slot, 0,
					      be->tr.npages, be->tr.claimed, &got);
	t = dtb_now_ns() - t0;
	if (ret) {
		dtb_err("%s: claim: %s", ranges ? be->ranges_name : be->bitmap_name,
			strerror(-ret));
		return ret;
	}
	if (got != want || (ranges && cnt.pages != want)) {
		dtb_err("%s: claimed %llu pages of %llu",
			ranges ? be->ranges_name : be->bitmap_name,
			(unsigned long long)got, (unsigned long long)want);
		return -EBADMSG;
	}
	if (!ranges) {
		ret = dtb_bitmap_compare(be->tr.claimed, expect, be->tr.npages,
					 be->bitmap_name, "the claimed bitmap");
		if (ret)
			return ret;
	}
	if (timed)
		dtb_samples_add(ranges ? &be->ranges.t : &be->bitmap.t, t);
	return 0;
}

static int dtb_claim_point(const struct dtb_config *cfg, struct dtb_report *rep,
			   struct dtb_claim_be *bes, int nbe, double pct)
{
	uint64_t npages = bes[0].vm.data_pages, bytes = dtb_words(npages) * 8;
	uint64_t stride = llround(100.0 / pct), n = 0, p, t0, *expect, *dst;
	struct dtb_result res[1 + 2 * 2];
	char kt[64], kc[64], sz[32];
	int i, r, nres = 0, ret = 0;

	expect = dtb_bitmap_alloc(npages);
	dst = dtb_bitmap_alloc(npages);
	if (!expect || !dst) {
		ret = -ENOMEM;
		goto out;
	}
	for (p = 0; p < npages; p += stride, n++)
		expect[p / 64] |= 1ULL << (p % 64);
	memset(dst, 0, bytes);		/* faulted in before it is timed */
	memset(&res[0], 0, sizeof(res[0]));
	res[0].collector = "memcpy";
	for (i = 0; i < nbe; i++)
		bes[i].ranges.t.n = bes[i].bitmap.t.n = 0;
	for (r = 0; !ret && r < cfg->warmup + cfg->reps; r++) {
		bool timed = r >= cfg->warmup;

		t0 = dtb_now_ns();
		memcpy(dst, expect, bytes);
		if (timed)
			dtb_samples_add(&res[0].t, dtb_now_ns() - t0);
		/* The compiler must not drop the copy. */
		asm volatile("" : : "r"(dst) : "memory");
		for (i = 0; !ret && i < nbe; i++) {
			ret = dtb_claim_round(&bes[i], true, expect, n, timed);
			if (!ret)
				ret = dtb_claim_round(&bes[i], false, expect, n, timed);
		}
	}
	if (ret)
		goto out;
	nres = 1;
	for (i = 0; i < nbe; i++) {
		res[nres++] = bes[i].ranges;
		res[nres++] = bes[i].bitmap;
	}
	for (i = 0; i < nres; i++) {
		res[i].items = n;
		res[i].bytes = bytes;
	}
	snprintf(kt, sizeof(kt), "%7s %7g", dtb_size_str(sz, sizeof(sz), npages * DTB_PAGE), pct);
	snprintf(kc, sizeof(kc), "%llu,%g,%llu",
		 (unsigned long long)(npages * DTB_PAGE >> 20), pct,
		 (unsigned long long)n);
	dtb_report_point(rep, kt, kc, res, nres);
out:
	dtb_bitmap_free(expect);
	dtb_bitmap_free(dst);
	return ret;
}

int dtb_claim_bench(const struct dtb_config *cfg)
{
	struct dtb_claim_be bes[2];
	struct dtb_report rep;
	char hdr[64];
	int nbe = 0, i, ret;

	memset(bes, 0, sizeof(bes));
	snprintf(hdr, sizeof(hdr), "%7s %7s", "region", "dirty%");
	ret = dtb_report_open(&rep, cfg, "claim",
			      "claims of the merged set (filled through the vmm log and synced, untimed); ns/item per dirty page,\n"
			      "GB/s of the region's bitmap; x = time / a memcpy of a bitmap of the region's size, rounds alternating",
			      hdr, "region_mib,dirty_percent,dirty_pages", "page", true);
	if (ret)
		return ret;
	if (cfg->user)
		ret = dtb_claim_be_up(&bes[nbe++], DIRTYTRACK_BACKEND_USER,
				      cfg->claim_bytes);
	if (!ret && cfg->kernel)
		ret = dtb_claim_be_up(&bes[nbe++], DIRTYTRACK_BACKEND_KERNEL,
				      cfg->claim_bytes);
	for (i = 0; !ret && i < (int)DTB_ARRAY_SIZE(dtb_claim_pct); i++)
		ret = dtb_claim_point(cfg, &rep, bes, nbe, dtb_claim_pct[i]);
	for (i = 0; i < nbe; i++)
		dtb_claim_be_down(&bes[i]);
	dtb_report_close(&rep);
	return ret;
}
