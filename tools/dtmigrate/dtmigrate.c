// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate: boot a guest, let it dirty memory, live-migrate it by
 * precopy through libdirtytrack to a second VM in this process, resume it
 * there, and check that nothing was lost:
 *  - at the stop point, destination memory equals source memory, byte for
 *    byte;
 *  - the guest runs on at the destination: every vCPU stores again, and
 *    the checksum the guest computes over its memory there is the one the
 *    VMM computes over the same memory.
 *
 *   dtmigrate [--vcpus N] [--mem MIB] [--slots N] [--workload W]
 *             [--hot-fraction F] [--rate PAGES_PER_S] [--ring ENTRIES]
 *             [--threshold PAGES] [--max-rounds N] [--backend B]
 *             [--seed N] [--its[=N]] [--format table|csv|json]
 *             [--hotplug-round N] [--rollback] [--drop-page (test builds)]
 *
 * Exit status: 0 PASS, 1 FAIL, 2 could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <dirtytrack.h>

#include "dtmigrate.h"
#include "report.h"

#define DTM_ITS_COLLECTIONS	4096	/* --its alone: 32 KiB of table */

/* The library's pages (claims count them) are the host's. */
static size_t dtm_host_page;

static double dtm_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void dtm_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void dtm_kick(int sig)
{
	(void)sig;
}

