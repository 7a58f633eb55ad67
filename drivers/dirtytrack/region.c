// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: the tracker's mirror of the VM's memslots, each with its merged
 * (published) and pending (harvested, reset not yet complete) dirty bits.
 * Called with the tracker's lock held.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "dirtytrack_private.h"

static unsigned long max_region_pages = 1UL << 28;	/* 1 TiB of 4 KiB */
module_param(max_region_pages, ulong, 0444);
MODULE_PARM_DESC(max_region_pages, "Largest region, in host pages");

u64 dt_region_max_pages(void)
{
	return max_region_pages;
}

/* No KVM architecture addresses more guest physical memory than this. */
#define DT_MAX_GPA_BITS		52

static int dt_bitmap_alloc(struct dt_bitmap *b, u64 npages)
{
	size_t words = dt_bitmap_words(npages);
	size_t sums = dt_summary_words(npages);

	b->npages = npages;
	b->words = kvcalloc(words, sizeof(u64), GFP_KERNEL_ACCOUNT);
	b->summary = kvcalloc(sums, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!b->words || !b->summary) {
		kvfree(b->words);
		kvfree(b->summary);
		return -ENOMEM;
	}
	return 0;
}

static void dt_bitmap_free(struct dt_bitmap *b)
{
	kvfree(b->words);
	kvfree(b->summary);
}

/*
 * The merged set lives in one vmalloc area, words then summary, each padded
 * to a page, so the VMM can mmap it; memcg-accounted like the rest.
 */
static int dt_region_map_alloc(struct dt_region *r, u64 npages)
{
	u64 words = PAGE_ALIGN(dt_bitmap_words(npages) * sizeof(u64));
	u64 sums = PAGE_ALIGN(dt_summary_words(npages) * sizeof(u64));

	r->map_size = words + sums;
	r->map = __vmalloc(r->map_size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!r->map)
		return -ENOMEM;
	r->merged.npages = npages;
	r->merged.words = r->map;
	r->merged.summary = r->map + words;
	return 0;
}

static void dt_region_free(struct dt_region *r)
{
	vfree(r->map);
	dt_bitmap_free(&r->pending);
	kfree(r);
}

