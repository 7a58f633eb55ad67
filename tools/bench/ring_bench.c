// SPDX-License-Identifier: GPL-2.0
/*
 * Mode ring: collecting the dirty rings after every vCPU halted.
 *
 * The baseline is QEMU's reaper (kvm_dirty_ring_reap_one() and
 * kvm_dirty_ring_reap_locked()): each vCPU's ring walked from its fetch
 * index while an entry's flags read DIRTY (acquire), the page's bit set
 * in a per-memslot bitmap with an atomic OR, the entry marked RESET
 * (release), then one KVM_RESET_DIRTY_RINGS for the VM.  Against it,
 * dirtytrack_sync() of a tracker with every ring attached, with the user
 * backend and, where /dev/dirtytrack exists, the module.
 *
 * The reaper's rounds are also timed in two parts, its walk and KVM's
 * reset, reported under it (reaper:walk, reaper:reset): what harvesting
 * an entry costs, and what KVM's re-protection of its page costs.
 *
 * Each collector has a VM of its own: a reaper walking a ring the library
 * has attached would be a foreign collector, which the library detects
 * and answers by reporting every page dirty.  The rounds alternate
 * between the collectors; each vCPU stores to pages of its own, the same
 * every round (every reset write-protects them again).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bench.h"

#define DTB_RING_COLLECTORS	3

struct dtb_ring_col {
	struct dtb_vm vm;
	bool vm_up;
	bool lib;
	uint64_t *bmap;			/* the reaper's: the data memslot's */
	struct dtb_tracker tr;
	bool tr_up;
	struct dtb_result res;
	struct dtb_result walk, reset;	/* the reaper's two parts */
};

/* kvm_dirty_ring_reap_one(): every DIRTY entry from the fetch index. */
static uint64_t dtb_reap_one(struct dtb_vcpu *v, uint64_t *bmap,
			     uint64_t npages, uint32_t size, uint64_t *invalid)
{
	uint32_t fetch = v->fetch;
	uint64_t count = 0;

	for (;;) {
		struct kvm_dirty_gfn *e = &v->vc.ring[fetch & (size - 1)];
		uint32_t slot;
		uint64_t off;

		if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) !=
		    KVM_DIRTY_GFN_F_DIRTY)
			break;
		slot = e->slot;
		off = e->offset;
		if (slot == DTB_DATA_SLOT && off < npages)
			__atomic_fetch_or(&bmap[off / 64], 1ULL << (off % 64),
					  __ATOMIC_RELAXED);
		else
			(*invalid)++;
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		fetch++;
		count++;
	}
	v->fetch = fetch;
	return count;
}

/*
 * The timed part of a round; @out_reset is KVM's count, checked after.
 * The reaper's walk ends at @out_walk_ns (dtb_now_ns()).
 */
static int dtb_ring_collect(struct dtb_ring_col *c, uint64_t *out_entries,
			    uint64_t *out_bad, int *out_reset,
			    uint64_t *out_walk_ns)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint64_t total = 0, invalid = 0;
	int i, ret;

	if (c->lib) {
		ret = dirtytrack_sync(c->tr.t, &st);
		*out_entries = st.ring_entries;
		*out_bad = st.ring_invalid + st.ring_foreign + st.ring_overflow;
		*out_reset = -1;
		return ret;
	}
	for (i = 0; i < c->vm.nr_vcpus; i++)
		total += dtb_reap_one(&c->vm.vcpu[i], c->bmap, c->vm.data_pages,
				      c->vm.ring_entries, &invalid);
	*out_walk_ns = dtb_now_ns();
	*out_reset = 0;
	if (total) {
		*out_reset = ioctl(c->vm.fd, KVM_RESET_DIRTY_RINGS, 0);
		if (*out_reset < 0)
			return -errno;
	}
	*out_entries = total;
	*out_bad = invalid;
	return 0;
}

/*
 * One round: the guest stores, the collector collects, then the checks.
 * The collect runs with every signal blocked, as in any thread QEMU
 * creates (qemu_thread_create()), unless --signals-open: a collector that
 * leaves them open pays for blocking them around KVM_RESET_DIRTY_RINGS on
 * Linux 6.17 and later (lib/user_backend.c).
 */
