// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The KVM dirty-ring walk (Documentation/virt/kvm/api.rst, "dirty ring"):
 *
 *   KVM (vCPU thread)              collector
 *   slot, offset = ...             flags = load_acquire(&e->flags)
 *   smp_wmb()                      if flags != DIRTY: stop
 *   flags = DIRTY                  slot, offset = e->slot, e->offset
 *                                  store_release(&e->flags, RESET)
 *                                  ... KVM_RESET_DIRTY_RINGS
 *
 * Entries are taken strictly in order from where the last walk stopped,
 * none is skipped, and each is validated against the regions before it is
 * followed: the ring is mapped into the VMM, which can write anything.
 */
#include "dt_core.h"

static inline u32 dt_gfn_flags(const struct dt_ring *r, u32 i)
{
	return dt_load_acquire(&r->gfns[i & (r->size - 1)].flags);
}

/**
 * dt_ring_resync() - find where KVM is in a ring we were not following
 * @r: the ring
 *
 * The used entries of a ring (DIRTY, or RESET and not yet reset) form one
 * run in ring order, from KVM's reset index to its dirty index; every other
 * entry is zero.  The fetch index moves to the start of that run.  An entry
 * seen used while the one before it is zero is that start: KVM publishes
 * entries in order, so a run is never seen with a hole, and an entry pushed
 * during the scan can only extend it.  A ring with no used entry leaves the
 * position unknown: the next harvest scans again.
 *
 * Return: true if the position is known now.
 */
bool dt_ring_resync(struct dt_ring *r)
{
	u32 i;

	for (i = 0; i < r->size; i++) {
		if (dt_gfn_flags(r, i) && !dt_gfn_flags(r, i - 1)) {
			r->fetch = i;
			r->unreset = 0;
			r->synced = true;
			return true;
		}
	}
	/* Every entry used cannot happen below KVM's soft limit: start at 0. */
	if (dt_gfn_flags(r, 0)) {
		r->fetch = 0;
		r->unreset = 0;
		r->synced = true;
	}
	return r->synced;
}

/**
 * dt_ring_harvest() - take every dirty entry from the fetch index on
 * @r: the ring
 * @t: the regions entries are resolved against
 * @st: counters, accumulated
 *
 * Dirty pages go to their region's bitmap; entries are marked RESET, to be
 * handed back by KVM_RESET_DIRTY_RINGS, after which the caller calls
 * dt_ring_reset_done().  Stops at the first entry that is not exactly DIRTY,
 * or when the next entry is one of our own not yet reset.  A ring whose
 * position is not known is resynced first.
 */
void dt_ring_harvest(struct dt_ring *r, struct dt_slot_table *t,
		     struct dt_ring_stats *st)
{
	if (!r->synced && !dt_ring_resync(r))
		return;
	while (r->unreset < r->size) {
		struct kvm_dirty_gfn *e = &r->gfns[r->fetch & (r->size - 1)];
		u32 flags = dt_load_acquire(&e->flags);
		struct dt_slot *s;
		u64 offset;
		u32 slot;

		if (flags == KVM_DIRTY_GFN_F_RESET) {
			/*
			 * Harvested by someone else and not yet reset: skip
			 * it (KVM's next reset frees it), its page is lost.
			 */
			st->foreign++;
			r->fetch++;
			r->unreset++;
			continue;
		}
		if (flags != KVM_DIRTY_GFN_F_DIRTY)
			break;

		slot = dt_read_once(e->slot);
		offset = dt_read_once(e->offset);
		s = dt_slot_lookup(t, slot);
		if (s && offset < s->npages) {
			dt_bitmap_set(s->dirty, offset);
			st->harvested++;
		} else {
			st->invalid++;
		}
		dt_store_release(&e->flags, KVM_DIRTY_GFN_F_RESET);
		r->fetch++;
		r->unreset++;
	}
}

/**
 * dt_ring_check_gap() - detect entries harvested and reset behind our back
 * @r: the ring, just harvested (its fetch entry is not DIRTY)
 * @window: how many entries past the fetch index to look at
 * @st: counters; @st->foreign grows by the length of a gap found
 *
 * A collector that harvested and reset entries at our fetch index leaves
 * them zero, and KVM goes on pushing after them: a gap, then DIRTY entries
 * we would never reach.  KVM publishes entries in order (smp_wmb between
 * them), so once a later entry is seen DIRTY with acquire, an earlier entry
 * still not DIRTY was taken by someone else, never a race with the push.
 * On a gap the fetch index moves to the first dirty entry after it.
 *
 * Return: true if a gap was found (pages were lost to us).
 */
bool dt_ring_check_gap(struct dt_ring *r, u32 window, struct dt_ring_stats *st)
{
	u32 limit = r->size - r->unreset, i;

	if (!r->synced)
		return false;
	if (!window || window > limit)
		window = limit;
	for (i = 1; i < window; i++) {
		struct kvm_dirty_gfn *e = &r->gfns[(r->fetch + i) & (r->size - 1)];
		u32 j;

		if (dt_load_acquire(&e->flags) != KVM_DIRTY_GFN_F_DIRTY)
			continue;
		/* Every entry before it was published first. */
		for (j = 0; j < i; j++) {
			struct kvm_dirty_gfn *g =
				&r->gfns[(r->fetch + j) & (r->size - 1)];

			if (dt_load_acquire(&g->flags) == KVM_DIRTY_GFN_F_DIRTY)
				return false;	/* pushed meanwhile: no gap */
		}
		st->foreign += i;
		r->fetch += i;
		return true;
	}
	return false;
}

/**
 * dt_ring_fill() - how full KVM sees a ring, for monitoring
 * @r: the ring; may be harvested meanwhile (the figure is then stale)
 *
 * KVM counts an entry as used from its push until its reset: our entries
 * not yet reset, then the DIRTY run from the fetch index.  That run is
 * contiguous (KVM publishes in order, and the entry after it is zero or
 * one of ours), so a binary search over it costs log2(size) reads.  A
 * ring whose position is not known yet (no harvest has found an entry
 * since it was attached) is read whole: its used entries are the nonzero
 * ones.
 *
 * Return: the used entries.
 */
u32 dt_ring_fill(const struct dt_ring *r)
{
	u32 size = dt_read_once(r->size), fetch = dt_read_once(r->fetch);
	u32 unreset = dt_read_once(r->unreset), lo = 0, hi;

	if (!size)
		return 0;
	if (!dt_read_once(r->synced)) {
		for (hi = 0; hi < size; hi++)
			lo += !!dt_gfn_flags(r, hi);
		return lo;
	}
	if (unreset >= size)
		return size;
	hi = size - unreset;
	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if (dt_gfn_flags(r, fetch + mid - 1) == KVM_DIRTY_GFN_F_DIRTY)
			lo = mid;
		else
			hi = mid - 1;
	}
	return unreset + lo;
}

/* KVM_RESET_DIRTY_RINGS completed: our RESET entries are free again. */
void dt_ring_reset_done(struct dt_ring *r)
{
	r->unreset = 0;
}
