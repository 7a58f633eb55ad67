// SPDX-License-Identifier: GPL-2.0
/*
 * The valid ops on the live tracker, which the model follows: every answer
 * is checked against the state machine (Documentation/userspace-api/
 * dirtytrack.rst, "The tracker's states"), every claim feeds the shadow,
 * and the VMM writes guest memory and marks it, through VMM_MARK or the
 * vmm log's mapping.  They run on the main thread only, so the model's
 * state is the tracker's.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define W	(&fz.w)

static bool tracking(void)
{
	return W->tr >= 0;
}

/* Check a state-driven call's answer and move the model's state. */
static void expect_state(const char *what, unsigned long cmd, uint32_t flags,
			 int ret)
{
	int want = fz_state_expect(W->state, cmd, flags);

	fz_count_checks("state machine answers", 1);
	fz_check(ret == want || (ret == -ENOSPC && fz.m.tainted),
		 "%s in state %d: got %s, documented %s", what, W->state,
		 ret ? strerror(-ret) : "0", want ? strerror(-want) : "0");
	if (!ret)
		W->state = fz_state_after(W->state, cmd, flags);
}

static void op_sync(struct fz_rng *r)
{
	static const uint32_t flags[] = {
		0, 0, 0, 0, DIRTYTRACK_SYNC_FINAL_BEGIN, DIRTYTRACK_SYNC_FINAL_END,
	};
	struct dirtytrack_vcpu_stat st[4];
	struct dirtytrack_sync s = { .size = sizeof(s) };
	uint32_t n = fz_below(r, 5);
	int ret;

	if (!tracking())
		return;
	s.flags = flags[fz_below(r, 6)];
	if (n) {
		s.nr_vcpu_stats = n;
		s.vcpu_stats = (uintptr_t)st;
		s.vcpu_stat_size = fz_one_in(r, 2) ? sizeof(st[0]) : 0;
	}
	ret = fz_ioctl(W->tr, DIRTYTRACK_SYNC, &s);
	expect_state("SYNC", DIRTYTRACK_SYNC, s.flags, ret);
	if (ret)
		return;
	fz_model_synced(W, &s);
	fz_count_checks("sync figures", 1);
	fz_check(s.nr_vcpu_stats == (n < FZ_NR_VCPUS ? n : FZ_NR_VCPUS),
		 "SYNC wrote %u vcpu stats for %u slots and %d rings",
		 s.nr_vcpu_stats, n, FZ_NR_VCPUS);
	/* Elements of vcpu_stat_size bytes (0: 8), vcpu_id first. */
	for (n = 0; n < s.nr_vcpu_stats; n++) {
		uint32_t id = *(uint32_t *)((uint8_t *)st + n *
					   (s.vcpu_stat_size ?: 8));

		fz_check(id == n, "SYNC: vcpu_stats[%u] is vCPU %u", n, id);
	}
}

static void op_start_stop(struct fz_rng *r)
{
	struct dirtytrack_start st = { .size = sizeof(st) };
	struct dirtytrack_stop sp = { .size = sizeof(sp) };
	int ret;

	if (!tracking())
		return;
	if (fz_one_in(r, 3)) {
		ret = fz_ioctl(W->tr, DIRTYTRACK_STOP, &sp);
		expect_state("STOP", DIRTYTRACK_STOP, 0, ret);
		return;
	}
	st.flags = fz_one_in(r, 2) ? DIRTYTRACK_START_ALL_DIRTY : 0;
	ret = fz_ioctl(W->tr, DIRTYTRACK_START, &st);
	expect_state("START", DIRTYTRACK_START, st.flags, ret);
	if (!ret && st.flags)
		fz_model_excuse_all(FZ_CAUSE_ALL_DIRTY);
}