static int dtb_ring_round(struct dtb_ring_col *c, const struct dtb_job *jobs,
			  const uint64_t *expect, uint64_t want, bool timed,
			  bool signals_open)
{
	uint64_t entries = 0, bad = 0, t0, t, walk_end = 0;
	sigset_t all, saved;
	int reset, ret;

	ret = dtb_vm_round(&c->vm, jobs, NULL);
	if (ret)
		return ret;
	if (!signals_open) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &saved);
	}
	t0 = dtb_now_ns();
	ret = dtb_ring_collect(c, &entries, &bad, &reset, &walk_end);
	t = dtb_now_ns() - t0;
	if (!signals_open)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ret) {
		dtb_err("%s: collect: %s", c->res.collector, strerror(-ret));
		return ret;
	}
	if (entries != want || bad || (reset >= 0 && (uint64_t)reset != want)) {
		dtb_err("%s: harvested %llu entries of %llu written (%llu invalid/foreign/overflow, reset %d)",
			c->res.collector, (unsigned long long)entries,
			(unsigned long long)want, (unsigned long long)bad, reset);
		return -EBADMSG;
	}
	if (c->lib) {
		ret = dtb_tracker_check(&c->tr, expect, "claimed after the sync");
	} else {
		ret = dtb_bitmap_compare(c->bmap, expect, c->vm.data_pages,
					 "reaper", "its bitmap");
		memset(c->bmap, 0, dtb_words(c->vm.data_pages) * sizeof(uint64_t));
	}
	if (ret || !timed)
		return ret;
	dtb_samples_add(&c->res.t, t);
	if (!c->lib) {
		dtb_samples_add(&c->walk.t, walk_end - t0);
		dtb_samples_add(&c->reset.t, t0 + t - walk_end);
	}
	return 0;
}

static void dtb_ring_col_down(struct dtb_ring_col *c)
{
	if (c->tr_up)
		dtb_tracker_close(&c->tr);
	if (c->vm_up)
		dtb_vm_destroy(&c->vm);
	dtb_bitmap_free(c->bmap);
	memset(c, 0, sizeof(*c));
}

static int dtb_ring_col_up(struct dtb_ring_col *c, const char *name, bool lib,
			   enum dirtytrack_backend b, int vcpus,
			   uint32_t entries, uint64_t data_bytes)
{
	struct dtb_vm_opts o = {
		.vcpus = vcpus, .data_bytes = data_bytes,
		.ring_entries = entries, .log_dirty = true,
	};
	int i, ret;

	memset(c, 0, sizeof(*c));
	c->res.collector = name;
	c->lib = lib;
	ret = dtb_vm_create(&c->vm, &o);
	if (ret)
		return ret;
	c->vm_up = true;
	if (!lib) {
		c->bmap = dtb_bitmap_alloc(c->vm.data_pages);
		if (!c->bmap)
			return -ENOMEM;
		return dtb_vm_map_rings(&c->vm);
	}
	ret = dtb_tracker_open(&c->tr, b, &c->vm);
	if (ret)
		return ret;
	c->tr_up = true;
	for (i = 0; i < vcpus; i++) {
		ret = dirtytrack_attach_ring(c->tr.t, c->vm.vcpu[i].vc.fd,
					     entries * sizeof(struct kvm_dirty_gfn),
					     NULL);
		if (ret) {
			dtb_err("%s: dirtytrack_attach_ring(vCPU %d): %s", name,
				i, strerror(-ret));
			return ret;
		}
	}
	return dtb_tracker_start(&c->tr);
}

/* One point: warm-up rounds, then the timed ones, collectors alternating. */
static int dtb_ring_point(const struct dtb_config *cfg, struct dtb_ring_col *cols,
			  int ncol, int vcpus, uint64_t pages)
{
	struct dtb_job jobs[DTB_MAX_VCPUS];
	uint64_t npages = cols[0].vm.data_pages, *expect;
	int i, r, ret = 0;

	expect = dtb_bitmap_alloc(npages);
	if (!expect)
		return -ENOMEM;
	for (i = 0; i < vcpus; i++)
		jobs[i] = (struct dtb_job){ .first_page = i * pages,
					    .npages = pages, .stride = 1 };
	dtb_bitmap_from_jobs(expect, npages, jobs, vcpus);
	for (i = 0; i < ncol; i++) {
		cols[i].res.t.n = 0;
		cols[i].res.items = vcpus * pages;
	}
	/* cols[0] is the reaper (dtb_ring_config()): its two parts. */
	cols[0].walk = (struct dtb_result){ .collector = "reaper:walk",
					    .items = vcpus * pages };
	cols[0].reset = (struct dtb_result){ .collector = "reaper:reset",
					     .items = vcpus * pages };
	for (r = 0; !ret && r < cfg->warmup + cfg->reps; r++)
		for (i = 0; !ret && i < ncol; i++)
			ret = dtb_ring_round(&cols[i], jobs, expect,
					     vcpus * pages, r >= cfg->warmup,
					     cfg->signals_open);
	dtb_bitmap_free(expect);
	return ret;
}

