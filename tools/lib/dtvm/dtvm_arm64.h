/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 vCPUs entered at EL1 with no firmware, their registers set through
 * KVM_SET_ONE_REG: with the MMU off (the selftests' guest), or with the
 * MMU and caches on over identity tables the caller writes with the
 * descriptors below (dtmigrate): a 48-bit VA from a level-0 table, 4 KiB
 * granule, MAIR_EL1 attribute 0 Normal write-back, 1 Device-nGnRE.
 */
#ifndef DTVM_ARM64_H
#define DTVM_ARM64_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/* A core register (struct kvm_regs) for KVM_{GET,SET}_ONE_REG. */
#define DTVM_ARM64_CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | \
				 KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))

#define DTVM_ARM64_MT_NORMAL	0
#define DTVM_ARM64_MT_DEVICE	1

/* Stage-1 descriptors, 4 KiB granule. */
#define DTVM_ARM64_PTE_TABLE	3ULL			/* levels 0-2: next table */
#define DTVM_ARM64_PTE_BLOCK	1ULL			/* level 1: 1 GiB, 2: 2 MiB */
#define DTVM_ARM64_PTE_ATTR(i)	((uint64_t)(i) << 2)	/* MAIR_EL1 index */
#define DTVM_ARM64_PTE_ISH	(3ULL << 8)		/* inner shareable */
#define DTVM_ARM64_PTE_AF	(1ULL << 10)		/* or the first access faults */
#define DTVM_ARM64_PTE_XN	(3ULL << 53)		/* PXN, UXN */
#define DTVM_ARM64_PTE_NORMAL	(DTVM_ARM64_PTE_BLOCK | \
				 DTVM_ARM64_PTE_ATTR(DTVM_ARM64_MT_NORMAL) | \
				 DTVM_ARM64_PTE_ISH | DTVM_ARM64_PTE_AF)
#define DTVM_ARM64_PTE_DEVICE	(DTVM_ARM64_PTE_BLOCK | \
				 DTVM_ARM64_PTE_ATTR(DTVM_ARM64_MT_DEVICE) | \
				 DTVM_ARM64_PTE_AF | DTVM_ARM64_PTE_XN)
#define DTVM_ARM64_L1_SHIFT	30
#define DTVM_ARM64_L2_SHIFT	21

/* KVM_{GET,SET}_ONE_REG, @val as large as @id's size says.  0 or -errno. */
int dtvm_arm64_get_reg(int fd, uint64_t id, void *val);
int dtvm_arm64_set_reg(int fd, uint64_t id, const void *val);
/* A 64-bit register. */
int dtvm_arm64_set_reg64(int fd, uint64_t id, uint64_t val);

/*
 * KVM_ARM_VCPU_INIT vCPU @fd of @vm as the preferred target: before its
 * first KVM_RUN and any register access; again, it resets the vCPU.
 * 0 or -errno.
 */
int dtvm_arm64_vcpu_init(int vm, int fd);

/**
 * struct dtvm_arm64_entry - where an MMU-on vCPU starts
 * @ttbr0: the level-0 table
 * @vbar: the exception vectors (VBAR_EL1)
 * @pc: the entry point
 * @sp: SP_EL1
 * @x0: the first argument
 */
struct dtvm_arm64_entry {
	uint64_t ttbr0, vbar, pc, sp, x0;
};

/*
 * Enter initialised vCPU @fd at EL1h, every exception masked, the MMU and
 * caches on, as @e says.  0 or -errno.
 */
int dtvm_arm64_mmu_on(int fd, const struct dtvm_arm64_entry *e);

#endif /* DTVM_ARM64_H */
