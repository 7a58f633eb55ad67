// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate on x86_64: vCPUs entered directly in long mode (our own GDT
 * and identity page tables with 2 MiB pages, set through KVM_SET_SREGS),
 * the guest program loaded at DTM_CODE_GPA, the TSC as its counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "dtmigrate.h"

#define MSR_IA32_TSC	0x10

int dtm_arch_check(const struct dtm_config *cfg)
{
	if (cfg->its) {
		fprintf(stderr, "dtmigrate: --its needs arm64 (a vGICv3 ITS); x86_64 has none\n");
		return -EINVAL;
	}
	return 0;
}

int dtm_arch_vm_init(struct dtm_vm *vm)
{
	/* VMX needs a TSS area outside guest memory, as QEMU places it. */
	ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	if (vm->source && vm->cfg->ring_entries)
		return dtm_vm_enable_cap(vm, KVM_CAP_DIRTY_LOG_RING,
					 dtm_ring_bytes(vm->cfg));
	return 0;
}

/* The GDT and page tables over every GiB, hotplug included. */
void dtm_arch_load(struct dtm_vm *vm)
{
	uint8_t *sys = vm->sys;
	uint64_t *gdt = (uint64_t *)(sys + DTM_GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(sys + DTM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(sys + DTM_PDPT_GPA);
	uint64_t end = DTM_DATA_GPA + vm->data_max, g, j;

	gdt[1] = 0x00af9a000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf92000000ffffULL;	/* data */
	pml4[0] = DTM_PDPT_GPA | 3;
	for (g = 0; g << 30 < end; g++) {
		uint64_t *pd = (uint64_t *)(sys + DTM_PD_GPA + g * DTM_PAGE);

		pdpt[g] = (DTM_PD_GPA + g * DTM_PAGE) | 3;
		for (j = 0; j < 512; j++)
			pd[j] = (g << 30) | (j << 21) | 0x83;	/* 2 MiB, RW */
	}
}

static int dtm_vcpu_regs(struct dtm_vm *vm, int i)
{
	struct kvm_segment cs = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment ds = {
		.base = 0, .limit = 0xffffffff, .selector = 16, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = DTM_CODE_GPA, .rdi = (uint64_t)i, .rflags = 2,
		.rsp = DTM_STACK_TOP - (uint64_t)i * DTM_STACK_SIZE,
	};
	int fd = vm->vcpu[i].fd;

	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.gdt.base = DTM_GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr0 = 0x80050033;		/* PG, AM, WP, NE, ET, MP, PE */
	sregs.cr3 = DTM_PML4_GPA;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LME, LMA */
	if (ioctl(fd, KVM_SET_SREGS, &sregs) || ioctl(fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

static int dtm_vcpu_cpuid(int fd)
{
	struct kvm_cpuid2 *c;
	int n = 256, ret = 0;

	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	if (ioctl(dtm_kvm(), KVM_GET_SUPPORTED_CPUID, c) ||
	    ioctl(fd, KVM_SET_CPUID2, c))
		ret = -errno;
	free(c);
	return ret;
}

int dtm_arch_vcpu_init(struct dtm_vm *vm, int i)
{
	int ret = dtm_vcpu_cpuid(vm->vcpu[i].fd);

	if (!ret && vm->source)
		ret = dtm_vcpu_regs(vm, i);
	return ret;
}

int dtm_arch_vm_ready(struct dtm_vm *vm)
{
	(void)vm;
	return 0;
}

/* No device here writes guest memory while the vCPUs are stopped. */
int dtm_arch_save_devices(struct dtm_vm *vm)
{
	(void)vm;
	return 0;
}

void dtm_arch_destroy(struct dtm_vm *vm)
{
	(void)vm;
}

/* The vCPU state the guest program needs: registers, segments, TSC. */
int dtm_arch_vcpu_transfer(struct dtm_vcpu *from, struct dtm_vcpu *to)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
	int ret;

	/* KVM_{GET,SET}_MSRS return how many MSRs they did: 0 sets no errno. */
	if (ioctl(from->fd, KVM_GET_REGS, &regs) ||
	    ioctl(from->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	ret = ioctl(from->fd, KVM_GET_MSRS, &msr);
	if (ret != 1)
		return ret < 0 ? -errno : -EIO;
	if (ioctl(to->fd, KVM_SET_SREGS, &sregs) ||
	    ioctl(to->fd, KVM_SET_REGS, &regs))
		return -errno;
	ret = ioctl(to->fd, KVM_SET_MSRS, &msr);
	if (ret != 1)
		return ret < 0 ? -errno : -EIO;
	return 0;
}

/* The guest's TSC rate, for the workload's pacing. */
uint64_t dtm_arch_counter_hz(struct dtm_vm *vm)
{
	int khz = ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

/* The guest program ends in hlt. */
bool dtm_arch_vcpu_done(struct dtm_vcpu *v)
{
	return v->run->exit_reason == KVM_EXIT_HLT;
}