/* A vCPU's thread: run until told to stop, or until the guest halts. */
static void *dtm_vcpu_thread(void *arg)
{
	struct dtm_vcpu *v = arg;
	struct dtm_vm *vm = v->vm;

	while (!vm->stop) {
		if (ioctl(v->vc.fd, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			vm->error = -errno;
			break;
		}
		if (v->vc.run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			int ret = dirtytrack_harvest_vcpu(vm->tracker, v->kvm_id, NULL);

			v->ring_full++;
			/* Interrupted by the stop's kick: the pages stay pending. */
			if (ret && ret != -EINTR) {
				/* ENOSPC: KVM keeps the ring full: it cannot run on. */
				vm->error_vcpu = v->index;
				vm->error = ret;
				break;
			}
			continue;
		}
		if (dtm_arch_vcpu_done(v) &&
		    dtm_params(vm)->command != DTM_CMD_RUN)
			break;
		vm->bad_exit = v->vc.run->exit_reason;
		if (v->vc.run->exit_reason == KVM_EXIT_MMIO)
			vm->bad_addr = v->vc.run->mmio.phys_addr;
		vm->error = -EPROTO;
		break;
	}
	__atomic_store_n(&v->exited, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The reaper: every --reap-ms, the rings past --reap-fill percent are
 * harvested (dirtytrack_harvest_filled()), so that they rarely fill and a
 * host whose KVM pushes past a full ring rarely gets to.  A failure ends
 * the migration.
 */
static void *dtm_reaper(void *arg)
{
	struct dtm_vm *vm = arg;

	while (!vm->reaper_stop && !vm->error) {
		uint64_t n = 0;
		int ret = dirtytrack_harvest_filled(vm->tracker, vm->cfg->reap_fill,
						    &n);

		/* EBUSY: the final sync began; the rings are its now. */
		if (ret && ret != -EBUSY) {
			vm->error = ret;
			break;
		}
		vm->reaped += n;
		dtm_sleep_ms(vm->cfg->reap_ms);
	}
	return NULL;
}

static int dtm_reaper_start(struct dtm_vm *vm)
{
	if (!vm->cfg->reap_ms || !vm->cfg->ring_entries || vm->reaping)
		return 0;
	vm->reaper_stop = 0;
	if (pthread_create(&vm->reaper, NULL, dtm_reaper, vm))
		return -EAGAIN;
	vm->reaping = true;
	return 0;
}

static void dtm_reaper_stop(struct dtm_vm *vm)
{
	if (!vm->reaping)
		return;
	vm->reaper_stop = 1;
	pthread_join(vm->reaper, NULL);
	vm->reaping = false;
}

static int dtm_vm_start(struct dtm_vm *vm)
{
	int i;

	vm->stop = 0;
	for (i = 0; i < vm->cfg->vcpus; i++) {
		vm->vcpu[i].vc.run->immediate_exit = 0;
		vm->vcpu[i].exited = false;
		if (pthread_create(&vm->vcpu[i].thread, NULL, dtm_vcpu_thread,
				   &vm->vcpu[i]))
			return -EAGAIN;
		vm->vcpu[i].running = true;
	}
	return 0;
}

/* Every vCPU out of KVM_RUN, and not entering it again. */
static void dtm_vm_stop(struct dtm_vm *vm)
{
	int i;

	if (!vm->cfg)
		return;		/* never created */
	vm->stop = 1;
	for (i = 0; i < vm->cfg->vcpus; i++) {
		if (!vm->vcpu[i].running)
			continue;
		vm->vcpu[i].vc.run->immediate_exit = 1;
		pthread_kill(vm->vcpu[i].thread, SIGUSR1);
		pthread_join(vm->vcpu[i].thread, NULL);
		vm->vcpu[i].running = false;
	}
}

/* The memory behind a guest physical range, in @vm. */
static uint8_t *dtm_hva(struct dtm_vm *vm, uint64_t gpa)
{
	if (gpa >= DTM_DATA_GPA)
		return vm->data + (gpa - DTM_DATA_GPA);
	return vm->sys + gpa;
}

/*
 * How a round copies what it claims: all of it, or (rollback) only the
 * first @fail_after runs before the "destination" fails.
 */
struct dtm_copy {
	struct dtm_vm *src, *dst;
	uint64_t pages;
	int runs;
	int fail_after;			/* -1: never */
};

static void dtm_copy_pages(struct dtm_copy *c, uint64_t gpa, uint64_t npages)
{
	memcpy(dtm_hva(c->dst, gpa), dtm_hva(c->src, gpa), npages * dtm_host_page);
}

#ifdef DTM_FAULT_INJECTION
/*
 * --drop-page: the VMM writes the last data page, outside the hot set
 * the workload writes, and marks it like any device write; the copy then
 * leaves it out, once.  Nothing writes it again, so the destination
 * keeps its old copy and the comparison must find exactly that page.
 */
static int dtm_plant_lost_page(struct dtm_vm *src)
{
	uint64_t gpa = DTM_DATA_GPA + src->data_bytes - dtm_host_page;

	memset(dtm_hva(src, gpa), 0x5a, dtm_host_page);
	src->drop_gpa = gpa;
	return dirtytrack_vmm_mark(src->tracker, gpa, dtm_host_page);
}

/* Copy @r but the planted page, if it is there. */
static bool dtm_copy_but_planted(struct dtm_copy *c,
				 const struct dirtytrack_dirty_range *r)
{
	uint64_t gpa = c->src->drop_gpa, i;

	if (!gpa || c->src->dropped || gpa < r->gpa ||
	    gpa >= r->gpa + r->npages * dtm_host_page)
		return false;
	i = (gpa - r->gpa) / dtm_host_page;
	dtm_copy_pages(c, r->gpa, i);
	dtm_copy_pages(c, gpa + dtm_host_page, r->npages - i - 1);
	c->src->dropped = true;
	return true;
}
#else
static int dtm_plant_lost_page(struct dtm_vm *src)
{
	(void)src;
	return -EOPNOTSUPP;
}

static bool dtm_copy_but_planted(struct dtm_copy *c,
				 const struct dirtytrack_dirty_range *r)
{
	(void)c;
	(void)r;
	return false;
}
#endif

/* A claimed run: copy it to the destination. */
static int dtm_copy_range(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct dtm_copy *c = ctx;

	if (c->runs == c->fail_after)
		return -ECONNRESET;
	c->runs++;
	c->pages += r->npages;
	if (!dtm_copy_but_planted(c, r))
		dtm_copy_pages(c, r->gpa, r->npages);
	return 0;
}

static uint64_t dtm_dirty(const struct dirtytrack_sync_stats *st)
{
	return st->ring_entries + st->kvm_bitmap_pages + st->vmm_pages +
	       st->iommu_pages;
}

/* The next row of the report: @name, or (NULL) its number. */
static struct dtm_round *dtm_next_round(struct dtm_report *r, const char *name)
{
	struct dtm_round *rd = &r->round[r->nr_rounds++];

	if (name)
		snprintf(rd->name, sizeof(rd->name), "%s", name);
	else
		snprintf(rd->name, sizeof(rd->name), "%d", r->nr_rounds);
	return rd;
}

/*
 * One round: a sync, or in the stop phase the final sync's two halves
 * with the devices saved between them; then a claim, and the copy.
 */
static int dtm_round(struct dtm_vm *src, struct dtm_copy *c, bool final,
		     struct dtm_round *rd)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dirtytrack_sync_stats st2 = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	double t0 = dtm_ms(), t1;
	int ret;

	if (final) {
		ret = dirtytrack_final_begin(src->tracker, &st);
		if (!ret)
			ret = dtm_arch_save_devices(src);
		if (!ret)
			ret = dirtytrack_final_end(src->tracker, &st2);
	} else {
		ret = dirtytrack_sync(src->tracker, &st);
	}
	if (ret)
		return ret;
	t1 = dtm_ms();
	ret = dirtytrack_claim_ranges(src->tracker, dtm_copy_range, c, NULL);
	rd->dirty = dtm_dirty(&st) + dtm_dirty(&st2);
	rd->foreign = st.ring_foreign + st2.ring_foreign;
	rd->overflow = st.ring_overflow + st2.ring_overflow;
	rd->partial = st.ring_partial_resets + st2.ring_partial_resets;
	rd->sticky = st.ring_sticky + st2.ring_sticky;
	rd->kvm_bitmap = st.kvm_bitmap_pages + st2.kvm_bitmap_pages;
	rd->kvm_bitmap_after_save = st2.kvm_bitmap_pages;
	rd->sent = c->pages;
	rd->sync_ms = t1 - t0;
	rd->copy_ms = dtm_ms() - t1;
	return ret;
}

/* The tracker of the source: every memslot a region, every ring. */
static int dtm_track(struct dtm_vm *src, struct dirtytrack *dt)
{
	const struct dtm_config *cfg = src->cfg;
	struct dirtytrack_tracker *t;
	int i, ret;

	ret = dirtytrack_tracker_create(dt, src->fd, &t);
	if (ret)
		return ret;
	src->tracker = t;
	ret = dirtytrack_region_add(t, 0, DTM_SYS_GPA, DTM_SYS_SIZE);
	for (i = 0; !ret && i < cfg->slots; i++)
		ret = dirtytrack_region_add(t, 1 + i, DTM_DATA_GPA + i * src->slot_bytes,
					    src->slot_bytes);
	for (i = 0; !ret && cfg->ring_entries && i < cfg->vcpus; i++)
		ret = dirtytrack_attach_ring(t, src->vcpu[i].vc.fd,
					     dtm_ring_bytes(cfg), &src->vcpu[i].kvm_id);
	/* The plain log, or beside the rings the backup bitmap (arm64). */
	if (!ret && (!cfg->ring_entries || src->ring_with_bitmap)) {
		struct dirtytrack_kvm_bitmap_opts b =
			DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts,
				.ring_with_bitmap = src->ring_with_bitmap);

		ret = dirtytrack_attach_kvm_bitmap(t, &b);
	}
	return ret;
}

/*
 * Memory hotplug mid-migration: the memslot on both sides, the region
 * (which starts all dirty: libdirtytrack(7)), and only then the guest is
 * told, so it never writes where the tracker does not look.
 */
static int dtm_hotplug(struct dtm_vm *src, struct dtm_vm *dst)
{
	int slot = 1 + src->nr_slots, ret;

	uint64_t gpa = DTM_DATA_GPA + src->data_bytes;

	ret = dtm_vm_add_slot(src);
	if (ret)
		return ret;
	/*
	 * Not zero, so the destination has something to lose.  Written
	 * before the region exists, which starts all dirty.
	 */
	memset(dtm_hva(src, gpa), 0xa5, src->slot_bytes);
	ret = dirtytrack_region_add(src->tracker, slot, gpa, src->slot_bytes);
	if (!ret)
		ret = dtm_vm_add_slot(dst);
	if (ret)
		return ret;
	/* A VMM store into guest memory is marked, like any device's. */
	dtm_params(src)->data_pages = src->data_bytes / DTM_PAGE;
	return dirtytrack_vmm_mark(src->tracker, DTM_PARAMS_GPA,
				   sizeof(struct dtm_params));
}

/* Precopy: rounds until what is left is small, or the round limit. */
static int dtm_precopy(struct dtm_vm *src, struct dtm_vm *dst,
		       struct dtm_report *r)
{
	const struct dtm_config *cfg = src->cfg;
	int i, ret = 0;

	r->converged = false;
	for (i = 1; i <= cfg->max_rounds; i++) {
		struct dtm_copy c = { .src = src, .dst = dst, .fail_after = -1 };
		struct dtm_round *rd;

		if (cfg->hotplug_round == r->nr_rounds + 1 && !r->hotplug_round) {
			ret = dtm_hotplug(src, dst);
			if (ret)
				return ret;
			r->hotplug_round = cfg->hotplug_round;
		}
		/* Room for the stop phases' rows. */
		if (r->nr_rounds + 2 >= DTM_MAX_ROUNDS)
			break;
		/* After round 1, which sends everything. */
		if (cfg->drop_page && r->nr_rounds == 1) {
			ret = dtm_plant_lost_page(src);
			if (ret)
				return ret;
		}
		rd = dtm_next_round(r, NULL);
		ret = dtm_round(src, &c, false, rd);
		if (ret)
			return ret;
		dtm_report_progress(rd);
		/* A vCPU or the reaper gave up: the migration cannot go on. */
		if (src->error)
			return src->error;
		/* Converged; but a hotplug asked for happens first. */
		if (i > 1 && rd->sent <= cfg->threshold &&
		    (!cfg->hotplug_round || r->hotplug_round)) {
			r->converged = true;
			break;
		}
	}
	return 0;
}

/*
 * Stop-and-copy: every vCPU out of KVM_RUN, the final sync, the rest
 * copied.  With @fail, the "destination" fails after the first run is
 * copied: -ECONNRESET, the runs not copied back in the tracker.
 */
static int dtm_stop_copy(struct dtm_vm *src, struct dtm_vm *dst,
			 struct dtm_report *r, bool fail)
{
	const struct dtm_config *cfg = src->cfg;
	struct dtm_copy c = {
		.src = src, .dst = dst, .fail_after = fail ? 1 : -1,
	};
	struct dtm_round *rd = dtm_next_round(r, fail ? "abort" : "final");
	int ret;

	dtm_reaper_stop(src);
	dtm_vm_stop(src);
	if (src->error)
		return src->error;
	ret = dtm_round(src, &c, true, rd);
	dtm_report_progress(rd);
	if (fail)
		/* A single run was all there was: it fails after the copy. */
		return ret ? ret : -ECONNRESET;
	r->final_sync_ms = rd->sync_ms;
	r->final_kvm_bitmap = rd->kvm_bitmap_after_save;
	if (src->dropped)
		r->dropped_gpa = src->drop_gpa;
	if (!ret && cfg->drop_page && !src->dropped)
		return -ENODATA;	/* never planted: no proof */
	return ret;
}

/*
 * The stop phase failed: the guest goes on at the source.  The sealed
 * tracker restarts with every bit not claimed kept (the runs the failed
 * copy did not take went back), and the vCPUs run again.
 */
static int dtm_rollback(struct dtm_vm *src)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts);
	int ret = dirtytrack_start(src->tracker, &so);

	if (!ret)
		ret = dtm_vm_start(src);
	if (!ret)
		ret = dtm_reaper_start(src);
	if (!ret)
		dtm_sleep_ms(src->cfg->warmup_ms);	/* it dirties again */
	return ret;
}

