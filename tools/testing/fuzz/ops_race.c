// SPDX-License-Identifier: GPL-2.0
/*
 * Races on the live tracker: for a moment, threads sync, claim (feeding
 * the model), harvest, map and read the merged set, dump over netlink,
 * and one of them removes and re-adds a region; in one burst of two the
 * tracker fd is closed under them.  The main thread waits, rebuilds the
 * tracker if it was closed, and runs a checkpoint, so the model checks
 * what the race left.
 *
 * Racers cannot know the state another left, so their answers are
 * checked against what any state allows, not one state's answer.  A
 * mapping read after its region went faults (SIGBUS, as documented): each
 * racer catches its own faults.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dt_nl.h"
#include "fuzz.h"

#define FZ_RACERS	4

static __thread sigjmp_buf *fault_jmp;

static void on_fault(int sig)
{
	if (fault_jmp)
		siglongjmp(*fault_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

struct racer {
	pthread_t th;
	int idx;
	struct fz_rng r;
	volatile int *stop;
	bool closer;
};

/* @closed: the tracker fd was closed (or replaced) under the call. */
static void allowed(const char *what, int ret, bool closed, ...)
{
	va_list ap;
	int e;

	fz_count_checks("racer answers", 1);
	if (!ret || (closed && (ret == -EBADF || ret == -ENOTTY)))
		return;
	va_start(ap, closed);
	while ((e = va_arg(ap, int)) != -1)
		if (ret == -e) {
			va_end(ap);
			return;
		}
	va_end(ap);
	fz_check(false, "racer: %s: %s", what, strerror(-ret));
}

static void race_sync(struct racer *rc, int tr)
{
	struct dirtytrack_sync s = { .size = sizeof(s) };
	int ret = fz_ioctl(tr, DIRTYTRACK_SYNC, &s);

	allowed("SYNC", ret, tr < 0 || fz_tr() != tr, EBUSY, -1);
	if (!ret)
		fz_model_synced(&fz.w, &s);
	(void)rc;
}

static void race_claim(struct racer *rc, int tr)
{
	uint64_t bits[(FZ_SLOT_PAGES + 63) / 64] = { 0 };
	int i = fz_below(&rc->r, FZ_NR_SLOTS), ret;
	struct dirtytrack_claim c = {
		.size = sizeof(c), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.npages = FZ_SLOT_PAGES, .bitmap = (uintptr_t)bits,
	};

	ret = fz_ioctl(tr, DIRTYTRACK_CLAIM, &c);
	allowed("CLAIM", ret, tr < 0 || fz_tr() != tr, ENOENT, -1);
	if (!ret)
		fz_model_reported(&fz.m, &fz.w, i, bits, true);
}

static void race_harvest(struct racer *rc, int tr)
{
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };
	int ret;

	if (fz_one_in(&rc->r, 2)) {
		h.flags = DIRTYTRACK_HARVEST_FILLED;
		h.min_fill = 1;
	} else {
		h.vcpu_id = fz_below(&rc->r, FZ_NR_VCPUS);
	}
	ret = fz_ioctl(tr, DIRTYTRACK_HARVEST_VCPU, &h);
	allowed("HARVEST_VCPU", ret, tr < 0 || fz_tr() != tr, EBUSY, -1);
}

/* A mapping of its own: mapped, read, unmapped, racing removal and close. */
static void race_map(struct racer *rc, int tr)
{
	int i = fz_below(&rc->r, FZ_NR_SLOTS);
	struct dirtytrack_region r = fz.w.slot[i].r;
	volatile uint64_t *p;
	sigjmp_buf jmp;

	if (!r.out_mmap_size)
		return;
	p = mmap(NULL, r.out_mmap_size, PROT_READ, MAP_SHARED, tr,
		 r.out_mmap_offset);
	if (p == MAP_FAILED)
		return;
	fault_jmp = &jmp;
	if (!sigsetjmp(jmp, 1)) {
		(void)p[0];
		(void)p[r.out_summary_offset / 8];
	} else {
		fz_count_checks("racer mapping reads that faulted", 1);
	}
	fault_jmp = NULL;
	munmap((void *)p, r.out_mmap_size);
}

