// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm-bitmap source: KVM's per-memslot dirty bitmap, either the arm64
 * backup bitmap beside the rings (writes made with no vCPU running: vGIC
 * and ITS table saves) or the plain bitmap of a VM that uses no ring.
 *
 * KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG read their arguments from user
 * memory and write the bitmap there, so they run on scratch memory the VMM
 * lends: a header of ioctl arguments, then the bitmap.  Its contents are
 * untrusted: they are read in bounded chunks through a kernel bounce
 * buffer, masked to the region, and never used as an index or a length.
 * Called with the tracker's lock held.
 */
#include <linux/kvm.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dirtytrack_private.h"

static int dt_kvm_ioctl_scratch(struct dt_tracker *t, unsigned int cmd,
				const void *arg, size_t len)
{
	return dt_scratch_ioctl(&t->kbm->scratch, t->vm_file, cmd, arg, len);
}

static u64 __user *dt_kvm_bitmap_user(struct dt_tracker *t)
{
	return dt_scratch_bitmap(&t->kbm->scratch);
}

/*
 * Is @r's memslot at most one guard word larger than the region?  KVM
 * copies a whole memslot's bitmap, whatever size the VMM declared, and the
 * scratch holds the region's words and one guard word.  KVM_CLEAR_DIRTY_LOG
 * of no page at first_page = the guard word's end succeeds only if the
 * memslot reaches that far, and changes nothing.  Asked before every read:
 * the memslot could have been re-created since.  A memslot that ends
 * inside the guard word is caught by dt_kvm_bitmap_read().
 */
static int dt_kvm_bitmap_fits(struct dt_tracker *t, struct dt_region *r)
{
	u64 words = dt_bitmap_words(r->slot.npages) + 1;
	struct kvm_clear_dirty_log clr = {
		.slot = r->slot.slot,
		.first_page = words * DT_WORD_BITS,
		.num_pages = 0,
		.dirty_bitmap = dt_kvm_bitmap_user(t),
	};
	int ret;

	ret = dt_kvm_ioctl_scratch(t, KVM_CLEAR_DIRTY_LOG, &clr, sizeof(clr));
	if (!ret)
		return -ENOBUFS;
	/* -EINVAL: first_page is past the memslot's end, as it must be. */
	return ret == -EINVAL ? 0 : ret;
}

/*
 * Under manual protect, hand KVM back exactly the bits of one chunk we
 * read, so it write-protects those pages again before they are published.
 */
static int dt_kvm_bitmap_clear(struct dt_tracker *t, struct dt_region *r,
			       u64 first_word, u64 nwords)
{
	u64 first = first_word * DT_WORD_BITS;
	struct kvm_clear_dirty_log clr = {
		.slot = r->slot.slot,
		.first_page = first,
		.num_pages = min(nwords * DT_WORD_BITS, r->slot.npages - first),
		.dirty_bitmap = dt_kvm_bitmap_user(t) + first_word,
	};

	return dt_kvm_ioctl_scratch(t, KVM_CLEAR_DIRTY_LOG, &clr, sizeof(clr));
}

/*
 * Bits KVM reported past the region's declared end (the tail of its last
 * word, and the guard word after it): pages of the memslot the tracker
 * cannot represent.  With get-and-clear they are gone from KVM too.
 */
static bool dt_kvm_bitmap_past_end(struct dt_tracker *t, struct dt_region *r)
{
	u64 nwords = dt_bitmap_words(r->slot.npages), tail[2];
	u64 used = r->slot.npages % DT_WORD_BITS;

	if (copy_from_user(tail, dt_kvm_bitmap_user(t) + nwords - 1,
			   sizeof(tail)))
		return true;
	return tail[1] || (used && tail[0] >> used);
}

/*
 * Read one memslot's bitmap into @r's pending set.  Any error marks the whole
 * region dirty (rule errors-mean-dirty): without manual protect KVM may already
 * have cleared bits it could not hand over.
 */
static void dt_kvm_bitmap_read(struct dt_tracker *t, struct dt_region *r,
			       struct dt_harvest *h)
{
	struct dt_kvm_bitmap *kbm = t->kbm;
	bool manual = kbm->flags & DIRTYTRACK_KVM_MANUAL_PROTECT;
	u64 nwords = dt_bitmap_words(r->slot.npages), w, i;
	u64 __user *guard = dt_kvm_bitmap_user(t) + nwords;
	struct kvm_dirty_log log = {
		.slot = r->slot.slot,
		.dirty_bitmap = dt_kvm_bitmap_user(t),
	};
	int ret;

	ret = dt_kvm_bitmap_fits(t, r);
	/* KVM writes the guard word only for a memslot longer than declared. */
	if (!ret && put_user(0, guard))
		ret = -EFAULT;
	if (!ret)
		ret = dt_kvm_ioctl_scratch(t, KVM_GET_DIRTY_LOG, &log,
					   sizeof(log));
	if (!ret && dt_kvm_bitmap_past_end(t, r))
		h->bitmap_errors++;
	for (w = 0; !ret && w < nwords; w += DT_SCRATCH_CHUNK_WORDS) {
		u64 n = min_t(u64, nwords - w, DT_SCRATCH_CHUNK_WORDS);
		u64 any = 0;

		ret = dt_scratch_read(&kbm->scratch, w, n);
		if (ret)
			break;
		for (i = 0; i < n; i++)
			any |= kbm->scratch.bounce[i];
		if (!any)
			continue;
		h->bitmap_pages += dt_bitmap_or_words(&r->pending, w,
						      kbm->scratch.bounce, n);
		/* A failed clear leaves the bits set in KVM: reported again. */
		if (manual && dt_kvm_bitmap_clear(t, r, w, n))
			h->bitmap_errors++;
	}
	if (ret) {
		dt_bitmap_set_range(&r->pending, 0, r->slot.npages);
		h->bitmap_errors++;
	}
}

