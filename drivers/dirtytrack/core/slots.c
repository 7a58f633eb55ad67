// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memslot lookup for the ring walk: a sorted table searched by bisection,
 * with a one-entry hint because a vCPU dirties runs of the same slot.
 */
#include "dt_core.h"

/**
 * dt_slot_lookup() - the region mirroring a memslot
 * @t: the table, sorted by slot
 * @slot: DT_SLOT(as_id, id), as a ring entry carries it (untrusted)
 *
 * Return: the region, or NULL if no region mirrors @slot.
 */
struct dt_slot *dt_slot_lookup(struct dt_slot_table *t, u32 slot)
{
	u32 lo = 0, hi = t->n;

	if (t->hint < t->n && t->v[t->hint].slot == slot)
		return &t->v[t->hint];
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->v[mid].slot == slot) {
			t->hint = mid;
			return &t->v[mid];
		}
		if (t->v[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
