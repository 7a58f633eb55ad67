// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs and their mappings (see dtvm.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dtvm.h"

int dtvm_vcpu_create(struct dtvm_vcpu *v, int kvm, int vm, int id)
{
	int size;
	void *run;

	memset(v, 0, sizeof(*v));
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return size < 0 ? -errno : -EIO;
	v->fd = ioctl(vm, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		v->fd = 0;
		return -errno;
	}
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	v->run = run;
	v->run_size = size;
	return 0;
}

/* The ring sits at page KVM_DIRTY_LOG_PAGE_OFFSET of the vCPU's fd. */
int dtvm_vcpu_map_ring(struct dtvm_vcpu *v, uint32_t entries)
{
	void *ring = mmap(NULL, dtvm_ring_bytes(entries),
			  PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
			  KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());

	if (ring == MAP_FAILED)
		return -errno;
	v->ring = ring;
	v->ring_entries = entries;
	return 0;
}

void dtvm_vcpu_destroy(struct dtvm_vcpu *v)
{
	if (v->ring)
		munmap(v->ring, dtvm_ring_bytes(v->ring_entries));
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
	memset(v, 0, sizeof(*v));
}
