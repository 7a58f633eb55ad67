// SPDX-License-Identifier: GPL-2.0
/*
 * The library side of the benchmark, through its public API only: a
 * connection and a tracker per VM with the data memslot as its region,
 * and the check that follows every timed collection: the whole region
 * claimed (untimed) must be exactly the pages the guest wrote.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

const char *dtb_backend_name(enum dirtytrack_backend b)
{
	return b == DIRTYTRACK_BACKEND_KERNEL ? "kernel" : "user";
}

bool dtb_have_kernel(void)
{
	return !access(DIRTYTRACK_DEV_PATH, R_OK | W_OK);
}

/*
 * Page-aligned: KVM copies bitmaps in and out with copy_to_user() and
 * copy_from_user(), which take up to twice as long on a buffer off a cache
 * line (malloc's large blocks start 16 bytes into a page), and a baseline
 * must not pay for that.
 */
uint64_t *dtb_bitmap_alloc(uint64_t npages)
{
	size_t len = dtb_words(npages) * sizeof(uint64_t);
	void *b;

	if (posix_memalign(&b, 4096, len ? len : 1))
		return NULL;
	memset(b, 0, len);
	return b;
}

void dtb_bitmap_free(uint64_t *b)
{
	free(b);
}

void dtb_bitmap_from_jobs(uint64_t *b, uint64_t npages,
			  const struct dtb_job *jobs, int n)
{
	uint64_t k, p;
	int i;

	memset(b, 0, dtb_words(npages) * sizeof(uint64_t));
	for (i = 0; i < n; i++) {
		for (k = 0; k < jobs[i].npages; k++) {
			p = jobs[i].first_page + k * jobs[i].stride;
			b[p / 64] |= 1ULL << (p % 64);
		}
	}
}

uint64_t dtb_bitmap_weight(const uint64_t *b, uint64_t npages)
{
	uint64_t w, n = 0;

	for (w = 0; w < dtb_words(npages); w++)
		n += __builtin_popcountll(b[w]);
	return n;
}

int dtb_bitmap_compare(const uint64_t *got, const uint64_t *want,
		       uint64_t npages, const char *who, const char *what)
{
	uint64_t w, missing = 0, extra = 0;

	if (!memcmp(got, want, dtb_words(npages) * sizeof(uint64_t)))
		return 0;
	for (w = 0; w < dtb_words(npages); w++) {
		missing += __builtin_popcountll(want[w] & ~got[w]);
		extra += __builtin_popcountll(got[w] & ~want[w]);
	}
	dtb_err("%s: %s: found %llu pages, the guest wrote %llu (%llu missing, %llu extra)",
		who, what, (unsigned long long)dtb_bitmap_weight(got, npages),
		(unsigned long long)dtb_bitmap_weight(want, npages),
		(unsigned long long)missing, (unsigned long long)extra);
	return -EBADMSG;
}

int dtb_tracker_open(struct dtb_tracker *tr, enum dirtytrack_backend b,
		     struct dtb_vm *vm)
{
	struct dirtytrack_open_opts o =
		DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts, .backend = b);
	const char *step;
	int ret;

	memset(tr, 0, sizeof(*tr));
	tr->backend_name = dtb_backend_name(b);
	tr->slot = DIRTYTRACK_SLOT(0, DTB_DATA_SLOT);
	tr->npages = vm->data_pages;
	step = "dirtytrack_open";
	ret = dirtytrack_open(&o, &tr->dt);
	if (ret)
		goto err;
	step = "dirtytrack_tracker_create";
	ret = dirtytrack_tracker_create(tr->dt, vm->fd, &tr->t);
	if (ret)
		goto err;
	step = "dirtytrack_region_add";
	ret = dirtytrack_region_add(tr->t, tr->slot, DTB_DATA_GPA, vm->data_bytes);
	if (ret)
		goto err;
	step = "claim buffer";
	tr->claimed = dtb_bitmap_alloc(tr->npages);
	ret = tr->claimed ? 0 : -ENOMEM;
	if (!ret)
		return 0;
err:
	dtb_err("%s backend: %s: %s", tr->backend_name, step, strerror(-ret));
	dtb_tracker_close(tr);
	return ret;
}

int dtb_tracker_start(struct dtb_tracker *tr)
{
	int ret = dirtytrack_start(tr->t, NULL);

	if (ret)
		dtb_err("%s backend: dirtytrack_start: %s", tr->backend_name,
			strerror(-ret));
	return ret;
}

void dtb_tracker_close(struct dtb_tracker *tr)
{
	dirtytrack_tracker_destroy(tr->t);
	dirtytrack_close(tr->dt);
	dtb_bitmap_free(tr->claimed);
	memset(tr, 0, sizeof(*tr));
}

int dtb_tracker_check(struct dtb_tracker *tr, const uint64_t *expect,
		      const char *what)
{
	uint64_t dirty = 0;
	int ret;

	ret = dirtytrack_claim_bitmap(tr->t, tr->slot, 0, tr->npages,
				      tr->claimed, &dirty);
	if (ret) {
		dtb_err("%s backend: dirtytrack_claim_bitmap: %s",
			tr->backend_name, strerror(-ret));
		return ret;
	}
	return dtb_bitmap_compare(tr->claimed, expect, tr->npages,
				  tr->backend_name, what);
}
