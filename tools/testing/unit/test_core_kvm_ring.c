// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The core's ring walk on a real KVM dirty ring of the host: a real-mode
 * guest stores to a random set of pages of a second memslot, round after
 * round; each harvest must report exactly those pages of that slot, and
 * KVM_RESET_DIRTY_RINGS must hand back exactly the entries the walk marked.
 *
 * x86_64 hosts only.  A host without /dev/kvm (a VM without nested
 * virtualization) skips it: make check then runs the library's KVM suite
 * in the x86 test guest instead (tools/testing/run-host-lib.sh), whose
 * selftests walk real rings through the same core.  Any other failure to
 * open KVM fails the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "dt_core.h"
#include "dtvm.h"

#define RING_ENTRIES	4096
#define CODE_SLOT	0		/* GPA 0, 64 KiB: code and stack */
#define CODE_SIZE	0x10000
#define CODE_GPA	0x1000
#define DATA_SLOT	1		/* GPA 0x20000, 512 KiB */
#define DATA_GPA	0x20000
#define DATA_PAGES	128
#define ROUNDS		5

struct vm {
	int kvm, fd;
	struct dtvm_vcpu vcpu;
	uint8_t *code, *data;
};

static void map_slot(struct vm *vm, u32 slot, u64 gpa, u64 size, uint8_t **mem)
{
	*mem = dtvm_mem_alloc(size);
	assert_non_null(*mem);
	assert_int_equal(dtvm_set_memslot(vm->fd, slot, KVM_MEM_LOG_DIRTY_PAGES,
					  gpa, size, *mem), 0);
}

static int setup(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return -1;
	vm->kvm = dtvm_kvm_open();
	if (vm->kvm == -ENOENT) {
		free(vm);
		*state = NULL;
		return 0;
	}
	if (vm->kvm < 0) {
		print_error("open /dev/kvm: %s\n", strerror(-vm->kvm));
		free(vm);
		return -1;
	}
	vm->fd = dtvm_vm_create(vm->kvm);
	assert_true(vm->fd >= 0);
	assert_true(ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING) > 0);
	assert_int_equal(dtvm_enable_ring(vm->fd, KVM_CAP_DIRTY_LOG_RING,
					  RING_ENTRIES), 0);
	map_slot(vm, CODE_SLOT, 0, CODE_SIZE, &vm->code);
	map_slot(vm, DATA_SLOT, DATA_GPA, DATA_PAGES * 4096, &vm->data);
	assert_int_equal(dtvm_vcpu_create(&vm->vcpu, vm->kvm, vm->fd, 0), 0);
	assert_int_equal(dtvm_vcpu_map_ring(&vm->vcpu, RING_ENTRIES), 0);
	*state = vm;
	return 0;
}

static int teardown(void **state)
{
	struct vm *vm = *state;

	if (!vm)
		return 0;
	dtvm_vcpu_destroy(&vm->vcpu);
	dtvm_mem_free(vm->code, CODE_SIZE);
	dtvm_mem_free(vm->data, DATA_PAGES * 4096);
	close(vm->fd);
	close(vm->kvm);
	free(vm);
	return 0;
}

/*
 * Real mode, per page p:  mov ax, (DATA_GPA >> 4) + p * 0x100; mov ds, ax;
 * mov [0], al; then hlt.  Runs the guest to the hlt.
 */
