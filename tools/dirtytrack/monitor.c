// SPDX-License-Identifier: GPL-2.0
/*
 * monitor: the family's events, one line each, as they come.
 *
 * --count N ends after the Nth event shown; --timeout SEC ends once SEC
 * seconds pass without an event shown, the wait starting when the
 * subscription is in place and over again at each event shown.  Either
 * way the exit status is 0; with both, whichever comes first.  Events
 * --tracker filters out neither count nor restart the wait.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <time.h>

#include "cli.h"

struct dt_monitor {
	const struct dt_cli *cli;
	uint32_t tracker;	/* 0: every tracker */
	uint64_t count;		/* 0: no limit */
	uint64_t timeout_ns;	/* 0: none */
	uint64_t shown;
};

static int dt_monitor_opt(int opt, const char *arg, void *priv)
{
	struct dt_monitor *m = priv;

	switch (opt) {
	case 't':
		if (dt_parse_tracker_id(arg, &m->tracker))
			return dt_usage_error("monitor", "--tracker: '%s' is not a tracker id (1 to %u)",
					      arg, UINT32_MAX);
		return 0;
	case 'c':
		if (dt_parse_u64(arg, 1, UINT32_MAX, &m->count))
			return dt_usage_error("monitor", "--count: '%s' is not a count (1 to %u)",
					      arg, UINT32_MAX);
		return 0;
	case 'w':
		if (dt_parse_seconds(arg, &m->timeout_ns))
			return dt_usage_error("monitor", "--timeout: '%s' is not a number of seconds (0.001 to 86400)",
					      arg);
		return 0;
	}
	return DT_EXIT_USAGE;
}

/* Show @ev unless filtered out; 1 once --count events were shown. */
static int dt_monitor_event(const struct dt_event *ev, void *arg)
{
	struct dt_monitor *m = arg;

	if (m->tracker && ev->tracker_id != m->tracker)
		return 0;
	dt_print_event(stdout, ev, m->cli->json);
	fflush(stdout);
	m->shown++;
	return m->count && m->shown >= m->count;
}

/* The poll timeout until @deadline (ns, CLOCK_MONOTONIC); -1: none. */
static int dt_poll_ms(uint64_t deadline)
{
	uint64_t now;

	if (!deadline)
		return -1;
	now = dt_now_ns(CLOCK_MONOTONIC);
	if (now >= deadline)
		return 0;
	/* Rounded up: waking early would only poll again. */
	return (deadline - now + 999999) / 1000000;
}

int dt_cmd_monitor(struct dt_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tracker", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct dt_monitor m = { .cli = cli };
	const struct dt_cmd_opts o = {
		.cmd = "monitor", .shortopts = "t:c:w:", .longopts = opts,
		.option = dt_monitor_opt, .priv = &m,
	};
	uint64_t deadline = 0;
	struct pollfd pfd;
	struct dtnl *nl;
	int ret;

	nl = dt_cmd_start(cli, &o, argc, argv, &ret);
	if (!nl)
		return ret;
	if (dtnl_subscribe(nl)) {
		dtnl_perror(nl, "joining the events group");
		dtnl_close(nl);
		return DT_EXIT_FAIL;
	}

	pfd.fd = dtnl_fd(nl);
	pfd.events = POLLIN;
	for (;;) {
		uint64_t shown = m.shown;

		if (m.timeout_ns && !deadline)
			deadline = dt_now_ns(CLOCK_MONOTONIC) + m.timeout_ns;
		ret = poll(&pfd, 1, dt_poll_ms(deadline));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			perror("dirtytrack: poll");
			ret = DT_EXIT_FAIL;
			break;
		}
		if (ret == 0) {		/* --timeout: quiet for that long */
			ret = DT_EXIT_OK;
			break;
		}
		ret = dtnl_recv_events(nl, dt_monitor_event, &m);
		if (ret == 1) {		/* --count reached */
			ret = DT_EXIT_OK;
			break;
		}
		if (ret == -ENOBUFS) {
			/* The socket overflowed: say so, and go on. */
			fprintf(stderr, "dirtytrack: events were lost (receive queue overflow)\n");
		} else if (ret) {
			dtnl_perror(nl, "receiving events");
			ret = DT_EXIT_FAIL;
			break;
		}
		if (m.shown != shown)
			deadline = 0;
	}
	dtnl_close(nl);
	return ret;
}
