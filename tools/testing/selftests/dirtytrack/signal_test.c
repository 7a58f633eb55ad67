// SPDX-License-Identifier: GPL-2.0
/*
 * Precopy under a storm of signals.  From Linux 6.17, KVM_RESET_DIRTY_RINGS
 * ends early when its caller has a signal pending, and may then leave up
 * to 64 pages of the last batch it took with their dirty logging off
 * (drivers/dirtytrack/core/ring.c).  A VMM's syncing thread takes timer
 * signals, SIGCHLD and vCPU kicks all the time.
 *
 * A thread signals the syncing thread every 50 us while two vCPUs write a
 * hot set of pages and precopy rounds run, and so does a POSIX timer: on
 * a loaded machine the thread may not run for milliseconds, but a timer
 * expires from an interrupt, also while the syncing thread is inside
 * KVM_RESET_DIRTY_RINGS, which is when KVM looks.  Rounds go on until
 * the storm has sent its signals.  After the final sync the copy
 * must equal guest memory byte for byte; no ring entry may count as
 * foreign; and the rounds must send the hot set, never the whole memory
 * (which an all-dirty marking would).
 *
 * Variants, on both backends: as shipped, the reset runs with signals
 * blocked, so no reset may end early; "unblocked", the reset is issued
 * with signals unblocked (the module's test hook reset_unblocked, the
 * library's dt_lib_reset_unblocked), so that a 6.17+ KVM ends resets
 * early for real: at least one must, and still nothing may be lost.  The
 * user backend cannot tell every such stop (see ring.c), so its unblocked
 * variant runs on the host only, whose KVM is known not to drop a batch
 * (DIRTYTRACK_TEST_HOST=1, set by tools/testing/run-host-lib.sh).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include <dirtytrack.h>

#include "dt_guest.h"

#define NR_SLOTS	2
#define SLOT_PAGES	512
#define HOT_PAGES	128
#define RING_ENTRIES	4096
#define ROUNDS		8
#define STORM_NS	50000
/* Signals the storm must send at least, over as many rounds as it takes. */
#define WANT_SIGNALS	400
/* Unblocked: rounds until that many resets ended early, or at most... */
#define WANT_PARTIAL	3
#define MAX_ROUNDS	400
/* ... and within this many seconds, with at least MIN_ROUNDS clean. */
#define BUDGET_S	60
#define MIN_ROUNDS	4
#define UNBLOCKED_KNOB	"/sys/kernel/debug/dirtytrack/reset_unblocked"
/* Past the core's DT_STICKY_MAX sticky pages, every page is dirty. */
#define DT_STICKY_BOUND	256

extern bool dt_lib_reset_unblocked;

FIXTURE(sig) {
	struct dt_guest g;
	struct dirtytrack *dt;
	struct dirtytrack_tracker *t;
	uint8_t *copy;
	pthread_t target;
	timer_t timer;
	bool armed;
	volatile int stop;
	unsigned long sent;
};

FIXTURE_VARIANT(sig) {
	enum dirtytrack_backend backend;
	bool unblocked;
};

FIXTURE_VARIANT_ADD(sig, kernel) {
	.backend = DIRTYTRACK_BACKEND_KERNEL,
};

FIXTURE_VARIANT_ADD(sig, user) {
	.backend = DIRTYTRACK_BACKEND_USER,
};

FIXTURE_VARIANT_ADD(sig, kernel_unblocked) {
	.backend = DIRTYTRACK_BACKEND_KERNEL, .unblocked = true,
};

FIXTURE_VARIANT_ADD(sig, user_unblocked) {
	.backend = DIRTYTRACK_BACKEND_USER, .unblocked = true,
};

static int sig_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(val, f) < 0 ? -EIO : 0;
	return fclose(f) ? -errno : ret;
}

static int sig_ring_full(struct dtg_vcpu *v)
{
	return dirtytrack_harvest_vcpu(v->g->priv, v - v->g->vcpu, NULL);
}

/* Does this kernel's KVM end a reset early on a signal (6.17 and later)? */
static bool sig_kvm_stops_early(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 17);
}