static uint64_t dtm_differing_pages(struct dtm_vm *a, struct dtm_vm *b)
{
	uint64_t p, n = 0;

	for (p = 0; p < DTM_SYS_SIZE / DTM_PAGE; p++)
		n += !!memcmp(a->sys + p * DTM_PAGE, b->sys + p * DTM_PAGE, DTM_PAGE);
	for (p = 0; p < a->data_bytes / DTM_PAGE; p++)
		n += !!memcmp(a->data + p * DTM_PAGE, b->data + p * DTM_PAGE, DTM_PAGE);
	return n;
}

/* How long the destination's guest may take to sum its memory. */
#define DTM_CHECKSUM_DEADLINE_MS	300000

/* Until @vcpu_done holds for every vCPU of @vm, or @deadline_ms passed. */
static bool dtm_vm_wait(struct dtm_vm *vm,
			bool (*vcpu_done)(struct dtm_vm *vm, int i, const void *arg),
			const void *arg, double deadline_ms)
{
	int i;

	for (;;) {
		for (i = 0; i < vm->cfg->vcpus && vcpu_done(vm, i, arg); i++)
			;
		if (i == vm->cfg->vcpus)
			return true;
		if (dtm_ms() > deadline_ms)
			return false;
		dtm_sleep_ms(10);
	}
}

