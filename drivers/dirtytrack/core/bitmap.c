// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The merged dirty set: one bit per host page and a summary bit per 64
 * words, so consuming it costs O(dirty), not O(guest size).  The claim
 * protocol that lets sources and a consumer run concurrently is described
 * at struct dt_bitmap.
 */
#include "dt_core.h"

#define DT_ALL_ONES	(~(u64)0)

static inline u64 dt_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

/* Mask of the bits of word @w that are pages of the region. */
static inline u64 dt_valid_mask(const struct dt_bitmap *b, u64 w)
{
	u64 tail = b->npages % DT_WORD_BITS;

	if (w + 1 < dt_bitmap_words(b->npages) || !tail)
		return DT_ALL_ONES;
	return ((u64)1 << tail) - 1;
}

/*
 * Publish that word @w may hold bits.  The word's bits must be visible
 * before the summary bit, and the read that skips an already-set summary
 * bit must not be satisfied before them either: a full barrier.  Paired
 * with the fully ordered summary clear in dt_bitmap_claim().
 */
static inline void dt_summary_mark_word(struct dt_bitmap *b, u64 sw, u64 bits)
{
	u64 *s = &b->summary[sw];

	dt_mb();
	if ((dt_read_once(*s) & bits) != bits)
		dt_word_or(s, bits);
}

static inline void dt_summary_mark(struct dt_bitmap *b, u64 w)
{
	u64 c = w / DT_SUMMARY_SPAN;

	dt_summary_mark_word(b, c / DT_WORD_BITS, (u64)1 << (c % DT_WORD_BITS));
}

void dt_bitmap_set(struct dt_bitmap *b, u64 page)
{
	u64 w = page / DT_WORD_BITS;

	if (page >= b->npages)
		return;
	dt_word_or(&b->words[w], (u64)1 << (page % DT_WORD_BITS));
	dt_summary_mark(b, w);
}

void dt_bitmap_set_range(struct dt_bitmap *b, u64 first, u64 npages)
{
	u64 end, w;

	if (first >= b->npages)
		return;
	end = dt_min(first + dt_min(npages, b->npages - first), b->npages);
	for (w = first / DT_WORD_BITS; w * DT_WORD_BITS < end; w++) {
		u64 lo = w * DT_WORD_BITS, mask = DT_ALL_ONES;

		if (first > lo)
			mask &= DT_ALL_ONES << (first - lo);
		if (end < lo + DT_WORD_BITS)
			mask &= DT_ALL_ONES >> (lo + DT_WORD_BITS - end);
		dt_word_or(&b->words[w], mask);
		if ((w + 1) % DT_SUMMARY_SPAN == 0 || (w + 1) * DT_WORD_BITS >= end)
			dt_summary_mark(b, w);
	}
}

/*
 * OR @nwords words of @src (a source's own buffer, possibly untrusted) into
 * the set from word @first_word on.  Bits past the region are dropped.
 * Returns the number of bits taken from @src.
 */
u64 dt_bitmap_or_words(struct dt_bitmap *b, u64 first_word, const u64 *src,
		       u64 nwords)
{
	u64 total = dt_bitmap_words(b->npages), i = 0, count = 0;
	u64 sw = 0, owed = 0;	/* summary bits owed, all of summary word @sw */

	if (first_word >= total)
		return 0;
	nwords = dt_min(nwords, total - first_word);
	while (i < nwords) {
		u64 w, c, v;

		/* Most words of a sparse set are 0: skip them four at a time. */
		if (i + 4 <= nwords &&
		    !(dt_read_once(src[i]) | dt_read_once(src[i + 1]) |
		      dt_read_once(src[i + 2]) | dt_read_once(src[i + 3]))) {
			i += 4;
			continue;
		}
		w = first_word + i;
		v = dt_read_once(src[i++]);
		if (w + 1 == total)
			v &= dt_valid_mask(b, w);
		if (!v)
			continue;
		/*
		 * The summary bits are marked once per summary word (64
		 * chunks), after all the words they cover: one barrier, not
		 * one per word.
		 */
		c = w / DT_SUMMARY_SPAN;
		if (owed && c / DT_WORD_BITS != sw) {
			dt_summary_mark_word(b, sw, owed);
			owed = 0;
		}
		sw = c / DT_WORD_BITS;
		owed |= (u64)1 << (c % DT_WORD_BITS);
		dt_word_or(&b->words[w], v);
		count += dt_popcount64(v);
	}
	if (owed)
		dt_summary_mark_word(b, sw, owed);
	return count;
}

/* Does any word of chunk @c outside [@w0, @wend) hold bits? */
static bool dt_chunk_has_bits_outside(const struct dt_bitmap *b, u64 c,
				      u64 w0, u64 wend)
{
	u64 cw0 = c * DT_SUMMARY_SPAN;
	u64 cw1 = dt_min(cw0 + DT_SUMMARY_SPAN, dt_bitmap_words(b->npages));
	u64 w;

	for (w = cw0; w < cw1; w++) {
		if (w >= w0 && w < wend)
			continue;
		if (dt_read_once(b->words[w]))
			return true;
	}
	return false;
}