static int dt_kvm_bitmap_harvest(struct dt_tracker *t, struct dt_harvest *h)
{
	bool backup;
	int i;

	backup = t->kbm->flags & DIRTYTRACK_KVM_RING;
	if (h->kind == DT_HARVEST_REMOVE) {
		/*
		 * Rule backup-bitmap-last: a deleted memslot takes its bitmap
		 * with it.
		 */
		dt_kvm_bitmap_read(t, h->region, h);
		return 0;
	}
	/*
	 * The backup bitmap is read last, by the final sync (rule
	 * backup-bitmap-last).
	 */
	if (backup && h->kind != DT_HARVEST_ALL)
		return 0;
	for (i = 0; i < t->regions.end; i++)
		if (t->regions.v[i])
			dt_kvm_bitmap_read(t, t->regions.v[i], h);
	return 0;
}

static bool dt_kvm_bitmap_takes_part(const struct dt_tracker *t,
				     const struct dt_harvest *h)
{
	return t->kbm && h->kind != DT_HARVEST_VCPU;
}

const struct dt_source_ops dt_kvm_bitmap_source_ops = {
	.id = DIRTYTRACK_SOURCE_KVM_BITMAP,
	.takes_part = dt_kvm_bitmap_takes_part,
	.harvest = dt_kvm_bitmap_harvest,
};

/**
 * dt_kvm_bitmap_check_region() - can the scratch hold a region's bitmap?
 * @t: the tracker
 * @npages: the region's size
 *
 * Return: 0, or -ENOBUFS if the kvm-bitmap source is attached and its
 * scratch is too small (one guard word stays free: dt_kvm_bitmap_fits()).
 */
int dt_kvm_bitmap_check_region(struct dt_tracker *t, u64 npages)
{
	if (t->kbm && dt_bitmap_words(npages) + 1 > t->kbm->scratch.words)
		return -ENOBUFS;
	return 0;
}

/*
 * Does the VM keep a bitmap, and does it use a ring, as declared?
 *  - KVM_GET_DIRTY_LOG for an address space no VM has: -ENXIO if the VM
 *    keeps no bitmap (a ring without WITH_BITMAP), -EINVAL if it keeps
 *    one; nothing is read or cleared either way.
 *  - With no ring attached yet, KVM_RESET_DIRTY_RINGS: -EINVAL if the VM
 *    has no ring.  It resets only entries a collector already marked
 *    RESET, which KVM's next reset would do anyway.
 */
static int dt_kvm_bitmap_probe(struct dt_tracker *t, bool ring)
{
	struct kvm_dirty_log log = {
		.slot = DT_SLOT(0xffff, 0),
		.dirty_bitmap = dt_kvm_bitmap_user(t),
	};
	int ret;

	ret = dt_kvm_ioctl_scratch(t, KVM_GET_DIRTY_LOG, &log, sizeof(log));
	ret = dt_kvm_bitmap_probe_log(ret, ring);
	if (ret || t->nr_rings)
		return ret;
	ret = dt_kvm_ioctl(t->vm_file, KVM_RESET_DIRTY_RINGS, 0);
	return dt_kvm_bitmap_probe_reset(ret, ring);
}

/**
 * dt_kvm_bitmap_attach() - ioctl(DIRTYTRACK_ATTACH_KVM_BITMAP)
 * @t: the tracker
 * @cmd: the call
 *
 * Return: 0; -EOPNOTSUPP for unknown flags; -EINVAL for a configuration
 * that loses pages (a ring with manual protect or INITIALLY_SET), for
 * INITIALLY_SET without manual protect, for no ring declared while rings
 * are attached or while the VM uses one, and for a misaligned, too small
 * or too large scratch; -EFAULT for a scratch outside user memory; -EEXIST
 * if attached already; -ENXIO if the VM uses a ring without
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP; -ENOBUFS if a region does not fit
 * the scratch; -ENOMEM.
 */
int dt_kvm_bitmap_attach(struct dt_tracker *t,
			 struct dirtytrack_attach_kvm_bitmap *cmd)
{
	bool ring = cmd->flags & DIRTYTRACK_KVM_RING;
	struct dt_kvm_bitmap *kbm;
	int i, ret;

	ret = dt_check_kvm_bitmap_flags(cmd->flags, t->nr_rings);
	if (ret)
		return ret;
	if (t->kbm)
		return -EEXIST;

	kbm = kzalloc(sizeof(*kbm), GFP_KERNEL_ACCOUNT);
	if (!kbm)
		return -ENOMEM;
	/* One word and the guard at least; the largest region's at most. */
	ret = dt_scratch_init(&kbm->scratch, cmd->scratch_addr,
			      cmd->scratch_size, 2,
			      dt_bitmap_words(dt_region_max_pages()) + 1);
	if (ret) {
		kfree(kbm);
		return ret;
	}
	kbm->flags = cmd->flags;
	t->kbm = kbm;

	ret = dt_kvm_bitmap_probe(t, ring);
	for (i = 0; !ret && i < t->regions.end; i++)
		if (t->regions.v[i])
			ret = dt_kvm_bitmap_check_region(t,
							 t->regions.v[i]->slot.npages);
	if (ret)
		dt_kvm_bitmap_free(t);
	else
		WRITE_ONCE(t->kbm_shown, kbm->flags);
	return ret;
}

void dt_kvm_bitmap_free(struct dt_tracker *t)
{
	if (!t->kbm)
		return;
	dt_scratch_free(&t->kbm->scratch);
	kfree(t->kbm);
	t->kbm = NULL;
	WRITE_ONCE(t->kbm_shown, -1);
}