static int dt_slot_cmp(const void *a, const void *b)
{
	const struct dt_slot *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Rebuild the sorted table the ring walk searches. */
static void dt_table_rebuild(struct dt_tracker *t)
{
	u32 i, n = 0;

	for (i = 0; i < t->regions_end; i++)
		if (t->regions[i])
			t->table_v[n++] = t->regions[i]->slot;
	sort(t->table_v, n, sizeof(t->table_v[0]), dt_slot_cmp, NULL);
	t->table.v = t->table_v;
	t->table.n = n;
	t->table.hint = 0;
}

struct dt_region *dt_region_find(struct dt_tracker *t, u32 slot)
{
	u32 i;

	for (i = 0; i < t->regions_end; i++)
		if (t->regions[i] && t->regions[i]->slot.slot == slot)
			return t->regions[i];
	return NULL;
}

/* Is @gfn in the @npages frames from @base? */
static bool dt_gfn_in(u64 gfn, u64 base, u64 npages)
{
	return gfn >= base && gfn - base < npages;
}

/**
 * dt_region_find_gfn() - the region of address space 0 holding a frame
 * @t: the tracker
 * @gfn: the guest frame
 * @base: output: the region's first frame, where @gfn was found (its old
 *        place for a region that moved since the last sync, if no region
 *        holds @gfn now)
 *
 * Return: the region, or NULL.
 */
struct dt_region *dt_region_find_gfn(struct dt_tracker *t, u64 gfn,
				     u64 *base)
{
	u32 i;

	for (i = 0; i < t->regions_end; i++) {
		struct dt_region *r = t->regions[i];

		if (r && !(r->slot.slot >> 16) &&
		    dt_gfn_in(gfn, r->first_gfn, r->slot.npages)) {
			*base = r->first_gfn;
			return r;
		}
	}
	for (i = 0; i < t->regions_end; i++) {
		struct dt_region *r = t->regions[i];

		if (r && r->moved && !(r->slot.slot >> 16) &&
		    dt_gfn_in(gfn, r->moved_from_gfn, r->slot.npages)) {
			*base = r->moved_from_gfn;
			return r;
		}
	}
	return NULL;
}

/**
 * dt_region_hint_find() - the region of address space 0 holding a frame
 * @t: the tracker
 * @gfn: the frame
 * @hint: the region the last frame resolved to, tried first, kept up to date
 *
 * Return: the region (its first frame in @hint->base), or NULL.
 */
struct dt_region *dt_region_hint_find(struct dt_tracker *t, u64 gfn,
				      struct dt_gfn_hint *hint)
{
	struct dt_region *r = hint->r;

	if (!r || !dt_gfn_in(gfn, hint->base, r->slot.npages)) {
		r = dt_region_find_gfn(t, gfn, &hint->base);
		hint->r = r;
	}
	return r;
}

/**
 * dt_region_mark_gfn() - mark a guest frame of address space 0 pending
 * @t: the tracker
 * @gfn: the frame
 * @hint: the region the last frame resolved to, kept up to date
 *
 * Return: false if no region holds @gfn.
 */
bool dt_region_mark_gfn(struct dt_tracker *t, u64 gfn,
			struct dt_gfn_hint *hint)
{
	struct dt_region *r = dt_region_hint_find(t, gfn, hint);

	if (!r)
		return false;
	dt_bitmap_set_pending(&r->pending, gfn - hint->base);
	return true;
}

/**
 * dt_regions_mark_gfns() - mark guest frames [@gfn, @end_gfn) pending
 * @t: the tracker
 * @gfn: the first frame
 * @end_gfn: the end
 *
 * Frames in no region of address space 0 are skipped; O(regions) per
 * region, whatever the range.
 */
void dt_regions_mark_gfns(struct dt_tracker *t, u64 gfn, u64 end_gfn)
{
	u32 i;

	for (i = 0; i < t->regions_end; i++) {
		struct dt_region *r = t->regions[i];
		u64 lo, hi;

		if (!r || r->slot.slot >> 16)
			continue;
		lo = max(gfn, r->first_gfn);
		hi = min(end_gfn, r->first_gfn + r->slot.npages);
		if (lo < hi)
			dt_bitmap_set_range(&r->pending, lo - r->first_gfn,
					    hi - lo);
	}
}

/* A sync took the vmm log: old places of moved regions are gone. */
void dt_regions_forget_moves(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < t->regions_end; i++)
		if (t->regions[i])
			t->regions[i]->moved = false;
}

/* Does [@first, @end) of address space @as_id overlap a region but @skip? */
static bool dt_region_overlaps(struct dt_tracker *t, struct dt_region *skip,
			       u16 as_id, u64 first, u64 end)
{
	int i;

	for (i = 0; i < t->regions_end; i++) {
		struct dt_region *o = t->regions[i];

		if (o && o != skip && o->slot.slot >> 16 == as_id &&
		    first < o->first_gfn + o->slot.npages && o->first_gfn < end)
			return true;
	}
	return false;
}

/**
 * dt_region_add() - mirror a memslot
 * @t: the tracker
 * @cmd: the memslot; its out_ fields are filled in
 *
 * Return: 0; -EINVAL for an empty or too large region or a GFN range
 * that wraps or ends above 2^52 bytes; -EEXIST if the slot is already a
 * region or the GFN range overlaps one in the same address space; -ENOSPC
 * past DT_MAX_REGIONS; -ENOBUFS if the kvm-bitmap scratch cannot hold its
 * bitmap; -ENOMEM.
 */
