// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The vmm log's harvest, a word at a time: the bits a harvest took from one
 * log word, into the regions' pending sets.  Each home reads and takes the
 * words of its own log (the module's sparse pages, the library's memfd)
 * and resolves frames to its own regions (struct dt_log_regions).
 */
#include "dt_core.h"

/**
 * dt_log_take_word() - one log word's bits into the regions' pending sets
 * @lr: the home's regions
 * @first_bit: the log bit of bit 0 of @v
 * @v: the bits taken (with an atomic exchange) from the word
 * @c: counters, accumulated: pages set, and bits in no region
 *
 * Where a log bit is a host page (@lr->shift 0), each region's share of
 * the word goes in at once; a region may end or begin inside the word, and
 * the bits past the region that holds the lowest are looked up again.
 * Otherwise (larger host pages) every bit is one frame, looked up alone.
 */
void dt_log_take_word(const struct dt_log_regions *lr, u64 first_bit, u64 v,
		      struct dt_log_counts *c)
{
	u64 base, took;

	while (v && !lr->shift) {
		unsigned int lo = dt_ffs64(v);
		u64 gfn = first_bit + lo;
		struct dt_bitmap *b = lr->find(lr->ctx, gfn, &base);

		if (!b) {
			c->outside++;
			v &= v - 1;
			continue;
		}
		took = dt_bitmap_or_pending(b, gfn - base, v >> lo);
		c->pages += dt_popcount64(took);
		v &= ~(took << lo);
	}
	while (v) {
		u64 gfn = (first_bit + dt_ffs64(v)) >> lr->shift;
		struct dt_bitmap *b = lr->find(lr->ctx, gfn, &base);

		v &= v - 1;
		if (b) {
			dt_bitmap_set_pending(b, gfn - base);
			c->pages++;
		} else {
			c->outside++;
		}
	}
}
