// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate on x86_64: vCPUs entered directly in long mode (our own GDT
 * and identity page tables with 2 MiB pages, set through KVM_SET_SREGS),
 * the guest program loaded at DTM_CODE_GPA, the TSC as its counter.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "dtmigrate.h"
#include "dtvm_x86.h"

#define MSR_IA32_TSC	0x10

static const struct dtvm_x86_layout dtm_x86_layout = {
	.gdt = DTM_GDT_GPA, .pml4 = DTM_PML4_GPA, .pdpt = DTM_PDPT_GPA,
	.pd = DTM_PD_GPA,
};

int dtm_arch_check(const struct dtm_config *cfg)
{
	if (cfg->its) {
		fprintf(stderr, "dtmigrate: --its needs arm64 (a vGICv3 ITS); x86_64 has none\n");
		return -EINVAL;
	}
	return 0;
}

/* VMX needs a TSS area outside guest memory; an error is not fatal here. */
int dtm_arch_vm_init(struct dtm_vm *vm)
{
	dtvm_x86_set_tss(vm->fd);
	return 0;
}

/* The GDT and page tables over every GiB, hotplug included. */
void dtm_arch_load(struct dtm_vm *vm)
{
	dtvm_x86_tables(vm->sys, &dtm_x86_layout, DTM_DATA_GPA + vm->data_max);
}

int dtm_arch_vcpu_init(struct dtm_vm *vm, int i)
{
	int ret = dtvm_x86_cpuid(dtvm_kvm(), vm->vcpu[i].vc.fd);

	if (!ret && vm->source)
		ret = dtvm_x86_long_mode(vm->vcpu[i].vc.fd, &dtm_x86_layout,
					 DTM_CODE_GPA,
					 DTM_STACK_TOP - (uint64_t)i * DTM_STACK_SIZE,
					 (uint64_t)i, 0);
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
	if (ioctl(from->vc.fd, KVM_GET_REGS, &regs) ||
	    ioctl(from->vc.fd, KVM_GET_SREGS, &sregs))
		return -errno;
	ret = ioctl(from->vc.fd, KVM_GET_MSRS, &msr);
	if (ret != 1)
		return ret < 0 ? -errno : -EIO;
	if (ioctl(to->vc.fd, KVM_SET_SREGS, &sregs) ||
	    ioctl(to->vc.fd, KVM_SET_REGS, &regs))
		return -errno;
	ret = ioctl(to->vc.fd, KVM_SET_MSRS, &msr);
	if (ret != 1)
		return ret < 0 ? -errno : -EIO;
	return 0;
}

/* The guest's TSC rate, for the workload's pacing. */
uint64_t dtm_arch_counter_hz(struct dtm_vm *vm)
{
	int khz = ioctl(vm->vcpu[0].vc.fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

/* The guest program ends in hlt. */
bool dtm_arch_vcpu_done(struct dtm_vcpu *v)
{
	return v->vc.run->exit_reason == KVM_EXIT_HLT;
}