int dt_region_add(struct dt_tracker *t, struct dirtytrack_region *cmd)
{
	u32 slot = DT_SLOT(cmd->as_id, cmd->slot_id);
	struct dt_region *r;
	int i, free = -1, ret;
	u64 end;

	if (!cmd->npages || cmd->npages > max_region_pages ||
	    check_add_overflow(cmd->first_gfn, cmd->npages, &end) ||
	    end > 1ULL << (DT_MAX_GPA_BITS - PAGE_SHIFT))
		return -EINVAL;
	for (i = 0; i < DT_MAX_REGIONS; i++) {
		if (!t->regions[i] && free < 0)
			free = i;
		if (t->regions[i] && t->regions[i]->slot.slot == slot)
			return -EEXIST;
	}
	if (dt_region_overlaps(t, NULL, cmd->as_id, cmd->first_gfn, end))
		return -EEXIST;
	if (free < 0)
		return -ENOSPC;
	ret = dt_kvm_bitmap_check_region(t, cmd->npages);
	if (ret)
		return ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	ret = dt_region_map_alloc(r, cmd->npages);
	if (ret)
		goto err_free;
	ret = dt_bitmap_alloc(&r->pending, cmd->npages);
	if (ret)
		goto err_map;
	r->first_gfn = cmd->first_gfn;
	r->slot.slot = slot;
	r->slot.npages = cmd->npages;
	r->slot.dirty = &r->pending;

	/* Offsets are never reused: a stale mapping can only fault. */
	down_write(&t->map_lock);
	r->map_offset = t->next_map_offset;
	t->next_map_offset += r->map_size;
	t->regions[free] = r;
	if (free >= t->regions_end)
		t->regions_end = free + 1;
	up_write(&t->map_lock);
	dt_table_rebuild(t);
	if (!cmd->as_id)
		dt_vmm_log_grow(t, end);

	/* Hotplugged while tracking: the destination has none of it. */
	if (t->state != DT_IDLE)
		dt_bitmap_set_range(&r->merged, 0, r->slot.npages);

	cmd->out_mmap_offset = r->map_offset;
	cmd->out_mmap_size = r->map_size;
	cmd->out_summary_offset = (void *)r->merged.summary - r->map;
	return 0;

err_map:
	vfree(r->map);
err_free:
	kfree(r);
	return ret;
}

/**
 * dt_region_map_page() - the page backing an offset of the tracker mapping
 * @t: the tracker
 * @pgoff: the page offset in the tracker file
 *
 * Called with @t->map_lock held.
 *
 * Return: the page, or NULL if no region is mapped there.
 */
struct page *dt_region_map_page(struct dt_tracker *t, pgoff_t pgoff)
{
	u64 off = (u64)pgoff << PAGE_SHIFT;
	int i;

	lockdep_assert_held(&t->map_lock);
	for (i = 0; i < t->regions_end; i++) {
		struct dt_region *r = t->regions[i];

		if (r && off >= r->map_offset &&
		    off < r->map_offset + r->map_size)
			return vmalloc_to_page(r->map + (off - r->map_offset));
	}
	return NULL;
}

/* Claim in chunks of this many words, through a kernel bounce buffer. */
#define DT_CLAIM_CHUNK_WORDS	512

/**
 * dt_region_claim_to_user() - copy out and clear a range of a region
 * @r: the region
 * @first: the first page, a multiple of 64, inside the region
 * @npages: pages from @first, clipped to the region
 * @ubitmap: where the bits go, (npages + 63) / 64 words
 * @count: output: dirty pages claimed
 *
 * Return: 0; -ENOMEM; -EFAULT, and then nothing is lost: the chunk that
 * failed is put back and the chunks already copied out are marked dirty
 * again, since the caller gets no result (errors mean dirty).
 */
