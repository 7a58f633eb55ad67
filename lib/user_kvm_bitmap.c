// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's kvm-bitmap source: the module's bitmap_source.c, in
 * this process.  KVM writes bitmaps into memory of this process that ends
 * at an inaccessible page (user_io.c), so a memslot much longer than its
 * region makes KVM's copy fault instead of overrunning the heap, and no
 * read costs a call to ask first.  What is read, when, and where it goes
 * is the core's (drivers/dirtytrack/core/kvm_bitmap.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "user_backend.h"

/*
 * Guard words: a whole cache line, so that the window starts on one.  KVM
 * copies bitmaps with copy_to_user() and copy_from_user(), which on the
 * AMD hosts measured here take twice as long from a source 8 bytes off a
 * cache line: one guard word made KVM_CLEAR_DIRTY_LOG of 1 GiB cost 35 us
 * instead of 15.
 */
#define DT_U_GUARD_WORDS	8

static bool dt_u_kvm_bitmap_attached(void *ctx)
{
	return dt_u(ctx)->kbm;
}

static int dt_u_kvm_bitmap_harvest(void *ctx, struct dt_harvest *h)
{
	struct dirtytrack_tracker *t = ctx;
	struct dt_kvm_bitmap_read rd = { 0 };

	dt_kvm_bitmap_src_harvest(&dt_u(t)->kbm->src, &t->regions, h->kind,
				  h->region, &rd);
	h->bitmap_pages += rd.pages;
	h->bitmap_errors += rd.errors;
	return 0;
}

const struct dt_source_ops dt_u_kvm_bitmap_source = {
	.attached = dt_u_kvm_bitmap_attached,
	.harvest = dt_u_kvm_bitmap_harvest,
};

int dt_u_kvm_bitmap_check_region(struct dirtytrack_tracker *t, uint64_t npages)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;

	return dt_kvm_bitmap_src_holds(kbm ? &kbm->src : NULL, npages);
}

int dt_u_kvm_bitmap_attach(struct dirtytrack_tracker *t, uint32_t flags,
			   uint64_t max_pages)
{
	struct dt_u_kvm_bitmap *kbm;
	int ret;

	ret = dt_check_kvm_bitmap_flags(flags, t->nr_vcpus);
	if (ret)
		return ret;
	if (dt_u(t)->kbm)
		return -EEXIST;
	kbm = calloc(1, sizeof(*kbm));
	if (!kbm)
		return -ENOMEM;
	ret = dt_u_io_init(&kbm->io, dt_u(t)->vm_fd,
			   dt_bitmap_words(max_pages) + DT_U_GUARD_WORDS,
			   dt_lib_page_size(t), true);
	if (ret) {
		free(kbm);
		return ret;
	}
	kbm->src = (struct dt_kvm_bitmap_src){
		.io = &kbm->io.io, .flags = flags,
		.guard_words = DT_U_GUARD_WORDS, .guarded = true,
	};
	dt_u(t)->kbm = kbm;
	ret = dt_kvm_bitmap_src_attach(&kbm->src, &t->regions, t->nr_vcpus);
	if (ret)
		dt_u_kvm_bitmap_free(t);
	return ret;
}

void dt_u_kvm_bitmap_free(struct dirtytrack_tracker *t)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;

	if (!kbm)
		return;
	dt_u_io_free(&kbm->io);
	free(kbm);
	dt_u(t)->kbm = NULL;
}
