// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A tracker's regions: their table, the rules for adding and moving one,
 * resolving a guest frame to its region (where it is, or where it was
 * before a move the vmm log has not caught up with), and the moves of
 * bits between their pending and merged sets.  Called with the home's
 * tracker lock held; the home allocates and frees the regions.
 */
#include "dt_core.h"

/* Is @gfn in the @npages frames from @base? */
static inline bool dt_gfn_in(u64 gfn, u64 base, u64 npages)
{
	return gfn >= base && gfn - base < npages;
}

static inline bool dt_region_in_as0(const struct dt_region *r)
{
	return !(r->slot.slot >> 16);
}

/* The region mirroring memslot @slot (DT_SLOT()), or NULL. */
struct dt_region *dt_regions_find(const struct dt_regions *rs, u32 slot)
{
	u32 i;

	for (i = 0; i < rs->end; i++)
		if (rs->v[i] && rs->v[i]->slot.slot == slot)
			return rs->v[i];
	return NULL;
}

/**
 * dt_regions_overlap() - does a range of frames overlap a region?
 * @rs: the regions
 * @skip: a region not to count (one that moves), or NULL
 * @as_id: the KVM address space of the range
 * @first: its first frame
 * @end: one past its last
 *
 * Return: true if a region but @skip of @as_id holds one of the frames.
 */
bool dt_regions_overlap(const struct dt_regions *rs,
			const struct dt_region *skip, u16 as_id, u64 first,
			u64 end)
{
	u32 i;

	for (i = 0; i < rs->end; i++) {
		const struct dt_region *o = rs->v[i];

		if (o && o != skip && o->slot.slot >> 16 == as_id &&
		    first < o->first_gfn + o->slot.npages && o->first_gfn < end)
			return true;
	}
	return false;
}

/**
 * dt_regions_check_new() - may a region for this memslot be added?
 * @rs: the regions
 * @slot: DT_SLOT() of the memslot
 * @first_gfn: its first frame
 * @npages: its size, already checked not to wrap
 *
 * Return: the index the region goes to; -EEXIST if @slot is a region
 * already or the range overlaps one of its address space; -ENOSPC past
 * DT_MAX_REGIONS.
 */
int dt_regions_check_new(const struct dt_regions *rs, u32 slot, u64 first_gfn,
			 u64 npages)
{
	int i;

	if (dt_regions_find(rs, slot) ||
	    dt_regions_overlap(rs, NULL, slot >> 16, first_gfn,
			       first_gfn + npages))
		return -EEXIST;
	for (i = 0; i < DT_MAX_REGIONS; i++)
		if (!rs->v[i])
			return i;
	return -ENOSPC;
}

/* Put @r at index @i, which dt_regions_check_new() returned. */
void dt_regions_link(struct dt_regions *rs, int i, struct dt_region *r)
{
	rs->v[i] = r;
	if ((u32)i >= rs->end)
		rs->end = i + 1;
}

/* Take @r out of the table; the caller frees it. */
void dt_regions_unlink(struct dt_regions *rs, const struct dt_region *r)
{
	u32 i;

	for (i = 0; i < rs->end; i++)
		if (rs->v[i] == r)
			rs->v[i] = NULL;
	while (rs->end && !rs->v[rs->end - 1])
		rs->end--;
}

/**
 * dt_regions_table() - the table the ring walk searches, sorted by slot
 * @rs: the regions
 * @v: storage for DT_MAX_REGIONS entries
 * @table: set to @v's entries
 *
 * Rebuilt only when regions come or go: an insertion sort is enough.
 */
void dt_regions_table(const struct dt_regions *rs, struct dt_slot *v,
		      struct dt_slot_table *table)
{
	u32 i, n = 0;

	for (i = 0; i < rs->end; i++) {
		struct dt_slot s;
		u32 j;

		if (!rs->v[i])
			continue;
		s = rs->v[i]->slot;
		for (j = n; j && v[j - 1].slot > s.slot; j--)
			v[j] = v[j - 1];
		v[j] = s;
		n++;
	}
	table->v = v;
	table->n = n;
	table->hint = 0;
}

/*
 * @r moves to @new_first_gfn; its sources were harvested against the old
 * place first (rule reap-before-memslot-change).  Until the vmm log is
 * taken again, its frames still resolve to @r at the old place too.
 */
void dt_region_moved(struct dt_region *r, u64 new_first_gfn)
{
	r->moved_from_gfn = r->first_gfn;
	r->moved = true;
	r->first_gfn = new_first_gfn;
}

