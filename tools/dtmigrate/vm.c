// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's VMs: one KVM VM each for the source and the destination,
 * with the same memslots (a system one, then the data area split over
 * several, all in one host mapping so it compares as a whole) and vCPUs,
 * built with tools/lib/dtvm.  What the architecture adds comes from
 * arch_*.c.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dtmigrate.h"

extern const unsigned char _binary_guest_bin_start[];
extern const unsigned char _binary_guest_bin_end[];

/* Only the source logs dirty pages. */
static int dtm_set_slot(struct dtm_vm *vm, uint32_t slot, uint64_t gpa,
			uint64_t size, void *mem)
{
	return dtvm_set_memslot(vm->fd, slot,
				vm->source ? KVM_MEM_LOG_DIRTY_PAGES : 0,
				gpa, size, mem);
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
	dtvm_load_code(vm->sys + DTM_CODE_GPA, _binary_guest_bin_start,
		       _binary_guest_bin_end - _binary_guest_bin_start);
	dtm_arch_load(vm);
}

static int dtm_vcpu_create(struct dtm_vm *vm, int i)
{
	struct dtm_vcpu *v = &vm->vcpu[i];
	int ret;

	v->vm = vm;
	v->index = i;
	ret = dtvm_vcpu_create(&v->vc, dtvm_kvm(), vm->fd, i);
	return ret ?: dtm_arch_vcpu_init(vm, i);
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
	ret = dtvm_kvm();
	if (ret < 0)
		return ret;
	vm->fd = dtvm_vm_create(ret);
	if (vm->fd < 0)
		return vm->fd;
	/* Before any memslot, as the arch's capabilities. */
	if (source && cfg->ring_entries) {
		ret = dtvm_enable_ring(vm->fd, DTVM_RING_CAP, cfg->ring_entries);
		if (ret)
			return ret;
	}
	ret = dtm_arch_vm_init(vm);
	if (ret)
		return ret;

	vm->sys = dtvm_mem_alloc(DTM_SYS_SIZE);
	vm->data = dtvm_mem_alloc(vm->data_max);
	if (!vm->sys || !vm->data)
		return -ENOMEM;
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

	for (i = 0; i < DTM_MAX_VCPUS; i++)
		dtvm_vcpu_destroy(&vm->vcpu[i].vc);
	dtm_arch_destroy(vm);
	if (vm->fd >= 0)
		close(vm->fd);
	dtvm_mem_free(vm->sys, DTM_SYS_SIZE);
	dtvm_mem_free(vm->data, vm->data_max);
	vm->fd = -1;
	vm->sys = NULL;
	vm->data = NULL;
}
