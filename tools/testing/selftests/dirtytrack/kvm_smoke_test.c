// SPDX-License-Identifier: GPL-2.0
/*
 * Does the guest's own /dev/kvm work?  Every dirtytrack test stands on
 * nested KVM (kvm-amd under TCG on x86, VHE KVM on arm64), so a broken one
 * must show up here, by name, and not as a mysterious failure later.
 *
 * A one-vCPU guest with no firmware stores a marker into its RAM and then
 * reports it through an exit (port I/O on x86, MMIO on arm64); a second run
 * does the same with the dirty ring enabled and finds the stored-to page in
 * the ring.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "dtvm.h"
#if defined(__aarch64__)
#include "dtvm_arm64.h"
#endif
#include "kselftest_harness.h"

#define MEM_SIZE	0x10000		/* 64 KiB of guest RAM, slot 0 */
#define CODE_OFF	0x1000		/* guest code, page 1 of the slot */
#define DATA_OFF	0x2000		/* the page the guest stores to */
#define MARKER		0x42
#define RING_ENTRIES	1024

#if defined(__x86_64__)
#define MEM_GPA		0x0
/*
 * Real mode:  mov al, MARKER; mov [DATA_OFF], al; out 0x10, al; hlt
 */
static const uint8_t guest_code[] = {
	0xb0, MARKER, 0xa2, DATA_OFF & 0xff, DATA_OFF >> 8, 0xe6, 0x10, 0xf4,
};
#define REPORT_PORT	0x10
#elif defined(__aarch64__)
#define MEM_GPA		0x10000000
#define MMIO_GPA	0x20000000	/* outside every memslot */
/*
 * MMU off:  x0 = MARKER; x2 = MEM_GPA + DATA_OFF; [x2] = x0;
 *           x3 = MMIO_GPA; [x3] = x0; b .
 */
static const uint32_t guest_code[] = {
	0xd2800840,	/* movz x0, #0x42 */
	0xd2a20001,	/* movz x1, #0x1000, lsl #16 */
	0x91400822,	/* add  x2, x1, #0x2, lsl #12 */
	0xf9000040,	/* str  x0, [x2] */
	0xd2a40003,	/* movz x3, #0x2000, lsl #16 */
	0xf9000060,	/* str  x0, [x3] */
	0x14000000,	/* b    . */
};
#else
#error "unsupported architecture"
#endif

struct vm {
	int kvm, fd;
	struct dtvm_vcpu vcpu;
	uint8_t *mem;
};

static int vm_create(struct __test_metadata *_metadata, struct vm *vm,
		     bool ring)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm = dtvm_kvm_open();
	ASSERT_LE(0, vm->kvm) TH_LOG("open /dev/kvm: %s", strerror(-vm->kvm));
	ASSERT_EQ(KVM_API_VERSION, ioctl(vm->kvm, KVM_GET_API_VERSION, 0));
	vm->fd = dtvm_vm_create(vm->kvm);
	ASSERT_LE(0, vm->fd) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm->fd));

	if (ring) {
		ASSERT_LT(0, ioctl(vm->fd, KVM_CHECK_EXTENSION, DTVM_RING_CAP))
			TH_LOG("the guest's KVM has no dirty ring");
		ret = dtvm_enable_ring(vm->fd, DTVM_RING_CAP, RING_ENTRIES);
		ASSERT_EQ(0, ret) TH_LOG("enable dirty ring: %s", strerror(-ret));
	}

	vm->mem = dtvm_mem_alloc(MEM_SIZE);
	ASSERT_NE(NULL, vm->mem);
	dtvm_load_code(vm->mem + CODE_OFF, guest_code, sizeof(guest_code));
	ret = dtvm_set_memslot(vm->fd, 0, ring ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			       MEM_GPA, MEM_SIZE, vm->mem);
	ASSERT_EQ(0, ret)
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));

	ret = dtvm_vcpu_create(&vm->vcpu, vm->kvm, vm->fd, 0);
	ASSERT_EQ(0, ret) TH_LOG("KVM_CREATE_VCPU: %s", strerror(-ret));
	ASSERT_LE(sizeof(*vm->vcpu.run), vm->vcpu.run_size);

	if (ring) {
		ret = dtvm_vcpu_map_ring(&vm->vcpu, RING_ENTRIES);
		ASSERT_EQ(0, ret) TH_LOG("mmap dirty ring: %s", strerror(-ret));
	}
	return 0;
}

static void vm_destroy(struct vm *vm)
{
	dtvm_vcpu_destroy(&vm->vcpu);
	dtvm_mem_free(vm->mem, MEM_SIZE);
	close(vm->fd);
	close(vm->kvm);
}

#if defined(__x86_64__)
static void vcpu_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	struct kvm_regs regs = { .rip = CODE_OFF, .rflags = 0x2 };
	struct kvm_sregs sregs;

	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_SET_REGS, &regs));
}

static void run_to_report(struct __test_metadata *_metadata, struct vm *vm)
{
	struct kvm_run *run = vm->vcpu.run;

	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	ASSERT_EQ(REPORT_PORT, run->io.port);
	ASSERT_EQ(1, run->io.size);
	EXPECT_EQ(MARKER, ((uint8_t *)run)[run->io.data_offset]);

	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_HLT, run->exit_reason);
}
#else
static void vcpu_setup(struct __test_metadata *_metadata, struct vm *vm)
{
	int ret = dtvm_arm64_vcpu_init(vm->fd, vm->vcpu.fd);

	ASSERT_EQ(0, ret) TH_LOG("KVM_ARM_VCPU_INIT: %s", strerror(-ret));
	ASSERT_EQ(0, dtvm_arm64_set_reg64(vm->vcpu.fd,
					  DTVM_ARM64_CORE_REG(regs.pc),
					  MEM_GPA + CODE_OFF));
}

static void run_to_report(struct __test_metadata *_metadata, struct vm *vm)
{
	struct kvm_run *run = vm->vcpu.run;
	uint64_t data;

	ASSERT_EQ(0, ioctl(vm->vcpu.fd, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	ASSERT_EQ(MMIO_GPA, run->mmio.phys_addr);
	ASSERT_TRUE(run->mmio.is_write);
	ASSERT_EQ(8, run->mmio.len);
	memcpy(&data, run->mmio.data, sizeof(data));
	EXPECT_EQ(MARKER, data);
}
#endif

TEST(guest_runs_and_stores)
{
	struct vm vm;

	vm_create(_metadata, &vm, false);
	vcpu_setup(_metadata, &vm);
	run_to_report(_metadata, &vm);
	EXPECT_EQ(MARKER, vm.mem[DATA_OFF]);
	vm_destroy(&vm);
}

TEST(dirty_ring_records_the_store)
{
	uint32_t i, flags, stored = 0;
	struct vm vm;

	vm_create(_metadata, &vm, true);
	vcpu_setup(_metadata, &vm);
	run_to_report(_metadata, &vm);
	ASSERT_EQ(MARKER, vm.mem[DATA_OFF]);

	for (i = 0; i < RING_ENTRIES; i++) {
		struct kvm_dirty_gfn *e = &vm.vcpu.ring[i];

		flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		EXPECT_EQ(0u, e->slot);
		EXPECT_GT(MEM_SIZE / getpagesize(), e->offset);
		if (e->offset == DATA_OFF / getpagesize())
			stored++;
	}
	EXPECT_EQ(1u, stored) TH_LOG("%u ring entries, the store's page %u times",
				     i, stored);
	vm_destroy(&vm);
}

TEST_HARNESS_MAIN
