// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's VMs: a system memslot (tables and code, not logged) and
 * one data memslot, vCPUs entered in long mode, one thread per vCPU
 * started once.  A round hands every vCPU a job (the pages to store to),
 * wakes the threads and waits until each vCPU halted: after that, and
 * only then, a collector runs, with every vCPU out of KVM_RUN.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "dtvm_x86.h"

static const struct dtvm_x86_layout dtb_layout = {
	.gdt = DTB_GDT_GPA, .pml4 = DTB_PML4_GPA, .pdpt = DTB_PDPT_GPA,
	.pd = DTB_PD_GPA,
};

static int dtb_kvm_fd = -1;

int dtb_kvm(void)
{
	if (dtb_kvm_fd < 0)
		dtb_kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	return dtb_kvm_fd;
}

void dtb_kvm_close(void)
{
	if (dtb_kvm_fd >= 0)
		close(dtb_kvm_fd);
	dtb_kvm_fd = -1;
}

/* KVM answers the ring's largest size in bytes; x86 has both flavours. */
static uint32_t dtb_ring_cap(void)
{
	if (dtb_kvm() < 0)
		return 0;
	if (ioctl(dtb_kvm(), KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) > 0)
		return KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
	if (ioctl(dtb_kvm(), KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING) > 0)
		return KVM_CAP_DIRTY_LOG_RING;
	return 0;
}

uint32_t dtb_ring_max_entries(void)
{
	uint32_t cap = dtb_ring_cap();
	int bytes;

	if (!cap)
		return 0;
	bytes = ioctl(dtb_kvm(), KVM_CHECK_EXTENSION, cap);
	return bytes > 0 ? (uint32_t)bytes / sizeof(struct kvm_dirty_gfn) : 0;
}

static int dtb_enable_cap(struct dtb_vm *vm, uint32_t cap, uint64_t arg)
{
	struct kvm_enable_cap c = { .cap = cap, .args[0] = arg };

	return ioctl(vm->fd, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

static int dtb_set_slot(struct dtb_vm *vm, uint32_t slot, uint32_t flags,
			uint64_t gpa, uint64_t size, void *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
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
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		return -errno;
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_DIRTY_RING_FULL:
			v->vm->bad_exit = KVM_EXIT_DIRTY_RING_FULL;
			return -ENOSPC;
		default:
			v->vm->bad_exit = v->run->exit_reason;
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

	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	ret = dtvm_x86_cpuid(dtb_kvm(), v->fd);
	if (!ret)
		ret = dtvm_x86_long_mode(v->fd, &dtb_layout, DTB_CODE_GPA, 0, 0, 0);
	if (!ret && ioctl(v->fd, KVM_GET_REGS, &v->regs))
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

	vm->sys = mmap(NULL, DTB_SYS_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->sys == MAP_FAILED) {
		vm->sys = NULL;
		return -ENOMEM;
	}
	vm->data = mmap(NULL, vm->data_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->data == MAP_FAILED) {
		vm->data = NULL;
		return -ENOMEM;
	}
	memcpy(vm->sys + DTB_CODE_GPA, dtb_guest_code, code);
	dtvm_x86_tables(vm->sys, &dtb_layout, DTB_DATA_GPA + vm->data_bytes);
	ret = dtb_set_slot(vm, DTB_SYS_SLOT, 0, 0, DTB_SYS_SIZE, vm->sys);
	if (!ret)
		ret = dtb_set_slot(vm, DTB_DATA_SLOT,
				   o->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
				   DTB_DATA_GPA, vm->data_bytes, vm->data);
	return ret;
}

/* On failure everything is undone: the caller does not destroy. */
int dtb_vm_create(struct dtb_vm *vm, const struct dtb_vm_opts *o)
{
	const char *step;
	int i, ret;

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	for (i = 0; i < DTB_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
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
	ret = dtb_kvm() < 0 ? -errno : 0;
	if (ret)
		goto err;
	step = "KVM_GET_VCPU_MMAP_SIZE";
	vm->run_size = ioctl(dtb_kvm(), KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = -errno;
		goto err;
	}
	step = "KVM_CREATE_VM";
	vm->fd = ioctl(dtb_kvm(), KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		ret = -errno;
		goto err;
	}
	/* VMX needs a TSS area outside guest memory, as QEMU places it. */
	step = "KVM_SET_TSS_ADDR";
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, DTB_TSS_ADDR)) {
		ret = -errno;
		goto err;
	}
	if (o->ring_entries) {
		step = "enable the dirty ring (KVM_CAP_DIRTY_LOG_RING)";
		ret = dtb_ring_cap() ? dtb_enable_cap(vm, dtb_ring_cap(),
			o->ring_entries * sizeof(struct kvm_dirty_gfn)) : -ENOTSUP;
		if (ret)
			goto err;
	}
	if (o->manual_protect) {
		step = "enable KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2";
		ret = dtb_enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
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
	size_t bytes = vm->ring_entries * sizeof(struct kvm_dirty_gfn);
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct dtb_vcpu *v = &vm->vcpu[i];

		v->ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			       v->fd, KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
		if (v->ring == MAP_FAILED) {
			v->ring = NULL;
			dtb_err("mmap of vCPU %d's dirty ring: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

void dtb_vm_destroy(struct dtb_vm *vm)
{
	size_t ring_bytes = vm->ring_entries * sizeof(struct kvm_dirty_gfn);
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
		if (v->ring)
			munmap(v->ring, ring_bytes);
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	if (vm->sync_init) {
		pthread_cond_destroy(&vm->done);
		pthread_cond_destroy(&vm->go);
		pthread_mutex_destroy(&vm->lock);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys)
		munmap(vm->sys, DTB_SYS_SIZE);
	if (vm->data)
		munmap(vm->data, vm->data_bytes);
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	for (i = 0; i < DTB_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
}
