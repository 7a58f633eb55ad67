// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow model.  It keeps, for every data page, a copy of what the
 * page held when a claim last reported it (the shadow), the way a
 * migration's destination would.  Every claim of the fuzzer copies the
 * pages it reported into the shadow, under the model's lock; the VMM's own
 * writes take the same lock from the write to the mark.
 *
 * At a checkpoint the vCPUs are paused, a sync harvests everything, and
 * every region is claimed whole.  Then:
 *  - a page that differs from its shadow was written after the claim that
 *    last reported it, so it must be reported now: if not, that is an
 *    under-report, always a failure (unless the fuzzer itself broke a rule
 *    that lets pages go, the hostile ops);
 *  - a page reported that equals its shadow is an over-report, and the
 *    model says why, from what happened to the page since the last
 *    checkpoint (enum fz_cause).
 *
 * Comparing contents instead of logging writes needs no knowledge of when
 * the guest stores: every store of the sweep writes a new counter value,
 * every VMM write a new nonce.  A region (re-)added is rebased after the
 * add: its writes before the add were nobody's to report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz.h"

void fz_model_init(struct fz_model *m)
{
	pthread_mutex_init(&m->lock, NULL);
	m->shadow = calloc(FZ_DATA_PAGES, FZ_PAGE);
	memset(m->cause, 0, sizeof(m->cause));
}

void fz_model_excuse(int page, enum fz_cause c)
{
	__atomic_fetch_or(&fz.m.cause[page], 1u << c, __ATOMIC_RELAXED);
}

void fz_model_excuse_all(enum fz_cause c)
{
	int p;

	for (p = 0; p < FZ_DATA_PAGES; p++)
		fz_model_excuse(p, c);
}

void fz_model_reported(struct fz_model *m, struct fz_world *w, int i,
		       const uint64_t *bits, bool live)
{
	int p;

	pthread_mutex_lock(&m->lock);
	for (p = 0; p < FZ_SLOT_PAGES; p++) {
		int page = i * FZ_SLOT_PAGES + p;

		if (!(bits[p / 64] >> (p % 64) & 1))
			continue;
		memcpy(m->shadow + (size_t)page * FZ_PAGE, fz_page(w, page),
		       FZ_PAGE);
		if (live)
			fz_model_excuse(page, FZ_CAUSE_LIVE_COPY);
	}
	pthread_mutex_unlock(&m->lock);
}

void fz_model_rebase(struct fz_model *m, struct fz_world *w, int i)
{
	int first = i < 0 ? 0 : i, last = i < 0 ? FZ_NR_SLOTS - 1 : i;

	pthread_mutex_lock(&m->lock);
	memcpy(m->shadow + (size_t)first * FZ_SLOT_PAGES * FZ_PAGE,
	       fz_page(w, first * FZ_SLOT_PAGES),
	       (size_t)(last - first + 1) * FZ_SLOT_PAGES * FZ_PAGE);
	pthread_mutex_unlock(&m->lock);
}

void fz_model_synced(struct fz_world *w, const struct dirtytrack_sync *s)
{
	__atomic_fetch_add(&w->syncs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->overflows, s->out_ring_overflow, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->foreign, s->out_foreign, __ATOMIC_RELAXED);
	/* Each of these marks every region dirty (or its pages sticky). */
	if (s->out_ring_overflow || s->out_foreign || s->out_ring_sticky ||
	    s->out_bitmap_errors || s->out_iommu_errors)
		fz_model_excuse_all(FZ_CAUSE_ALL_DIRTY);
}

int fz_state_expect(enum fz_state s, unsigned long cmd, uint32_t flags)
{
	bool final = s == FZ_FINAL || s == FZ_SEALED;

	switch (cmd) {
	case DIRTYTRACK_SYNC:
		if (flags & DIRTYTRACK_SYNC_FINAL_BEGIN)
			return final ? -EBUSY : s == FZ_TRACKING ? 0 : -EINVAL;
		if (flags & DIRTYTRACK_SYNC_FINAL_END)
			return s == FZ_SEALED ? -EBUSY : s == FZ_FINAL ? 0 : -EINVAL;
		return final ? -EBUSY : 0;
	case DIRTYTRACK_START:
		return s == FZ_TRACKING || s == FZ_FINAL ? -EBUSY : 0;
	case DIRTYTRACK_STOP:
		return s == FZ_IDLE ? -EINVAL : 0;
	case DIRTYTRACK_HARVEST_VCPU:
	case DIRTYTRACK_REGION_REMOVE:
	case DIRTYTRACK_REGION_MOVE:
		return final ? -EBUSY : 0;
	case DIRTYTRACK_VMM_MARK:
		return s == FZ_SEALED ? -EBUSY : 0;
	}
	return 0;
}

enum fz_state fz_state_after(enum fz_state s, unsigned long cmd, uint32_t flags)
{
	switch (cmd) {
	case DIRTYTRACK_SYNC:
		if (flags & DIRTYTRACK_SYNC_FINAL_BEGIN)
			return FZ_FINAL;
		if (flags & DIRTYTRACK_SYNC_FINAL_END)
			return FZ_SEALED;
		return s;
	case DIRTYTRACK_START:
		return FZ_TRACKING;
	case DIRTYTRACK_STOP:
		return FZ_IDLE;
	}
	return s;
}

