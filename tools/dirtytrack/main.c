// SPDX-License-Identifier: GPL-2.0
/*
 * dirtytrack: who tracks dirty pages on this host, how fast their VMs
 * dirty memory and from which source, and events when something needs
 * attention, from the dirtytrack module's generic netlink family.
 *
 *   dirtytrack [--json] list
 *   dirtytrack [--json] stat [TRACKER]
 *   dirtytrack [--json] top [--vcpus] [--interval SEC] [--iterations N]
 *   dirtytrack [--json] monitor [--tracker ID] [--count N] [--timeout SEC]
 *
 * Exit status: 0 success, 1 no such tracker or a failure, 2 usage error
 * or no dirtytrack netlink family (dirtytrack(8)).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#ifndef DT_VERSION
#define DT_VERSION	"unknown"
#endif

struct dt_command {
	const char *name;
	int (*run)(struct dt_cli *cli, int argc, char **argv);
	const char *usage;
	const char *summary;
	const char *help;
};

static const struct dt_command dt_commands[] = {
	{
		"list", dt_cmd_list, "list", "the trackers you can see, a line each",
		"One line per tracker you can see: owner, state, what it tracks,\n"
		"syncs, dirty rate and errors.  --json: one document,\n"
		"{\"trackers\":[...]}, each tracker with its per-source statistics.\n",
	}, {
		"stat", dt_cmd_stat, "stat [TRACKER]",
		"full statistics: sources, regions, vCPUs",
		"Full statistics of every tracker you can see, or of TRACKER (its\n"
		"id): the tracker's counters, a row per source, its regions and\n"
		"its vCPUs.  --json: one document, {\"trackers\":[...]}, each tracker\n"
		"with \"sources\", \"region_list\" and \"vcpus\".  Exit status 1 if\n"
		"TRACKER does not exist or is not visible to you.\n",
	}, {
		"top", dt_cmd_top, "top [--vcpus] [--interval SEC] [--iterations N]",
		"a live view, highest dirty rate first",
		"A live view of the trackers, highest dirty rate (pages/s between\n"
		"their last two syncs) first.\n"
		"  --vcpus          a row per vCPU under its tracker, also by rate\n"
		"  --interval SEC   between frames (default 1; fractions allowed)\n"
		"  --iterations N   N frames, then exit (default: until interrupted)\n"
		"On a terminal the screen is cleared for each frame; otherwise frames\n"
		"follow one another.  --json: one object per frame and line,\n"
		"{\"time_ns\":...,\"trackers\":[...]}.\n",
	}, {
		"monitor", dt_cmd_monitor, "monitor [--tracker ID] [--count N] [--timeout SEC]",
		"events as they come, a line each",
		"Events, one line each, as they come: created, destroyed,\n"
		"ring-fill, source-error, final-sync.\n"
		"  --tracker ID     only this tracker's events\n"
		"  --count N        exit 0 after N events\n"
		"  --timeout SEC    exit 0 once SEC seconds pass without an event\n"
		"                   (the wait starts over at each event shown)\n"
		"--json: one object per event and line, {\"time_ns\":...,\n"
		"\"event\":\"destroyed\",\"tracker_id\":3}.\n",
	},
};

#define DT_NR_COMMANDS	ARRAY_SIZE(dt_commands)

static const struct dt_command *dt_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < DT_NR_COMMANDS; i++)
		if (!strcmp(dt_commands[i].name, name))
			return &dt_commands[i];
	return NULL;
}

void dt_cmd_help(FILE *f, const char *cmd)
{
	const struct dt_command *c = cmd ? dt_find_command(cmd) : NULL;
	size_t i;

	if (c) {
		fprintf(f, "Usage: dirtytrack [--json] %s\n\n%s", c->usage, c->help);
		return;
	}
	fprintf(f, "Usage: dirtytrack [--json] COMMAND [OPTIONS] [ARGS]\n"
		"       dirtytrack help [COMMAND] | --help | --version\n\n"
		"The dirtytrack module's trackers, host-wide, over its generic\n"
		"netlink family.\n\nCommands:\n");
	for (i = 0; i < DT_NR_COMMANDS; i++)
		fprintf(f, "  %-16s %s\n", dt_commands[i].name, dt_commands[i].summary);
	fprintf(f, "  %-16s %s\n\n", "help [COMMAND]", "this text, or a command's");
	fprintf(f, "Options:\n"
		"  -j, --json      machine-readable output: one JSON document\n"
		"                  (list, stat), one object per line (top, monitor)\n"
		"  -h, --help      this text; COMMAND --help for a command's\n"
		"  -V, --version   the version\n\n"
		"You see the trackers created in your network namespace whose owner\n"
		"is visible in your PID namespace: those of your effective uid, or\n"
		"all of them with CAP_NET_ADMIN.  The same goes for events.\n\n"
		"Exit status: 0 success; 1 no such tracker, or a failure; 2 usage\n"
		"error, or no dirtytrack netlink family (module not loaded).\n"
		"See dirtytrack(8).\n");
}

struct dtnl *dt_connect(int *status)
{
	struct dtnl *nl;
	int err = dtnl_open(&nl);

	if (err) {
		dtnl_open_perror(err);
		*status = err == -ENOENT ? DT_EXIT_USAGE : DT_EXIT_FAIL;
		return NULL;
	}
	return nl;
}

uint64_t dt_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Output that could not be written is a failure, not a silent success. */
static int dt_flush_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		perror("dirtytrack: stdout");
		return status ? status : DT_EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct dt_cli cli = { 0 };
	const struct dt_command *c;
	int opt;

	opterr = 0;
	/* Global options end at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+hjV", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cli.json = true;
			break;
		case 'h':
			dt_cmd_help(stdout, NULL);
			return dt_flush_stdout(DT_EXIT_OK);
		case 'V':
			printf("dirtytrack %s (netlink family %s, version %d)\n", DT_VERSION,
			       DIRTYTRACK_FAMILY_NAME, DIRTYTRACK_FAMILY_VERSION);
			return dt_flush_stdout(DT_EXIT_OK);
		default:
			if (optopt)
				return dt_usage_error(NULL, "unknown option '-%c'", optopt);
			return dt_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return dt_usage_error(NULL, "which command? list, stat, top or monitor");
	if (!strcmp(argv[optind], "help")) {
		if (argc - optind > 2)
			return dt_usage_error(NULL, "help: one command at most");
		if (argc - optind == 2 && !dt_find_command(argv[optind + 1]))
			return dt_usage_error(NULL, "help: no command '%s'", argv[optind + 1]);
		dt_cmd_help(stdout, argv[optind + 1]);
		return dt_flush_stdout(DT_EXIT_OK);
	}
	c = dt_find_command(argv[optind]);
	if (!c)
		return dt_usage_error(NULL, "no command '%s'", argv[optind]);
	return dt_flush_stdout(c->run(&cli, argc - optind, argv + optind));
}
