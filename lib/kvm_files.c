// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * What a file descriptor the VMM hands over is.  KVM's VM and vCPU files
 * are anonymous inodes, told apart by their names ("kvm-vm",
 * "kvm-vcpu:<id>"), which the module checks too; /proc/self/fd shows them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "libdt.h"

/* The name /proc gives the file of @fd: -EBADF if there is none. */
static int dt_fd_link(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -EBADF;
	buf[n] = '\0';
	return 0;
}

/* Is @fd a KVM VM?  0, or -EBADF. */
int dt_kvm_fd_is_vm(int fd)
{
	char link[64];

	if (dt_fd_link(fd, link, sizeof(link)))
		return -EBADF;
	return strcmp(link, "anon_inode:kvm-vm") ? -EBADF : 0;
}

/* A KVM vCPU's id, from its file: 0, -EBADF (no file) or -EINVAL. */
int dt_kvm_vcpu_fd_id(int fd, uint32_t *id)
{
	char link[64], end;
	unsigned int n;

	if (dt_fd_link(fd, link, sizeof(link)))
		return -EBADF;
	if (sscanf(link, "anon_inode:kvm-vcpu:%u%c", &n, &end) != 1)
		return -EINVAL;
	*id = n;
	return 0;
}

/*
 * dt_kvm_reset_may_stop() for kernel @release (uname -r); a release that
 * does not parse counts as stopping.
 */
bool dt_kernel_reset_stops_on_signal(const char *release)
{
	unsigned int major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return true;
	return dt_kvm_reset_may_stop(major, minor);
}

/* The same, for the running kernel. */
bool dt_kvm_reset_stops_on_signal(void)
{
	struct utsname u;

	return uname(&u) || dt_kernel_reset_stops_on_signal(u.release);
}
