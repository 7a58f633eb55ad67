// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's VM on x86_64: KVM memslots, vCPUs entered directly in long
 * mode (our own GDT and identity page tables with 2 MiB pages, set
 * through KVM_SET_SREGS), and the guest program loaded at DTM_CODE_GPA.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "dtmigrate.h"

extern const unsigned char _binary_guest_x86_bin_start[];
extern const unsigned char _binary_guest_x86_bin_end[];

#define MSR_IA32_TSC	0x10

static int dtm_kvm_fd = -1;

static int dtm_kvm(void)
{
	if (dtm_kvm_fd < 0)
		dtm_kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	return dtm_kvm_fd;
}

static int dtm_set_slot(struct dtm_vm *vm, uint32_t slot, uint64_t gpa,
			uint64_t size, void *mem, bool log)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/* The system memslot: GDT, page tables over every GiB used, the program. */
static void dtm_write_system(struct dtm_vm *vm)
{
	uint8_t *sys = vm->sys;
	uint64_t *gdt = (uint64_t *)(sys + DTM_GDT_GPA);
	uint64_t *pml4 = (uint64_t *)(sys + DTM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(sys + DTM_PDPT_GPA);
	uint64_t end = DTM_DATA_GPA + vm->data_bytes, g, j;
	size_t code = _binary_guest_x86_bin_end - _binary_guest_x86_bin_start;

	gdt[1] = 0x00af9a000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf92000000ffffULL;	/* data */
	pml4[0] = DTM_PDPT_GPA | 3;
	for (g = 0; g << 30 < end; g++) {
		uint64_t *pd = (uint64_t *)(sys + DTM_PD_GPA + g * DTM_PAGE);

		pdpt[g] = (DTM_PD_GPA + g * DTM_PAGE) | 3;
		for (j = 0; j < 512; j++)
			pd[j] = (g << 30) | (j << 21) | 0x83;	/* 2 MiB, RW */
	}
	memcpy(sys + DTM_CODE_GPA, _binary_guest_x86_bin_start, code);
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

int dtm_vm_create(struct dtm_vm *vm, const struct dtm_config *cfg, bool source)
{
	uint64_t slot_bytes = cfg->mem_mib * (1ULL << 20) / cfg->slots;
	int i, ret, run_size;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->data_bytes = slot_bytes * cfg->slots;
	if (dtm_kvm() < 0)
		return -errno;
	vm->fd = ioctl(dtm_kvm(), KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	/* VMX needs a TSS area outside guest memory, as QEMU places it. */
	ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	if (source && cfg->ring_entries) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_DIRTY_LOG_RING,
			.args[0] = cfg->ring_entries * sizeof(struct kvm_dirty_gfn),
		};

		if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap))
			return -errno;
	}
	vm->sys = mmap(NULL, DTM_SYS_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	vm->data = mmap(NULL, vm->data_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->sys == MAP_FAILED || vm->data == MAP_FAILED)
		return -ENOMEM;
	ret = dtm_set_slot(vm, 0, DTM_SYS_GPA, DTM_SYS_SIZE, vm->sys, source);
	for (i = 0; !ret && i < cfg->slots; i++)
		ret = dtm_set_slot(vm, 1 + i, DTM_DATA_GPA + i * slot_bytes,
				   slot_bytes, vm->data + i * slot_bytes, source);
	if (ret)
		return ret;
	vm->slot_bytes = slot_bytes;
	if (source)
		dtm_write_system(vm);

	run_size = ioctl(dtm_kvm(), KVM_GET_VCPU_MMAP_SIZE, 0);
	for (i = 0; i < cfg->vcpus; i++) {
		struct dtm_vcpu *v = &vm->vcpu[i];

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			return -errno;
		v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED)
			return -errno;
		ret = dtm_vcpu_cpuid(v->fd);
		if (!ret && source)
			ret = dtm_vcpu_regs(vm, i);
		if (ret)
			return ret;
	}
	vm->run_size = run_size;
	return 0;
}

void dtm_vm_destroy(struct dtm_vm *vm)
{
	int i;

	for (i = 0; i < DTM_MAX_VCPUS; i++) {
		if (vm->vcpu[i].run && vm->vcpu[i].run != MAP_FAILED)
			munmap(vm->vcpu[i].run, vm->run_size);
		if (vm->vcpu[i].fd > 0)
			close(vm->vcpu[i].fd);
	}
	if (vm->fd > 0)
		close(vm->fd);
	if (vm->sys && vm->sys != MAP_FAILED)
		munmap(vm->sys, DTM_SYS_SIZE);
	if (vm->data && vm->data != MAP_FAILED)
		munmap(vm->data, vm->data_bytes);
}

/* The vCPU state the guest program needs: registers, segments, TSC. */
int dtm_vcpu_transfer(struct dtm_vcpu *from, struct dtm_vcpu *to)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };

	if (ioctl(from->fd, KVM_GET_REGS, &regs) ||
	    ioctl(from->fd, KVM_GET_SREGS, &sregs) ||
	    ioctl(from->fd, KVM_GET_MSRS, &msr) != 1)
		return -errno ? -errno : -EIO;
	if (ioctl(to->fd, KVM_SET_SREGS, &sregs) ||
	    ioctl(to->fd, KVM_SET_REGS, &regs) ||
	    ioctl(to->fd, KVM_SET_MSRS, &msr) != 1)
		return -errno ? -errno : -EIO;
	return 0;
}

/* The guest's TSC rate, for the workload's pacing. */
uint64_t dtm_tsc_hz(struct dtm_vm *vm)
{
	int khz = ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

/* Did the vCPU stop where the guest program halts? */
bool dtm_vcpu_halted(struct dtm_vcpu *v)
{
	return v->run->exit_reason == KVM_EXIT_HLT;
}
