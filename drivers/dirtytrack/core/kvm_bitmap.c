// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kvm-bitmap source, for both homes: KVM's per-memslot dirty bitmap,
 * either the arm64 backup bitmap beside the rings (writes made with no
 * vCPU running: vGIC and ITS table saves) or the plain bitmap of a VM that
 * uses no ring.  KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG write and read
 * the bitmap in user memory: the home's (dt_io.h).  Its contents are
 * untrusted: only their bits are used, masked to the region.
 *
 * KVM_GET_DIRTY_LOG copies the whole memslot's bitmap, whatever size the
 * VMM declared for the region.  So a region's bitmap is read into a window
 * of its words followed by guard words: a memslot a little longer than
 * declared shows in them (an error, the region marked dirty).  A much
 * longer one must not make KVM write past the memory:
 *  - where an inaccessible page follows the memory (the library's), the
 *    window ends at it, and KVM's copy faults (-EFAULT, the region marked
 *    dirty): nothing costs a call before the read;
 *  - elsewhere (the module's scratch, memory the VMM lends), the window is
 *    at the start and every read first asks KVM whether the memslot ends
 *    within the window: KVM_CLEAR_DIRTY_LOG of no page at the window's end
 *    succeeds only if the memslot reaches that far, and changes nothing.
 *    Asked before every read: the memslot could have been re-created.
 *
 * The bitmap pointers of KVM's arguments are set through their unions' u64
 * view (padding2): they are addresses in the VMM, never dereferenced here.
 *
 * Called with the tracker's lock held.
 */
#include "dt_io.h"

/*
 * Manual-protect clears go in chunks of at most 1 GiB of 4 KiB pages
 * (QEMU's), only where bits were read.
 */
#define DT_KVM_CLEAR_WORDS	4096

/* The first word of the window for a bitmap of @nwords words. */
static u64 dt_kvm_bitmap_base(const struct dt_kvm_bitmap_src *kbm, u64 nwords)
{
	return kbm->guarded ? kbm->io->words - (nwords + kbm->guard_words) : 0;
}

/* Does @r's memslot end within the window?  0, -ENOBUFS, or an error. */
static int dt_kvm_bitmap_fits(struct dt_kvm_bitmap_src *kbm,
			      const struct dt_region *r, u64 base)
{
	u64 words = dt_bitmap_words(r->slot.npages) + kbm->guard_words;
	struct kvm_clear_dirty_log clr = {
		.slot = r->slot.slot,
		.first_page = words * DT_WORD_BITS,
		.num_pages = 0,
	};
	int ret;

	if (kbm->guarded)
		return 0;
	clr.padding2 = kbm->io->ops->addr(kbm->io, base);
	ret = dt_io_ioctl(kbm->io, KVM_CLEAR_DIRTY_LOG, &clr, sizeof(clr));
	if (!ret)
		return -ENOBUFS;
	/* -EINVAL: first_page is past the memslot's end, as it must be. */
	return ret == -EINVAL ? 0 : ret;
}

/*
 * Bits KVM reported past the region's declared end (the tail of its last
 * word, and the guard words after it): pages of the memslot the tracker
 * cannot represent.  With get-and-clear they are gone from KVM too.
 */
static bool dt_kvm_bitmap_past_end(struct dt_kvm_bitmap_src *kbm,
				   const struct dt_region *r, u64 base)
{
	u64 nwords = dt_bitmap_words(r->slot.npages), guard = 0, i;
	u64 used = r->slot.npages % DT_WORD_BITS;
	const u64 *tail = kbm->io->ops->read(kbm->io, base + nwords - 1,
					     kbm->guard_words + 1);

	if (!tail)
		return true;
	for (i = 1; i <= kbm->guard_words; i++)
		guard |= tail[i];
	return guard || (used && tail[0] >> used);
}

/*
 * Under manual protect, hand KVM back exactly the bits of one chunk read,
 * so it write-protects those pages again before they are published.
 */
static int dt_kvm_bitmap_clear(struct dt_kvm_bitmap_src *kbm,
			       const struct dt_region *r, u64 base, u64 w,
			       u64 n)
{
	u64 first = w * DT_WORD_BITS, left = r->slot.npages - first;
	struct kvm_clear_dirty_log clr = {
		.slot = r->slot.slot,
		.first_page = first,
		.num_pages = n * DT_WORD_BITS < left ? n * DT_WORD_BITS : left,
	};

	clr.padding2 = kbm->io->ops->addr(kbm->io, base + w);
	return dt_io_ioctl(kbm->io, KVM_CLEAR_DIRTY_LOG, &clr, sizeof(clr));
}

/*
 * Read one memslot's bitmap and publish it.  The bitmap is the last source a
 * harvest reads (rule backup-bitmap-last): the rings' reset is done, so its
 * bits go straight to the merged set instead of through the pending one,
 * each chunk once KVM protects its pages again (manual protect), not before.
 * Any error marks the whole region dirty (rule errors-mean-dirty), pending:
 * without manual protect KVM may already have cleared bits it could not
 * hand over.
 */
static void dt_kvm_bitmap_read(struct dt_kvm_bitmap_src *kbm,
			       struct dt_region *r, struct dt_kvm_bitmap_read *rd)
{
	bool manual = kbm->flags & DIRTYTRACK_KVM_MANUAL_PROTECT;
	u64 nwords = dt_bitmap_words(r->slot.npages), w, i;
	u64 base = dt_kvm_bitmap_base(kbm, nwords), chunk = kbm->io->chunk;
	struct kvm_dirty_log log = { .slot = r->slot.slot };
	int ret;

	if (chunk > DT_KVM_CLEAR_WORDS)
		chunk = DT_KVM_CLEAR_WORDS;
	log.padding2 = kbm->io->ops->addr(kbm->io, base);
	ret = dt_kvm_bitmap_fits(kbm, r, base);
	/*
	 * KVM writes the guard words only for a longer memslot, and only the
	 * memslot's words: none may be left from another region.
	 */
	if (!ret)
		ret = kbm->io->ops->zero(kbm->io, base,
					 nwords + kbm->guard_words);
	if (!ret)
		ret = dt_io_ioctl(kbm->io, KVM_GET_DIRTY_LOG, &log, sizeof(log));
	if (!ret && dt_kvm_bitmap_past_end(kbm, r, base))
		rd->errors++;
	for (w = 0; !ret && w < nwords; w += chunk) {
		u64 n = nwords - w < chunk ? nwords - w : chunk, any = 0;
		const u64 *bits = kbm->io->ops->read(kbm->io, base + w, n);

		if (!bits) {
			ret = -EFAULT;
			break;
		}
		for (i = 0; i < n; i++)
			any |= bits[i];
		if (!any)
			continue;
		/* A failed clear leaves the bits in KVM: reported again. */
		if (manual && dt_kvm_bitmap_clear(kbm, r, base, w, n))
			rd->errors++;
		rd->pages += dt_bitmap_or_words(&r->merged, w, bits, n);
	}
	if (ret) {
		dt_bitmap_set_range(&r->pending, 0, r->slot.npages);
		rd->errors++;
	}
}

/**
 * dt_kvm_bitmap_src_harvest() - read what a harvest of @kind takes
 * @kbm: the source
 * @rs: the regions
 * @kind: the harvest's kind
 * @region: DT_HARVEST_REMOVE: the region that goes
 * @rd: the counts, accumulated
 *
 * The backup bitmap beside the rings is read only by the final sync (and
 * STOP), after every state save, and a region's before its memslot goes
 * (rule backup-bitmap-last); a plain bitmap by every harvest but a vCPU's.
 */
void dt_kvm_bitmap_src_harvest(struct dt_kvm_bitmap_src *kbm,
			       const struct dt_regions *rs,
			       enum dt_harvest_kind kind,
			       struct dt_region *region,
			       struct dt_kvm_bitmap_read *rd)
{
	u32 i;

	if (kind == DT_HARVEST_VCPU)
		return;
	if (kind == DT_HARVEST_REMOVE) {
		dt_kvm_bitmap_read(kbm, region, rd);
		return;
	}
	if ((kbm->flags & DIRTYTRACK_KVM_RING) && kind != DT_HARVEST_ALL)
		return;
	for (i = 0; i < rs->end; i++)
		if (rs->v[i])
			dt_kvm_bitmap_read(kbm, rs->v[i], rd);
}

/**
 * dt_kvm_bitmap_src_holds() - can the memory hold a region's window?
 * @kbm: the source, or NULL (none attached: any region does)
 * @npages: the region's size
 *
 * Return: 0, or -ENOBUFS.
 */
int dt_kvm_bitmap_src_holds(const struct dt_kvm_bitmap_src *kbm, u64 npages)
{
	if (kbm && dt_bitmap_words(npages) + kbm->guard_words > kbm->io->words)
		return -ENOBUFS;
	return 0;
}

/**
 * dt_kvm_bitmap_src_attach() - check a new source against the VM and regions
 * @kbm: the source: its io (the VM's file), flags (checked by
 *       dt_check_kvm_bitmap_flags()), guard words and guard page
 * @rs: the regions already there
 * @rings: rings are attached already
 *
 * Does the VM keep a bitmap, and does it use a ring, as declared?
 *  - KVM_GET_DIRTY_LOG for an address space no VM has: -ENXIO if the VM
 *    keeps no bitmap (a ring without WITH_BITMAP), -EINVAL if it keeps
 *    one; nothing is read or cleared either way.
 *  - With no ring attached yet, KVM_RESET_DIRTY_RINGS: -EINVAL if the VM
 *    has no ring.  It resets only entries a collector already marked
 *    RESET, which KVM's next reset would do anyway.
 * Then every region must fit the memory.
 *
 * Return: 0; -ENXIO if the VM uses a ring without
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP; -EINVAL if it does not use a ring
 * exactly as declared; -ENOBUFS if a region does not fit; or KVM's error.
 */
int dt_kvm_bitmap_src_attach(struct dt_kvm_bitmap_src *kbm,
			     const struct dt_regions *rs, bool rings)
{
	bool ring = kbm->flags & DIRTYTRACK_KVM_RING;
	struct kvm_dirty_log log = { .slot = DT_SLOT(0xffff, 0) };
	u32 i;
	int ret;

	log.padding2 = kbm->io->ops->addr(kbm->io, 0);
	ret = dt_kvm_bitmap_probe_log(dt_io_ioctl(kbm->io, KVM_GET_DIRTY_LOG,
						  &log, sizeof(log)), ring);
	if (!ret && !rings)
		ret = dt_kvm_bitmap_probe_reset(dt_io_ioctl(kbm->io,
							    KVM_RESET_DIRTY_RINGS,
							    NULL, 0), ring);
	for (i = 0; !ret && i < rs->end; i++)
		if (rs->v[i])
			ret = dt_kvm_bitmap_src_holds(kbm, rs->v[i]->slot.npages);
	return ret;
}