/* Its thread returned. */
static bool dtm_vcpu_exited(struct dtm_vm *vm, int i, const void *arg)
{
	(void)arg;
	return __atomic_load_n(&vm->vcpu[i].exited, __ATOMIC_ACQUIRE);
}

/* It stored since @before (the stores counts, one per vCPU). */
static bool dtm_vcpu_stored(struct dtm_vm *vm, int i, const void *before)
{
	return dtm_params(vm)->stores[i] != ((const uint64_t *)before)[i];
}

/*
 * Resume on the destination, let it run until every vCPU stored again,
 * then have the guest sum its memory and stop, and check the sum.
 */
static int dtm_resume(struct dtm_vm *dst, struct dtm_report *r)
{
	const struct dtm_config *cfg = dst->cfg;
	struct dtm_params *p = dtm_params(dst);
	uint64_t before[DTM_MAX_VCPUS];
	int i, ret;

	for (i = 0; i < cfg->vcpus; i++)
		before[i] = p->stores[i];
	ret = dtm_vm_start(dst);
	if (ret)
		return ret;
	dtm_sleep_ms(cfg->run_after_ms);
	/* At the slowest rate dtm_parse() allows, a store a second. */
	r->guest_ran = dtm_vm_wait(dst, dtm_vcpu_stored, before, dtm_ms() + 3000);
	p->command = DTM_CMD_CHECKSUM;
	if (!dtm_vm_wait(dst, dtm_vcpu_exited, NULL,
			 dtm_ms() + DTM_CHECKSUM_DEADLINE_MS)) {
		fprintf(stderr, "dtmigrate: the destination's guest did not sum its memory in %d s\n",
			DTM_CHECKSUM_DEADLINE_MS / 1000);
		dst->error = dst->error ? dst->error : -ETIMEDOUT;
	}
	dtm_vm_stop(dst);
	if (dst->error)
		fprintf(stderr, "dtmigrate: destination vCPU: %s (exit %u, address %#llx)\n",
			strerror(-dst->error), dst->bad_exit,
			(unsigned long long)dst->bad_addr);
	r->checksum_ok = !dst->error && p->checksum_done &&
			 p->checksum == dtm_checksum((unsigned long long *)dst->data,
						     dst->data_bytes / DTM_PAGE,
						     cfg->vcpus);
	return 0;
}

