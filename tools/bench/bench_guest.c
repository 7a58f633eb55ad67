// SPDX-License-Identifier: GPL-2.0
/*
 * The guest: one store per page, then hlt.  Position independent, no
 * stack, so it runs wherever it is copied (DTB_CODE_GPA) in any vCPU:
 *
 *   rdi  first address      rsi  pages
 *   rdx  stride, in bytes   rcx  the value stored
 *
 * With no in-kernel irqchip, hlt exits to userspace (KVM_EXIT_HLT); the
 * host sets the registers again for the next round.
 */
#include "bench.h"

#ifndef __x86_64__
#error "dtbench's guest is x86_64 only"
#endif

asm(".pushsection .rodata\n"
	".globl dtb_guest_code\n"
	".globl dtb_guest_code_end\n"
	"dtb_guest_code:\n"
	"	test %rsi, %rsi\n"
	"	jz 2f\n"
	"1:	mov %rcx, (%rdi)\n"
	"	add %rdx, %rdi\n"
	"	dec %rsi\n"
	"	jnz 1b\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"dtb_guest_code_end:\n"
	".popsection\n");