static void op_claim(struct fz_rng *r)
{
	uint64_t bits[(FZ_SLOT_PAGES + 63) / 64];
	int i = fz_below(r, FZ_NR_SLOTS), ret;
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.bitmap = (uintptr_t)bits,
	};

	if (!tracking())
		return;
	/* Any multiple of 64 inside the region, any length (clipped). */
	c.first_page = 64 * fz_below(r, (FZ_SLOT_PAGES + 63) / 64);
	c.npages = fz_one_in(r, 2) ? FZ_SLOT_PAGES : 1 + fz_below(r, 2 * FZ_SLOT_PAGES);
	memset(bits, 0, sizeof(bits));
	ret = fz_ioctl(W->tr, DIRTYTRACK_CLAIM, &c);
	fz_expect("CLAIM of a valid range", ret,
		  W->slot[i].region ? 0 : ENOENT, -1);
	if (ret)
		return;
	/* Bit k of the answer is page first_page + k. */
	if (c.first_page) {
		uint64_t shifted[(FZ_SLOT_PAGES + 63) / 64] = { 0 };

		memcpy(shifted + c.first_page / 64, bits,
		       sizeof(bits) - c.first_page / 8);
		memcpy(bits, shifted, sizeof(bits));
	}
	fz_model_reported(&fz.m, W, i, bits, true);
}

static void op_harvest_vcpu(struct fz_rng *r)
{
	struct dirtytrack_vcpu_stat st[2];
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };
	int ret;

	if (!tracking())
		return;
	if (fz_one_in(r, 2)) {
		h.flags = DIRTYTRACK_HARVEST_FILLED;
		h.min_fill = 1 + fz_below(r, W->ring_entries);
		h.nr_vcpu_stats = 2;
		h.vcpu_stat_size = sizeof(st[0]);
		h.vcpu_stats = (uintptr_t)st;
	} else {
		h.vcpu_id = fz_below(r, FZ_NR_VCPUS + 1);
	}
	ret = fz_ioctl(W->tr, DIRTYTRACK_HARVEST_VCPU, &h);
	if (h.vcpu_id >= FZ_NR_VCPUS && !h.flags) {
		fz_expect("HARVEST_VCPU of a vCPU with no ring", ret, ENOENT,
			  W->state >= FZ_FINAL ? EBUSY : ENOENT, -1);
		return;
	}
	expect_state("HARVEST_VCPU", DIRTYTRACK_HARVEST_VCPU, 0, ret);
}

/*
 * The VMM writes a page and marks it, under the model's lock; a mark that
 * is refused (no region, sealed) undoes the write, as if it never was.
 */
static void op_vmm_write(struct fz_rng *r)
{
	int page = fz_below(r, FZ_DATA_PAGES), i = page / FZ_SLOT_PAGES;
	uint8_t *dst = fz_page(W, page) + FZ_VMM_OFF;
	uint64_t gpa = fz_slot_gpa(i) + (uint64_t)(page % FZ_SLOT_PAGES) * FZ_PAGE;
	struct dirtytrack_gpa_range range = { gpa + FZ_VMM_OFF, 8 };
	struct dirtytrack_vmm_mark mk = {
		.size = sizeof(mk), .nr_ranges = 1, .ranges = (uintptr_t)&range,
	};
	bool via_log = W->log_map && fz_one_in(r, 2) && W->slot[i].region &&
		       gpa / FZ_PAGE / 64 * 8 < W->log_len;
	uint64_t old, nonce, p;
	int ret = 0;

	if (!tracking())
		return;
	if (!via_log && fz_one_in(r, 4)) {
		/* A wider range than the write: the rest over-reports. */
		uint64_t lo = fz_below(r, page % FZ_SLOT_PAGES + 1);
		uint64_t hi = page % FZ_SLOT_PAGES +
			      fz_below(r, FZ_SLOT_PAGES - page % FZ_SLOT_PAGES);

		range.gpa = fz_slot_gpa(i) + lo * FZ_PAGE;
		range.len = (hi - lo + 1) * FZ_PAGE;
	}
	pthread_mutex_lock(&fz.m.lock);
	memcpy(&old, dst, 8);
	nonce = ++fz.m.vmm_nonce ^ fz.o.seed << 20;
	memcpy(dst, &nonce, 8);
	if (via_log) {
		uint64_t bit = gpa / FZ_PAGE;

		__atomic_fetch_or(&W->log_map[bit / 64], 1ULL << (bit % 64),
				  __ATOMIC_SEQ_CST);
	} else {
		ret = fz_ioctl(W->tr, DIRTYTRACK_VMM_MARK, &mk);
		if (!W->slot[i].region)
			fz_expect("VMM_MARK outside every region", ret, ENOENT,
				  W->state == FZ_SEALED ? EBUSY : ENOENT, -1);
		else
			expect_state("VMM_MARK", DIRTYTRACK_VMM_MARK, 0, ret);
		if (ret)
			memcpy(dst, &old, 8);
	}
	pthread_mutex_unlock(&fz.m.lock);
	if (ret || via_log)
		return;
	for (p = range.gpa / FZ_PAGE; p <= (range.gpa + range.len - 1) / FZ_PAGE; p++)
		if (p != gpa / FZ_PAGE)
			fz_model_excuse(p - FZ_DATA_GPA / FZ_PAGE, FZ_CAUSE_VMM_MARK);
}

