// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink side (dirtytrack_netlink.h, through the selftests' raw
 * client dt_nl.h, which also checks every message against the spec):
 *  - at each checkpoint the live tracker's figures must agree with what
 *    the ioctls said: its state, regions, pages, rings and syncs, one row
 *    per region with its slot, place and size, one per ring with its size;
 *  - dumps race tracker destruction: a dump of every tracker's regions, cut
 *    into parts, while a tracker is destroyed, must still hold every row
 *    of a tracker that lived throughout;
 *  - a tracker takes 512 regions and refuses the 513th (ENOSPC).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_nl.h"
#include "fuzz.h"

#define FZ_NL_ROWS	1100

static struct dtnl nl;
static int nl_state;	/* 0: not tried, 1: open, -1: no netlink */

static struct dtnl *nl_get(void)
{
	if (!nl_state) {
		int ret = dtnl_open(&nl, false);

		nl_state = ret ? -1 : 1;
		if (ret)
			fz_note("no dirtytrack netlink family (%s): netlink checks off",
				strerror(-ret));
	}
	return nl_state > 0 ? &nl : NULL;
}

/* The netlink id of this process's tracker of VM fd @vm, or 0. */
static uint32_t nl_find(struct dtnl *n, int vm)
{
	static struct dtnl_msg m[16];
	int i, cnt = dtnl_query(n, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m, 16);

	for (i = 0; i < cnt && i < 16; i++)
		if (dtnl_get(&m[i].a, DIRTYTRACK_A_TRACKER_PID) == (uint64_t)getpid() &&
		    dtnl_get(&m[i].a, DIRTYTRACK_A_TRACKER_VM_FD) == (uint64_t)vm)
			return dtnl_get(&m[i].a, DIRTYTRACK_A_TRACKER_ID);
	return 0;
}