FIXTURE_SETUP(sig)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.backend = variant->backend);
	struct dt_guest *g = &self->g;
	int i, ret;

	if (variant->unblocked && variant->backend == DIRTYTRACK_BACKEND_USER &&
	    !getenv("DIRTYTRACK_TEST_HOST"))
		SKIP(return, "host only: a 6.17+ KVM may drop a batch the library cannot see");
	dtg_create_vm(_metadata, g, 2, NR_SLOTS, SLOT_PAGES, RING_ENTRIES,
		      DTG_RING);
	g->hot_pages = HOT_PAGES;
	ret = dirtytrack_open(&o, &self->dt);
	ASSERT_EQ(0, ret) TH_LOG("dirtytrack_open: %s", strerror(-ret));
	ASSERT_EQ(0, dirtytrack_tracker_create(self->dt, g->vm, &self->t));
	ASSERT_EQ(0, dirtytrack_region_add(self->t, DTG_CODE_SLOT, DTG_CODE_GPA,
					   DTG_CODE_SIZE));
	for (i = 0; i < NR_SLOTS; i++)
		ASSERT_EQ(0, dirtytrack_region_add(self->t,
				DIRTYTRACK_SLOT(0, DTG_FIRST_DATA_SLOT + i),
				dtg_slot_gpa(g, i), SLOT_PAGES * DTG_PAGE));
	for (i = 0; i < g->nr_vcpus; i++)
		ASSERT_EQ(0, dirtytrack_attach_ring(self->t, g->vcpu[i].vc.fd,
				RING_ENTRIES * sizeof(struct kvm_dirty_gfn), NULL));
	g->ring_full = sig_ring_full;
	g->priv = self->t;
	self->copy = calloc(g->data_pages, DTG_PAGE);
	ASSERT_NE(NULL, self->copy);
	if (!variant->unblocked)
		return;
	if (variant->backend == DIRTYTRACK_BACKEND_USER) {
		dt_lib_reset_unblocked = true;
		return;
	}
	ret = sig_write(UNBLOCKED_KNOB, "1");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s (the module's test build?)",
				 UNBLOCKED_KNOB, strerror(-ret));
}

FIXTURE_TEARDOWN(sig)
{
	if (self->armed)
		timer_delete(self->timer);
	dtg_stop(&self->g);
	dirtytrack_tracker_destroy(self->t);
	dirtytrack_close(self->dt);
	dtg_destroy(&self->g);
	free(self->copy);
	dt_lib_reset_unblocked = false;
	if (variant->unblocked && variant->backend == DIRTYTRACK_BACKEND_KERNEL)
		sig_write(UNBLOCKED_KNOB, "0");
}

/* Signals the syncing thread took (the vCPU threads' kicks are not). */
static pthread_t sig_target;
static volatile unsigned long sig_taken;

/* The signal thread: SIGUSR1 to the syncing thread every 50 us. */
static void *sig_storm(void *arg)
{
	FIXTURE_DATA(sig) *self = arg;
	struct timespec ts = { .tv_nsec = STORM_NS };

	/* Wake when asked, not up to 50 us later (the default slack). */
	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!self->stop) {
		unsigned long seen = sig_taken;
		int waits;

		pthread_kill(self->target, SIGUSR1);
		self->sent++;
		nanosleep(&ts, NULL);
		/*
		 * The next once the target took one (or after 1 ms): a thread
		 * starved of CPU must not spend all of it in handlers.
		 */
		for (waits = 0; waits < 20 && sig_taken == seen && !self->stop;
		     waits++)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * The timer: SIGUSR1 to the calling thread every 50 us (expiries while
 * one is pending merge into it, as for any signal).  Returns 0 or -errno.
 */
static int sig_arm_timer(timer_t *timer)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGUSR1,
	};
	struct itimerspec its = {
		.it_value = { .tv_nsec = STORM_NS },
		.it_interval = { .tv_nsec = STORM_NS },
	};

	sev._sigev_un._tid = syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, timer))
		return -errno;
	if (timer_settime(*timer, 0, &its, NULL)) {
		timer_delete(*timer);
		return -errno;
	}
	return 0;
}

/*
 * Ring overflows so far, over every vCPU.  Upstream KVM never overflows a
 * ring; the paravirtual KVM of this project's hosts does when a ring
 * fills (a syncing thread starved of CPU), and then every page is
 * dirty once, by design: that round says nothing about convergence.
 */
static uint64_t sig_overflows(struct __test_metadata *_metadata,
			      struct dirtytrack_tracker *t, int nr_vcpus)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < nr_vcpus; i++) {
		struct dirtytrack_vcpu_stats vs =
			DIRTYTRACK_OPTS_INIT(dirtytrack_vcpu_stats);

		EXPECT_EQ(0, dirtytrack_get_vcpu_stats(t, i, &vs));
		n += vs.overflows;
	}
	return n;
}


static void sig_count(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), sig_target))
		sig_taken++;
}

static double sig_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Sleep @ms, signals or not.  Until a deadline: a relative sleep restarted
 * with what was left loses each handler's time, and never ends when the
 * storm's period is shorter than the handling (slow signal delivery).
 */
static void sig_sleep_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

struct sig_claim {
	struct dt_guest *g;
	uint8_t *copy;
	uint64_t data, other;
};

static int sig_collect(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct sig_claim *c = ctx;
	uint64_t first = (r->gpa - DTG_DATA_GPA) / DTG_PAGE;

	if (r->gpa < DTG_DATA_GPA || first + r->npages > c->g->data_pages) {
		c->other += r->npages;
		return 0;
	}
	c->data += r->npages;
	memcpy(c->copy + first * DTG_PAGE, c->g->data + first * DTG_PAGE,
	       r->npages * DTG_PAGE);
	return 0;
}

