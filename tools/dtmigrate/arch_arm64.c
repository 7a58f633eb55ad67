// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate on arm64: vCPUs entered at EL1h with the MMU already on (no
 * firmware; identity translation tables written here, the registers set
 * by dtvm_arm64_mmu_on()), the guest program at
 * DTM_CODE_GPA, the virtual counter as its clock.  The source's dirty
 * rings come with KVM's backup bitmap, for what KVM writes with no vCPU
 * running.
 *
 * With --its, both VMs get a vGICv3 + ITS (dtvm_its.h), and the source's
 * ITS holds collections whose table it saves into the system memslot
 * during the final sync: pages that reach the destination only through
 * the backup bitmap.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "dtmigrate.h"
#include "dtvm_arm64.h"
#include "dtvm_its.h"

struct dtm_arch_vm {
	struct dtvm_its its;
};

/*
 * One exception vector (see dtm_guest.h): store ESR_EL1 to its fault
 * address and, if the VMM ever resumes it, again.
 *	mrs	x0, esr_el1
 *	movz	x1, #(DTM_MMIO_GPA >> 16), lsl #16
 * 1:	str	x0, [x1, #off]
 *	b	1b
 */
#define DTM_A64_MRS_X0_ESR_EL1	0xd5385200U
#define DTM_A64_MOVZ_X1_LSL16(imm) (0xd2a00001U | (uint32_t)(imm) << 5)
#define DTM_A64_STR_X0_X1(off)	(0xf9000020U | (uint32_t)((off) / 8) << 10)
#define DTM_A64_B_BACK1		0x17ffffffU
#define DTM_VECTORS		16
#define DTM_VECTOR_BYTES	0x80

#define DTM_L1_SHIFT		DTVM_ARM64_L1_SHIFT	/* 1 GiB blocks */
#define DTM_L2_SHIFT		DTVM_ARM64_L2_SHIFT	/* 2 MiB blocks */

_Static_assert(DTM_SYS_SIZE == 1ULL << DTM_L2_SHIFT &&
	       !(DTM_MMIO_GPA & ((1ULL << DTM_L2_SHIFT) - 1)) &&
	       DTM_MMIO_GPA >> DTM_L1_SHIFT == DTM_SYS_GPA >> DTM_L1_SHIFT &&
	       !(DTM_DATA_GPA & ((1ULL << DTM_L1_SHIFT) - 1)),
	       "GiB 0 is the system block and the MMIO block; data in whole GiBs");

int dtm_arch_check(const struct dtm_config *cfg)
{
	uint64_t max = DTM_ITS_TABLE_SIZE / DTVM_ITS_CTE_SIZE - 1;	/* + end */

	if (cfg->its > max || cfg->its > DTVM_ITS_MAX_COLLECTIONS) {
		fprintf(stderr, "dtmigrate: --its: at most %llu collections\n",
			(unsigned long long)(max < DTVM_ITS_MAX_COLLECTIONS ?
					     max : DTVM_ITS_MAX_COLLECTIONS));
		return -EINVAL;
	}
	return 0;
}

int dtm_arch_vm_init(struct dtm_vm *vm)
{
	int ret;

	if (vm->cfg->its) {
		vm->arch = calloc(1, sizeof(*vm->arch));
		if (!vm->arch)
			return -ENOMEM;
		vm->arch->its.gic_fd = -1;
		vm->arch->its.its_fd = -1;
	}
	if (!vm->source || !vm->cfg->ring_entries)
		return 0;
	/*
	 * The backup bitmap, for what KVM writes with no vCPU running, must
	 * be enabled after the ring (vm.c) and before the first memslot.
	 */
	ret = dtvm_enable_cap(vm->fd, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, 0);
	if (!ret)
		vm->ring_with_bitmap = true;
	return ret;
}

