// SPDX-License-Identifier: GPL-2.0
/*
 * Timing and reporting: samples, their min and median, one aligned table
 * on stdout and one CSV file per mode.  A ratio is a collector's time over
 * its baseline's, both measured in the same run with their rounds
 * alternating: above 1 is slower than the baseline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t dtb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void dtb_samples_add(struct dtb_samples *s, uint64_t ns)
{
	if (s->n < DTB_MAX_REPS)
		s->ns[s->n++] = ns;
}

uint64_t dtb_samples_min(const struct dtb_samples *s)
{
	uint64_t m = UINT64_MAX;
	int i;

	for (i = 0; i < s->n; i++)
		m = dtb_min_u64(m, s->ns[i]);
	return s->n ? m : 0;
}

static int dtb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t dtb_samples_median(const struct dtb_samples *s)
{
	uint64_t v[DTB_MAX_REPS];

	if (!s->n)
		return 0;
	memcpy(v, s->ns, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), dtb_cmp_u64);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

int dtb_report_open(struct dtb_report *r, const struct dtb_config *cfg,
		    const char *mode, const char *title,
		    const char *key_header, const char *key_csv,
		    const char *item, bool gbps)
{
	char path[4096];

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->mode = mode;
	r->key_header = key_header;
	r->item = item;
	r->gbps = gbps;
	snprintf(path, sizeof(path), "%s/%s.csv", cfg->out_dir, mode);
	r->csv = fopen(path, "w");
	if (!r->csv) {
		dtb_err("cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(r->csv, "where,%s,collector,reps,min_ns,median_ns,items,"
		"ns_per_item,ratio_median,ratio_min,gbps_median,status,note\n",
		key_csv);
	printf("\n== %s (%s)\n", mode, cfg->where);
	printf("%s\n", title);
	printf("%s %-14s %4s %11s %11s %9s %8s %8s%s\n", key_header,
	       "collector", "reps", "min(us)", "median(us)", "ns/item",
	       "x(med)", "x(min)", gbps ? "   GB/s" : "");
	fflush(stdout);
	return 0;
}

void dtb_report_row(struct dtb_report *r, const char *key_tab,
		    const char *key_csv, const struct dtb_result *res,
		    uint64_t base_med, uint64_t base_min, const char *note)
{
	uint64_t med = dtb_samples_median(&res->t), min = dtb_samples_min(&res->t);
	double per = res->items ? (double)med / res->items : 0;
	double gbps = res->bytes && med ? (double)res->bytes / med : 0;
	char rmed[32] = "-", rmin[32] = "-";

	if (base_med)
		snprintf(rmed, sizeof(rmed), "%.3f", (double)med / base_med);
	if (base_min)
		snprintf(rmin, sizeof(rmin), "%.3f", (double)min / base_min);
	printf("%s %-14s %4d %11.1f %11.1f %9.2f %8s %8s", key_tab,
	       res->collector, res->t.n, min / 1e3, med / 1e3, per, rmed, rmin);
	if (r->gbps)
		printf(" %7.2f", gbps);
	if (note && *note)
		printf("  %s", note);
	printf("\n");
	fprintf(r->csv, "%s,%s,%s,%d,%llu,%llu,%llu,%.3f,%s,%s,%.3f,ok,\"%s\"\n",
		r->cfg->where, key_csv, res->collector, res->t.n,
		(unsigned long long)min, (unsigned long long)med,
		(unsigned long long)res->items, per,
		base_med ? rmed : "", base_min ? rmin : "", gbps,
		note ? note : "");
	fflush(stdout);
	fflush(r->csv);
}

void dtb_report_point(struct dtb_report *r, const char *key_tab,
		      const char *key_csv, const struct dtb_result *res, int n)
{
	uint64_t bmed = dtb_samples_median(&res[0].t);
	uint64_t bmin = dtb_samples_min(&res[0].t);
	int i;

	for (i = 0; i < n; i++)
		dtb_report_row(r, key_tab, key_csv, &res[i], bmed, bmin, NULL);
}

void dtb_report_skip(struct dtb_report *r, const char *key_tab,
		     const char *key_csv, const char *reason)
{
	printf("%s skipped: %s\n", key_tab, reason);
	fprintf(r->csv, "%s,%s,,0,,,,,,,,skipped,\"%s\"\n", r->cfg->where,
		key_csv, reason);
	fflush(stdout);
	fflush(r->csv);
}

void dtb_report_note(struct dtb_report *r, const char *fmt, ...)
{
	va_list ap;

	(void)r;
	printf("   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void dtb_report_close(struct dtb_report *r)
{
	if (r->csv)
		fclose(r->csv);
	r->csv = NULL;
}

const char *dtb_size_str(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1ULL << 30) && !(bytes % (1ULL << 30)))
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes >> 30));
	else if (bytes >= (1ULL << 20) && !(bytes % (1ULL << 20)))
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes >> 10));
	return buf;
}