TEST_F_TIMEOUT(sig, precopy_under_a_signal_storm_loses_nothing, 240)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts,
		.all_dirty = true);
	struct dt_guest *g = &self->g;
	struct sig_claim c = { .g = g, .copy = self->copy };
	uint64_t foreign = 0, partial = 0, resets = 0, sticky = 0, most = 0;
	uint64_t most_other = 0, overflows = 0, skipped = 0, eagain = 0;
	pthread_t storm;
	int round, ret;
	double t0;

	ASSERT_EQ(0, dirtytrack_start(self->t, &so));
	/* Round one: everything (all_dirty), as a migration starts. */
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, sig_collect, &c, NULL));
	dtg_start_sweep(_metadata, g);
	self->target = pthread_self();
	sig_target = self->target;
	/* dtg_start_sweep()'s no-op handler, counting; still no SA_RESTART. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &(struct sigaction){
		.sa_handler = sig_count }, NULL));
	ret = sig_arm_timer(&self->timer);
	ASSERT_EQ(0, ret) TH_LOG("timer: %s", strerror(-ret));
	self->armed = true;
	ASSERT_EQ(0, pthread_create(&storm, NULL, sig_storm, self));
	/*
	 * ROUNDS rounds no ring overflowed in (only the host's KVM overflows),
	 * and the storm's signals, and (unblocked, 6.17+) resets ended early.
	 */
	t0 = sig_now_s();
	for (round = 0; round < MAX_ROUNDS && sig_now_s() - t0 < BUDGET_S &&
	     (round - skipped < ROUNDS || sig_taken < WANT_SIGNALS ||
	      (variant->unblocked && sig_kvm_stops_early() &&
	       partial < WANT_PARTIAL)); round++) {
		struct dirtytrack_sync_stats st =
			DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);

		sig_sleep_ms(round < ROUNDS ? 10 : 2);
		/*
		 * Unblocked, a storm can end 16 resets running early: EAGAIN,
		 * the pages still pending, and a VMM syncs again.
		 */
		while ((ret = dirtytrack_sync(self->t, &st)) == -EAGAIN &&
		       variant->unblocked && eagain < 1000)
			eagain++;
		ASSERT_EQ(0, ret) TH_LOG("sync: %s", strerror(-ret));

		foreign += st.ring_foreign;
		partial += st.ring_partial_resets;
		resets += st.ring_resets;
		sticky += st.ring_sticky;
		c.data = c.other = 0;
		ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, sig_collect, &c,
						     NULL));
		/*
		 * The first rounds still carry the start's all-dirty set, and
		 * a round in which a ring overflowed is all dirty too.
		 */
		if (sig_overflows(_metadata, self->t, g->nr_vcpus) != overflows) {
			overflows = sig_overflows(_metadata, self->t, g->nr_vcpus);
			skipped++;
		} else if (round >= 2) {
			most = c.data > most ? c.data : most;
			most_other = c.other > most_other ? c.other : most_other;
		}
	}
	timer_delete(self->timer);
	self->armed = false;
	self->stop = 1;
	pthread_join(storm, NULL);
	dtg_stop(g);
	ASSERT_EQ(0, g->error) TH_LOG("vCPU: %s (exit %u)", strerror(-g->error),
				      g->bad_exit);
	ASSERT_EQ(0, dirtytrack_final_begin(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_final_end(self->t, NULL));
	ASSERT_EQ(0, dirtytrack_claim_ranges(self->t, sig_collect, &c, NULL));

	TH_LOG("%.1f s, %d rounds, %lu signals sent by the thread, %lu taken, %lu resets, "
	       "%lu ended early, %lu EAGAIN, %lu sticky pages, %lu ring overflows "
	       "(%lu rounds), at most %lu data and %lu other pages a round",
	       sig_now_s() - t0, round, self->sent, sig_taken,
	       (unsigned long)resets,
	       (unsigned long)partial, (unsigned long)eagain,
	       (unsigned long)sticky, (unsigned long)overflows,
	       (unsigned long)skipped, (unsigned long)most,
	       (unsigned long)most_other);
	/* Only the host's KVM overflows, and it must not take every round. */
	if (!getenv("DIRTYTRACK_TEST_HOST"))
		EXPECT_EQ(0, overflows);
	/* Rounds to judge convergence by, wherever the budget ran out. */
	EXPECT_LE(MIN_ROUNDS, round - skipped);
	/* A storm: dozens of signals a round at least, wherever it runs. */
	EXPECT_LE(WANT_SIGNALS, sig_taken);
	EXPECT_EQ(0, foreign);
	EXPECT_EQ(0, memcmp(self->copy, g->data, g->data_pages * DTG_PAGE));
	if (!variant->unblocked) {
		/* Blocked: KVM never sees the storm. */
		EXPECT_EQ(0, partial);
		EXPECT_EQ(0, sticky);
	} else if (sig_kvm_stops_early()) {
		EXPECT_LT(0, partial + eagain);
	} else {
		EXPECT_EQ(0, partial + eagain);
	}
	/*
	 * Converging: a round sends the hot set (and the sticky pages), never
	 * the whole memory; other regions get at most a page or two that KVM
	 * itself writes.  All-dirty would send every page of every region.
	 */
	if (sticky < DT_STICKY_BOUND) {
		EXPECT_GE(HOT_PAGES + sticky, most);
		EXPECT_GE(2, most_other);
	}
}

TEST_HARNESS_MAIN
