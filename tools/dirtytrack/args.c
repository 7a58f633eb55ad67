// SPDX-License-Identifier: GPL-2.0
/*
 * Strict argument parsing: a number is decimal digits and nothing else
 * (no sign, space, base prefix or suffix), a duration is seconds with an
 * optional fraction, and every command's options go through getopt_long
 * with the ones all commands share, its operands through its own parser,
 * before anything is asked of the kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int dt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

#define DT_NS_PER_S	1000000000ULL
#define DT_MIN_SECONDS_NS	1000000ULL		/* 1 ms */
#define DT_MAX_SECONDS	86400ULL

int dt_parse_seconds(const char *s, uint64_t *ns)
{
	const char *dot = strchr(s, '.');
	uint64_t whole, frac = 0, scale = DT_NS_PER_S;
	char buf[24];
	size_t n;

	n = dot ? (size_t)(dot - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (dt_parse_u64(buf, 0, DT_MAX_SECONDS, &whole))
		return -EINVAL;
	if (dot) {
		const char *p = dot + 1;

		/* At least one digit, and no finer than a nanosecond. */
		if (!*p || strlen(p) > 9)
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	*ns = whole * DT_NS_PER_S + frac;
	if (*ns < DT_MIN_SECONDS_NS || *ns > DT_MAX_SECONDS * DT_NS_PER_S)
		return -EINVAL;
	return 0;
}

int dt_parse_tracker_id(const char *s, uint32_t *id)
{
	uint64_t v;

	if (dt_parse_u64(s, 1, UINT32_MAX, &v))
		return -EINVAL;
	*id = v;
	return 0;
}

int dt_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dirtytrack: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dirtytrack %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return DT_EXIT_USAGE;
}

/* A command's long options, the common ones included. */
#define DT_MAX_OPTS	16

static int dt_parse_cmd_opts(struct dt_cli *cli, const struct dt_cmd_opts *o,
			     int argc, char **argv)
{
	static const struct option common[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 0, nc = ARRAY_SIZE(common);
	struct option longopts[DT_MAX_OPTS + 1];
	char shortopts[32];
	int opt, ret;

	while (o->longopts && o->longopts[n].name && n + nc < DT_MAX_OPTS)
		n++;
	memcpy(longopts, common, sizeof(common));
	if (n)
		memcpy(longopts + nc, o->longopts, n * sizeof(*longopts));
	memset(&longopts[n + nc], 0, sizeof(longopts[0]));
	snprintf(shortopts, sizeof(shortopts), ":hj%s", o->shortopts ? o->shortopts : "");

	optind = 0;	/* a new argv: glibc starts over */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cli->json = true;
			break;
		case 'h':
			dt_cmd_help(stdout, o->cmd);
			return DT_EXIT_OK;
		case ':':
			return dt_usage_error(o->cmd, "option '%s' needs a value",
					      argv[optind - 1]);
		case '?':
			if (optopt)
				return dt_usage_error(o->cmd, "unknown option '-%c'", optopt);
			return dt_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
		default:
			ret = o->option ? o->option(opt, optarg, o->priv) : DT_EXIT_USAGE;
			if (ret)
				return ret;
		}
	}
	return -1;
}

struct dtnl *dt_cmd_start(struct dt_cli *cli, const struct dt_cmd_opts *o,
			  int argc, char **argv, int *status)
{
	int ret = dt_parse_cmd_opts(cli, o, argc, argv);

	if (ret >= 0) {
		*status = ret;
		return NULL;
	}
	for (; optind < argc; optind++) {
		ret = o->operand ? o->operand(argv[optind], o->priv) :
			dt_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
		if (ret) {
			*status = ret;
			return NULL;
		}
	}
	return dt_connect(status);
}