/* The guest's parameters, on the source before it starts. */
static void dtm_set_params(struct dtm_vm *src)
{
	const struct dtm_config *cfg = src->cfg;
	struct dtm_params *p = dtm_params(src);
	uint64_t hz = dtm_arch_counter_hz(src), per_vcpu = cfg->rate / cfg->vcpus;

	p->data_gpa = DTM_DATA_GPA;
	p->data_pages = src->data_bytes / DTM_PAGE;
	p->workload = cfg->workload;
	p->hot_pages = (uint64_t)(p->data_pages * cfg->hot_fraction);
	if (!p->hot_pages)
		p->hot_pages = 1;
	p->seed = cfg->seed;
	p->vcpus = cfg->vcpus;
	if (cfg->rate && hz)
		p->ticks_per_store = hz / (per_vcpu ? per_vcpu : 1);
}

static int dtm_fail(const char *what, struct dtm_vm *vm, int err)
{
	if (err == -ENOSPC && vm) {
		fprintf(stderr, "dtmigrate: %s: vCPU %d's dirty ring stays full: KVM "
			"exits RING_FULL again and nothing frees it (its reset "
			"index cannot move); the migration ends, the guest stays "
			"on the source\n", what, vm->error_vcpu);
		return 2;
	}
	fprintf(stderr, "dtmigrate: %s: %s", what, strerror(-err));
	if (vm && vm->bad_exit)
		fprintf(stderr, " (vCPU exit %u, address %#llx)", vm->bad_exit,
			(unsigned long long)vm->bad_addr);
	fprintf(stderr, "\n");
	return 2;
}

