/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86_64 vCPUs entered with no firmware and no real mode, the segment and
 * control registers set through KVM_SET_SREGS: straight in long mode
 * (dtmigrate, the benchmarks: a flat GDT, identity page tables with 2 MiB
 * pages), or in flat 32-bit protected mode with no GDT and no paging (the
 * selftests' guest).
 */
#ifndef DTVM_X86_H
#define DTVM_X86_H

#include <stdint.h>

#include <linux/kvm.h>

/* Where QEMU places the TSS area VMX needs, outside guest memory. */
#define DTVM_X86_TSS_ADDR	0xfffbd000UL

/**
 * struct dtvm_x86_layout - where the tables go, in guest physical memory
 * @gdt: the GDT (3 entries)
 * @pml4: the PML4 (a page)
 * @pdpt: the page directory pointer table (a page)
 * @pd: the first page directory; one page per GiB mapped follows
 */
struct dtvm_x86_layout {
	uint64_t gdt, pml4, pdpt, pd;
};

/*
 * Write the GDT and identity page tables mapping [0, @end) (whole GiBs) at
 * the places @l gives, in @mem, the guest memory holding them (guest
 * physical 0 at @mem).
 */
void dtvm_x86_tables(uint8_t *mem, const struct dtvm_x86_layout *l,
		     uint64_t end);

/*
 * Put vCPU @fd in long mode with the tables of @l, at @rip with stack
 * @rsp and @rdi, @rsi as the first arguments.  0 or -errno.
 */
int dtvm_x86_long_mode(int fd, const struct dtvm_x86_layout *l, uint64_t rip,
		       uint64_t rsp, uint64_t rdi, uint64_t rsi);

/*
 * Put vCPU @fd in flat 32-bit protected mode through the hidden segment
 * state alone (selectors 8 and 16 name no GDT entry), then load @regs.
 * 0 or -errno.
 */
int dtvm_x86_flat32(int fd, const struct kvm_regs *regs);

/* The VM's TSS area (VMX needs one), at DTVM_X86_TSS_ADDR.  0 or -errno. */
int dtvm_x86_set_tss(int vm);

/* Give vCPU @fd every CPUID leaf KVM @kvm supports.  0 or -errno. */
int dtvm_x86_cpuid(int kvm, int fd);

#endif /* DTVM_X86_H */