/*
 * Claim the pages of chunk @c that fall in words [@w0, @wend), the last of
 * which only under @last_mask, into @out (indexed from @w0).
 */
static u64 dt_claim_chunk(struct dt_bitmap *b, u64 c, u64 w0, u64 wend,
			  u64 last_mask, u64 *out)
{
	u64 *s = &b->summary[c / DT_WORD_BITS];
	u64 bit = (u64)1 << (c % DT_WORD_BITS);
	u64 cw0 = c * DT_SUMMARY_SPAN, cw1 = cw0 + DT_SUMMARY_SPAN;
	u64 w, v, count = 0;
	bool leftover = false;

	/* Fully ordered: every word read below comes after the clear. */
	dt_word_fetch_andnot(s, bit);

	for (w = cw0 > w0 ? cw0 : w0; w < cw1 && w < wend; w++) {
		if (!dt_read_once(b->words[w]))
			continue;
		if (w + 1 == wend && last_mask != DT_ALL_ONES) {
			u64 old = dt_word_fetch_andnot(&b->words[w], last_mask);

			v = old & last_mask;
			leftover |= !!(old & ~last_mask);
		} else {
			v = dt_word_xchg(&b->words[w], 0);
		}
		out[w - w0] = v;
		count += dt_popcount64(v);
	}

	if (leftover || cw0 < w0 || cw1 > wend)
		leftover = leftover || dt_chunk_has_bits_outside(b, c, w0, wend);
	if (leftover) {
		dt_mb_before_rmw();
		dt_word_or(s, bit);
	}
	return count;
}

/**
 * dt_bitmap_claim() - copy out and clear a range of the set
 * @b: the set
 * @first: first page; a multiple of 64
 * @npages: pages from @first (clipped to the region)
 * @out: dt_bitmap_words(@npages) words, all written; bit i is page
 *       @first + i (pages past the region read as clean)
 *
 * Return: the number of dirty pages claimed.
 */
u64 dt_bitmap_claim(struct dt_bitmap *b, u64 first, u64 npages, u64 *out)
{
	u64 w0, wend, nw, c, c_end, count = 0, last_mask, i;

	/* Every word of @out is written, also past the end of the region. */
	nw = dt_bitmap_words(npages);
	for (i = 0; i < nw; i++)
		out[i] = 0;
	if (first >= b->npages || !npages)
		return 0;
	npages = dt_min(npages, b->npages - first);
	w0 = first / DT_WORD_BITS;
	nw = dt_bitmap_words(npages);
	wend = w0 + nw;
	last_mask = npages % DT_WORD_BITS ?
		    ((u64)1 << (npages % DT_WORD_BITS)) - 1 : DT_ALL_ONES;

	c = w0 / DT_SUMMARY_SPAN;
	c_end = (wend - 1) / DT_SUMMARY_SPAN + 1;
	while (c < c_end) {
		u64 sw = dt_read_once(b->summary[c / DT_WORD_BITS]);

		sw &= DT_ALL_ONES << (c % DT_WORD_BITS);
		if (!sw) {
			/* No chunk of this summary word is dirty. */
			c = (c / DT_WORD_BITS + 1) * DT_WORD_BITS;
			continue;
		}
		c = (c / DT_WORD_BITS) * DT_WORD_BITS + dt_ffs64(sw);
		if (c >= c_end)
			break;
		count += dt_claim_chunk(b, c, w0, wend, last_mask, out);
		c++;
	}
	return count;
}

/**
 * dt_bitmap_move() - claim everything in @src and OR it into @dst
 * @dst: the destination set
 * @src: a set of the same size
 *
 * Return: the number of pages moved.
 */
u64 dt_bitmap_move(struct dt_bitmap *dst, struct dt_bitmap *src)
{
	u64 nsum = dt_summary_words(src->npages), i, count = 0;
	bool moved = false;

	for (i = 0; i < nsum; i++) {
		u64 sw = dt_word_xchg(&src->summary[i], 0);

		while (sw) {
			u64 c = i * DT_WORD_BITS + dt_ffs64(sw);
			u64 cw0 = c * DT_SUMMARY_SPAN;
			u64 cw1 = dt_min(cw0 + DT_SUMMARY_SPAN,
					 dt_bitmap_words(src->npages));
			u64 w;

			sw &= sw - 1;
			for (w = cw0; w < cw1; w++) {
				u64 v;

				if (!dt_read_once(src->words[w]))
					continue;
				v = dt_word_xchg(&src->words[w], 0);
				if (!v)
					continue;
				dt_word_or(&dst->words[w], v);
				count += dt_popcount64(v);
				moved = true;
			}
			/* Once for the chunk, after all its words. */
			if (moved)
				dt_summary_mark(dst, cw0);
			moved = false;
		}
	}
	return count;
}

/* Pages set, for statistics and tests: O(size). */
u64 dt_bitmap_weight(const struct dt_bitmap *b)
{
	u64 nw = dt_bitmap_words(b->npages), w, n = 0;

	for (w = 0; w < nw; w++)
		n += dt_popcount64(dt_read_once(b->words[w]));
	return n;
}