/*
 * Hot-unplug: REGION_REMOVE (its last bits carried over, or dropped) and,
 * most times, the memslot deleted; or hotplug again: the memslot back,
 * REGION_ADD, and the model rebased after the add.
 */
static void op_plug(struct fz_rng *r)
{
	int i = fz_below(r, FZ_NR_SLOTS), ret;
	struct fz_slot *s = &W->slot[i];

	if (!tracking())
		return;
	if (s->region) {
		uint64_t bits[(FZ_SLOT_PAGES + 63) / 64] = { 0 };
		struct dirtytrack_region_remove rm = {
			.size = sizeof(rm), .slot_id = FZ_FIRST_DATA_SLOT + i,
			.bitmap = fz_one_in(r, 3) ? 0 : (uintptr_t)bits,
		};

		ret = fz_ioctl(W->tr, DIRTYTRACK_REGION_REMOVE, &rm);
		expect_state("REGION_REMOVE", DIRTYTRACK_REGION_REMOVE, 0, ret);
		if (ret)
			return;
		fz_model_reported(&fz.m, W, i, bits, true);
		fz_slot_unmap(W, i);
		s->region = false;
		if (fz_one_in(r, 4))
			return;	/* the memslot stays: its writes are nobody's */
		ret = dtvm_set_memslot(W->vm, FZ_FIRST_DATA_SLOT + i, 0,
				       fz_slot_gpa(i), 0, NULL);
		fz_check(!ret, "deleting memslot %d: %s", i, strerror(-ret));
		s->plugged = ret != 0;
		return;
	}
	if (!s->plugged) {
		ret = dtvm_set_memslot(W->vm, FZ_FIRST_DATA_SLOT + i,
				       KVM_MEM_LOG_DIRTY_PAGES, fz_slot_gpa(i),
				       FZ_SLOT_PAGES * FZ_PAGE,
				       fz_page(W, i * FZ_SLOT_PAGES));
		fz_check(!ret, "re-creating memslot %d: %s", i, strerror(-ret));
		if (ret)
			return;
		s->plugged = true;
	}
	s->r = (struct dirtytrack_region){
		.size = sizeof(s->r), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.first_gfn = fz_slot_gpa(i) / FZ_PAGE, .npages = FZ_SLOT_PAGES,
	};
	ret = fz_ioctl(W->tr, DIRTYTRACK_REGION_ADD, &s->r);
	fz_expect("REGION_ADD of a free slot", ret, 0, -1);
	if (ret)
		return;
	s->region = true;
	fz_model_rebase(&fz.m, W, i);
	if (W->state != FZ_IDLE) {
		int p;

		for (p = 0; p < FZ_SLOT_PAGES; p++)
			fz_model_excuse(i * FZ_SLOT_PAGES + p, FZ_CAUSE_ALL_DIRTY);
	}
	if (fz_one_in(r, 2))
		fz_slot_map(W, i);
}