/* The whole run, returning dtmigrate's exit status: 0 PASS, 1, 2. */
static int dtm_migrate(const struct dtm_config *cfg, struct dirtytrack *dt,
		       struct dtm_report *r)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts,
		.all_dirty = true);
	struct dtm_vm src = { .fd = -1 }, dst = { .fd = -1 };
	double t_begin, t_stop, t_check;
	int i, ret, rc = 2;

	ret = dtm_vm_create(&src, cfg, true);
	if (!ret)
		ret = dtm_vm_create(&dst, cfg, false);
	if (ret) {
		dtm_fail("creating the VMs", NULL, ret);
		goto out;
	}
	dtm_set_params(&src);
	ret = dtm_track(&src, dt);
	if (ret) {
		dtm_fail("the tracker", NULL, ret);
		goto out;
	}
	ret = dtm_vm_start(&src);
	if (ret) {
		dtm_fail("starting the vCPUs", NULL, ret);
		goto out;
	}
	dtm_sleep_ms(cfg->warmup_ms);

	t_begin = dtm_ms();
	ret = dirtytrack_start(src.tracker, &so);
	if (!ret)
		ret = dtm_reaper_start(&src);
	if (!ret)
		ret = dtm_precopy(&src, &dst, r);
	if (!ret && cfg->rollback) {
		/* The stop phase fails; back to the source, and again. */
		r->abort_round = r->nr_rounds;
		ret = dtm_stop_copy(&src, &dst, r, true);
		if (ret != -ECONNRESET) {
			dtm_fail("the aborted stop phase", &src, ret ? ret : -EPROTO);
			goto out;
		}
		ret = dtm_rollback(&src);
		if (!ret)
			ret = dtm_precopy(&src, &dst, r);
	}
	t_stop = dtm_ms();
	if (!ret)
		ret = dtm_stop_copy(&src, &dst, r, false);
	if (ret) {
		dtm_fail("migration", &src, ret);
		goto out;
	}

	/* The check is not part of a migration: out of the downtime. */
	t_check = dtm_ms();
	r->mismatched_pages = dtm_differing_pages(&src, &dst);
	r->bytes_equal = !r->mismatched_pages;
	t_check = dtm_ms() - t_check;
	for (i = 0; i < cfg->vcpus; i++) {
		ret = dtm_arch_vcpu_transfer(&src.vcpu[i], &dst.vcpu[i]);
		if (ret) {
			dtm_fail("vCPU state", NULL, ret);
			goto out;
		}
		r->ring_full_exits += src.vcpu[i].ring_full;
		if (src.vcpu[i].ring_full || cfg->ring_entries) {
			struct dirtytrack_vcpu_stats vs =
				DIRTYTRACK_OPTS_INIT(dirtytrack_vcpu_stats);

			if (!dirtytrack_get_vcpu_stats(src.tracker,
						       src.vcpu[i].kvm_id, &vs))
				r->ring_overflows += vs.overflows;
		}
	}
	r->reaped = src.reaped;
	dirtytrack_stop(src.tracker);
	r->downtime_ms = dtm_ms() - t_stop - t_check;

	ret = dtm_resume(&dst, r);
	r->total_ms = dtm_ms() - t_begin;
	if (ret) {
		dtm_fail("resuming on the destination", NULL, ret);
		goto out;
	}
	rc = dtm_report_pass(r) ? 0 : 1;
out:
	/* No vCPU or reaper thread may outlive the tracker it harvests into. */
	dtm_reaper_stop(&src);
	dtm_vm_stop(&src);
	dtm_vm_stop(&dst);
	if (src.tracker)
		dirtytrack_tracker_destroy(src.tracker);
	dtm_vm_destroy(&src);
	dtm_vm_destroy(&dst);
	return rc;
}

static const char *const dtm_workloads[] = {
	[DTM_UNIFORM] = "uniform", [DTM_HOT] = "hot", [DTM_SWEEP] = "sweep",
};

