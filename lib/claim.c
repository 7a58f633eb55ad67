// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The consumer side: claiming the merged set, in place, with the protocol
 * of struct dt_bitmap.  Both backends hand the consumer a dt_bitmap per
 * region (the module's mapped set, or this process's), so this is the same
 * code for both, and costs O(dirty): clean chunks of 4096 pages are
 * skipped through the summary.
 */
#include <errno.h>
#include <string.h>

#include "libdt.h"
#include "opts.h"

int dt_lib_claim_region(struct dt_region *r, uint64_t first,
			uint64_t npages, uint64_t *bitmap, uint64_t *out_dirty)
{
	if (first % DT_WORD_BITS || !npages || first >= r->slot.npages)
		return -EINVAL;
	if (npages > r->slot.npages - first)
		npages = r->slot.npages - first;
	*out_dirty = dt_bitmap_claim(&r->merged, first, npages, bitmap);
	return 0;
}

int dirtytrack_claim_bitmap(struct dirtytrack_tracker *t, uint32_t slot,
			    uint64_t first_page, uint64_t npages,
			    uint64_t *bitmap, uint64_t *out_dirty)
{
	struct dt_region *r;
	uint64_t dirty = 0;
	int ret;

	if (!t || !bitmap)
		return -EINVAL;
	pthread_rwlock_rdlock(&t->regions_lock);
	r = dt_regions_find(&t->regions, slot);
	ret = r ? dt_lib_claim_region(r, first_page, npages, bitmap, &dirty) :
		  -ENOENT;
	pthread_rwlock_unlock(&t->regions_lock);
	if (!ret && out_dirty)
		*out_dirty = dirty;
	return ret;
}

/* A walk over the runs of one region; @held is the run not yet reported. */
struct dt_walk {
	struct dirtytrack_tracker *t;
	struct dt_region *r;
	dirtytrack_range_fn fn;
	void *ctx;
	struct dirtytrack_dirty_range held;
	uint64_t consumed;
};

/* Report the held run; the caller's answer decides whether it is consumed. */
static int dt_walk_flush(struct dt_walk *w)
{
	int ret;

	if (!w->held.npages)
		return 0;
	w->held.gpa = (w->r->first_gfn + w->held.first_page) << w->t->dt->page_shift;
	ret = w->fn(&w->held, w->ctx);
	if (ret) {
		dt_bitmap_set_range(&w->r->merged, w->held.first_page,
				    w->held.npages);
		return ret;
	}
	w->consumed += w->held.npages;
	w->held.npages = 0;
	return 0;
}

/*
 * The runs of one claimed chunk (@buf, from page @first).  A run that
 * continues the held one grows it; anything else flushes the held run
 * first.  If the caller stops, the bits of @buf not reported yet go back.
 */
static int dt_walk_chunk(struct dt_walk *w, uint64_t first, uint64_t *buf,
			 uint64_t nwords)
{
	uint64_t p = 0, end = nwords * DT_WORD_BITS;
	int ret;

	while (p < end) {
		uint64_t s, e, wi = p / DT_WORD_BITS;
		uint64_t v = buf[wi] & (~0ULL << (p % DT_WORD_BITS));

		if (!v) {
			p = (wi + 1) * DT_WORD_BITS;
			continue;
		}
		s = wi * DT_WORD_BITS + (uint64_t)__builtin_ctzll(v);
		/* The run's end: the first clear bit from s. */
		for (e = s; e < end; ) {
			uint64_t x = ~buf[e / DT_WORD_BITS] &
				     (~0ULL << (e % DT_WORD_BITS));

			if (x) {
				e = (e / DT_WORD_BITS) * DT_WORD_BITS +
				    (uint64_t)__builtin_ctzll(x);
				break;
			}
			e = (e / DT_WORD_BITS + 1) * DT_WORD_BITS;
		}
		if (w->held.npages &&
		    w->held.first_page + w->held.npages == first + s) {
			w->held.npages += e - s;
		} else {
			ret = dt_walk_flush(w);
			if (ret) {
				/* Everything from this run on goes back. */
				buf[wi] &= ~0ULL << (s % DT_WORD_BITS);
				dt_bitmap_or_words(&w->r->merged,
						   first / DT_WORD_BITS + wi,
						   buf + wi, nwords - wi);
				return ret;
			}
			w->held.slot = w->r->slot.slot;
			w->held.first_page = first + s;
			w->held.npages = e - s;
		}
		p = e;
	}
	return 0;
}

static int dt_walk_region(struct dt_walk *w)
{
	struct dt_region *r = w->r;
	uint64_t nsum = dt_summary_words(r->slot.npages), i, buf[DT_SUMMARY_SPAN];
	int ret;

	w->held.npages = 0;
	for (i = 0; i < nsum; i++) {
		uint64_t sw = dt_read_once(r->merged.summary[i]);

		while (sw) {
			uint64_t c = i * DT_WORD_BITS + dt_ffs64(sw);
			uint64_t first = c * DT_CHUNK_PAGES;
			uint64_t n = r->slot.npages - first < DT_CHUNK_PAGES ?
				     r->slot.npages - first : DT_CHUNK_PAGES;

			sw &= sw - 1;
			if (first >= r->slot.npages)
				break;
			if (!dt_bitmap_claim(&r->merged, first, n, buf))
				continue;
			ret = dt_walk_chunk(w, first, buf, dt_bitmap_words(n));
			if (ret)
				return ret;
		}
	}
	return dt_walk_flush(w);
}

int dirtytrack_claim_ranges(struct dirtytrack_tracker *t,
			    dirtytrack_range_fn fn, void *ctx,
			    uint64_t *out_pages)
{
	struct dt_walk w = { .t = t, .fn = fn, .ctx = ctx };
	uint32_t i;
	int ret = 0;

	if (!t || !fn)
		return -EINVAL;
	pthread_rwlock_rdlock(&t->regions_lock);
	for (i = 0; !ret && i < t->regions.end; i++) {
		if (!t->regions.v[i])
			continue;
		w.r = t->regions.v[i];
		ret = dt_walk_region(&w);
	}
	pthread_rwlock_unlock(&t->regions_lock);
	if (out_pages)
		*out_pages = w.consumed;
	return ret;
}

int dirtytrack_region_bitmap(struct dirtytrack_tracker *t, uint32_t slot,
			     struct dirtytrack_bitmap_view *view)
{
	struct dirtytrack_bitmap_view full = { .sz = sizeof(full) };
	struct dt_region *r;
	int ret;

	if (!t || !view)
		return -EINVAL;
	ret = DT_OPTS_CHECK(view, dirtytrack_bitmap_view, sz);
	if (ret)
		return ret;
	pthread_rwlock_rdlock(&t->regions_lock);
	r = dt_regions_find(&t->regions, slot);
	if (r) {
		full.words = r->merged.words;
		full.summary = r->merged.summary;
		full.npages = r->slot.npages;
		full.gpa = r->first_gfn << t->dt->page_shift;
	}
	pthread_rwlock_unlock(&t->regions_lock);
	if (!r)
		return -ENOENT;
	dt_opts_copy_out(view, view->sz, &full, sizeof(full));
	return 0;
}
