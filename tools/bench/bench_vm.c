// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's VMs, built with tools/lib/dtvm: a system memslot (tables
 * and code, not logged) and one data memslot, vCPUs entered in long mode,
 * one thread per vCPU started once.  A round hands every vCPU a job (the pages to store to),
 * wakes the threads and waits until each vCPU halted: after that, and
 * only then, a collector runs, with every vCPU out of KVM_RUN.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bench.h"
#include "dtvm_x86.h"

static const struct dtvm_x86_layout dtb_layout = {
	.gdt = DTB_GDT_GPA, .pml4 = DTB_PML4_GPA, .pdpt = DTB_PDPT_GPA,
	.pd = DTB_PD_GPA,
};

/* KVM answers the ring's largest size in bytes; x86 has both flavours. */
static uint32_t dtb_ring_cap(void)
{
	if (dtvm_kvm() < 0)
		return 0;
	if (ioctl(dtvm_kvm(), KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) > 0)
		return KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
	if (ioctl(dtvm_kvm(), KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING) > 0)
		return KVM_CAP_DIRTY_LOG_RING;
	return 0;
}

uint32_t dtb_ring_max_entries(void)
{
	uint32_t cap = dtb_ring_cap();
	int bytes;

	if (!cap)
		return 0;
	bytes = ioctl(dtvm_kvm(), KVM_CHECK_EXTENSION, cap);
	return bytes > 0 ? (uint32_t)bytes / sizeof(struct kvm_dirty_gfn) : 0;
}

