// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory, memslots and guest code (see dtvm.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "dtvm.h"

void *dtvm_mem_alloc(size_t bytes)
{
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return mem == MAP_FAILED ? NULL : mem;
}

void dtvm_mem_free(void *mem, size_t bytes)
{
	if (mem)
		munmap(mem, bytes);
}

int dtvm_set_memslot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		     uint64_t size, void *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

void dtvm_code_written(void *start, void *end)
{
	__builtin___clear_cache((char *)start, (char *)end);
}

void dtvm_load_code(void *dst, const void *code, size_t n)
{
	memcpy(dst, code, n);
	dtvm_code_written(dst, (char *)dst + n);
}