/* Claim all of slot @i, through its mapping or the ioctl: 0 or -errno. */
static int claim_slot(struct fz_world *w, int i, uint64_t *bits, bool mmap)
{
	struct fz_slot *s = &w->slot[i];
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.npages = FZ_SLOT_PAGES, .bitmap = (uintptr_t)bits,
	};
	uint64_t *words, *summary, nwords = (FZ_SLOT_PAGES + 63) / 64, j;

	if (!mmap || !s->map)
		return fz_ioctl(w->tr, DIRTYTRACK_CLAIM, &c);
	/* The consumer's side of the claim protocol (the uAPI document). */
	words = (uint64_t *)s->map;
	summary = (uint64_t *)(s->map + s->r.out_summary_offset);
	memset(bits, 0, nwords * 8);
	for (j = 0; j * 64 * 64 < nwords; j++) {
		uint64_t sum = __atomic_exchange_n(&summary[j], 0, __ATOMIC_SEQ_CST);

		while (sum) {
			uint64_t ch = j * 64 + __builtin_ctzll(sum), k;

			sum &= sum - 1;
			for (k = ch * 64; k < ch * 64 + 64 && k < nwords; k++)
				bits[k] = __atomic_exchange_n(&words[k], 0,
							      __ATOMIC_SEQ_CST);
		}
	}
	return 0;
}

static enum fz_cause classify(struct fz_world *w, int page)
{
	uint8_t c = fz.m.cause[page];

	if (c & 1u << FZ_CAUSE_ALL_DIRTY)
		return FZ_CAUSE_ALL_DIRTY;
	if (c & 1u << FZ_CAUSE_VMM_MARK)
		return FZ_CAUSE_VMM_MARK;
	if (c & 1u << FZ_CAUSE_LIVE_COPY)
		return FZ_CAUSE_LIVE_COPY;
	if (page < FZ_HOT_PAGES && w->slot[page / FZ_SLOT_PAGES].plugged)
		return FZ_CAUSE_KVM_RELOG;
	return FZ_CAUSE_UNEXPLAINED;
}

/* Harvest everything the tracker can, whatever its state; 0 or -errno. */
static int harvest_all(struct fz_world *w)
{
	struct dirtytrack_start st = { .size = sizeof(st) };
	struct dirtytrack_sync s = { .size = sizeof(s) };
	int ret;

	if (w->state == FZ_FINAL) {
		s.flags = DIRTYTRACK_SYNC_FINAL_END;
		ret = fz_ioctl(w->tr, DIRTYTRACK_SYNC, &s);
		fz_expect("checkpoint: SYNC FINAL_END in final", ret, 0, -1);
		if (ret)
			return ret;
		fz_model_synced(w, &s);
		w->state = FZ_SEALED;
	}
	if (w->state == FZ_SEALED) {
		/* The vCPUs ran while sealed: restart, keeping every bit. */
		ret = fz_ioctl(w->tr, DIRTYTRACK_START, &st);
		fz_expect("checkpoint: START when sealed", ret, 0, -1);
		if (ret)
			return ret;
		w->state = FZ_TRACKING;
	}
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	ret = fz_ioctl(w->tr, DIRTYTRACK_SYNC, &s);
	fz_expect("checkpoint: SYNC", ret, 0, -1);
	if (!ret)
		fz_model_synced(w, &s);
	return ret;
}

void fz_model_checkpoint(struct fz_world *w)
{
	struct fz_model *m = &fz.m;
	uint64_t checked = 0, under = 0, over[FZ_NR_CAUSES] = { 0 };
	int i, p, c;

	if (w->tr < 0)
		return;
	fz_vcpus_pause(w);
	if (harvest_all(w))
		goto out;
	for (i = 0; i < FZ_NR_SLOTS; i++) {
		uint64_t bits[(FZ_SLOT_PAGES + 63) / 64];
		int ret;

		if (!w->slot[i].region)
			continue;
		ret = claim_slot(w, i, bits, fz.op_index & 1);
		fz_expect("checkpoint: CLAIM", ret, 0, -1);
		if (ret)
			continue;
		pthread_mutex_lock(&m->lock);
		for (p = 0; p < FZ_SLOT_PAGES; p++) {
			int page = i * FZ_SLOT_PAGES + p;
			uint8_t *shadow = m->shadow + (size_t)page * FZ_PAGE;
			bool dirty = bits[p / 64] >> (p % 64) & 1;
			bool differs = memcmp(shadow, fz_page(w, page), FZ_PAGE);

			checked++;
			if (differs && !dirty) {
				under++;
				fz_check(m->tainted, "under-report: slot %d page %d "
					 "(gfn 0x%llx) was written since it was last "
					 "reported and the claim does not report it",
					 FZ_FIRST_DATA_SLOT + i, p,
					 (unsigned long long)(fz_slot_gpa(i) / FZ_PAGE + p));
			}
			if (!differs && dirty)
				over[classify(w, page)]++;
			if (differs)
				memcpy(shadow, fz_page(w, page), FZ_PAGE);
			m->cause[page] = 0;
		}
		pthread_mutex_unlock(&m->lock);
	}
	fz_count_checks("pages model-checked", checked);
	fz_count_checks("checkpoints", 1);
	if (under)
		fz_count_checks(m->tainted ? "pages lost after a hostile op (allowed)" :
				"UNDER-REPORTED pages", under);
	for (c = 0; c < FZ_NR_CAUSES; c++)
		fz_count_cause(c, over[c]);
	fz_nl_check(w);
out:
	fz_vcpus_resume(w);
}
