// SPDX-License-Identifier: GPL-2.0
/*
 * dtbench: libdirtytrack's collection against what a VMM does without it,
 * on real KVM guests, each figure a ratio to a baseline measured in the
 * same run with the rounds alternating between the collectors.
 *
 *   dtbench [--mode ring,bitmap,claim,final] [--quick] [--out DIR]
 *           [--where NAME] [--reps N] [--warmup N] [--backends user,kernel]
 *           [--max-mem SIZE] [--vcpus LIST] [--ring-entries LIST]
 *           [--pages LIST] [--slots LIST] [--fractions LIST]
 *           [--bitmap-vcpus N] [--point-budget SEC] [--point-max SEC]
 *           [--claim-size SIZE]
 *           [--final-pages LIST] [--final-ring ENTRIES]
 *
 * Exit status: 0 done, 1 a check or a measurement failed, 2 could not run.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

static void dtb_usage(FILE *f)
{
	fprintf(f,
"usage: dtbench [options]\n"
"  --mode LIST          ring,bitmap,claim,final (default: all)\n"
"  --quick              one tiny configuration per mode, correctness checks\n"
"                       only (what make check runs); non-zero on a mismatch\n"
"  --out DIR            CSV files (default build/bench/WHERE)\n"
"  --where NAME         the run's name in the CSVs (default native)\n"
"  --reps N             timed rounds per collector and point (default 7)\n"
"  --warmup N           untimed rounds per collector first (default 1)\n"
"  --backends LIST      user,kernel (default: user, and kernel if\n"
"                       " DIRTYTRACK_DEV_PATH " exists)\n"
"  --max-mem SIZE       guest memory touched at once (default 3/4 of\n"
"                       MemAvailable); larger points are skipped\n"
"ring:\n"
"  --vcpus LIST         default 1,2,4,8,16\n"
"  --ring-entries LIST  default 4096,65536\n"
"  --pages LIST         dirty pages per vCPU per round, default 64,256,1024,16384\n"
"  --signals-open       collect with signals unblocked (default: blocked, as\n"
"                       in QEMU's threads)\n"
"bitmap:\n"
"  --slots LIST         memslot sizes, default 1G,4G,16G\n"
"  --fractions LIST     percent of the pages dirty, default 0.1,1,10,100\n"
"  --bitmap-vcpus N     vCPUs storing (default 2)\n"
"  --point-budget SEC   guest time per point: a larger point gets fewer\n"
"                       rounds than --reps (2 at least) and one warm-up\n"
"                       round in all (default 20)\n"
"  --point-max SEC      skip a point whose guest stores would take longer,\n"
"                       at the cost per page fault measured so far (300)\n"
"claim:\n"
"  --claim-size SIZE    the region (default 16G; never touched)\n"
"final:\n"
"  --final-pages LIST   pages per source, default 1024,16384\n"
"  --final-ring N       ring entries (default 65536)\n");
}

/* A size with an optional binary suffix: 64M, 16G, 0.5G. */
static int dtb_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	double v = strtod(s, &end);

	u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u)
		end++;
	if (end == s || *end || v < 0)
		return -EINVAL;
	*out = (uint64_t)(v * (double)(1ULL << (u ? 10 * (u - units + 1) : 0)));
	return 0;
}

static int dtb_parse_list(const char *s, struct dtb_list *l, bool sizes)
{
	char buf[512], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	l->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		char *end;

		if (l->n == DTB_MAX_LIST)
			return -EINVAL;
		if (sizes) {
			if (dtb_parse_size(tok, &v))
				return -EINVAL;
		} else {
			v = strtoull(tok, &end, 0);
			if (end == tok || *end)
				return -EINVAL;
		}
		if (!v)
			return -EINVAL;
		l->v[l->n++] = v;
	}
	return l->n ? 0 : -EINVAL;
}

static int dtb_parse_fractions(const char *s, struct dtb_config *cfg)
{
	char buf[512], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	cfg->nr_fractions = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		double v = strtod(tok, &end);

		if (end == tok || *end || v <= 0 || v > 100 ||
		    cfg->nr_fractions == DTB_MAX_LIST)
			return -EINVAL;
		cfg->fractions[cfg->nr_fractions++] = v;
	}
	return cfg->nr_fractions ? 0 : -EINVAL;
}

static int dtb_parse_modes(const char *s, unsigned int *modes)
{
	static const char *const names[] = { "ring", "bitmap", "claim", "final" };
	char buf[128], *tok, *save = NULL;
	unsigned int i;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	*modes = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			*modes |= DTB_MODE_ALL;
			continue;
		}
		for (i = 0; i < 4 && strcmp(tok, names[i]); i++)
			;
		if (i == 4)
			return -EINVAL;
		*modes |= 1U << i;
	}
	return *modes ? 0 : -EINVAL;
}