static void dtm_usage(FILE *f)
{
	fprintf(f,
"usage: dtmigrate [options]\n"
"  --vcpus N            vCPUs (default 2, at most %d)\n"
"  --mem MIB            guest memory for the workload (default 64)\n"
"  --slots N            memslots it is split over (default 4, at most 64)\n"
"  --workload W         uniform, hot or sweep (default uniform)\n"
"  --hot-fraction F     hot: the share of memory written (default 0.1)\n"
"  --rate N             pages/s over all vCPUs, at least one per vCPU\n"
"                       (default 0: as fast as they can)\n"
"  --ring N             dirty-ring entries per vCPU, a power of 2 from 256 to\n"
"                       65536 (default 4096); 0: the bitmap\n"
"  --threshold N        pages left in a round that end precopy (default 256)\n"
"  --max-rounds N       (default 30, at most 498)\n"
"  --backend B          kernel, user or auto (default auto)\n"
"  --seed N             the workload's seed (default 1)\n"
"  --its[=N]            arm64: a vGICv3 + ITS with N collections (default %d),\n"
"                       whose table it saves into guest memory in the final\n"
"                       sync, seen by KVM's backup bitmap only\n"
"  --format F           table, csv or json (default table)\n"
"  --hotplug-round N    add a memslot of the same size before precopy round N\n"
"  --rollback           the first stop phase fails after copying one run: the\n"
"                       guest resumes on the source, and is migrated again\n"
"  --reap-ms N          rings: a reaper harvests every N ms the rings past\n"
"                       --reap-fill (default 1; 0: only at RING_FULL exits)\n"
"  --reap-fill P        the percent of a ring the reaper harvests from\n"
"                       (default 50)\n"
#ifdef DTM_FAULT_INJECTION
"  --drop-page          (test builds; hot workload) the VMM writes a page out\n"
"                       of the hot set and does not copy it: the check must FAIL\n"
#endif
		, DTM_MAX_VCPUS, DTM_ITS_COLLECTIONS);
}

/* Limits of the options (the rings': KVM's, for 4 KiB pages). */
#define DTM_MAX_SLOTS		64
#define DTM_MIN_RING		256
#define DTM_MAX_RING		65536
/* Precopy rounds: twice, with a rollback, and the stop phases' rows. */
#define DTM_MAX_PRECOPY		((DTM_MAX_ROUNDS - 4) / 2)

/* A whole, non-negative number, all of @s. */
static bool dtm_number(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && end != s && !*end && !strchr(s, '-');
}

