// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kvm-bitmap source of the shared core (core/kvm_bitmap.c) against a
 * fake KVM memslot (fake_io.h): get-and-clear and manual protect, a
 * memslot longer than its region in both homes' designs (guard page, fit
 * probe), the attach probes, and a harvest whose every operation is made
 * to fail in turn, losing no page.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_io.h"

#define NPAGES		1000	/* the region: not a whole word */
#define SLOT_MAX	4096	/* pages the fake memslot can have */

/* One memslot (slot 3 of address space 0) of a VM, as KVM answers. */
struct vm {
	u64 npages;		/* the memslot's, maybe more than declared */
	bool manual;		/* KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE */
	bool ring;		/* the VM uses a ring (with a bitmap) */
	unsigned char dirty[SLOT_MAX];
	unsigned int clears;
	struct fake_io *f;
};

static int vm_ioctl(struct fake_io *f, unsigned int cmd, void *arg)
{
	struct vm *vm = f->ctx;
	u64 *end = f->buf + f->io.words, i;

	if (cmd == KVM_RESET_DIRTY_RINGS)
		return vm->ring ? 0 : -EINVAL;
	if (cmd == KVM_GET_DIRTY_LOG) {
		struct kvm_dirty_log *l = arg;
		u64 *bm = (u64 *)(uintptr_t)l->padding2;

		if (l->slot >> 16)
			return -EINVAL;		/* no such address space */
		if (l->slot != 3)
			return -ENOENT;
		/* copy_to_user() of the whole memslot's bitmap */
		if (bm + dt_bitmap_words(vm->npages) > end)
			return -EFAULT;
		memset(bm, 0, dt_bitmap_words(vm->npages) * sizeof(u64));
		for (i = 0; i < vm->npages; i++) {
			if (!vm->dirty[i])
				continue;
			bm[i / 64] |= 1ULL << (i % 64);
			if (!vm->manual)
				vm->dirty[i] = 0;
		}
		return 0;
	}
	if (cmd == KVM_CLEAR_DIRTY_LOG) {
		struct kvm_clear_dirty_log *c = arg;
		const u64 *bm = (const u64 *)(uintptr_t)c->padding2;

		if (c->slot != 3)
			return -ENOENT;
		if (c->first_page > vm->npages ||
		    c->num_pages > vm->npages - c->first_page)
			return -EINVAL;
		for (i = 0; i < c->num_pages; i++)
			if (bm[i / 64] >> (i % 64) & 1)
				vm->dirty[c->first_page + i] = 0;
		vm->clears++;
		return 0;
	}
	return -ENOTTY;
}

struct world {
	u64 words[2][NPAGES / 64 + 1], sum[2][1];
	struct dt_region r;
	struct dt_regions rs;
	struct vm vm;
	struct fake_io f;
	struct dt_kvm_bitmap_src kbm;
};

/* The memory holds @words words; @guarded: the library's design. */
static void world_init(struct world *w, u64 words, bool guarded, bool manual)
{
	memset(w, 0, sizeof(*w));
	w->r.slot = (struct dt_slot){ 3, NPAGES, &w->r.pending };
	w->r.pending = (struct dt_bitmap){ w->words[0], w->sum[0], NPAGES };
	w->r.merged = (struct dt_bitmap){ w->words[1], w->sum[1], NPAGES };
	dt_regions_link(&w->rs, 0, &w->r);
	w->vm.npages = NPAGES;
	w->vm.manual = manual;
	fake_io_init(&w->f, words, 10, vm_ioctl, &w->vm);
	w->kbm = (struct dt_kvm_bitmap_src){
		.io = &w->f.io,
		.flags = manual ? DIRTYTRACK_KVM_MANUAL_PROTECT : 0,
		.guard_words = guarded ? 8 : 1, .guarded = guarded,
	};
}

static bool in(const struct dt_bitmap *b, u64 p)
{
	return b->words[p / 64] >> (p % 64) & 1;
}

static const u64 dirty[] = { 0, 63, 64, 500, 999 };
#define NDIRTY	(sizeof(dirty) / sizeof(dirty[0]))

static void make_dirty(struct world *w)
{
	size_t i;

	for (i = 0; i < NDIRTY; i++)
		w->vm.dirty[dirty[i]] = 1;
}

static void harvest(struct world *w, enum dt_harvest_kind kind,
		    struct dt_kvm_bitmap_read *rd)
{
	dt_kvm_bitmap_src_harvest(&w->kbm, &w->rs, kind, &w->r, rd);
}

/* Both designs, both modes: the pages, published, and KVM's bits gone. */
static void reads_publish_and_clear(void **state)
{
	int guarded, manual;
	size_t i;

	(void)state;
	for (guarded = 0; guarded < 2; guarded++) {
		for (manual = 0; manual < 2; manual++) {
			struct dt_kvm_bitmap_read rd = { 0 };
			struct world w;

			world_init(&w, 64, guarded, manual);
			make_dirty(&w);
			harvest(&w, DT_HARVEST_SYNC, &rd);
			assert_int_equal(rd.pages, NDIRTY);
			assert_int_equal(rd.errors, 0);
			for (i = 0; i < NDIRTY; i++) {
				assert_true(in(&w.r.merged, dirty[i]));
				assert_false(w.vm.dirty[dirty[i]]);
			}
			assert_int_equal(dt_bitmap_weight(&w.r.merged), NDIRTY);
			assert_int_equal(dt_bitmap_weight(&w.r.pending), 0);
			/* Only chunks with bits are cleared (10 words each). */
			assert_int_equal(w.vm.clears, manual ? 2 : 0);
			fake_io_free(&w.f);
		}
	}
}