static uint64_t dtb_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];

	if (!f)
		return 1ULL << 30;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static void dtb_defaults(struct dtb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->where = "native";
	cfg->modes = DTB_MODE_ALL;
	cfg->reps = 7;
	cfg->warmup = 1;
	cfg->user = true;
	cfg->kernel = dtb_have_kernel();
	cfg->max_mem = dtb_mem_available() / 4 * 3;
	dtb_parse_list("1,2,4,8,16", &cfg->vcpus, false);
	dtb_parse_list("4096,65536", &cfg->ring_entries, false);
	dtb_parse_list("64,256,1024,16384", &cfg->ring_pages, false);
	dtb_parse_list("1G,4G,16G", &cfg->slot_bytes, true);
	dtb_parse_fractions("0.1,1,10,100", cfg);
	cfg->bitmap_vcpus = 2;
	cfg->point_budget_s = 20;
	cfg->point_max_s = 300;
	cfg->claim_bytes = 16ULL << 30;
	dtb_parse_list("1024,16384", &cfg->final_pages, false);
	cfg->final_ring_entries = 65536;
	cfg->final_vcpus = 2;
}

/* One tiny configuration per mode: every check, few rounds. */
static void dtb_quick(struct dtb_config *cfg)
{
	cfg->reps = 2;
	cfg->warmup = 1;
	dtb_parse_list("2", &cfg->vcpus, false);
	dtb_parse_list("4096", &cfg->ring_entries, false);
	dtb_parse_list("64,16384", &cfg->ring_pages, false);
	dtb_parse_list("64M", &cfg->slot_bytes, true);
	dtb_parse_fractions("1,100", cfg);
	cfg->point_budget_s = 0;
	cfg->point_max_s = 0;
	cfg->claim_bytes = 64ULL << 20;
	dtb_parse_list("256", &cfg->final_pages, false);
	cfg->final_ring_entries = 4096;
}

static int dtb_mkdir_p(const char *path)
{
	char buf[4096], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

enum {
	OPT_MODE = 256, OPT_OUT, OPT_WHERE, OPT_REPS, OPT_WARMUP, OPT_BACKENDS,
	OPT_MAX_MEM, OPT_VCPUS, OPT_RING_ENTRIES, OPT_PAGES, OPT_SLOTS,
	OPT_FRACTIONS, OPT_BITMAP_VCPUS, OPT_BUDGET, OPT_CLAIM_SIZE,
	OPT_FINAL_PAGES, OPT_FINAL_RING, OPT_QUICK, OPT_POINT_MAX,
	OPT_SIGNALS_OPEN,
};

static const struct option dtb_options[] = {
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "where", required_argument, NULL, OPT_WHERE },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "backends", required_argument, NULL, OPT_BACKENDS },
	{ "max-mem", required_argument, NULL, OPT_MAX_MEM },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "ring-entries", required_argument, NULL, OPT_RING_ENTRIES },
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "signals-open", no_argument, NULL, OPT_SIGNALS_OPEN },
	{ "slots", required_argument, NULL, OPT_SLOTS },
	{ "fractions", required_argument, NULL, OPT_FRACTIONS },
	{ "bitmap-vcpus", required_argument, NULL, OPT_BITMAP_VCPUS },
	{ "point-budget", required_argument, NULL, OPT_BUDGET },
	{ "point-max", required_argument, NULL, OPT_POINT_MAX },
	{ "claim-size", required_argument, NULL, OPT_CLAIM_SIZE },
	{ "final-pages", required_argument, NULL, OPT_FINAL_PAGES },
	{ "final-ring", required_argument, NULL, OPT_FINAL_RING },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int dtb_backends(const char *s, struct dtb_config *cfg)
{
	char buf[64], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	cfg->user = cfg->kernel = false;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "user"))
			cfg->user = true;
		else if (!strcmp(tok, "kernel"))
			cfg->kernel = true;
		else
			return -EINVAL;
	}
	if (cfg->kernel && !dtb_have_kernel()) {
		dtb_err("--backends kernel: no %s (is the module loaded?)",
			DIRTYTRACK_DEV_PATH);
		return -ENODEV;
	}
	return 0;
}