static void dtm_write_vectors(uint32_t *vec)
{
	int n;

	for (n = 0; n < DTM_VECTORS; n++) {
		uint32_t *v = vec + n * DTM_VECTOR_BYTES / 4;

		v[0] = DTM_A64_MRS_X0_ESR_EL1;
		v[1] = DTM_A64_MOVZ_X1_LSL16(DTM_MMIO_GPA >> 16);
		v[2] = DTM_A64_STR_X0_X1(DTM_FAULT_GPA - DTM_MMIO_GPA + 8 * n);
		v[3] = DTM_A64_B_BACK1;
	}
	dtvm_code_written(vec, vec + DTM_VECTORS * DTM_VECTOR_BYTES / 4);
}

/*
 * Identity tables: level 0 -> level 1; GiB 0 through a level-2 table (the
 * system memslot Normal, the MMIO block Device, the rest, vGIC frames
 * included, unmapped: the program never touches them), then every GiB of
 * the data area, hotplug room included, as one Normal block.
 */
void dtm_arch_load(struct dtm_vm *vm)
{
	uint64_t *l0 = (uint64_t *)(vm->sys + DTM_PML4_GPA);
	uint64_t *l1 = (uint64_t *)(vm->sys + DTM_PDPT_GPA);
	uint64_t *l2 = (uint64_t *)(vm->sys + DTM_PD_GPA);
	uint64_t end = DTM_DATA_GPA + vm->data_max, g;

	/* One level-0 entry covers 512 GiB: DTM_MAX_GIB fits. */
	l0[0] = DTM_PDPT_GPA | DTVM_ARM64_PTE_TABLE;
	l1[0] = DTM_PD_GPA | DTVM_ARM64_PTE_TABLE;
	l2[DTM_SYS_GPA >> DTM_L2_SHIFT] = DTM_SYS_GPA | DTVM_ARM64_PTE_NORMAL;
	l2[DTM_MMIO_GPA >> DTM_L2_SHIFT] = DTM_MMIO_GPA | DTVM_ARM64_PTE_DEVICE;
	for (g = DTM_DATA_GPA >> DTM_L1_SHIFT; g << DTM_L1_SHIFT < end; g++)
		l1[g] = g << DTM_L1_SHIFT | DTVM_ARM64_PTE_NORMAL;
	dtm_write_vectors((uint32_t *)(vm->sys + DTM_VECTORS_GPA));
}

/* The source's entry state: the MMU on over the tables above. */
static int dtm_vcpu_entry(struct dtm_vm *vm, int i)
{
	const struct dtvm_arm64_entry e = {
		.ttbr0 = DTM_PML4_GPA, .vbar = DTM_VECTORS_GPA,
		.pc = DTM_CODE_GPA,
		.sp = DTM_STACK_TOP - (uint64_t)i * DTM_STACK_SIZE,
		.x0 = (uint64_t)i,
	};

	return dtvm_arm64_mmu_on(vm->vcpu[i].vc.fd, &e);
}

/* Every vCPU gets KVM_ARM_VCPU_INIT; the source's its entry state too. */
int dtm_arch_vcpu_init(struct dtm_vm *vm, int i)
{
	int ret = dtvm_arm64_vcpu_init(vm->fd, vm->vcpu[i].vc.fd);

	return ret || !vm->source ? ret : dtm_vcpu_entry(vm, i);
}

/*
 * --its: the vGIC and its ITS, on both VMs, once every vCPU exists.  The
 * source's ITS loads its collections from a table the VMM writes; the
 * table is then cleared, the ITS keeping them: the destination receives
 * that cleared table with the first round, so the save at the final sync
 * is the only way the entries can get there, and the byte comparison
 * shows whether its pages were reported.
 *
 * The destination's vGIC is created, not restored: the guest program
 * takes no interrupt, so no vGIC state (distributor, redistributors, CPU
 * interfaces, ITS) is moved.
 */
int dtm_arch_vm_ready(struct dtm_vm *vm)
{
	uint8_t *table = vm->sys + DTM_ITS_TABLE_GPA;
	int ret;

	if (!vm->arch)
		return 0;
	ret = dtvm_its_create(vm->fd, &vm->arch->its);
	if (ret || !vm->source)
		return ret;
	ret = dtvm_its_load_collections(&vm->arch->its, table,
					DTM_ITS_TABLE_GPA, vm->cfg->its,
					vm->cfg->vcpus);
	if (!ret)
		memset(table, 0, dtvm_its_save_bytes(vm->cfg->its));
	return ret;
}