static int dtm_parse(int argc, char **argv, struct dtm_config *cfg)
{
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "slots", required_argument, NULL, 's' },
		{ "workload", required_argument, NULL, 'w' },
		{ "hot-fraction", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' },
		{ "ring", required_argument, NULL, 'R' },
		{ "threshold", required_argument, NULL, 't' },
		{ "max-rounds", required_argument, NULL, 'n' },
		{ "backend", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ "hotplug-round", required_argument, NULL, 'H' },
		{ "rollback", no_argument, NULL, 'A' },
		{ "reap-ms", required_argument, NULL, 'P' },
		{ "reap-fill", required_argument, NULL, 'L' },
#ifdef DTM_FAULT_INJECTION
		{ "drop-page", no_argument, NULL, 'D' },
#endif
		{ "its", optional_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t n = 0;
	unsigned int w;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		/* Every option with a number takes a whole one, in range. */
		if (strchr("cmsrRtnSHIPL", o) && optarg && !dtm_number(optarg, &n))
			return -EINVAL;
		switch (o) {
		case 'c':
			cfg->vcpus = n > DTM_MAX_VCPUS ? 0 : (int)n;
			break;
		case 'm':
			cfg->mem_mib = n;
			break;
		case 's':
			cfg->slots = n > DTM_MAX_SLOTS ? 0 : (int)n;
			break;
		case 'f':
			cfg->hot_fraction = atof(optarg);
			break;
		case 'r':
			cfg->rate = n;
			break;
		case 'R':
			cfg->ring_entries = n > DTM_MAX_RING ? 1 : (uint32_t)n;
			break;
		case 't':
			cfg->threshold = n;
			break;
		case 'n':
			cfg->max_rounds = n > DTM_MAX_PRECOPY ? 0 : (int)n;
			break;
		case 'b':
			cfg->backend = optarg;
			break;
		case 'S':
			cfg->seed = n;
			break;
		case 'F':
			cfg->format = optarg;
			break;
		case 'H':
			cfg->hotplug_round = n > DTM_MAX_PRECOPY ? -1 : (int)n;
			cfg->hotplug_slots = 1;
			break;
		case 'A':
			cfg->rollback = true;
			break;
		case 'P':
			cfg->reap_ms = n > 10000 ? -1 : (int)n;
			break;
		case 'L':
			cfg->reap_fill = n > 100 ? 0 : (unsigned int)n;
			break;
#ifdef DTM_FAULT_INJECTION
		case 'D':
			cfg->drop_page = true;
			break;
#endif
		case 'I':
			cfg->its = optarg ? n : DTM_ITS_COLLECTIONS;
			break;
		case 'w':
			for (w = 0; w < 3 && strcmp(optarg, dtm_workloads[w]); w++)
				;
			if (w == 3)
				return -EINVAL;
			cfg->workload = w;
			break;
		case 'h':
			dtm_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc || cfg->vcpus < 1 || cfg->slots < 1 || !cfg->mem_mib ||
	    cfg->mem_mib > DTM_MAX_GIB << 10 ||
	    (cfg->mem_mib << 20) % ((uint64_t)cfg->slots << 21) ||
	    DTM_DATA_GPA + ((cfg->mem_mib << 20) / cfg->slots) *
	    (cfg->slots + cfg->hotplug_slots) > DTM_MAX_GIB << 30 ||
	    cfg->max_rounds < 1 || cfg->hotplug_round < 0 ||
	    cfg->reap_ms < 0 || cfg->reap_fill < 1 ||
	    cfg->hotplug_round > cfg->max_rounds ||
	    !(cfg->hot_fraction > 0 && cfg->hot_fraction <= 1) ||
	    (cfg->drop_page && (cfg->workload != DTM_HOT || cfg->hot_fraction >= 1)) ||
	    (cfg->rate && cfg->rate < (uint64_t)cfg->vcpus) ||
	    (cfg->ring_entries && (cfg->ring_entries < DTM_MIN_RING ||
				   (cfg->ring_entries & (cfg->ring_entries - 1)))) ||
	    (strcmp(cfg->format, "table") && strcmp(cfg->format, "csv") &&
	     strcmp(cfg->format, "json")))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct dtm_config cfg = {
		.vcpus = 2, .mem_mib = 64, .slots = 4, .workload = DTM_UNIFORM,
		.hot_fraction = 0.1, .ring_entries = 4096, .threshold = 256,
		.max_rounds = 30, .warmup_ms = 100, .run_after_ms = 200,
		.seed = 1, .backend = "auto", .format = "table",
		.reap_ms = 1, .reap_fill = 50,
	};
	struct dirtytrack_open_opts oo = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts);
	struct sigaction sa = { .sa_handler = dtm_kick };
	static struct dtm_report r;
	struct dirtytrack *dt;
	int ret;

	if (dtm_parse(argc, argv, &cfg)) {
		fprintf(stderr, "dtmigrate: bad arguments (memory must split into slots of whole 2 MiB)\n");
		dtm_usage(stderr);
		return 2;
	}
	if (dtm_arch_check(&cfg))
		return 2;
	if (!strcmp(cfg.backend, "kernel"))
		oo.backend = DIRTYTRACK_BACKEND_KERNEL;
	else if (!strcmp(cfg.backend, "user"))
		oo.backend = DIRTYTRACK_BACKEND_USER;
	ret = dirtytrack_open(&oo, &dt);
	if (ret) {
		fprintf(stderr, "dtmigrate: dirtytrack_open: %s\n", strerror(-ret));
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns */
	dtm_host_page = (size_t)sysconf(_SC_PAGESIZE);
	r.backend = dirtytrack_get_backend(dt) == DIRTYTRACK_BACKEND_KERNEL ?
		    "kernel" : "user";
	r.workload = dtm_workloads[cfg.workload];
	r.vcpus = cfg.vcpus;
	r.mem_mib = cfg.mem_mib;
	r.its = cfg.its;
	ret = dtm_migrate(&cfg, dt, &r);
	if (ret != 2)
		dtm_report_print(&r, cfg.format);
	dirtytrack_close(dt);
	return ret;
}