/* The backup bitmap beside a ring waits for the final sync. */
static void backup_bitmap_is_read_last(void **state)
{
	struct dt_kvm_bitmap_read rd = { 0 };
	struct world w;

	(void)state;
	world_init(&w, 64, true, false);
	w.kbm.flags = DIRTYTRACK_KVM_RING;
	make_dirty(&w);
	harvest(&w, DT_HARVEST_SYNC, &rd);
	harvest(&w, DT_HARVEST_VCPU, &rd);
	assert_int_equal(rd.pages, 0);
	harvest(&w, DT_HARVEST_REMOVE, &rd);
	assert_int_equal(rd.pages, NDIRTY);
	make_dirty(&w);
	harvest(&w, DT_HARVEST_ALL, &rd);
	assert_int_equal(rd.pages, 2 * NDIRTY);
	fake_io_free(&w.f);
}

/*
 * A memslot longer than its region: a little (the guard words show it),
 * or a lot (the guard page faults, or the fit probe refuses the read):
 * an error, and never a page lost.
 */
static void longer_memslots_are_errors(void **state)
{
	int guarded;

	(void)state;
	for (guarded = 0; guarded < 2; guarded++) {
		struct dt_kvm_bitmap_read rd = { 0 };
		struct world w;

		world_init(&w, 64, guarded, false);
		w.vm.npages = 1030;		/* inside the guard */
		w.vm.dirty[1020] = 1;
		make_dirty(&w);
		harvest(&w, DT_HARVEST_SYNC, &rd);
		assert_int_equal(rd.errors, 1);
		assert_true(in(&w.r.merged, 999));

		memset(&rd, 0, sizeof(rd));
		w.vm.npages = SLOT_MAX;		/* past the memory */
		make_dirty(&w);
		harvest(&w, DT_HARVEST_SYNC, &rd);
		assert_int_equal(rd.errors, 1);
		assert_int_equal(dt_bitmap_weight(&w.r.pending), NPAGES);
		/* Nothing was read: KVM keeps its bits. */
		assert_true(w.vm.dirty[500]);
		fake_io_free(&w.f);
	}
}

/*
 * Fail each operation of a harvest in turn, in both designs and modes:
 * every page KVM held is published, pending, or still held by KVM
 * (reported again), whichever operation failed.
 */
static void harvest_fail_nth_loses_nothing(void **state)
{
	int guarded, manual;
	unsigned int n;
	size_t i;

	(void)state;
	for (guarded = 0; guarded < 2; guarded++) {
		for (manual = 0; manual < 2; manual++) {
			unsigned int points = 0;

			for (n = 1; n < 100; n++) {
				struct dt_kvm_bitmap_read rd = { 0 };
				struct world w;

				world_init(&w, 64, guarded, manual);
				make_dirty(&w);
				fake_io_fail_nth(&w.f, n, -EIO);
				harvest(&w, DT_HARVEST_SYNC, &rd);
				for (i = 0; i < NDIRTY; i++)
					assert_true(in(&w.r.merged, dirty[i]) ||
						    in(&w.r.pending, dirty[i]) ||
						    w.vm.dirty[dirty[i]]);
				fake_io_free(&w.f);
				if (!w.f.failed)
					break;
				assert_true(rd.errors >= 1);
				points++;
			}
			assert_true(points >= 4);
		}
	}
}

/* The attach asks the VM whether it keeps a bitmap and uses a ring. */
static void attach_probes_the_vm(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 64, true, false);
	assert_int_equal(dt_kvm_bitmap_src_attach(&w.kbm, &w.rs, false), 0);
	/* Declared a ring; the VM has none. */
	w.kbm.flags = DIRTYTRACK_KVM_RING;
	assert_int_equal(dt_kvm_bitmap_src_attach(&w.kbm, &w.rs, false),
			 -EINVAL);
	w.vm.ring = true;
	assert_int_equal(dt_kvm_bitmap_src_attach(&w.kbm, &w.rs, false), 0);
	/* A region the memory cannot hold with its guard. */
	assert_int_equal(dt_kvm_bitmap_src_holds(&w.kbm, 56 * 64), 0);
	assert_int_equal(dt_kvm_bitmap_src_holds(&w.kbm, 56 * 64 + 1),
			 -ENOBUFS);
	assert_int_equal(dt_kvm_bitmap_src_holds(NULL, 1ULL << 40), 0);
	w.r.slot.npages = 60 * 64;
	assert_int_equal(dt_kvm_bitmap_src_attach(&w.kbm, &w.rs, true),
			 -ENOBUFS);
	fake_io_free(&w.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_publish_and_clear),
		cmocka_unit_test(backup_bitmap_is_read_last),
		cmocka_unit_test(longer_memslots_are_errors),
		cmocka_unit_test(harvest_fail_nth_loses_nothing),
		cmocka_unit_test(attach_probes_the_vm),
	};

	return cmocka_run_group_tests_name("core: kvm-bitmap source, fail-nth",
					   tests, NULL, NULL);
}