/*
 * The ITS's tables, then the LPI pending tables (none here), into guest
 * memory, with every vCPU stopped: KVM writes them with no vCPU running,
 * so they land in the backup bitmap, not in a ring.
 */
int dtm_arch_save_devices(struct dtm_vm *vm)
{
	return vm->arch ? dtvm_its_save(&vm->arch->its) : 0;
}

void dtm_arch_destroy(struct dtm_vm *vm)
{
	if (!vm->arch)
		return;
	dtvm_its_destroy(&vm->arch->its);
	free(vm->arch);
	vm->arch = NULL;
}

/*
 * One register, source to destination.  KVM_REG_ARM_PTIMER_CNT is left
 * alone: both VMs read the same physical counter with no offset, and
 * writing it would set one (the microseconds between the read and the
 * write) that KVM, without FEAT_ECV, applies by trapping every CNTPCT_EL0
 * read.  KVM_REG_ARM_TIMER_CNT is copied: it sets the destination's
 * virtual offset (VM-wide), which differs from the source's since each VM
 * started its virtual counter at 0 at its creation; the destination's
 * counter then goes on from the source's value, never backwards.  Every
 * other register is accepted as it is: the destination has not run yet,
 * so even the ID registers and the firmware bitmaps are still writable,
 * and both VMs are on the same host with the same configuration.
 */
static int dtm_reg_copy(int from, int to, uint64_t id)
{
	uint64_t val[32];	/* 256 bytes: the largest, an SVE Z register */
	int ret;

	if (id == KVM_REG_ARM_PTIMER_CNT)
		return 0;
	if ((1ULL << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT)) > sizeof(val))
		return -E2BIG;
	ret = dtvm_arm64_get_reg(from, id, val);
	ret = ret ?: dtvm_arm64_set_reg(to, id, val);
	if (ret)
		fprintf(stderr, "dtmigrate: register %#llx: %s\n",
			(unsigned long long)id, strerror(-ret));
	return ret;
}

/*
 * The whole vCPU, as QEMU moves it: every register KVM_GET_REG_LIST
 * names (core, FP/SIMD, system, timer, firmware), then the pending
 * events (SError) and the power state.
 */
int dtm_arch_vcpu_transfer(struct dtm_vcpu *from, struct dtm_vcpu *to)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	uint64_t i;
	int ret = 0;

	/* Too small on purpose: E2BIG, with the count in n. */
	if (!ioctl(from->vc.fd, KVM_GET_REG_LIST, &probe) || errno != E2BIG)
		return -EIO;
	list = calloc(1, sizeof(*list) + probe.n * sizeof(list->reg[0]));
	if (!list)
		return -ENOMEM;
	list->n = probe.n;
	if (ioctl(from->vc.fd, KVM_GET_REG_LIST, list))
		ret = -errno;
	for (i = 0; !ret && i < list->n; i++)
		ret = dtm_reg_copy(from->vc.fd, to->vc.fd, list->reg[i]);
	free(list);
	if (ret)
		return ret;
	if (ioctl(from->vc.fd, KVM_GET_VCPU_EVENTS, &ev) ||
	    ioctl(to->vc.fd, KVM_SET_VCPU_EVENTS, &ev) ||
	    ioctl(from->vc.fd, KVM_GET_MP_STATE, &mp) ||
	    ioctl(to->vc.fd, KVM_SET_MP_STATE, &mp))
		return -errno;
	return 0;
}

/* CNTFRQ_EL0, which Linux lets EL0 read: the rate of CNTVCT_EL0. */
uint64_t dtm_arch_counter_hz(struct dtm_vm *vm)
{
	uint64_t hz;

	(void)vm;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	return hz;
}

/* The guest program ends storing to DTM_DONE_GPA. */
bool dtm_arch_vcpu_done(struct dtm_vcpu *v)
{
	return v->vc.run->exit_reason == KVM_EXIT_MMIO && v->vc.run->mmio.is_write &&
	       v->vc.run->mmio.phys_addr == DTM_DONE_GPA;
}