/* REGION_MOVE to where the region is (a harvest), or onto a neighbour. */
static void op_move(struct fz_rng *r)
{
	int i = fz_below(r, FZ_NR_SLOTS), ret;
	struct dirtytrack_region_move mv = {
		.size = sizeof(mv), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.new_first_gfn = fz_slot_gpa(i) / FZ_PAGE,
	};
	bool clash = fz_one_in(r, 2);

	if (!tracking())
		return;
	if (clash)
		mv.new_first_gfn = FZ_CODE_GPA / FZ_PAGE + fz_below(r, 16);
	ret = fz_ioctl(W->tr, DIRTYTRACK_REGION_MOVE, &mv);
	/* The arguments are checked before the state (the uAPI document). */
	if (!W->slot[i].region)
		fz_expect("REGION_MOVE of no region", ret, ENOENT, -1);
	else if (clash)
		fz_expect("REGION_MOVE onto the code region", ret, EEXIST, -1);
	else
		expect_state("REGION_MOVE in place", DIRTYTRACK_REGION_MOVE, 0, ret);
}

/* mmap, munmap, mremap and mprotect of a region's merged set. */
static void op_region_map(struct fz_rng *r)
{
	int i = fz_below(r, FZ_NR_SLOTS);
	struct fz_slot *s = &W->slot[i];
	void *p;

	if (!tracking() || !s->region)
		return;
	switch (fz_below(r, 5)) {
	case 0:
		fz_check(fz_slot_map(W, i) == 0, "mmap of region %d: %m", i);
		break;
	case 1:
		fz_slot_unmap(W, i);
		break;
	case 2:	/* moved */
		if (!s->map)
			break;
		p = mremap(s->map, s->map_len, s->map_len, MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			s->map = p;
		break;
	case 3:	/* read-only for a moment: reads still see the set */
		if (!s->map)
			break;
		if (!mprotect(s->map, s->map_len, PROT_READ)) {
			(void)*(volatile uint64_t *)s->map;
			mprotect(s->map, s->map_len, PROT_READ | PROT_WRITE);
		}
		break;
	case 4:	/* a private mapping is refused */
		p = mmap(NULL, s->r.out_mmap_size, PROT_READ, MAP_PRIVATE, W->tr,
			 s->r.out_mmap_offset);
		fz_count_checks("mapping rules", 1);
		fz_check(p == MAP_FAILED && errno == EINVAL,
			 "a private mapping of a region: %s",
			 p == MAP_FAILED ? strerror(errno) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, s->r.out_mmap_size);
		break;
	}
}

/* The vmm log: a new fd, mapped, remapped, moved, protected, closed. */
static void op_vmm_log(struct fz_rng *r)
{
	struct dirtytrack_vmm_log_fd l = { .size = sizeof(l) };
	void *p;
	int ret;

	if (!tracking())
		return;
	switch (fz_below(r, 4)) {
	case 0:
		ret = fz_ioctl(W->tr, DIRTYTRACK_VMM_LOG_FD, &l);
		fz_expect("VMM_LOG_FD", ret, 0, -1);
		if (ret)
			return;
		if (W->log_map)
			munmap(W->log_map, W->log_len);
		if (W->log_fd >= 0)
			close(W->log_fd);
		W->log_fd = l.out_fd;
		W->log_len = l.out_log_size;
		p = mmap(NULL, W->log_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 W->log_fd, 0);
		fz_check(p != MAP_FAILED, "mmap of the vmm log: %m");
		W->log_map = p == MAP_FAILED ? NULL : p;
		p = mmap(NULL, W->log_len, PROT_READ, MAP_PRIVATE, W->log_fd, 0);
		fz_count_checks("mapping rules", 1);
		fz_check(p == MAP_FAILED && errno == EINVAL,
			 "a private mapping of the vmm log: %s",
			 p == MAP_FAILED ? strerror(errno) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, W->log_len);
		break;
	case 1:
		if (!W->log_map)
			return;
		p = mremap(W->log_map, W->log_len, W->log_len, MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			W->log_map = p;
		break;
	case 2:
		if (W->log_map && !mprotect(W->log_map, W->log_len, PROT_READ)) {
			(void)*(volatile uint64_t *)W->log_map;
			mprotect(W->log_map, W->log_len, PROT_READ | PROT_WRITE);
		}
		break;
	case 3:
		if (W->log_map)
			munmap(W->log_map, W->log_len);
		W->log_map = NULL;
		break;
	}
}

/*
 * Scribble on the vmm log's mapping: bits for pages nobody wrote, in the
 * regions (over-reports the model excuses) and outside them (dropped,
 * counted in out_vmm_outside).
 */
static void op_log_scribble(struct fz_rng *r)
{
	uint64_t words = W->log_len / 8, n = 1 + fz_below(r, 8), i;

	if (!tracking() || !W->log_map || !words)
		return;
	for (i = 0; i < n; i++) {
		uint64_t w = fz_below(r, words), bits = fz_next(r), b;

		if (fz_one_in(r, 2)) {	/* a word of the data pages */
			w = FZ_DATA_GPA / FZ_PAGE / 64 +
			    fz_below(r, FZ_DATA_PAGES / 64);
			if (w >= words)
				continue;
		}
		for (b = 0; b < 64; b++) {
			uint64_t gfn = w * 64 + b;

			if (bits >> b & 1 && gfn >= FZ_DATA_GPA / FZ_PAGE &&
			    gfn < FZ_DATA_GPA / FZ_PAGE + FZ_DATA_PAGES)
				fz_model_excuse(gfn - FZ_DATA_GPA / FZ_PAGE,
						FZ_CAUSE_VMM_MARK);
		}
		__atomic_fetch_or(&W->log_map[w], bits, __ATOMIC_SEQ_CST);
	}
}

/* Close the tracker (every mapping too) and make a new one. */
static void op_recreate(struct fz_rng *r)
{
	int ret;

	fz_tracker_teardown(W);
	ret = fz_tracker_setup(W);
	fz_check(!ret, "a new tracker for the VM: %s", strerror(-ret));
	if (ret)
		return;
	fz_model_rebase(&fz.m, W, -1);
	if (fz_one_in(r, 2)) {
		struct dirtytrack_start st = {
			.size = sizeof(st), .flags = DIRTYTRACK_START_ALL_DIRTY,
		};

		ret = fz_ioctl(W->tr, DIRTYTRACK_START, &st);
		expect_state("START of a new tracker", DIRTYTRACK_START,
			     st.flags, ret);
		if (!ret)
			fz_model_excuse_all(FZ_CAUSE_ALL_DIRTY);
	}
}

static void op_checkpoint(struct fz_rng *r)
{
	(void)r;
	fz_model_checkpoint(W);
}

const struct fz_op fz_live_ops[] = {
	{ "live: sync (all phases)", op_sync, 12 },
	{ "live: start/stop", op_start_stop, 4 },
	{ "live: claim", op_claim, 10 },
	{ "live: harvest vcpu", op_harvest_vcpu, 6 },
	{ "live: vmm write + mark", op_vmm_write, 12 },
	{ "live: region hot(un)plug", op_plug, 4 },
	{ "live: region move", op_move, 2 },
	{ "live: region mmap/munmap/mremap/mprotect", op_region_map, 4 },
	{ "live: vmm log fd and mapping", op_vmm_log, 3 },
	{ "live: scribbles on the vmm log", op_log_scribble, 2 },
	{ "live: tracker close and re-create", op_recreate, 1 },
	{ "live: model checkpoint", op_checkpoint, 3 },
};
const int fz_nr_live_ops = sizeof(fz_live_ops) / sizeof(fz_live_ops[0]);
