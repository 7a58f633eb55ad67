// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's VMs: one KVM VM each for the source and the destination,
 * with the same memslots (a system one, then the data area split over
 * several, all in one host mapping so it compares as a whole) and vCPUs.
 * What the architecture adds comes from arch_*.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dtmigrate.h"

extern const unsigned char _binary_guest_bin_start[];
extern const unsigned char _binary_guest_bin_end[];

static int dtm_kvm_fd = -1;

int dtm_kvm(void)
{
	if (dtm_kvm_fd < 0)
		dtm_kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	return dtm_kvm_fd;
}

int dtm_vm_enable_cap(struct dtm_vm *vm, uint32_t cap, uint64_t arg)
{
	struct kvm_enable_cap c = { .cap = cap, .args[0] = arg };

	return ioctl(vm->fd, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

static int dtm_set_slot(struct dtm_vm *vm, uint32_t slot, uint64_t gpa,
			uint64_t size, void *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = vm->source ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/*
 * The next data memslot, right after the last one (memslot 1 + i at
 * DTM_DATA_GPA + i * slot_bytes), in memory mapped at creation.
 */
int dtm_vm_add_slot(struct dtm_vm *vm)
{
	uint64_t off = (uint64_t)vm->nr_slots * vm->slot_bytes;
	int ret;

	if (off + vm->slot_bytes > vm->data_max)
		return -ENOSPC;
	ret = dtm_set_slot(vm, 1 + vm->nr_slots, DTM_DATA_GPA + off,
			   vm->slot_bytes, vm->data + off);
	if (ret)
		return ret;
	vm->nr_slots++;
	vm->data_bytes = off + vm->slot_bytes;
	return 0;
}

/* The source's system memslot: the guest program, then the arch's part. */
static void dtm_vm_load(struct dtm_vm *vm)
{
	uint8_t *code = vm->sys + DTM_CODE_GPA;
	size_t n = _binary_guest_bin_end - _binary_guest_bin_start;

	memcpy(code, _binary_guest_bin_start, n);
	/* arm64: instruction fetches do not snoop the data cache. */
	__builtin___clear_cache((char *)code, (char *)code + n);
	dtm_arch_load(vm);
}

static int dtm_vcpu_create(struct dtm_vm *vm, int i)
{
	struct dtm_vcpu *v = &vm->vcpu[i];

	v->vm = vm;
	v->index = i;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	return dtm_arch_vcpu_init(vm, i);
}

/* On failure, the caller still calls dtm_vm_destroy(). */
int dtm_vm_create(struct dtm_vm *vm, const struct dtm_config *cfg, bool source)
{
	int i, ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->source = source;
	vm->fd = -1;
	vm->slot_bytes = cfg->mem_mib * (1ULL << 20) / cfg->slots;
	vm->data_max = vm->slot_bytes * (cfg->slots + cfg->hotplug_slots);
	if (dtm_kvm() < 0)
		return -errno;
	vm->run_size = ioctl(dtm_kvm(), KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return -errno;
	vm->fd = ioctl(dtm_kvm(), KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	ret = dtm_arch_vm_init(vm);
	if (ret)
		return ret;

	vm->sys = mmap(NULL, DTM_SYS_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->sys == MAP_FAILED) {
		vm->sys = NULL;
		return -ENOMEM;
	}
	vm->data = mmap(NULL, vm->data_max, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->data == MAP_FAILED) {
		vm->data = NULL;
		return -ENOMEM;
	}
	ret = dtm_set_slot(vm, 0, DTM_SYS_GPA, DTM_SYS_SIZE, vm->sys);
	for (i = 0; !ret && i < cfg->slots; i++)
		ret = dtm_vm_add_slot(vm);
	if (ret)
		return ret;
	if (source)
		dtm_vm_load(vm);

	for (i = 0; i < cfg->vcpus; i++) {
		ret = dtm_vcpu_create(vm, i);
		if (ret)
			return ret;
	}
	return dtm_arch_vm_ready(vm);
}

void dtm_vm_destroy(struct dtm_vm *vm)
{
	int i;

	for (i = 0; i < DTM_MAX_VCPUS; i++) {
		if (vm->vcpu[i].run)
			munmap(vm->vcpu[i].run, vm->run_size);
		if (vm->vcpu[i].fd > 0)
			close(vm->vcpu[i].fd);
	}
	dtm_arch_destroy(vm);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys)
		munmap(vm->sys, DTM_SYS_SIZE);
	if (vm->data)
		munmap(vm->data, vm->data_max);
	vm->fd = -1;
	vm->sys = NULL;
	vm->data = NULL;
}