/* Options in two passes: --quick first, so that the others refine it. */
static int dtb_parse(int argc, char **argv, struct dtb_config *cfg)
{
	uint64_t v;
	int c, i;

	dtb_defaults(cfg);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick")) {
			cfg->quick = true;
			dtb_quick(cfg);
		}
	while ((c = getopt_long(argc, argv, "h", dtb_options, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case OPT_QUICK:
			break;
		case OPT_MODE:
			ret = dtb_parse_modes(optarg, &cfg->modes);
			break;
		case OPT_OUT:
			cfg->out_dir = optarg;
			break;
		case OPT_WHERE:
			cfg->where = optarg;
			break;
		case OPT_REPS:
		case OPT_WARMUP:
		case OPT_BITMAP_VCPUS:
			v = strtoul(optarg, NULL, 0);
			if (c == OPT_REPS && (v < 1 || v > DTB_MAX_REPS))
				ret = -EINVAL;
			else if (c == OPT_BITMAP_VCPUS && (v < 1 || v > DTB_MAX_VCPUS))
				ret = -EINVAL;
			else if (c == OPT_WARMUP && v > 100)
				ret = -EINVAL;
			else if (c == OPT_REPS)
				cfg->reps = v;
			else if (c == OPT_WARMUP)
				cfg->warmup = v;
			else
				cfg->bitmap_vcpus = v;
			break;
		case OPT_BACKENDS:
			ret = dtb_backends(optarg, cfg);
			break;
		case OPT_MAX_MEM:
			ret = dtb_parse_size(optarg, &cfg->max_mem);
			break;
		case OPT_VCPUS:
			ret = dtb_parse_list(optarg, &cfg->vcpus, false);
			break;
		case OPT_RING_ENTRIES:
			ret = dtb_parse_list(optarg, &cfg->ring_entries, false);
			break;
		case OPT_PAGES:
			ret = dtb_parse_list(optarg, &cfg->ring_pages, false);
			break;
		case OPT_SIGNALS_OPEN:
			cfg->signals_open = true;
			break;
		case OPT_SLOTS:
			ret = dtb_parse_list(optarg, &cfg->slot_bytes, true);
			break;
		case OPT_FRACTIONS:
			ret = dtb_parse_fractions(optarg, cfg);
			break;
		case OPT_BUDGET:
			cfg->point_budget_s = strtod(optarg, NULL);
			break;
		case OPT_POINT_MAX:
			cfg->point_max_s = strtod(optarg, NULL);
			break;
		case OPT_CLAIM_SIZE:
			ret = dtb_parse_size(optarg, &cfg->claim_bytes);
			if (!ret && !cfg->claim_bytes)
				ret = -EINVAL;
			break;
		case OPT_FINAL_PAGES:
			ret = dtb_parse_list(optarg, &cfg->final_pages, false);
			break;
		case OPT_FINAL_RING:
			v = strtoul(optarg, NULL, 0);
			if (v < 256 || v > 65536 || (v & (v - 1)))
				ret = -EINVAL;
			cfg->final_ring_entries = v;
			break;
		case 'h':
			dtb_usage(stdout);
			exit(0);
		default:
			dtb_usage(stderr);
			return -EINVAL;
		}
		if (ret) {
			for (i = 0; ret == -EINVAL && dtb_options[i].name; i++)
				if (dtb_options[i].val == c)
					dtb_err("bad value for --%s: '%s'",
						dtb_options[i].name, optarg);
			return ret;
		}
	}
	if (optind < argc) {
		dtb_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static const struct {
	unsigned int mode;
	int (*run)(const struct dtb_config *cfg);
	const char *name;
} dtb_modes[] = {
	{ DTB_MODE_RING, dtb_ring_bench, "ring" },
	{ DTB_MODE_BITMAP, dtb_bitmap_bench, "bitmap" },
	{ DTB_MODE_CLAIM, dtb_claim_bench, "claim" },
	{ DTB_MODE_FINAL, dtb_final_bench, "final" },
};

int main(int argc, char **argv)
{
	struct dtb_config cfg;
	struct utsname u;
	char out[4096];
	int failed = 0, ret;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = dtb_parse(argc, argv, &cfg);
	if (ret)
		return 2;
	if (!cfg.out_dir) {
		snprintf(out, sizeof(out), "build/bench/%s", cfg.where);
		cfg.out_dir = out;
	}
	ret = dtb_mkdir_p(cfg.out_dir);
	if (ret) {
		dtb_err("cannot create %s: %s", cfg.out_dir, strerror(-ret));
		return 2;
	}
	ret = dtvm_kvm();
	if (ret < 0) {
		dtb_err("cannot open /dev/kvm: %s", strerror(-ret));
		return 2;
	}
	uname(&u);
	printf("dtbench%s: %s, Linux %s, %ld CPUs; backends:%s%s%s; memory cap %llu MiB; %d+%d rounds per point\n",
	       cfg.quick ? " --quick" : "", cfg.where, u.release,
	       sysconf(_SC_NPROCESSORS_ONLN), cfg.user ? " user" : "",
	       cfg.kernel ? " kernel" : "",
	       !cfg.kernel && !dtb_have_kernel() ? " (no " DIRTYTRACK_DEV_PATH ": kernel backend not measured)" : "",
	       (unsigned long long)(cfg.max_mem >> 20), cfg.warmup, cfg.reps);
	printf("x = collector time / baseline time (below 1: faster than the baseline); CSV in %s\n",
	       cfg.out_dir);
	for (i = 0; i < DTB_ARRAY_SIZE(dtb_modes); i++) {
		uint64_t t0 = dtb_now_ns();

		if (!(cfg.modes & dtb_modes[i].mode))
			continue;
		ret = dtb_modes[i].run(&cfg);
		printf("-- %s: %s in %.1f s\n", dtb_modes[i].name,
		       ret ? "FAILED" : "done", (dtb_now_ns() - t0) / 1e9);
		if (ret) {
			dtb_err("mode %s failed: %s", dtb_modes[i].name, strerror(-ret));
			failed = 1;
		}
	}
	dtvm_kvm_close();
	return failed;
}