/* One round of one vCPU: the job's registers, then run until hlt. */
static int dtb_vcpu_run(struct dtb_vcpu *v, uint64_t value)
{
	struct kvm_regs regs = v->regs;

	regs.rip = DTB_CODE_GPA;
	regs.rdi = DTB_DATA_GPA + v->job.first_page * DTB_PAGE;
	regs.rsi = v->job.npages;
	regs.rdx = v->job.stride * DTB_PAGE;
	regs.rcx = value;
	regs.rflags = 2;
	if (ioctl(v->vc.fd, KVM_SET_REGS, &regs))
		return -errno;
	for (;;) {
		if (ioctl(v->vc.fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		switch (v->vc.run->exit_reason) {
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_DIRTY_RING_FULL:
			v->vm->bad_exit = KVM_EXIT_DIRTY_RING_FULL;
			return -ENOSPC;
		default:
			v->vm->bad_exit = v->vc.run->exit_reason;
			return -EPROTO;
		}
	}
}

static void *dtb_vcpu_thread(void *arg)
{
	struct dtb_vcpu *v = arg;
	struct dtb_vm *vm = v->vm;
	uint64_t seen = 0, value;
	int ret;

	for (;;) {
		pthread_mutex_lock(&vm->lock);
		while (!vm->quit && vm->gen == seen)
			pthread_cond_wait(&vm->go, &vm->lock);
		if (vm->quit) {
			pthread_mutex_unlock(&vm->lock);
			return NULL;
		}
		seen = vm->gen;
		value = vm->value;
		pthread_mutex_unlock(&vm->lock);

		ret = dtb_vcpu_run(v, value);

		pthread_mutex_lock(&vm->lock);
		if (ret && !vm->error)
			vm->error = ret;
		if (!--vm->pending)
			pthread_cond_signal(&vm->done);
		pthread_mutex_unlock(&vm->lock);
	}
}

int dtb_vm_round(struct dtb_vm *vm, const struct dtb_job *jobs,
		 uint64_t *out_ns)
{
	uint64_t t0;
	int i, ret;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (jobs[i].npages && (jobs[i].first_page +
		    (jobs[i].npages - 1) * jobs[i].stride >= vm->data_pages))
			return -EINVAL;
		vm->vcpu[i].job = jobs[i];
	}
	t0 = dtb_now_ns();
	pthread_mutex_lock(&vm->lock);
	vm->value++;
	vm->error = 0;
	vm->pending = vm->nr_vcpus;
	vm->gen++;
	pthread_cond_broadcast(&vm->go);
	while (vm->pending)
		pthread_cond_wait(&vm->done, &vm->lock);
	ret = vm->error;
	pthread_mutex_unlock(&vm->lock);
	if (out_ns)
		*out_ns = dtb_now_ns() - t0;
	if (ret == -ENOSPC)
		dtb_err("a vCPU exited with KVM_EXIT_DIRTY_RING_FULL: the round's pages do not fit its ring");
	else if (ret == -EPROTO)
		dtb_err("a vCPU exited with reason %u instead of KVM_EXIT_HLT",
			vm->bad_exit);
	else if (ret)
		dtb_err("KVM_RUN: %s", strerror(-ret));
	return ret;
}

static int dtb_vcpu_create(struct dtb_vm *vm, int i)
{
	struct dtb_vcpu *v = &vm->vcpu[i];
	int ret;

	ret = dtvm_vcpu_create(&v->vc, dtvm_kvm(), vm->fd, i);
	ret = ret ?: dtvm_x86_cpuid(dtvm_kvm(), v->vc.fd);
	ret = ret ?: dtvm_x86_long_mode(v->vc.fd, &dtb_layout, DTB_CODE_GPA,
					0, 0, 0);
	if (!ret && ioctl(v->vc.fd, KVM_GET_REGS, &v->regs))
		ret = -errno;
	if (ret)
		return ret;
	ret = -pthread_create(&v->thread, NULL, dtb_vcpu_thread, v);
	v->started = !ret;
	return ret;
}

static int dtb_vm_memory(struct dtb_vm *vm, const struct dtb_vm_opts *o)
{
	size_t code = dtb_guest_code_end - dtb_guest_code;
	int ret;

	vm->sys = dtvm_mem_alloc(DTB_SYS_SIZE);
	vm->data = dtvm_mem_alloc(vm->data_bytes);
	if (!vm->sys || !vm->data)
		return -ENOMEM;
	dtvm_load_code(vm->sys + DTB_CODE_GPA, dtb_guest_code, code);
	dtvm_x86_tables(vm->sys, &dtb_layout, DTB_DATA_GPA + vm->data_bytes);
	ret = dtvm_set_memslot(vm->fd, DTB_SYS_SLOT, 0, 0, DTB_SYS_SIZE,
			       vm->sys);
	return ret ?: dtvm_set_memslot(vm->fd, DTB_DATA_SLOT,
				       o->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
				       DTB_DATA_GPA, vm->data_bytes, vm->data);
}

/* On failure everything is undone: the caller does not destroy. */
int dtb_vm_create(struct dtb_vm *vm, const struct dtb_vm_opts *o)
{
	const char *step;
	int i, ret;

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	/* Whole 2 MiB pages of the guest's tables. */
	vm->data_bytes = (o->data_bytes + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	if (o->vcpus < 0 || o->vcpus > DTB_MAX_VCPUS || !o->data_bytes ||
	    DTB_DATA_GPA + vm->data_bytes > DTB_MAX_GPA) {
		dtb_err("VM of %d vCPUs and %llu bytes of data: out of range",
			o->vcpus, (unsigned long long)o->data_bytes);
		return -EINVAL;
	}
	vm->data_pages = o->data_bytes / DTB_PAGE;
	vm->ring_entries = o->ring_entries;

	step = "open /dev/kvm";
	ret = dtvm_kvm();
	if (ret < 0)
		goto err;
	step = "KVM_CREATE_VM";
	vm->fd = dtvm_vm_create(dtvm_kvm());
	if (vm->fd < 0) {
		ret = vm->fd;
		goto err;
	}
	step = "KVM_SET_TSS_ADDR";
	ret = dtvm_x86_set_tss(vm->fd);
	if (ret)
		goto err;
	if (o->ring_entries) {
		step = "enable the dirty ring (KVM_CAP_DIRTY_LOG_RING)";
		ret = dtb_ring_cap() ? dtvm_enable_ring(vm->fd, dtb_ring_cap(),
							o->ring_entries) : -ENOTSUP;
		if (ret)
			goto err;
	}
	if (o->manual_protect) {
		step = "enable KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2";
		ret = dtvm_enable_cap(vm->fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
		if (ret)
			goto err;
	}
	step = "guest memory and memslots";
	ret = dtb_vm_memory(vm, o);
	if (ret)
		goto err;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->go, NULL);
	pthread_cond_init(&vm->done, NULL);
	vm->sync_init = true;
	step = "vCPUs";
	for (i = 0; i < o->vcpus; i++) {
		vm->vcpu[i].vm = vm;
		vm->vcpu[i].index = i;
		vm->nr_vcpus = i + 1;
		ret = dtb_vcpu_create(vm, i);
		if (ret)
			goto err;
	}
	return 0;
err:
	dtb_err("VM set-up: %s: %s", step, strerror(-ret));
	dtb_vm_destroy(vm);
	return ret;
}

int dtb_vm_map_rings(struct dtb_vm *vm)
{
	int i, ret;

	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = dtvm_vcpu_map_ring(&vm->vcpu[i].vc, vm->ring_entries);
		if (ret) {
			dtb_err("mmap of vCPU %d's dirty ring: %s", i,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void dtb_vm_destroy(struct dtb_vm *vm)
{
	int i;

	if (vm->sync_init) {
		pthread_mutex_lock(&vm->lock);
		vm->quit = true;
		pthread_cond_broadcast(&vm->go);
		pthread_mutex_unlock(&vm->lock);
	}
	for (i = 0; i < DTB_MAX_VCPUS; i++) {
		struct dtb_vcpu *v = &vm->vcpu[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		dtvm_vcpu_destroy(&v->vc);
	}
	if (vm->sync_init) {
		pthread_cond_destroy(&vm->done);
		pthread_cond_destroy(&vm->go);
		pthread_mutex_destroy(&vm->lock);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	dtvm_mem_free(vm->sys, DTB_SYS_SIZE);
	dtvm_mem_free(vm->data, vm->data_bytes);
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
}
