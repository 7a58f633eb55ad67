// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 vCPUs entered at EL1 with no firmware (see dtvm_arm64.h).
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "dtvm_arm64.h"

#define DTVM_SCTLR_EL1	ARM64_SYS_REG(3, 0, 1, 0, 0)
#define DTVM_TTBR0_EL1	ARM64_SYS_REG(3, 0, 2, 0, 0)
#define DTVM_TCR_EL1	ARM64_SYS_REG(3, 0, 2, 0, 2)
#define DTVM_MAIR_EL1	ARM64_SYS_REG(3, 0, 10, 2, 0)
#define DTVM_VBAR_EL1	ARM64_SYS_REG(3, 0, 12, 0, 0)

/* MAIR_EL1: attribute 0 Normal write-back (RW-allocate), 1 Device-nGnRE. */
#define DTVM_MAIR	(0xffULL << (8 * DTVM_ARM64_MT_NORMAL) | \
			 0x04ULL << (8 * DTVM_ARM64_MT_DEVICE))

/*
 * TCR_EL1: TTBR0 translates 48 bits of VA from a level-0 table (T0SZ
 * 16), 4 KiB granule, table walks write-back cacheable and inner
 * shareable like the tables' memory; no TTBR1 walks (EPD1; TG1 still
 * needs a valid value); 40-bit output, the IPA size of a VM created with
 * type 0.
 */
#define DTVM_TCR	(16ULL |		/* T0SZ */		\
			 1ULL << 8 |		/* IRGN0: WBWA */	\
			 1ULL << 10 |		/* ORGN0: WBWA */	\
			 3ULL << 12 |		/* SH0: inner */	\
			 0ULL << 14 |		/* TG0: 4 KiB */	\
			 1ULL << 23 |		/* EPD1 */		\
			 2ULL << 30 |		/* TG1: 4 KiB */	\
			 2ULL << 32)		/* IPS: 40 bits */
#define DTVM_SCTLR_MMU	(1ULL << 0 | 1ULL << 2 | 1ULL << 12)	/* M, C, I */
/* EL1 on SP_EL1, every exception masked: the programs take none. */
#define DTVM_PSTATE	(PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | \
			 PSR_F_BIT)

static int dtvm_arm64_reg(int fd, uint64_t id, const void *val,
			  unsigned long op)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)val };

	return ioctl(fd, op, &r) ? -errno : 0;
}

int dtvm_arm64_get_reg(int fd, uint64_t id, void *val)
{
	return dtvm_arm64_reg(fd, id, val, KVM_GET_ONE_REG);
}

int dtvm_arm64_set_reg(int fd, uint64_t id, const void *val)
{
	return dtvm_arm64_reg(fd, id, val, KVM_SET_ONE_REG);
}

int dtvm_arm64_set_reg64(int fd, uint64_t id, uint64_t val)
{
	return dtvm_arm64_set_reg(fd, id, &val);
}

int dtvm_arm64_vcpu_init(int vm, int fd)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) ||
	    ioctl(fd, KVM_ARM_VCPU_INIT, &init))
		return -errno;
	return 0;
}

/*
 * SCTLR_EL1 keeps KVM's reset value (its RES1 and trap-control bits)
 * plus the MMU and caches; the tables, MAIR and TCR are set before it.
 */
int dtvm_arm64_mmu_on(int fd, const struct dtvm_arm64_entry *e)
{
	const struct { uint64_t id, val; } regs[] = {
		{ DTVM_MAIR_EL1, DTVM_MAIR },
		{ DTVM_TCR_EL1, DTVM_TCR },
		{ DTVM_TTBR0_EL1, e->ttbr0 },
		{ DTVM_VBAR_EL1, e->vbar },
		{ DTVM_ARM64_CORE_REG(sp_el1), e->sp },
		{ DTVM_ARM64_CORE_REG(regs.pstate), DTVM_PSTATE },
		{ DTVM_ARM64_CORE_REG(regs.pc), e->pc },
		{ DTVM_ARM64_CORE_REG(regs.regs[0]), e->x0 },
	};
	uint64_t sctlr;
	size_t r;
	int ret = 0;

	for (r = 0; !ret && r < sizeof(regs) / sizeof(regs[0]); r++)
		ret = dtvm_arm64_set_reg64(fd, regs[r].id, regs[r].val);
	ret = ret ?: dtvm_arm64_get_reg(fd, DTVM_SCTLR_EL1, &sctlr);
	return ret ?: dtvm_arm64_set_reg64(fd, DTVM_SCTLR_EL1,
					   sctlr | DTVM_SCTLR_MMU);
}
