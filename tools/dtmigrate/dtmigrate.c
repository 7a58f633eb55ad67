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
 *             [--seed N] [--format table|csv|json]
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
		if (ioctl(v->fd, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			vm->error = -errno;
			break;
		}
		if (v->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			int ret = dirtytrack_harvest_vcpu(vm->tracker, v->index, NULL);

			v->ring_full++;
			if (ret) {
				vm->error = ret;
				break;
			}
			continue;
		}
		if (dtm_arch_vcpu_done(v) &&
		    dtm_params(vm)->command != DTM_CMD_RUN)
			break;
		vm->bad_exit = v->run->exit_reason;
		if (v->run->exit_reason == KVM_EXIT_MMIO)
			vm->bad_addr = v->run->mmio.phys_addr;
		vm->error = -EPROTO;
		break;
	}
	return NULL;
}

static int dtm_vm_start(struct dtm_vm *vm)
{
	int i;

	vm->stop = 0;
	for (i = 0; i < vm->cfg->vcpus; i++) {
		vm->vcpu[i].run->immediate_exit = 0;
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

	vm->stop = 1;
	for (i = 0; i < vm->cfg->vcpus; i++) {
		if (!vm->vcpu[i].running)
			continue;
		vm->vcpu[i].run->immediate_exit = 1;
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

struct dtm_copy {
	struct dtm_vm *src, *dst;
	uint64_t pages;
};

/* A claimed run: copy it to the destination. */
static int dtm_copy_range(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct dtm_copy *c = ctx;

	memcpy(dtm_hva(c->dst, r->gpa), dtm_hva(c->src, r->gpa),
	       r->npages * DTM_PAGE);
	c->pages += r->npages;
	return 0;
}

static uint64_t dtm_dirty(const struct dirtytrack_sync_stats *st)
{
	return st->ring_entries + st->kvm_bitmap_pages + st->vmm_pages +
	       st->iommu_pages;
}

/* One round: a sync (or the final one's two halves), a claim, a copy. */
static int dtm_round(struct dtm_vm *src, struct dtm_vm *dst, bool final,
		     struct dtm_round *rd)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dirtytrack_sync_stats st2 = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct dtm_copy c = { .src = src, .dst = dst };
	double t0 = dtm_ms(), t1;
	int ret;

	if (final) {
		ret = dirtytrack_final_begin(src->tracker, &st);
		if (!ret)
			ret = dirtytrack_final_end(src->tracker, &st2);
	} else {
		ret = dirtytrack_sync(src->tracker, &st);
	}
	if (ret)
		return ret;
	t1 = dtm_ms();
	ret = dirtytrack_claim_ranges(src->tracker, dtm_copy_range, &c, NULL);
	rd->dirty = dtm_dirty(&st) + dtm_dirty(&st2);
	rd->foreign = st.ring_foreign + st2.ring_foreign;
	rd->sent = c.pages;
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
	if (!ret && cfg->ring_entries) {
		for (i = 0; !ret && i < cfg->vcpus; i++)
			ret = dirtytrack_attach_ring(t, src->vcpu[i].fd,
				cfg->ring_entries * sizeof(struct kvm_dirty_gfn), NULL);
	} else if (!ret) {
		struct dirtytrack_kvm_bitmap_opts b =
			DIRTYTRACK_OPTS_INIT(dirtytrack_kvm_bitmap_opts);

		ret = dirtytrack_attach_kvm_bitmap(t, &b);
	}
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

static int dtm_migrate(const struct dtm_config *cfg, struct dirtytrack *dt,
		       struct dtm_report *r)
{
	struct dirtytrack_start_opts so = DIRTYTRACK_OPTS_INIT(dirtytrack_start_opts,
		.all_dirty = true);
	struct dtm_vm src, dst;
	struct dtm_params *p;
	uint64_t before[DTM_MAX_VCPUS], hz;
	double t_begin, t_stop;
	int i, ret;

	ret = dtm_vm_create(&src, cfg, true);
	if (!ret)
		ret = dtm_vm_create(&dst, cfg, false);
	if (ret) {
		fprintf(stderr, "dtmigrate: creating the VMs: %s\n", strerror(-ret));
		return 2;
	}
	p = dtm_params(&src);
	p->data_gpa = DTM_DATA_GPA;
	p->data_pages = src.data_bytes / DTM_PAGE;
	p->workload = cfg->workload;
	p->hot_pages = (uint64_t)(p->data_pages * cfg->hot_fraction);
	if (!p->hot_pages)
		p->hot_pages = 1;
	p->seed = cfg->seed;
	p->vcpus = cfg->vcpus;
	hz = dtm_arch_counter_hz(&src);
	if (cfg->rate && hz)
		p->ticks_per_store = hz / (cfg->rate / cfg->vcpus ? cfg->rate / cfg->vcpus : 1);

	ret = dtm_track(&src, dt);
	if (ret) {
		fprintf(stderr, "dtmigrate: the tracker: %s\n", strerror(-ret));
		return 2;
	}
	ret = dtm_vm_start(&src);
	if (ret)
		return 2;
	dtm_sleep_ms(cfg->warmup_ms);

	/* Precopy: rounds until what is left is small, or the round limit. */
	t_begin = dtm_ms();
	ret = dirtytrack_start(src.tracker, &so);
	for (i = 0; !ret && i < cfg->max_rounds && i < DTM_MAX_ROUNDS; i++) {
		ret = dtm_round(&src, &dst, false, &r->round[i]);
		if (ret)
			break;
		r->nr_rounds = i + 1;
		dtm_report_progress(r, i);
		if (i && r->round[i].sent <= cfg->threshold) {
			r->converged = true;
			break;
		}
	}
	/* Stop-and-copy. */
	t_stop = dtm_ms();
	dtm_vm_stop(&src);
	if (!ret && !src.error)
		ret = dtm_round(&src, &dst, true, &r->round[r->nr_rounds]);
	r->final_sync_ms = r->round[r->nr_rounds].sync_ms;
	if (ret || src.error) {
		fprintf(stderr, "dtmigrate: migration failed: %s (vCPU exit %u, address %#llx)\n",
			strerror(-(ret ? ret : src.error)), src.bad_exit,
			(unsigned long long)src.bad_addr);
		return 2;
	}
	r->mismatched_pages = dtm_differing_pages(&src, &dst);
	r->bytes_equal = !r->mismatched_pages;
	for (i = 0; i < cfg->vcpus; i++) {
		ret = dtm_arch_vcpu_transfer(&src.vcpu[i], &dst.vcpu[i]);
		if (ret) {
			fprintf(stderr, "dtmigrate: vCPU state: %s\n", strerror(-ret));
			return 2;
		}
		r->ring_full_exits += src.vcpu[i].ring_full;
	}
	dirtytrack_stop(src.tracker);

	/* Resume on the destination: the downtime ends here. */
	p = dtm_params(&dst);
	for (i = 0; i < cfg->vcpus; i++)
		before[i] = p->stores[i];
	ret = dtm_vm_start(&dst);
	r->downtime_ms = dtm_ms() - t_stop;
	r->total_ms = dtm_ms() - t_begin;
	if (ret)
		return 2;
	dtm_sleep_ms(cfg->run_after_ms);
	r->guest_ran = true;
	for (i = 0; i < cfg->vcpus; i++)
		r->guest_ran &= p->stores[i] > before[i];
	/* The guest sums its memory and halts; the VMM sums the same memory. */
	p->command = DTM_CMD_CHECKSUM;
	for (i = 0; i < cfg->vcpus; i++) {
		pthread_join(dst.vcpu[i].thread, NULL);
		dst.vcpu[i].running = false;
	}
	r->checksum_ok = !dst.error && p->checksum_done &&
			 p->checksum == dtm_checksum((unsigned long long *)dst.data,
						 dst.data_bytes / DTM_PAGE);
	if (dst.error)
		fprintf(stderr, "dtmigrate: destination vCPU: %s (exit %u, address %#llx)\n",
			strerror(-dst.error), dst.bad_exit,
			(unsigned long long)dst.bad_addr);
	dirtytrack_tracker_destroy(src.tracker);
	dtm_vm_destroy(&src);
	dtm_vm_destroy(&dst);
	return dtm_report_pass(r) ? 0 : 1;
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
"  --slots N            memslots it is split over (default 4)\n"
"  --workload W         uniform, hot or sweep (default uniform)\n"
"  --hot-fraction F     hot: the share of memory written (default 0.1)\n"
"  --rate N             pages/s over all vCPUs (default 0: as fast as they can)\n"
"  --ring N             dirty-ring entries per vCPU (default 4096); 0: the bitmap\n"
"  --threshold N        pages left in a round that end precopy (default 256)\n"
"  --max-rounds N       (default 30)\n"
"  --backend B          kernel, user or auto (default auto)\n"
"  --seed N             the workload's seed (default 1)\n"
"  --format F           table, csv or json (default table)\n",
		DTM_MAX_VCPUS);
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned int w;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cfg->vcpus = atoi(optarg); break;
		case 'm': cfg->mem_mib = strtoull(optarg, NULL, 0); break;
		case 's': cfg->slots = atoi(optarg); break;
		case 'f': cfg->hot_fraction = atof(optarg); break;
		case 'r': cfg->rate = strtoull(optarg, NULL, 0); break;
		case 'R': cfg->ring_entries = strtoul(optarg, NULL, 0); break;
		case 't': cfg->threshold = strtoull(optarg, NULL, 0); break;
		case 'n': cfg->max_rounds = atoi(optarg); break;
		case 'b': cfg->backend = optarg; break;
		case 'S': cfg->seed = strtoull(optarg, NULL, 0); break;
		case 'F': cfg->format = optarg; break;
		case 'w':
			for (w = 0; w < 3 && strcmp(optarg, dtm_workloads[w]); w++)
				;
			if (w == 3)
				return -EINVAL;
			cfg->workload = w;
			break;
		case 'h': dtm_usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (cfg->vcpus < 1 || cfg->vcpus > DTM_MAX_VCPUS || cfg->slots < 1 ||
	    !cfg->mem_mib || (cfg->mem_mib << 20) % ((uint64_t)cfg->slots << 21) ||
	    DTM_DATA_GPA + (cfg->mem_mib << 20) > DTM_MAX_GIB << 30 ||
	    cfg->hot_fraction <= 0 || cfg->hot_fraction > 1 ||
	    (cfg->ring_entries & (cfg->ring_entries - 1)) ||
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
	r.backend = dirtytrack_get_backend(dt) == DIRTYTRACK_BACKEND_KERNEL ?
		    "kernel" : "user";
	r.workload = dtm_workloads[cfg.workload];
	r.vcpus = cfg.vcpus;
	r.mem_mib = cfg.mem_mib;
	ret = dtm_migrate(&cfg, dt, &r);
	if (ret != 2)
		dtm_report_print(&r, cfg.format);
	dirtytrack_close(dt);
	return ret;
}
