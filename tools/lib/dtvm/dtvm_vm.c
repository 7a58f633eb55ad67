// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kvm, the VM and its capabilities (see dtvm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dtvm.h"

static int dtvm_kvm_fd = -1;

int dtvm_kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dtvm_kvm(void)
{
	if (dtvm_kvm_fd < 0)
		dtvm_kvm_fd = dtvm_kvm_open();
	return dtvm_kvm_fd;
}

void dtvm_kvm_close(void)
{
	if (dtvm_kvm_fd >= 0)
		close(dtvm_kvm_fd);
	dtvm_kvm_fd = -1;
}

int dtvm_vm_create(int kvm)
{
	int fd = ioctl(kvm, KVM_CREATE_VM, 0);

	return fd < 0 ? -errno : fd;
}

int dtvm_enable_cap(int vm, uint32_t cap, uint64_t arg)
{
	struct kvm_enable_cap c = { .cap = cap, .args[0] = arg };

	return ioctl(vm, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

int dtvm_enable_ring(int vm, uint32_t cap, uint32_t entries)
{
	return dtvm_enable_cap(vm, cap, dtvm_ring_bytes(entries));
}