void fz_nl_check(struct fz_world *w)
{
	static struct dtnl_msg rows[8];
	struct dtnl *n = nl_get();
	struct dtnl_msg t;
	uint64_t regions = 1, pages = FZ_CODE_SIZE / FZ_PAGE;
	int i, j, cnt, ret;

	if (!n)
		return;
	if (!w->nl_id)
		w->nl_id = nl_find(n, w->vm);
	fz_check(w->nl_id, "netlink: the live tracker is not in the dump");
	if (!w->nl_id)
		return;
	for (i = 0; i < FZ_NR_SLOTS; i++)
		if (w->slot[i].region) {
			regions++;
			pages += FZ_SLOT_PAGES;
		}
	ret = dtnl_tracker_get(n, w->nl_id, &t);
	fz_check(!ret, "netlink: tracker-get %u: %s", w->nl_id, strerror(-ret));
	if (ret)
		return;
	fz_count_checks("netlink figures against the ioctls'", 1);
	fz_check(!t.bad[0], "netlink: tracker-get breaks the spec: %s", t.bad);
#define AGREE(attr, want) \
	fz_check(dtnl_get(&t.a, DIRTYTRACK_A_TRACKER_##attr) == (uint64_t)(want), \
		 "netlink: tracker " #attr " is %llu, the ioctls say %llu", \
		 (unsigned long long)dtnl_get(&t.a, DIRTYTRACK_A_TRACKER_##attr), \
		 (unsigned long long)(want))
	AGREE(STATE, w->state);
	AGREE(REGIONS, regions);
	AGREE(PAGES, pages);
	AGREE(RINGS, FZ_NR_VCPUS);
	AGREE(SYNCS, w->syncs);
	fz_check(dtnl_get(&t.a, DIRTYTRACK_A_TRACKER_RING_OVERFLOW) >= w->overflows &&
		 dtnl_get(&t.a, DIRTYTRACK_A_TRACKER_FOREIGN) >= w->foreign,
		 "netlink: fewer overflows or foreign entries than the syncs reported");

	cnt = dtnl_query(n, DIRTYTRACK_CMD_REGION_GET, true,
			 DIRTYTRACK_A_REGION_TRACKER_ID, w->nl_id, rows, 8);
	fz_check(cnt == (int)regions, "netlink: %d region rows for %llu regions",
		 cnt, (unsigned long long)regions);
	for (j = 0; j < cnt && j < 8; j++) {
		uint64_t slot = dtnl_get(&rows[j].a, DIRTYTRACK_A_REGION_SLOT);
		uint64_t gfn = dtnl_get(&rows[j].a, DIRTYTRACK_A_REGION_FIRST_GFN);
		uint64_t np = dtnl_get(&rows[j].a, DIRTYTRACK_A_REGION_PAGES);
		bool ok;

		if (slot == FZ_CODE_SLOT) {
			ok = gfn == FZ_CODE_GPA / FZ_PAGE &&
			     np == FZ_CODE_SIZE / FZ_PAGE;
		} else {
			i = slot - FZ_FIRST_DATA_SLOT;
			ok = i >= 0 && i < FZ_NR_SLOTS && w->slot[i].region &&
			     gfn == fz_slot_gpa(i) / FZ_PAGE && np == FZ_SLOT_PAGES;
		}
		fz_check(ok, "netlink: region row slot %llu gfn 0x%llx pages %llu "
			 "is not a region", (unsigned long long)slot,
			 (unsigned long long)gfn, (unsigned long long)np);
	}
	cnt = dtnl_query(n, DIRTYTRACK_CMD_VCPU_GET, true,
			 DIRTYTRACK_A_VCPU_TRACKER_ID, w->nl_id, rows, 8);
	fz_check(cnt == FZ_NR_VCPUS, "netlink: %d vcpu rows for %d rings", cnt,
		 FZ_NR_VCPUS);
	for (j = 0; j < cnt && j < 8; j++)
		fz_check(dtnl_get(&rows[j].a, DIRTYTRACK_A_VCPU_ID) == (uint64_t)j &&
			 dtnl_get(&rows[j].a, DIRTYTRACK_A_VCPU_RING_SIZE) ==
			 w->ring_entries,
			 "netlink: vcpu row %d is vCPU %llu with ring size %llu", j,
			 (unsigned long long)dtnl_get(&rows[j].a, DIRTYTRACK_A_VCPU_ID),
			 (unsigned long long)dtnl_get(&rows[j].a,
						      DIRTYTRACK_A_VCPU_RING_SIZE));
	fz_check(!n->bad[0], "netlink: a reply breaks the spec: %s", n->bad);
}

/* ---- dumps racing destruction ------------------------------------------ */

struct nl_racer {
	struct dtnl n;
	uint32_t victim, bystander;
	int nb;			/* the bystander's regions */
	volatile int stop;
	int dumps, short_dumps, min_rows, errors;
};

/*
 * One unfiltered region dump, yielding at each part's end so that a
 * tracker can be destroyed between parts: the bystander's rows, or
 * -errno.  Read in 4 KiB: netlink cuts a dump into parts the size of the
 * largest read the socket saw (at least a page), so parts are short and
 * many of them end inside the victim's rows.
 */
static int dump_rows(struct nl_racer *nr)
{
	struct dtnl *n = &nr->n;
	char buf[4096] __attribute__((aligned(4)));
	struct dtnl_msg m;
	int ret, rows = 0;

	ret = dtnl_send(n, n->family, DIRTYTRACK_CMD_REGION_GET, NLM_F_DUMP, 0,
			NULL, 0);
	if (ret)
		return ret;
	for (;;) {
		ssize_t len = recv(n->fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return -errno;
		for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != n->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)NLMSG_DATA(nh))->error;
			if (nh->nlmsg_type == NLMSG_DONE)
				return rows;
			dtnl_take(n, nh, &m);
			if (dtnl_get(&m.a, DIRTYTRACK_A_REGION_TRACKER_ID) ==
			    nr->bystander)
				rows++;
		}
		sched_yield();	/* the end of a part */
	}
}