static int dtb_ring_config(const struct dtb_config *cfg, struct dtb_report *rep,
			   uint32_t entries, int vcpus)
{
	struct dtb_ring_col cols[DTB_RING_COLLECTORS];
	uint64_t soft = entries - DTB_RING_RESERVED, max_pages = 0, bytes;
	char kt[64], kc[64], why[256];
	int ncol = 0, i, p, ret = 0;

	for (p = 0; p < cfg->ring_pages.n; p++)
		if (cfg->ring_pages.v[p] < soft && cfg->ring_pages.v[p] > max_pages)
			max_pages = cfg->ring_pages.v[p];
	bytes = vcpus * max_pages * DTB_PAGE;
	memset(cols, 0, sizeof(cols));
	why[0] = 0;
	if (vcpus > DTB_MAX_VCPUS)
		snprintf(why, sizeof(why), "more than %d vCPUs", DTB_MAX_VCPUS);
	else if ((1 + cfg->user + cfg->kernel) * bytes > cfg->max_mem)
		snprintf(why, sizeof(why),
			 "%d VMs of %llu MiB exceed the memory cap of %llu MiB (--max-mem)",
			 1 + cfg->user + cfg->kernel,
			 (unsigned long long)(bytes >> 20),
			 (unsigned long long)(cfg->max_mem >> 20));
	if (!why[0] && max_pages) {
		ret = dtb_ring_col_up(&cols[ncol++], "reaper", false, 0, vcpus,
				      entries, bytes);
		if (!ret && cfg->user)
			ret = dtb_ring_col_up(&cols[ncol++], "user", true,
					      DIRTYTRACK_BACKEND_USER, vcpus,
					      entries, bytes);
		if (!ret && cfg->kernel)
			ret = dtb_ring_col_up(&cols[ncol++], "kernel", true,
					      DIRTYTRACK_BACKEND_KERNEL, vcpus,
					      entries, bytes);
	}
	for (p = 0; !ret && p < cfg->ring_pages.n; p++) {
		uint64_t pages = cfg->ring_pages.v[p];

		snprintf(kt, sizeof(kt), "%5d %7u %10llu", vcpus, entries,
			 (unsigned long long)pages);
		snprintf(kc, sizeof(kc), "%d,%u,%llu", vcpus, entries,
			 (unsigned long long)pages);
		if (pages >= soft) {
			char fit[160];

			snprintf(fit, sizeof(fit),
				 "%llu pages per vCPU do not fit the ring's soft limit (%u entries - %d reserved): KVM would exit RING_FULL mid-round",
				 (unsigned long long)pages, entries, DTB_RING_RESERVED);
			dtb_report_skip(rep, kt, kc, fit);
			continue;
		}
		if (why[0]) {
			dtb_report_skip(rep, kt, kc, why);
			continue;
		}
		ret = dtb_ring_point(cfg, cols, ncol, vcpus, pages);
		if (!ret) {
			struct dtb_result res[DTB_RING_COLLECTORS + 2];

			/* The reaper, its two parts, then the library. */
			res[0] = cols[0].res;
			res[1] = cols[0].walk;
			res[2] = cols[0].reset;
			for (i = 1; i < ncol; i++)
				res[i + 2] = cols[i].res;
			dtb_report_point(rep, kt, kc, res, ncol + 2);
		}
	}
	for (i = 0; i < ncol; i++)
		dtb_ring_col_down(&cols[i]);
	return ret;
}

int dtb_ring_bench(const struct dtb_config *cfg)
{
	struct dtb_report rep;
	uint32_t max = dtb_ring_max_entries();
	char hdr[64];
	int e, v, ret;

	if (!max) {
		dtb_err("ring: KVM has no dirty ring (KVM_CAP_DIRTY_LOG_RING)");
		return -ENOTSUP;
	}
	snprintf(hdr, sizeof(hdr), "%5s %7s %10s", "vcpus", "entries", "pages/vcpu");
	ret = dtb_report_open(&rep, cfg, "ring",
			      "dirty rings, collected after every vCPU halted: time of the collect; ns/item per ring entry;\n"
			      "x = time / the QEMU-style reaper's (walk + KVM_RESET_DIRTY_RINGS), same run, rounds alternating",
			      hdr, "vcpus,ring_entries,pages_per_vcpu", "entry", false);
	if (ret)
		return ret;
	for (e = 0; !ret && e < cfg->ring_entries.n; e++) {
		uint32_t entries = cfg->ring_entries.v[e];

		if (entries > max || entries < 4096 / sizeof(struct kvm_dirty_gfn) ||
		    (entries & (entries - 1))) {
			dtb_err("ring: %u entries: KVM takes powers of two from a page to %u",
				entries, max);
			ret = -EINVAL;
			break;
		}
		for (v = 0; !ret && v < cfg->vcpus.n; v++)
			ret = dtb_ring_config(cfg, &rep, entries, cfg->vcpus.v[v]);
	}
	dtb_report_close(&rep);
	return ret;
}
