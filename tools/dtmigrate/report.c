// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's output: a progress line per round while it runs, then the
 * per-round table and the summary with the verdict, as a table a person
 * reads, or as CSV or JSON.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

bool dtm_report_pass(const struct dtm_report *r)
{
	return r->bytes_equal && r->guest_ran && r->checksum_ok;
}

void dtm_report_progress(const struct dtm_report *r, int i)
{
	const struct dtm_round *rd = &r->round[i];

	fprintf(stderr, "round %3d: %8llu dirty, %8llu sent, sync %7.2f ms, copy %7.2f ms\n",
		i + 1, (unsigned long long)rd->dirty,
		(unsigned long long)rd->sent, rd->sync_ms, rd->copy_ms);
}

static void dtm_print_table(const struct dtm_report *r)
{
	uint64_t foreign;
	int i;

	printf("dtmigrate: %s backend, %d vCPUs, %llu MiB, %s workload\n\n",
	       r->backend, r->vcpus, (unsigned long long)r->mem_mib, r->workload);
	printf("%6s %12s %12s %10s %10s\n", "round", "pages dirty", "pages sent",
	       "sync ms", "copy ms");
	for (i = 0; i <= r->nr_rounds; i++) {
		const struct dtm_round *rd = &r->round[i];
		char name[16];

		if (i == r->nr_rounds)
			strcpy(name, "final");
		else
			snprintf(name, sizeof(name), "%d", i + 1);
		printf("%6s %12llu %12llu %10.2f %10.2f\n", name,
		       (unsigned long long)rd->dirty,
		       (unsigned long long)rd->sent, rd->sync_ms, rd->copy_ms);
	}
	printf("\n");
	printf("total time        %10.1f ms\n", r->total_ms);
	printf("final sync        %10.2f ms\n", r->final_sync_ms);
	printf("downtime          %10.2f ms\n", r->downtime_ms);
	printf("converged         %10s\n", r->converged ? "yes" : "no");
	printf("ring-full exits   %10llu\n", (unsigned long long)r->ring_full_exits);
	for (i = 0, foreign = 0; i <= r->nr_rounds; i++)
		foreign += r->round[i].foreign;
	/* Everything was marked dirty each time: safe, but no convergence. */
	printf("foreign entries   %10llu\n", (unsigned long long)foreign);
	printf("memory equal      %10s", r->bytes_equal ? "yes" : "NO");
	if (!r->bytes_equal)
		printf(" (%llu pages differ)", (unsigned long long)r->mismatched_pages);
	printf("\nguest runs on dst %10s\n", r->guest_ran ? "yes" : "NO");
	printf("guest checksum    %10s\n", r->checksum_ok ? "matches" : "DIFFERS");
	printf("\n%s\n", dtm_report_pass(r) ? "PASS" : "FAIL");
}

static void dtm_print_csv(const struct dtm_report *r)
{
	int i;

	printf("round,pages_dirty,pages_sent,sync_ms,copy_ms\n");
	for (i = 0; i <= r->nr_rounds; i++)
		printf("%s%d,%llu,%llu,%.3f,%.3f\n", i == r->nr_rounds ? "final" : "",
		       i == r->nr_rounds ? 0 : i + 1,
		       (unsigned long long)r->round[i].dirty,
		       (unsigned long long)r->round[i].sent,
		       r->round[i].sync_ms, r->round[i].copy_ms);
	printf("# total_ms=%.1f final_sync_ms=%.3f downtime_ms=%.3f converged=%d result=%s\n",
	       r->total_ms, r->final_sync_ms, r->downtime_ms, r->converged,
	       dtm_report_pass(r) ? "PASS" : "FAIL");
}

static void dtm_print_json(const struct dtm_report *r)
{
	int i;

	printf("{\"backend\":\"%s\",\"vcpus\":%d,\"mem_mib\":%llu,\"workload\":\"%s\",\"rounds\":[",
	       r->backend, r->vcpus, (unsigned long long)r->mem_mib, r->workload);
	for (i = 0; i <= r->nr_rounds; i++)
		printf("%s{\"round\":%s%d%s,\"pages_dirty\":%llu,\"pages_sent\":%llu,\"sync_ms\":%.3f,\"copy_ms\":%.3f}",
		       i ? "," : "", i == r->nr_rounds ? "\"final" : "",
		       i == r->nr_rounds ? 0 : i + 1, i == r->nr_rounds ? "\"" : "",
		       (unsigned long long)r->round[i].dirty,
		       (unsigned long long)r->round[i].sent,
		       r->round[i].sync_ms, r->round[i].copy_ms);
	printf("],\"total_ms\":%.1f,\"final_sync_ms\":%.3f,\"downtime_ms\":%.3f,"
	       "\"converged\":%s,\"memory_equal\":%s,\"guest_ran\":%s,"
	       "\"checksum_ok\":%s,\"result\":\"%s\"}\n",
	       r->total_ms, r->final_sync_ms, r->downtime_ms,
	       r->converged ? "true" : "false", r->bytes_equal ? "true" : "false",
	       r->guest_ran ? "true" : "false", r->checksum_ok ? "true" : "false",
	       dtm_report_pass(r) ? "PASS" : "FAIL");
}

void dtm_report_print(const struct dtm_report *r, const char *format)
{
	if (!strcmp(format, "csv"))
		dtm_print_csv(r);
	else if (!strcmp(format, "json"))
		dtm_print_json(r);
	else
		dtm_print_table(r);
}
