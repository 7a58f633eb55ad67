/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracker's ioctls as the dirtytrack selftests call them (0 or
 * -errno, no assertion), the consumer's side of the mmap claim protocol,
 * and the module's test knobs.
 */
#ifndef DT_TRACKER_H
#define DT_TRACKER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/dirtytrack.h>

/* The tracker's page: what a gfn counts. */
#define DTT_PAGE	4096

/* Add a region; @out (or NULL) receives the kernel's answer. */
static inline int dtt_region_add_out(int tr, uint16_t slot, uint64_t gpa,
				     uint64_t npages,
				     struct dirtytrack_region *out)
{
	struct dirtytrack_region r = {
		.size = sizeof(r), .slot_id = slot,
		.first_gfn = gpa / DTT_PAGE, .npages = npages,
	};

	if (ioctl(tr, DIRTYTRACK_REGION_ADD, &r))
		return -errno;
	if (out)
		*out = r;
	return 0;
}

static inline int dtt_region_add(int tr, uint16_t slot, uint64_t gpa,
				 uint64_t npages)
{
	return dtt_region_add_out(tr, slot, gpa, npages, NULL);
}

static inline int dtt_attach_ring(int tr, void *ring)
{
	struct dirtytrack_attach_ring a = {
		.size = sizeof(a), .ring_addr = (uintptr_t)ring,
	};

	return ioctl(tr, DIRTYTRACK_ATTACH_RING, &a) ? -errno : 0;
}

/* The scratch a region of @npages pages needs, header and guard included. */
static inline size_t dtt_scratch_size(uint64_t npages)
{
	return DIRTYTRACK_SCRATCH_HEADER + ((npages + 63) / 64 + 1) * 8;
}

static inline int dtt_attach_bitmap(int tr, uint32_t flags, void *scratch,
				    size_t size)
{
	struct dirtytrack_attach_kvm_bitmap a = {
		.size = sizeof(a), .flags = flags,
		.scratch_addr = (uintptr_t)scratch, .scratch_size = size,
	};

	return ioctl(tr, DIRTYTRACK_ATTACH_KVM_BITMAP, &a) ? -errno : 0;
}

static inline int dtt_create(int dev, int vm)
{
	struct dirtytrack_create c = { .size = sizeof(c), .vm_fd = vm };

	return ioctl(dev, DIRTYTRACK_CREATE, &c) ? -errno : (int)c.out_tracker_fd;
}

static inline int dtt_sync_flags(int tr, uint32_t flags,
				 struct dirtytrack_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->flags = flags;
	return ioctl(tr, DIRTYTRACK_SYNC, s) ? -errno : 0;
}

static inline int dtt_sync(int tr, struct dirtytrack_sync *s)
{
	return dtt_sync_flags(tr, 0, s);
}

static inline int dtt_start(int tr, uint32_t flags)
{
	struct dirtytrack_start st = { .size = sizeof(st), .flags = flags };

	return ioctl(tr, DIRTYTRACK_START, &st) ? -errno : 0;
}

static inline int dtt_claim(int tr, uint16_t slot, uint64_t first, uint64_t n,
			    uint64_t *bitmap, uint64_t *dirty)
{
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = slot, .first_page = first,
		.npages = n, .bitmap = (uintptr_t)bitmap,
	};

	if (ioctl(tr, DIRTYTRACK_CLAIM, &c))
		return -errno;
	*dirty = c.out_dirty;
	return 0;
}

/*
 * The consumer's side of the claim protocol, through the tracker mapping
 * @map of region @r: take a summary word (fully ordered), then every word
 * of its dirty chunks, by atomic exchange.  Summary word j covers words
 * [j * 4096, (j + 1) * 4096).  Returns the pages claimed into @out.
 */
static inline uint64_t dtt_mmap_claim(uint8_t *map,
				      const struct dirtytrack_region *r,
				      uint64_t *out)
{
	uint64_t *words = (uint64_t *)map;
	uint64_t *summary = (uint64_t *)(map + r->out_summary_offset);
	uint64_t nwords = (r->npages + 63) / 64, j, n = 0;

	memset(out, 0, nwords * sizeof(uint64_t));
	for (j = 0; j * 64 * 64 < nwords; j++) {
		uint64_t s = __atomic_exchange_n(&summary[j], 0, __ATOMIC_SEQ_CST);

		while (s) {
			uint64_t c = j * 64 + __builtin_ctzll(s), w;

			s &= s - 1;
			for (w = c * 64; w < c * 64 + 64 && w < nwords; w++) {
				out[w] = __atomic_exchange_n(&words[w], 0,
							     __ATOMIC_SEQ_CST);
				n += __builtin_popcountll(out[w]);
			}
		}
	}
	return n;
}

static inline bool dtt_bit(const uint64_t *bitmap, uint64_t i)
{
	return bitmap[i / 64] >> (i % 64) & 1;
}

/*
 * Turn a knob of the module's test build (drivers/dirtytrack/test_hooks.c,
 * in debugfs): 0 or -errno.
 */
static inline int dtt_hook(const char *name, long val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/debug/dirtytrack/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", val) > 0 ? 0 : -EIO;
	return fclose(f) ? -errno : ret;
}

#endif /* DT_TRACKER_H */
