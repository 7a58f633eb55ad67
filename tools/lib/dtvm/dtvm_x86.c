// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64 vCPUs entered with no firmware (see dtvm_x86.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "dtvm_x86.h"

void dtvm_x86_tables(uint8_t *mem, const struct dtvm_x86_layout *l,
		     uint64_t end)
{
	uint64_t *gdt = (uint64_t *)(mem + l->gdt);
	uint64_t *pml4 = (uint64_t *)(mem + l->pml4);
	uint64_t *pdpt = (uint64_t *)(mem + l->pdpt);
	uint64_t g, j;

	gdt[1] = 0x00af9a000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf92000000ffffULL;	/* data */
	pml4[0] = l->pdpt | 3;
	for (g = 0; g << 30 < end; g++) {
		uint64_t *pd = (uint64_t *)(mem + l->pd + g * 4096);

		pdpt[g] = (l->pd + g * 4096) | 3;
		for (j = 0; j < 512; j++)
			pd[j] = (g << 30) | (j << 21) | 0x83;	/* 2 MiB, RW */
	}
}

int dtvm_x86_long_mode(int fd, const struct dtvm_x86_layout *l, uint64_t rip,
		       uint64_t rsp, uint64_t rdi, uint64_t rsi)
{
	struct kvm_segment cs = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment ds = {
		.base = 0, .limit = 0xffffffff, .selector = 16, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_regs regs = {
		.rip = rip, .rsp = rsp, .rdi = rdi, .rsi = rsi, .rflags = 2,
	};
	struct kvm_sregs sregs;

	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.gdt.base = l->gdt;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr0 = 0x80050033;		/* PG, AM, WP, NE, ET, MP, PE */
	sregs.cr3 = l->pml4;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LME, LMA */
	if (ioctl(fd, KVM_SET_SREGS, &sregs) || ioctl(fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

int dtvm_x86_flat32(int fd, const struct kvm_regs *regs)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;

	data.type = 3;
	data.selector = 16;
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 |= 1;		/* PE */
	if (ioctl(fd, KVM_SET_SREGS, &sregs) || ioctl(fd, KVM_SET_REGS, regs))
		return -errno;
	return 0;
}

int dtvm_x86_set_tss(int vm)
{
	return ioctl(vm, KVM_SET_TSS_ADDR, DTVM_X86_TSS_ADDR) ? -errno : 0;
}

int dtvm_x86_cpuid(int kvm, int fd)
{
	struct kvm_cpuid2 *c;
	int n = 256, ret = 0;

	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) || ioctl(fd, KVM_SET_CPUID2, c))
		ret = -errno;
	free(c);
	return ret;
}
