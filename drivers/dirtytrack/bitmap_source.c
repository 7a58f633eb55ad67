// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm-bitmap source's home in the module: the VM's file and the
 * scratch the VMM lends for KVM's bitmaps (scratch.c), with no page known
 * to be inaccessible after it, so every read first asks KVM whether the
 * memslot fits.  What is read, when, and where it goes is the core's
 * (core/kvm_bitmap.c).
 *
 * Called with the tracker's lock held.
 */
#include <linux/slab.h>

#include "dirtytrack_private.h"

/* One guard word after a region's: what the uAPI asks the scratch for. */
#define DT_KVM_GUARD_WORDS	1

static int dt_kvm_bitmap_harvest(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	struct dt_kvm_bitmap_read rd = {};

	dt_kvm_bitmap_src_harvest(&t->kbm->src, &t->regions, h->kind,
				  h->region, &rd);
	h->bitmap_pages += rd.pages;
	h->bitmap_errors += rd.errors;
	return 0;
}

static bool dt_kvm_bitmap_attached(void *ctx)
{
	return ((struct dt_tracker *)ctx)->kbm;
}

const struct dt_source_ops dt_kvm_bitmap_source_ops = {
	.attached = dt_kvm_bitmap_attached,
	.harvest = dt_kvm_bitmap_harvest,
};

/**
 * dt_kvm_bitmap_check_region() - can the scratch hold a region's bitmap?
 * @t: the tracker
 * @npages: the region's size
 *
 * Return: 0, or -ENOBUFS if the kvm-bitmap source is attached and its
 * scratch is too small (the guard word stays free).
 */
int dt_kvm_bitmap_check_region(struct dt_tracker *t, u64 npages)
{
	return dt_kvm_bitmap_src_holds(t->kbm ? &t->kbm->src : NULL, npages);
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
	struct dt_kvm_bitmap *kbm;
	int ret;

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
			      cmd->scratch_size, 1 + DT_KVM_GUARD_WORDS,
			      dt_bitmap_words(dt_region_max_pages()) +
			      DT_KVM_GUARD_WORDS);
	if (ret) {
		kfree(kbm);
		return ret;
	}
	kbm->scratch.file = t->vm_file;
	kbm->src = (struct dt_kvm_bitmap_src){
		.io = &kbm->scratch.io, .flags = cmd->flags,
		.guard_words = DT_KVM_GUARD_WORDS,
	};
	t->kbm = kbm;
	ret = dt_kvm_bitmap_src_attach(&kbm->src, &t->regions, t->nr_rings);
	if (ret)
		dt_kvm_bitmap_free(t);
	else
		WRITE_ONCE(t->kbm_shown, kbm->src.flags);
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