/* Slot 3, racer 0's only: removed (bits carried) and added again. */
static void race_plug(struct racer *rc, int tr)
{
	struct fz_slot *s = &fz.w.slot[FZ_NR_SLOTS - 1];
	uint64_t bits[(FZ_SLOT_PAGES + 63) / 64] = { 0 };
	int i = FZ_NR_SLOTS - 1, ret, p;

	(void)rc;
	if (!s->plugged)
		return;
	if (s->region) {
		struct dirtytrack_region_remove rm = {
			.size = sizeof(rm), .slot_id = FZ_FIRST_DATA_SLOT + i,
			.bitmap = (uintptr_t)bits,
		};

		/* The main thread's mapping goes first: it is ours to drop. */
		fz_slot_unmap(&fz.w, i);
		ret = fz_ioctl(tr, DIRTYTRACK_REGION_REMOVE, &rm);
		allowed("REGION_REMOVE", ret, tr < 0 || fz_tr() != tr, EBUSY, -1);
		if (ret)
			return;
		fz_model_reported(&fz.m, &fz.w, i, bits, true);
		s->region = false;
		return;
	}
	s->r = (struct dirtytrack_region){
		.size = sizeof(s->r), .slot_id = FZ_FIRST_DATA_SLOT + i,
		.first_gfn = fz_slot_gpa(i) / FZ_PAGE, .npages = FZ_SLOT_PAGES,
	};
	ret = fz_ioctl(tr, DIRTYTRACK_REGION_ADD, &s->r);
	allowed("REGION_ADD", ret, tr < 0 || fz_tr() != tr, -1);
	if (ret)
		return;
	s->region = true;
	fz_model_rebase(&fz.m, &fz.w, i);
	if (fz.w.state != FZ_IDLE)
		for (p = 0; p < FZ_SLOT_PAGES; p++)
			fz_model_excuse(i * FZ_SLOT_PAGES + p, FZ_CAUSE_ALL_DIRTY);
}

static void race_nl(struct racer *rc, struct dtnl *n)
{
	static struct dtnl_msg m[4];
	int ret;

	uint32_t id = fz.w.nl_id;	/* 0 until a checkpoint found it */

	if (!n->fd)
		return;
	ret = dtnl_query(n, fz_one_in(&rc->r, 2) ? DIRTYTRACK_CMD_REGION_GET :
			 DIRTYTRACK_CMD_VCPU_GET, true,
			 id && fz_one_in(&rc->r, 2) ? DIRTYTRACK_A_REGION_TRACKER_ID : 0,
			 id, m, 0);
	fz_count_checks("racer netlink dumps", 1);
	fz_check(ret >= 0 || ret == -ENOENT, "racer: netlink dump: %s",
		 strerror(-ret));
}

static void *racer_thread(void *arg)
{
	struct racer *rc = arg;
	struct dtnl n = { 0 };
	uint64_t close_at = fz_below(&rc->r, 200);
	uint64_t iter;

	if (dtnl_open(&n, false))
		n.fd = 0;
	for (iter = 0; !*rc->stop; iter++) {
		int tr = fz_tr();

		if (rc->closer && iter == close_at && tr >= 0) {
			__atomic_store_n(&fz.w.tr, -1, __ATOMIC_RELEASE);
			close(tr);
			fz_count_checks("tracker closed under racers", 1);
			continue;
		}
		switch (fz_below(&rc->r, rc->idx ? 5 : 6)) {
		case 0: race_sync(rc, tr); break;
		case 1: race_claim(rc, tr); break;
		case 2: race_harvest(rc, tr); break;
		case 3: race_map(rc, tr); break;
		case 4: race_nl(rc, &n); break;
		case 5: race_plug(rc, tr); break;
		}
	}
	if (n.fd > 0)
		dtnl_close(&n);
	return NULL;
}

static void op_race(struct fz_rng *r)
{
	struct racer rc[FZ_RACERS];
	struct sigaction sa = { .sa_handler = on_fault };
	struct timespec ts = { 0, 50000000 + 1000000 * fz_below(r, 250) };
	bool destroy = fz_one_in(r, 2);
	volatile int stop = 0;
	int i, ret;

	if (fz_tr() < 0)
		return;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < FZ_RACERS; i++) {
		rc[i] = (struct racer){
			.idx = i, .stop = &stop, .closer = destroy && i == 1,
			.r = fz_rng_for(fz.o.seed, fz.op_index, 1 + i),
		};
		if (pthread_create(&rc[i].th, NULL, racer_thread, &rc[i]))
			rc[i].th = 0;
	}
	nanosleep(&ts, NULL);
	stop = 1;
	for (i = 0; i < FZ_RACERS; i++)
		if (rc[i].th)
			pthread_join(rc[i].th, NULL);
	if (fz_tr() < 0) {
		/* Closed under the racers: every mapping, then a new one. */
		fz_tracker_teardown(&fz.w);
		ret = fz_tracker_setup(&fz.w);
		fz_check(!ret, "a new tracker after the race: %s", strerror(-ret));
		if (ret)
			return;
		fz_model_rebase(&fz.m, &fz.w, -1);
	}
	fz_model_checkpoint(&fz.w);
}

static void op_nl_race(struct fz_rng *r)
{
	fz_nl_race(r);
}

const struct fz_op fz_race_ops[] = {
	{ "race: threads on the live tracker", op_race, 2 },
	{ "race: netlink dumps vs destruction", op_nl_race, 1 },
};
const int fz_nr_race_ops = sizeof(fz_race_ops) / sizeof(fz_race_ops[0]);
