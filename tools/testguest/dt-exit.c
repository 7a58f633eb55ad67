// SPDX-License-Identifier: GPL-2.0
/*
 * dt-exit STATUS: end an x86 test guest through QEMU's isa-debug-exit
 * device (iobase 0xf4), which makes QEMU exit with (STATUS << 1) | 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;

	if (ioperm(DEBUG_EXIT_PORT, 1, 1)) {
		perror("ioperm");
		return 1;
	}
	outb(status & 0x7f, DEBUG_EXIT_PORT);
	/* Only reached without the device. */
	fprintf(stderr, "dt-exit: no isa-debug-exit device\n");
	return 1;
}
