// SPDX-License-Identifier: GPL-2.0
/*
 * top: the trackers, highest dirty rate first, a frame every --interval.
 * The rates are the module's (pages/s between a tracker's last two
 * syncs): a frame is a snapshot, nothing is averaged here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct dt_top {
	uint64_t interval_ns;
	uint64_t iterations;	/* 0: until interrupted */
	unsigned int show;
};

static int dt_top_opt(int opt, const char *arg, void *priv)
{
	struct dt_top *top = priv;

	switch (opt) {
	case 'v':
		top->show |= DT_SHOW_VCPUS;
		return 0;
	case 'i':
		if (dt_parse_seconds(arg, &top->interval_ns))
			return dt_usage_error("top", "--interval: '%s' is not a number of seconds (0.001 to 86400)",
					      arg);
		return 0;
	case 'n':
		if (dt_parse_u64(arg, 1, UINT32_MAX, &top->iterations))
			return dt_usage_error("top", "--iterations: '%s' is not a count (1 to %u)",
					      arg, UINT32_MAX);
		return 0;
	}
	return DT_EXIT_USAGE;
}

/* Highest rate first; equal rates by id, so frames do not shuffle. */
static int dt_cmp_rate(uint64_t ra, uint64_t rb, uint64_t ia, uint64_t ib)
{
	if (ra != rb)
		return ra < rb ? 1 : -1;
	return (ia > ib) - (ia < ib);
}

static int dt_cmp_tracker_rate(const void *a, const void *b)
{
	const struct dt_tracker *x = a, *y = b;

	return dt_cmp_rate(x->dirty_rate, y->dirty_rate, x->id, y->id);
}

static int dt_cmp_vcpu_rate(const void *a, const void *b)
{
	const struct dt_vcpu *x = a, *y = b;

	return dt_cmp_rate(x->dirty_rate, y->dirty_rate, x->id, y->id);
}

static void dt_top_sort(struct dt_vec *trackers)
{
	size_t i;

	qsort(trackers->items, trackers->n, trackers->size, dt_cmp_tracker_rate);
	for (i = 0; i < trackers->n; i++) {
		struct dt_vec *v = &DT_VEC_AT(trackers, struct dt_tracker, i)->vcpus;

		qsort(v->items, v->n, v->size, dt_cmp_vcpu_rate);
	}
}

static void dt_top_frame(const struct dt_cli *cli, const struct dt_top *top,
			 const struct dt_vec *trackers, bool tty)
{
	uint64_t now = dt_now_ns(CLOCK_REALTIME);
	time_t sec = now / 1000000000;
	struct dt_json j;
	char when[16];
	struct tm tm;
	size_t i;

	if (cli->json) {
		dt_json_init(&j, stdout);
		dt_json_object(&j, NULL);
		dt_json_u64(&j, "time_ns", now);
		dt_json_array(&j, "trackers");
		for (i = 0; i < trackers->n; i++)
			dt_json_tracker(&j, DT_VEC_AT(trackers, struct dt_tracker, i),
					top->show);
		dt_json_end(&j);
		dt_json_end(&j);
		putchar('\n');
		return;
	}
	if (tty)
		fputs("\033[H\033[2J", stdout);	/* home, clear the screen */
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("dirtytrack top - %s - %zu tracker%s - every %.3g s\n\n", when,
	       trackers->n, trackers->n == 1 ? "" : "s", top->interval_ns / 1e9);
	dt_print_top(stdout, trackers, top->show);
}

/* Sleep until @deadline (CLOCK_MONOTONIC, ns). */
static void dt_sleep_until(uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int dt_cmd_top(struct dt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpus", no_argument, NULL, 'v' },
		{ "interval", required_argument, NULL, 'i' },
		{ "iterations", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct dt_top top = { .interval_ns = 1000000000 };
	const struct dt_cmd_opts o = {
		.cmd = "top", .shortopts = "vi:n:", .longopts = opts,
		.option = dt_top_opt, .priv = &top,
	};
	bool tty = isatty(STDOUT_FILENO);
	uint64_t frame, next;
	struct dtnl *nl;
	int ret;

	nl = dt_cmd_start(cli, &o, argc, argv, &ret);
	if (!nl)
		return ret;

	next = dt_now_ns(CLOCK_MONOTONIC);
	for (frame = 0; !top.iterations || frame < top.iterations; frame++) {
		struct dt_vec trackers = DT_VEC_INIT(struct dt_tracker);

		if (frame) {
			next += top.interval_ns;
			/* Behind (a slow frame, a stopped process): no catching up. */
			if (next < dt_now_ns(CLOCK_MONOTONIC))
				next = dt_now_ns(CLOCK_MONOTONIC);
			dt_sleep_until(next);
			if (!cli->json && !tty)
				putchar('\n');
		}
		ret = dt_fetch_trackers(nl, top.show, &trackers);
		if (!ret) {
			dt_top_sort(&trackers);
			dt_top_frame(cli, &top, &trackers, tty);
			fflush(stdout);
		}
		dt_trackers_free(&trackers);
		if (ret)
			break;
	}
	dtnl_close(nl);
	return ret ? DT_EXIT_FAIL : DT_EXIT_OK;
}
