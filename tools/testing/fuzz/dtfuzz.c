// SPDX-License-Identifier: GPL-2.0
/*
 * dtfuzz: a seeded fuzzer of /dev/dirtytrack with a shadow model, run in
 * the test guests (tools/testing/fuzz/README).
 *
 *   dtfuzz [--seed N] [--duration SEC] [--ops N] [--skip NAME]... [-v]
 *
 * --skip NAME leaves out the ops whose name holds NAME, a '-' in it
 * standing for a space (--skip netlink-dumps).
 *
 * Op i is drawn from a generator seeded by (seed, i) alone, so a seed
 * replays the same op sequence; "seqhash" at the end fingerprints it
 * (the same seed and --ops give the same seqhash).  The last line is
 * "dtfuzz: PASS" or "dtfuzz: FAIL ..."; the exit status is non-zero on
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

struct fz fz;

#define FZ_MAX_OPS	64

static const struct fz_op *table[FZ_MAX_OPS];
static unsigned int nr_table, total_weight;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool skipped(const char *name)
{
	int i;

	for (i = 0; i < fz.o.nr_skip; i++)
		if (strstr(name, fz.o.skip[i]))
			return true;
	return false;
}

static void add_ops(const struct fz_op *ops, int n)
{
	int i;

	for (i = 0; i < n && nr_table < FZ_MAX_OPS; i++) {
		if (skipped(ops[i].name))
			continue;
		table[nr_table++] = &ops[i];
		total_weight += ops[i].weight;
	}
}

static const struct fz_op *pick(struct fz_rng *r, unsigned int *idx)
{
	uint64_t w = fz_below(r, total_weight);
	unsigned int i;

	for (i = 0; i < nr_table; i++) {
		if (w < table[i]->weight)
			break;
		w -= table[i]->weight;
	}
	*idx = i;
	return table[i];
}

static void usage(void)
{
	fprintf(stderr, "usage: dtfuzz [--seed N] [--duration SEC] [--ops N] "
		"[--skip NAME]... [-v]\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ops", required_argument, NULL, 'n' },
		{ "skip", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	int c;

	fz.o.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
	fz.o.duration = 60;
	while ((c = getopt_long(argc, argv, "s:d:n:k:v", longopts, NULL)) != -1) {
		switch (c) {
		case 's': fz.o.seed = strtoull(optarg, NULL, 0); break;
		case 'd': fz.o.duration = strtod(optarg, NULL); break;
		case 'n': fz.o.max_ops = strtoull(optarg, NULL, 0); break;
		case 'k':	/* '-' stands for a space, for the guest's --run */
			for (char *p = optarg; *p; p++)
				if (*p == '-')
					*p = ' ';
			if (fz.o.nr_skip < 8)
				fz.o.skip[fz.o.nr_skip++] = optarg;
			break;
		case 'v': fz.o.verbose = true; break;
		default: usage();
		}
	}
}

/* The device answers the query, and the features the fuzzer needs. */
static int check_device(void)
{
	struct dirtytrack_info info = { .size = sizeof(info) };
	int fd = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0) {
		printf("dtfuzz: FAIL: /dev/dirtytrack: %m\n");
		return -1;
	}
	ret = fz_ioctl(fd, DIRTYTRACK_GET_INFO, &info);
	close(fd);
	fz_expect("GET_INFO", ret, 0, -1);
	fz_check(info.api_version == DIRTYTRACK_API_VERSION &&
		 info.page_shift == 12 &&
		 (info.features & DIRTYTRACK_FEATURE_TRACKER) &&
		 (info.features & DIRTYTRACK_FEATURE_KVM_RING) &&
		 (info.features & DIRTYTRACK_FEATURE_VMM_LOG),
		 "GET_INFO: version %u, page shift %u, features 0x%llx",
		 info.api_version, info.page_shift,
		 (unsigned long long)info.features);
	return ret;
}

int main(int argc, char **argv)
{
	struct fz_rng r0;
	double start, last_print;
	uint64_t i;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv);
	printf("dtfuzz: seed %llu, duration %gs%s\n",
	       (unsigned long long)fz.o.seed, fz.o.duration,
	       fz.o.max_ops ? " (or --ops)" : "");
	if (check_device())
		return 1;
	add_ops(fz_args_ops, fz_nr_args_ops);
	add_ops(fz_live_ops, fz_nr_live_ops);
	add_ops(fz_proc_ops, fz_nr_proc_ops);
	add_ops(fz_race_ops, fz_nr_race_ops);
	fz_model_init(&fz.m);
	r0 = fz_rng_for(fz.o.seed, ~0ULL, 0);
	ret = fz_world_create(&fz.w, &r0);
	if (ret) {
		printf("dtfuzz: FAIL: cannot build the VM: %s\n", strerror(-ret));
		return 1;
	}
	fz_model_rebase(&fz.m, &fz.w, -1);
	printf("dtfuzz: %u ops in the table, ring of %u entries, %d vCPUs\n",
	       nr_table, fz.w.ring_entries, FZ_NR_VCPUS);
	for (ret = 0; ret < fz.o.nr_skip; ret++)
		printf("dtfuzz: skipping ops named \"*%s*\"\n", fz.o.skip[ret]);

	fz.seqhash = 0xcbf29ce484222325ULL;
	start = last_print = now();
	for (i = 0;; i++) {
		struct fz_rng r = fz_rng_for(fz.o.seed, i, 0);
		const struct fz_op *op;
		unsigned int idx;

		if (fz.o.max_ops ? i >= fz.o.max_ops :
		    now() - start >= fz.o.duration)
			break;
		fz.op_index = i;
		op = pick(&r, &idx);
		fz.seqhash = (fz.seqhash ^ idx) * 0x100000001b3ULL;
		if (fz.o.verbose)
			printf("dtfuzz: op %llu: %s\n", (unsigned long long)i,
			       op->name);
		fz_count_op(op->name);
		op->fn(&r);
		if (now() - last_print >= 10) {
			last_print = now();
			printf("dtfuzz: %.0fs: %llu ops, %llu failures\n",
			       last_print - start, (unsigned long long)i + 1,
			       (unsigned long long)fz_failures());
		}
	}
	fz.op_index = i;
	if (fz_tr() < 0) {
		ret = fz_tracker_setup(&fz.w);
		fz_check(!ret, "a tracker for the last checkpoint: %s",
			 strerror(-ret));
		fz_model_rebase(&fz.m, &fz.w, -1);
	}
	fz_model_checkpoint(&fz.w);
	fz_world_destroy(&fz.w);
	fz_report();
	printf("dtfuzz: seed %llu: %llu ops in %.1fs, seqhash %016llx\n",
	       (unsigned long long)fz.o.seed, (unsigned long long)i,
	       now() - start, (unsigned long long)fz.seqhash);
	if (fz_failures()) {
		printf("dtfuzz: FAIL: %llu failures (the first ones above), "
		       "replay with --seed %llu --ops %llu\n",
		       (unsigned long long)fz_failures(),
		       (unsigned long long)fz.o.seed, (unsigned long long)i);
		return 1;
	}
	printf("dtfuzz: PASS\n");
	return 0;
}
