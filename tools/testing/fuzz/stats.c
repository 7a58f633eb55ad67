// SPDX-License-Identifier: GPL-2.0
/*
 * dtfuzz's counters: every ioctl by command and errno, ops run, model
 * checks by kind, over-reports by cause, and the failures (the first few
 * described).  Updated from every thread with atomics.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"

#define FZ_NR_CMDS	(DIRTYTRACK_CMD_IOMMU_DETACH - DIRTYTRACK_CMD_BASE + 2)
#define FZ_MAX_ERRNO	134
#define FZ_MAX_NAMES	64
#define FZ_SHOW_FAILURES 20	/* failures described, */
#define FZ_SHOW_EACH	3	/* and past them, the first of each kind */

static const char *const cmd_names[FZ_NR_CMDS] = {
	"GET_INFO", "CREATE", "REGION_ADD", "REGION_REMOVE", "ATTACH_RING",
	"SYNC", "CLAIM", "HARVEST_VCPU", "START", "STOP", "REGION_MOVE",
	"ATTACH_KVM_BITMAP", "VMM_LOG_FD", "VMM_MARK", "ATTACH_IOMMU",
	"IOMMU_SET_MAP", "IOMMU_PEEK", "IOMMU_DETACH", "(other)",
};
static const char *const cause_names[FZ_NR_CAUSES] = {
	"all-dirty event", "copied while vCPUs ran", "vmm log bits past writes",
	"kvm re-log of a guest page", "unexplained",
};

static uint64_t ioctls[FZ_NR_CMDS][FZ_MAX_ERRNO + 1];
static uint64_t causes[FZ_NR_CAUSES];
static uint64_t failures;

/* Named counters (ops, checks), registered on first use. */
struct fz_named {
	const char *name;
	uint64_t n;
};
static struct fz_named ops[FZ_MAX_NAMES], checks[FZ_MAX_NAMES],
	kinds[FZ_MAX_NAMES];
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_named(struct fz_named *t, const char *name, uint64_t n)
{
	int i;

	for (i = 0; i < FZ_MAX_NAMES; i++) {
		const char *cur = __atomic_load_n(&t[i].name, __ATOMIC_ACQUIRE);

		if (!cur) {
			pthread_mutex_lock(&names_lock);
			if (!t[i].name)
				__atomic_store_n(&t[i].name, name, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&names_lock);
			cur = t[i].name;
		}
		if (cur == name || !strcmp(cur, name)) {
			__atomic_fetch_add(&t[i].n, n, __ATOMIC_RELAXED);
			return;
		}
	}
}

static uint64_t named_count(struct fz_named *t, const char *name)
{
	int i;

	for (i = 0; i < FZ_MAX_NAMES && t[i].name; i++)
		if (t[i].name == name || !strcmp(t[i].name, name))
			return t[i].n;
	return 0;
}

int fz_ioctl(int fd, unsigned long cmd, void *arg)
{
	unsigned int nr = _IOC_NR(cmd) - DIRTYTRACK_CMD_BASE;
	int ret = ioctl(fd, cmd, arg) ? -errno : 0;
	int e = -ret;

	if (_IOC_TYPE(cmd) != DIRTYTRACK_TYPE || nr >= FZ_NR_CMDS - 1)
		nr = FZ_NR_CMDS - 1;
	if (e > FZ_MAX_ERRNO)
		e = FZ_MAX_ERRNO;
	__atomic_fetch_add(&ioctls[nr][e], 1, __ATOMIC_RELAXED);
	return ret;
}

void fz_count_op(const char *name)
{
	count_named(ops, name, 1);
}

void fz_count_checks(const char *what, uint64_t n)
{
	count_named(checks, what, n);
}

void fz_count_cause(enum fz_cause c, uint64_t n)
{
	__atomic_fetch_add(&causes[c], n, __ATOMIC_RELAXED);
}

void fz_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("dtfuzz: note: op %llu: ", (unsigned long long)fz.op_index);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

void fz_check(bool ok, const char *fmt, ...)
{
	uint64_t n;
	va_list ap;

	if (ok)
		return;
	n = __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	/* By kind (the format): the first few of each are described. */
	count_named(kinds, fmt, 1);
	if (n >= FZ_SHOW_FAILURES && named_count(kinds, fmt) > FZ_SHOW_EACH)
		return;
	va_start(ap, fmt);
	printf("dtfuzz: FAILURE: seed %llu op %llu: ",
	       (unsigned long long)fz.o.seed, (unsigned long long)fz.op_index);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

void fz_expect(const char *what, int got, ...)
{
	char want[128] = "";
	size_t off = 0;
	va_list ap;
	int e;

	fz_count_checks("errno as documented", 1);
	va_start(ap, got);
	while ((e = va_arg(ap, int)) != -1) {
		if (got == -e) {
			va_end(ap);
			return;
		}
		off += snprintf(want + off, sizeof(want) - off, "%s%s",
				off ? "|" : "", e ? strerror(e) : "0");
		if (off >= sizeof(want))
			off = sizeof(want) - 1;
	}
	va_end(ap);
	fz_check(false, "%s: got %s, documented %s", what,
		 got ? strerror(-got) : "0", want);
}

uint64_t fz_failures(void)
{
	return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}

static void report_named(const char *title, struct fz_named *t)
{
	int i;

	printf("dtfuzz: %s:\n", title);
	for (i = 0; i < FZ_MAX_NAMES && t[i].name; i++)
		printf("dtfuzz:   %-36s %llu\n", t[i].name,
		       (unsigned long long)t[i].n);
}

void fz_report(void)
{
	uint64_t total = 0, over = 0;
	int c, e;

	printf("dtfuzz: ioctls by command and errno:\n");
	for (c = 0; c < FZ_NR_CMDS; c++) {
		uint64_t sum = 0;
		char line[1024];
		size_t off = 0;

		for (e = 0; e <= FZ_MAX_ERRNO; e++) {
			if (!ioctls[c][e])
				continue;
			sum += ioctls[c][e];
			off += snprintf(line + off, sizeof(line) - off, " %s=%llu",
					e ? strerrorname_np(e) ?: "?" : "ok",
					(unsigned long long)ioctls[c][e]);
			if (off >= sizeof(line))
				off = sizeof(line) - 1;
		}
		total += sum;
		if (sum)
			printf("dtfuzz:   %-18s %9llu:%s\n", cmd_names[c],
			       (unsigned long long)sum, line);
	}
	printf("dtfuzz: ioctls total %llu\n", (unsigned long long)total);
	report_named("ops run", ops);
	report_named("model checks", checks);
	printf("dtfuzz: over-reports by cause:\n");
	for (c = 0; c < FZ_NR_CAUSES; c++) {
		over += causes[c];
		printf("dtfuzz:   %-36s %llu\n", cause_names[c],
		       (unsigned long long)causes[c]);
	}
	printf("dtfuzz: over-reports total %llu\n", (unsigned long long)over);
	if (failures)
		report_named("failures by kind", kinds);
}