static void run_guest_storing(struct vm *vm, const uint8_t *pages, int n)
{
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2, .rax = 0x5a };
	struct kvm_sregs sregs;
	uint8_t *c = vm->code + CODE_GPA;
	int i;

	for (i = 0; i < n; i++) {
		uint16_t seg = (DATA_GPA >> 4) + pages[i] * 0x100;

		*c++ = 0xb8;			/* mov ax, imm16 */
		*c++ = 0x5a;
		*c++ = 0x00;
		*c++ = 0xbb;			/* mov bx, imm16 */
		*c++ = seg & 0xff;
		*c++ = seg >> 8;
		*c++ = 0x8e;			/* mov ds, bx */
		*c++ = 0xdb;
		*c++ = 0xa2;			/* mov [0], al */
		*c++ = 0x00;
		*c++ = 0x00;
	}
	*c++ = 0xf4;				/* hlt */

	assert_int_equal(ioctl(vm->vcpu.fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	assert_int_equal(ioctl(vm->vcpu.fd, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(ioctl(vm->vcpu.fd, KVM_SET_REGS, &regs), 0);
	assert_int_equal(ioctl(vm->vcpu.fd, KVM_RUN, 0), 0);
	assert_int_equal(vm->vcpu.run->exit_reason, KVM_EXIT_HLT);
}

struct reset_ctx {
	struct vm *vm;
	struct dt_ring *ring;
};

static struct dt_ring *the_ring(void *ctx, u32 i)
{
	(void)i;
	return ((struct reset_ctx *)ctx)->ring;
}

/* The real KVM_RESET_DIRTY_RINGS, as a home issues it. */
static int kvm_reset(void *ctx, bool *bailed)
{
	int ret = ioctl(((struct reset_ctx *)ctx)->vm->fd, KVM_RESET_DIRTY_RINGS, 0);

	(void)bailed;
	return ret < 0 ? -errno : ret;
}

static void check_harvests(struct vm *vm)
{
	u64 code_words[1], code_sum[1], data_words[2] = { 0 }, data_sum[1] = { 0 };
	struct dt_bitmap code = { code_words, code_sum, CODE_SIZE / 4096 };
	struct dt_bitmap data = { data_words, data_sum, DATA_PAGES };
	struct dt_slot slots[2] = {
		{ DT_SLOT(0, CODE_SLOT), CODE_SIZE / 4096, &code },
		{ DT_SLOT(0, DATA_SLOT), DATA_PAGES, &data },
	};
	struct dt_slot_table table = { slots, 2, 0 };
	struct dt_ring ring = { .gfns = vm->vcpu.ring, .size = RING_ENTRIES };	/* resyncs */
	struct reset_ctx rc = { vm, &ring };
	struct dt_rings_ops ops = {
		.nr = 1, .ring = the_ring, .reset = kvm_reset, .ctx = &rc,
		.table = &table,
	};
	struct dt_sticky sticky = { 0 };
	unsigned int seed = 42;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		struct dt_ring_stats st = { 0 };
		uint8_t pages[DATA_PAGES], want[DATA_PAGES] = { 0 };
		u64 out[2], p;
		int n = 1 + rand_r(&seed) % 40, i;
		u32 marked;

		memset(code_words, 0, sizeof(code_words));
		memset(code_sum, 0, sizeof(code_sum));
		for (i = 0; i < n; i++) {
			pages[i] = rand_r(&seed) % DATA_PAGES;
			want[pages[i]] = 1;
		}
		run_guest_storing(vm, pages, n);

		dt_ring_harvest(&ring, &table, &st);
		assert_int_equal(st.invalid, 0);
		assert_int_equal(st.foreign, 0);
		assert_false(dt_ring_check_gap(&ring, RING_ENTRIES, &st));
		marked = ring.unreset;
		assert_int_equal(dt_rings_reset(&ops, 1, &sticky, &st), 0);
		assert_int_equal(st.resets, 1);
		assert_int_equal(st.foreign, 0);
		assert_int_equal(ring.consumed, marked);
		assert_int_equal(ring.unreset, 0);

		dt_bitmap_claim(&data, 0, DATA_PAGES, out);
		for (p = 0; p < DATA_PAGES; p++)
			if ((out[p / 64] >> (p % 64) & 1) != want[p])
				fail_msg("round %d: page %llu reported %d, stored %d",
					 round, (unsigned long long)p,
					 (int)(out[p / 64] >> (p % 64) & 1), want[p]);
		/* Stores that went nowhere else: the code slot only holds code. */
		assert_true(dt_bitmap_weight(&code) <= 1);
	}
}

static void harvest_matches_the_guests_stores(void **state)
{
	if (!*state)
		skip();		/* no /dev/kvm */
	check_harvests(*state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(harvest_matches_the_guests_stores,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("core: ring walk on the host's KVM",
					   tests, NULL, NULL);
}