/* A socket on the family that never read more than 4 KiB at once. */
static int small_socket(struct dtnl *n)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	int ret = dtnl_open(n, false), fd;

	if (ret)
		return ret;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(n->fd);
	n->fd = fd;
	return 0;
}

static void *nl_racer_thread(void *arg)
{
	struct nl_racer *nr = arg;

	do {
		int rows = dump_rows(nr);

		nr->dumps++;
		if (rows < 0) {
			nr->errors++;
			continue;
		}
		if (rows < nr->nb) {
			nr->short_dumps++;
			if (rows < nr->min_rows)
				nr->min_rows = rows;
		}
	} while (!nr->stop || nr->dumps < 4);
	return NULL;
}

/* A VM and a tracker with @n regions of 16 pages: the tracker fd. */
static int tracker_with_regions(int *vm, int n, bool past_limit)
{
	struct dirtytrack_create c = { .size = sizeof(c) };
	int i, ret;

	*vm = dtvm_vm_create(fz.w.kvm);
	if (*vm < 0)
		return *vm;
	c.vm_fd = *vm;
	ret = fz_ioctl(fz.w.dev, DIRTYTRACK_CREATE, &c);
	if (ret)
		return ret;
	for (i = 0; i < n + past_limit; i++) {
		struct dirtytrack_region r = {
			.size = sizeof(r), .slot_id = i, .first_gfn = 16 * i,
			.npages = 16,
		};

		ret = fz_ioctl(c.out_tracker_fd, DIRTYTRACK_REGION_ADD, &r);
		if (i == 512)
			fz_expect("the 513th REGION_ADD", ret, ENOSPC, -1);
		else
			fz_expect("REGION_ADD up to the limit", ret, 0, -1);
	}
	return c.out_tracker_fd;
}

void fz_nl_race(struct fz_rng *r)
{
	struct nl_racer nr = { .min_rows = 1 << 30 };
	int vma = -1, vmb = -1, ta, tb, na;
	struct timespec ts = { 0, 1000000 * fz_below(r, 20) };
	pthread_t th;

	if (!nl_get() || small_socket(&nr.n))
		return;
	/* The victim first: a dump resumes at the lower id, then the bystander. */
	na = 200 + fz_below(r, 313);
	nr.nb = fz_one_in(r, 2) ? 512 : 100 + fz_below(r, 400);
	ta = tracker_with_regions(&vma, na, false);
	tb = tracker_with_regions(&vmb, nr.nb, nr.nb == 512);
	if (ta < 0 || tb < 0)
		goto out;
	nr.victim = nl_find(&nl, vma);
	nr.bystander = nl_find(&nl, vmb);
	fz_check(nr.victim && nr.bystander, "netlink: new trackers not in the dump");
	if (!nr.victim || !nr.bystander)
		goto out;
	if (pthread_create(&th, NULL, nl_racer_thread, &nr))
		goto out;
	nanosleep(&ts, NULL);
	close(ta);
	ta = -1;
	nanosleep(&ts, NULL);
	nr.stop = 1;
	pthread_join(th, NULL);
	fz_count_checks("netlink dumps racing destruction", nr.dumps);
	fz_check(!nr.short_dumps,
		 "netlink: %d of %d unfiltered region dumps lost rows of a tracker "
		 "that lived throughout (%d of its %d rows) while another tracker "
		 "was destroyed between two parts", nr.short_dumps, nr.dumps,
		 nr.min_rows, nr.nb);
	fz_check(!nr.errors, "netlink: %d region dumps failed", nr.errors);
	fz_check(!nr.n.bad[0], "netlink: a dump breaks the spec: %s", nr.n.bad);
out:
	if (ta >= 0)
		close(ta);
	if (tb >= 0)
		close(tb);
	if (vma >= 0)
		close(vma);
	if (vmb >= 0)
		close(vmb);
	dtnl_close(&nr.n);
}