/**
 * dt_regions_find_gfn() - the region of address space 0 holding a frame
 * @rs: the regions
 * @gfn: the guest frame
 * @base: output: the region's first frame, where @gfn was found (its old
 *        place for a region that moved since the last sync, if no region
 *        holds @gfn now)
 *
 * Return: the region, or NULL.
 */
struct dt_region *dt_regions_find_gfn(const struct dt_regions *rs, u64 gfn,
				      u64 *base)
{
	u32 i;

	for (i = 0; i < rs->end; i++) {
		struct dt_region *r = rs->v[i];

		if (r && dt_region_in_as0(r) &&
		    dt_gfn_in(gfn, r->first_gfn, r->slot.npages)) {
			*base = r->first_gfn;
			return r;
		}
	}
	for (i = 0; i < rs->end; i++) {
		struct dt_region *r = rs->v[i];

		if (r && r->moved && dt_region_in_as0(r) &&
		    dt_gfn_in(gfn, r->moved_from_gfn, r->slot.npages)) {
			*base = r->moved_from_gfn;
			return r;
		}
	}
	return NULL;
}

/* Is every frame of [@first, @end) in a region of address space 0? */
bool dt_regions_cover(const struct dt_regions *rs, u64 first, u64 end)
{
	while (first < end) {
		u64 base;
		struct dt_region *r = dt_regions_find_gfn(rs, first, &base);

		if (!r)
			return false;
		first = base + r->slot.npages;
	}
	return true;
}

/* dt_regions_find_gfn(), trying @hint's region first and keeping the answer. */
struct dt_region *dt_regions_hint_find(const struct dt_regions *rs, u64 gfn,
				       struct dt_gfn_hint *hint)
{
	struct dt_region *r = hint->r;

	if (!r || !dt_gfn_in(gfn, hint->base, r->slot.npages)) {
		r = dt_regions_find_gfn(rs, gfn, &hint->base);
		hint->r = r;
	}
	return r;
}

/* Mark a frame of address space 0 pending; false if no region holds it. */
bool dt_regions_mark_gfn(const struct dt_regions *rs, u64 gfn,
			 struct dt_gfn_hint *hint)
{
	struct dt_region *r = dt_regions_hint_find(rs, gfn, hint);

	if (!r)
		return false;
	dt_bitmap_set_pending(&r->pending, gfn - hint->base);
	return true;
}

/*
 * The pending set of the region holding @gfn, for the vmm log's harvest
 * (struct dt_log_regions): @ctx is a struct dt_gfn_cursor.
 */
struct dt_bitmap *dt_regions_log_find(void *ctx, u64 gfn, u64 *base)
{
	struct dt_gfn_cursor *cur = ctx;
	struct dt_region *r = dt_regions_hint_find(cur->rs, gfn, &cur->hint);

	*base = cur->hint.base;
	return r ? &r->pending : NULL;
}

/*
 * Mark the frames [@gfn, @end_gfn) of address space 0 pending.  Frames in
 * no region are skipped; O(regions), whatever the range.
 */
void dt_regions_mark_gfns(const struct dt_regions *rs, u64 gfn, u64 end_gfn)
{
	u32 i;

	for (i = 0; i < rs->end; i++) {
		struct dt_region *r = rs->v[i];
		u64 lo, hi;

		if (!r || !dt_region_in_as0(r))
			continue;
		lo = gfn > r->first_gfn ? gfn : r->first_gfn;
		hi = r->first_gfn + r->slot.npages;
		hi = end_gfn < hi ? end_gfn : hi;
		if (lo < hi)
			dt_bitmap_set_range(&r->pending, lo - r->first_gfn,
					    hi - lo);
	}
}

/* A sync took the vmm log: old places of moved regions are gone. */
void dt_regions_forget_moves(struct dt_regions *rs)
{
	u32 i;

	for (i = 0; i < rs->end; i++)
		if (rs->v[i])
			rs->v[i]->moved = false;
}

/*
 * Every page of every region dirty (rule errors-mean-dirty): in the
 * merged set if @publish, else pending until a reset completes.
 */
void dt_regions_mark_all(const struct dt_regions *rs, bool publish)
{
	u32 i;

	for (i = 0; i < rs->end; i++) {
		struct dt_region *r = rs->v[i];

		if (r)
			dt_bitmap_set_range(publish ? &r->merged : &r->pending,
					    0, r->slot.npages);
	}
}

/*
 * Move every pending page to the merged set: their reset has completed
 * (rule reset-before-copy).
 */
void dt_regions_publish(const struct dt_regions *rs)
{
	u32 i;

	for (i = 0; i < rs->end; i++)
		if (rs->v[i])
			dt_bitmap_move(&rs->v[i]->merged, &rs->v[i]->pending);
}