int dt_region_claim_to_user(struct dt_region *r, u64 first, u64 npages,
			    u64 __user *ubitmap, u64 *count)
{
	u64 *buf, done = 0;
	int ret = 0;

	npages = min(npages, r->slot.npages - first);
	*count = 0;
	buf = kmalloc_array(DT_CLAIM_CHUNK_WORDS, sizeof(u64), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (done < npages) {
		u64 n = min_t(u64, npages - done,
			      DT_CLAIM_CHUNK_WORDS * DT_WORD_BITS);
		u64 at = first + done;
		u64 nw = dt_bitmap_words(n);

		*count += dt_bitmap_claim(&r->merged, at, n, buf);
		if (copy_to_user(ubitmap + done / DT_WORD_BITS, buf,
				 nw * sizeof(u64))) {
			dt_bitmap_or_words(&r->merged, at / DT_WORD_BITS, buf,
					   nw);
			dt_bitmap_set_range(&r->merged, first, done);
			ret = -EFAULT;
			break;
		}
		done += n;
	}
	kfree(buf);
	return ret;
}

/**
 * dt_region_remove() - drop a region, after harvesting every source for it
 * @t: the tracker
 * @slot: DT_SLOT(as_id, slot_id)
 * @ubitmap: where the region's last bits go, or NULL to drop them
 * @count: output: the dirty pages written to @ubitmap
 *
 * Return: 0; -ENOENT if @slot is no region; a harvest's error or -EFAULT,
 * in which case the region stays with its bits.
 */
int dt_region_remove(struct dt_tracker *t, u32 slot, u64 __user *ubitmap,
		     u64 *count)
{
	struct dt_region *r = dt_region_find(t, slot);
	struct dt_harvest h = { .kind = DT_HARVEST_REMOVE, .region = r };
	int i, ret;

	*count = 0;
	if (!r)
		return -ENOENT;
	/*
	 * Rule reap-before-memslot-change and rule backup-bitmap-last: ring
	 * entries and KVM's bitmap go with the slot.
	 */
	ret = dt_harvest(t, &h);
	if (ret)
		return ret;
	if (ubitmap) {
		ret = dt_region_claim_to_user(r, 0, r->slot.npages, ubitmap,
					      count);
		if (ret)
			return ret;
	}
	for (i = 0; i < t->regions_end; i++) {
		if (t->regions[i] != r)
			continue;
		/*
		 * Unlink, then zap every process's mapping of it, before the
		 * pages go: the fault handler finds nothing after the unlink.
		 */
		down_write(&t->map_lock);
		t->regions[i] = NULL;
		while (t->regions_end && !t->regions[t->regions_end - 1])
			t->regions_end--;
		unmap_mapping_range(t->inode->i_mapping, r->map_offset,
				    r->map_size, 1);
		up_write(&t->map_lock);
		dt_region_free(r);
	}
	/* The memslot goes, and its mappings with it: nothing stays unlogged. */
	dt_sticky_forget_slot(&t->sticky, slot);
	dt_table_rebuild(t);
	return 0;
}

/**
 * dt_region_move() - a memslot is about to move: harvest, then follow it
 * @t: the tracker
 * @slot: DT_SLOT(as_id, slot_id)
 * @new_first_gfn: where it goes
 *
 * The region keeps its bits and its mapping: offsets are slot-relative.
 *
 * Return: 0; -ENOENT if @slot is no region; -EINVAL if the new range
 * wraps or ends above 2^52 bytes; -EEXIST if it overlaps another region;
 * a harvest's error.
 */
int dt_region_move(struct dt_tracker *t, u32 slot, u64 new_first_gfn)
{
	struct dt_region *r = dt_region_find(t, slot);
	struct dt_harvest h = { .kind = DT_HARVEST_SYNC };
	u64 end;
	int ret;

	if (!r)
		return -ENOENT;
	if (check_add_overflow(new_first_gfn, r->slot.npages, &end) ||
	    end > 1ULL << (DT_MAX_GPA_BITS - PAGE_SHIFT))
		return -EINVAL;
	if (dt_region_overlaps(t, r, slot >> 16, new_first_gfn, end))
		return -EEXIST;
	/*
	 * Rule reap-before-memslot-change: no entry may be left to be read
	 * against the old place.
	 */
	ret = dt_harvest(t, &h);
	if (ret)
		return ret;
	r->moved_from_gfn = r->first_gfn;
	r->moved = true;
	r->first_gfn = new_first_gfn;
	if (!(slot >> 16))
		dt_vmm_log_grow(t, end);
	return 0;
}

void dt_regions_free(struct dt_tracker *t)
{
	int i;

	for (i = 0; i < t->regions_end; i++) {
		if (t->regions[i])
			dt_region_free(t->regions[i]);
		t->regions[i] = NULL;
	}
	t->regions_end = 0;
	t->table.n = 0;
}

/* Errors mean all dirty (rule errors-mean-dirty). */
void dt_regions_mark_all_dirty(struct dt_tracker *t, bool publish)
{
	int i;

	for (i = 0; i < t->regions_end; i++)
		if (t->regions[i])
			dt_bitmap_set_range(publish ? &t->regions[i]->merged :
						      &t->regions[i]->pending,
					    0, t->regions[i]->slot.npages);
}

/* Move every pending page to the merged set: their reset has completed. */
void dt_regions_publish(struct dt_tracker *t)
{
	int i;

	for (i = 0; i < t->regions_end; i++)
		if (t->regions[i])
			dt_bitmap_move(&t->regions[i]->merged,
				       &t->regions[i]->pending);
}
