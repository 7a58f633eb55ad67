// SPDX-License-Identifier: GPL-2.0
/*
 * Other processes: a fork() child uses the parent's tracker, its
 * mappings and its device, and trackers travel over SCM_RIGHTS, to this
 * process (which may use them) and to a child (which may not).  The
 * tracker is bound to the VM's mm: every tracker ioctl and mapping from
 * another mm is EPERM (the uAPI document, DIRTYTRACK_CREATE).
 *
 * A child runs only async-signal-safe code (the parent has other
 * threads), and reports by its exit status: one bit per check that
 * failed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

static const char *const child_checks[] = {
	"SYNC from a child is EPERM",
	"CLAIM from a child is EPERM",
	"VMM_MARK from a child is EPERM",
	"mmap of a region from a child is EPERM",
	"GET_INFO and a vmm log mapping work from a child",
	"CREATE from a child for the parent's VM is EIO",
	"the parent's region mapping is not inherited",
	"a tracker received over SCM_RIGHTS is EPERM in a child",
};

static sigjmp_buf child_jmp;

static void child_fault(int sig)
{
	siglongjmp(child_jmp, sig);
}

static int child_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* The child's checks on tracker @tr; a bit set per failure. */
static int child_run(int tr, int sock)
{
	struct dirtytrack_sync s = { .size = sizeof(s) };
	uint64_t bits[1];
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = FZ_FIRST_DATA_SLOT, .npages = 64,
		.bitmap = (uintptr_t)bits,
	};
	struct dirtytrack_gpa_range range = { FZ_DATA_GPA, 8 };
	struct dirtytrack_vmm_mark mk = {
		.size = sizeof(mk), .nr_ranges = 1, .ranges = (uintptr_t)&range,
	};
	struct dirtytrack_info info = { .size = sizeof(info) };
	struct dirtytrack_create cr = { .size = sizeof(cr), .vm_fd = fz.w.vm };
	struct fz_slot *sl = &fz.w.slot[0];
	struct sigaction sa = { .sa_handler = child_fault };
	volatile int fail = 0;
	void *p;

	if (child_ioctl(tr, DIRTYTRACK_SYNC, &s) != -EPERM)
		fail |= 1 << 0;
	if (child_ioctl(tr, DIRTYTRACK_CLAIM, &c) != -EPERM)
		fail |= 1 << 1;
	if (child_ioctl(tr, DIRTYTRACK_VMM_MARK, &mk) != -EPERM)
		fail |= 1 << 2;
	if (sl->region) {
		p = mmap(NULL, sl->r.out_mmap_size, PROT_READ, MAP_SHARED, tr,
			 sl->r.out_mmap_offset);
		if (p != MAP_FAILED || errno != EPERM)
			fail |= 1 << 3;
	}
	if (child_ioctl(fz.w.dev, DIRTYTRACK_GET_INFO, &info))
		fail |= 1 << 4;
	if (child_ioctl(fz.w.dev, DIRTYTRACK_CREATE, &cr) != -EIO)
		fail |= 1 << 5;
	if (sl->map) {
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		if (!sigsetjmp(child_jmp, 1)) {
			(void)*(volatile uint64_t *)sl->map;
			fail |= 1 << 6;
		}
	}
	if (fz.w.log_fd >= 0) {
		p = mmap(NULL, FZ_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fz.w.log_fd, 0);
		if (p == MAP_FAILED)
			fail |= 1 << 4;
	}
	if (sock >= 0) {
		char byte;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &byte, 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;
		int got;

		if (recvmsg(sock, &msg, 0) != 1 || !(cm = CMSG_FIRSTHDR(&msg))) {
			fail |= 1 << 7;
		} else {
			memcpy(&got, CMSG_DATA(cm), sizeof(got));
			if (child_ioctl(got, DIRTYTRACK_SYNC, &s) != -EPERM)
				fail |= 1 << 7;
		}
	}
	return fail;
}

static int send_fd(int sock, int fd)
{
	char byte = 0;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* A child, with or without a tracker sent over SCM_RIGHTS. */
static void op_fork(struct fz_rng *r)
{
	int sv[2] = { -1, -1 }, status, tr = fz_tr(), i;
	bool pass = fz_one_in(r, 2);
	pid_t pid;

	if (tr < 0)
		return;
	if (pass && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return;
	pid = fork();
	if (pid == 0)
		_exit(child_run(tr, sv[1]));
	if (pid < 0) {
		fz_check(false, "fork: %m");
		goto out;
	}
	if (pass)
		fz_check(send_fd(sv[0], tr) == 0, "SCM_RIGHTS to a child: %m");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		fz_check(false, "the fork child died (status 0x%x)", status);
		goto out;
	}
	fz_count_checks("fork child checks", 1);
	for (i = 0; i < (int)(sizeof(child_checks) / sizeof(child_checks[0])); i++)
		fz_check(!(WEXITSTATUS(status) & 1 << i), "fork child: %s",
			 child_checks[i]);
out:
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
}

/* A tracker over SCM_RIGHTS to this process: the same tracker. */
static void op_scm_self(struct fz_rng *r)
{
	struct dirtytrack_sync s = { .size = sizeof(s) };
	int sv[2], fd, ret, want, tr = fz_tr();

	(void)r;
	if (tr < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return;
	ret = send_fd(sv[0], tr);
	fd = ret ? ret : recv_fd(sv[1]);
	close(sv[0]);
	close(sv[1]);
	fz_check(fd >= 0, "SCM_RIGHTS of a tracker to itself: %s",
		 strerror(-fd));
	if (fd < 0)
		return;
	want = fz_state_expect(fz.w.state, DIRTYTRACK_SYNC, 0);
	ret = fz_ioctl(fd, DIRTYTRACK_SYNC, &s);
	fz_expect("SYNC on a tracker received over SCM_RIGHTS", ret, -want, -1);
	if (!ret)
		fz_model_synced(&fz.w, &s);
	close(fd);
}

const struct fz_op fz_proc_ops[] = {
	{ "proc: fork child (and SCM_RIGHTS)", op_fork, 2 },
	{ "proc: SCM_RIGHTS to this process", op_scm_self, 2 },
};
const int fz_nr_proc_ops = sizeof(fz_proc_ops) / sizeof(fz_proc_ops[0]);
