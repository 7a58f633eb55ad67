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
#include <linux/vmalloc.h>

#include "dirtytrack_private.h"

static unsigned long max_region_pages = 1UL << 28;	/* 1 TiB of 4 KiB */
module_param(max_region_pages, ulong, 0444);
MODULE_PARM_DESC(max_region_pages, "Largest region, in host pages");

u64 dt_region_max_pages(void)
{
	return max_region_pages;
}

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
static int dt_region_map_alloc(struct dt_mapped_region *m, u64 npages)
{
	u64 words = PAGE_ALIGN(dt_bitmap_words(npages) * sizeof(u64));
	u64 sums = PAGE_ALIGN(dt_summary_words(npages) * sizeof(u64));

	m->map_size = words + sums;
	m->map = __vmalloc(m->map_size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!m->map)
		return -ENOMEM;
	m->r.merged.npages = npages;
	m->r.merged.words = m->map;
	m->r.merged.summary = m->map + words;
	return 0;
}

static void dt_region_free(struct dt_region *r)
{
	struct dt_mapped_region *m = dt_mapped(r);

	vfree(m->map);
	dt_bitmap_free(&r->pending);
	kfree(m);
}

/* Rebuild the sorted table the ring walk searches. */
static void dt_table_rebuild(struct dt_tracker *t)
{
	dt_regions_table(&t->regions, t->table_v, &t->table);
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
	struct dt_mapped_region *m;
	struct dt_region *r;
	int free, ret;
	u64 end;

	if (cmd->npages > max_region_pages ||
	    dt_check_gfn_range(cmd->first_gfn, cmd->npages, PAGE_SHIFT))
		return -EINVAL;
	end = cmd->first_gfn + cmd->npages;
	free = dt_regions_check_new(&t->regions, slot, cmd->first_gfn,
				    cmd->npages);
	if (free < 0)
		return free;
	ret = dt_kvm_bitmap_check_region(t, cmd->npages);
	if (ret)
		return ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	r = &m->r;
	ret = dt_region_map_alloc(m, cmd->npages);
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
	m->map_offset = t->next_map_offset;
	t->next_map_offset += m->map_size;
	dt_regions_link(&t->regions, free, r);
	up_write(&t->map_lock);
	dt_table_rebuild(t);
	if (!cmd->as_id)
		dt_vmm_log_grow(t, end);

	/* Hotplugged while tracking: the destination has none of it. */
	if (t->state != DT_IDLE)
		dt_bitmap_set_range(&r->merged, 0, r->slot.npages);

	cmd->out_mmap_offset = m->map_offset;
	cmd->out_mmap_size = m->map_size;
	cmd->out_summary_offset = (void *)r->merged.summary - m->map;
	return 0;

err_map:
	vfree(m->map);
err_free:
	kfree(m);
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
	for (i = 0; i < t->regions.end; i++) {
		struct dt_mapped_region *m;

		if (!t->regions.v[i])
			continue;
		m = dt_mapped(t->regions.v[i]);
		if (off >= m->map_offset && off < m->map_offset + m->map_size)
			return vmalloc_to_page(m->map + (off - m->map_offset));
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
 * Return: 0; -ENOENT if @slot is no region; -EBUSY during the final sync
 * or once sealed; a harvest's error or -EFAULT, in which case the region
 * stays with its bits.
 */
int dt_region_remove(struct dt_tracker *t, u32 slot, u64 __user *ubitmap,
		     u64 *count)
{
	struct dt_region *r = dt_regions_find(&t->regions, slot);
	struct dt_harvest h = { .kind = DT_HARVEST_REMOVE, .region = r };
	struct dt_lifecycle lc = dt_lifecycle_of(t);
	struct dt_mapped_region *m;
	int ret;

	*count = 0;
	if (!r)
		return -ENOENT;
	/*
	 * Rule reap-before-memslot-change and rule backup-bitmap-last: ring
	 * entries and KVM's bitmap go with the slot.
	 */
	ret = dt_lifecycle_harvest(&lc, &h);
	if (ret)
		return ret;
	if (ubitmap) {
		ret = dt_region_claim_to_user(r, 0, r->slot.npages, ubitmap,
					      count);
		if (ret)
			return ret;
	}
	/*
	 * Unlink, then zap every process's mapping of it, before the pages
	 * go: the fault handler finds nothing after the unlink.
	 */
	m = dt_mapped(r);
	down_write(&t->map_lock);
	dt_regions_unlink(&t->regions, r);
	unmap_mapping_range(t->inode->i_mapping, m->map_offset, m->map_size, 1);
	up_write(&t->map_lock);
	dt_region_free(r);
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
 * -EBUSY during the final sync or once sealed; a harvest's error.
 */
int dt_region_move(struct dt_tracker *t, u32 slot, u64 new_first_gfn)
{
	struct dt_region *r = dt_regions_find(&t->regions, slot);
	struct dt_lifecycle lc = dt_lifecycle_of(t);
	u64 end;
	int ret;

	if (!r)
		return -ENOENT;
	if (dt_check_gfn_range(new_first_gfn, r->slot.npages, PAGE_SHIFT))
		return -EINVAL;
	end = new_first_gfn + r->slot.npages;
	if (dt_regions_overlap(&t->regions, r, slot >> 16, new_first_gfn, end))
		return -EEXIST;
	ret = dt_lifecycle_move(&lc, r, new_first_gfn);
	if (ret)
		return ret;
	if (!(slot >> 16))
		dt_vmm_log_grow(t, end);
	return 0;
}

void dt_regions_free(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < t->regions.end; i++) {
		if (t->regions.v[i])
			dt_region_free(t->regions.v[i]);
		t->regions.v[i] = NULL;
	}
	t->regions.end = 0;
	t->table.n = 0;
}
