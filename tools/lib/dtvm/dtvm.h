/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtvm: the small KVM VMs of dirtytrack's tools and tests (dtmigrate, the
 * selftests, the unit tests, dtbench), with no firmware.  This header is
 * what every architecture shares; what differs is in dtvm_x86.h,
 * dtvm_arm64.h and dtvm_its.h.
 *
 *   dtvm_vm.c    /dev/kvm, the VM, its capabilities (the dirty ring)
 *   dtvm_mem.c   guest memory, memslots, guest code
 *   dtvm_vcpu.c  vCPUs, their kvm_run and dirty ring mappings
 *
 * Every call returns 0 (or a descriptor) or -errno, and prints nothing:
 * the caller says what failed in its own way (a TH_LOG, a cmocka
 * assertion, an error line).
 */
#ifndef DTVM_H
#define DTVM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/*
 * The dirty ring every KVM of the architecture has: x86 has the plain
 * one (6.0 and later also the acquire/release one), arm64 only the
 * acquire/release one.
 */
#if defined(__aarch64__)
#define DTVM_RING_CAP	KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#else
#define DTVM_RING_CAP	KVM_CAP_DIRTY_LOG_RING
#endif

/* ---- dtvm_vm.c --------------------------------------------------------- */

/* The process's /dev/kvm descriptor, opened on first use: fd or -errno. */
int dtvm_kvm(void);
void dtvm_kvm_close(void);
/* A new /dev/kvm descriptor, the caller's to close: fd or -errno. */
int dtvm_kvm_open(void);
/* A new VM on @kvm: its fd, or -errno. */
int dtvm_vm_create(int kvm);
int dtvm_enable_cap(int vm, uint32_t cap, uint64_t arg);
/*
 * Give every vCPU of @vm a dirty ring of @entries entries, through @cap
 * (DTVM_RING_CAP, or KVM_CAP_DIRTY_LOG_RING_ACQ_REL on x86): after
 * KVM_CREATE_VM, before the first memslot and the first vCPU.
 */
int dtvm_enable_ring(int vm, uint32_t cap, uint32_t entries);

/* The bytes of a dirty ring of @entries entries. */
static inline size_t dtvm_ring_bytes(uint32_t entries)
{
	return (size_t)entries * sizeof(struct kvm_dirty_gfn);
}

/* ---- dtvm_mem.c -------------------------------------------------------- */

/*
 * @bytes of zeroed anonymous memory to back guest RAM (MAP_NORESERVE:
 * what the guest never touches costs nothing), or NULL with errno set.
 */
void *dtvm_mem_alloc(size_t bytes);
/* Unmap what dtvm_mem_alloc() gave; NULL does nothing. */
void dtvm_mem_free(void *mem, size_t bytes);
/*
 * Create or change memslot @slot: [@gpa, @gpa + @size) backed by @mem,
 * with @flags (KVM_MEM_LOG_DIRTY_PAGES).  A @size of 0 deletes it.
 */
int dtvm_set_memslot(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		     uint64_t size, void *mem);
/*
 * Copy @n bytes of guest code to @dst, its place in guest memory, and
 * make it visible to instruction fetches (arm64: they do not snoop the
 * data cache).
 */
void dtvm_load_code(void *dst, const void *code, size_t n);
/* The same for code written in place in [@start, @end). */
void dtvm_code_written(void *start, void *end);

/* ---- dtvm_vcpu.c ------------------------------------------------------- */

/*
 * A vCPU and its mappings.  A zeroed one is empty: dtvm_vcpu_destroy()
 * leaves it alone (fd 0, stdin, is never a vCPU's).
 */
struct dtvm_vcpu {
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct kvm_dirty_gfn *ring;	/* dtvm_vcpu_map_ring() only */
	uint32_t ring_entries;
};

/* vCPU @id of @vm, with its kvm_run mapped (the size from @kvm). */
int dtvm_vcpu_create(struct dtvm_vcpu *v, int kvm, int vm, int id);
/* Map the vCPU's dirty ring of @entries entries (dtvm_enable_ring()). */
int dtvm_vcpu_map_ring(struct dtvm_vcpu *v, uint32_t entries);
/* Unmap and close what is there; the vCPU is empty after. */
void dtvm_vcpu_destroy(struct dtvm_vcpu *v);

#endif /* DTVM_H */
