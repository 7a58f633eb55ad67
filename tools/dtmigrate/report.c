// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's output: a progress line per round while it runs, then the
 * per-round table and the summary with the verdict, as a table a person
 * reads, or as CSV or JSON.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

/*
 * With --its, the final round's KVM bitmap must have reported pages, or
 * the run did not test the path it was asked to test.
 */
static bool dtm_its_reported(const struct dtm_report *r)
{
	return !r->its || r->final_kvm_bitmap;
}

bool dtm_report_pass(const struct dtm_report *r)
{
	return r->bytes_equal && r->guest_ran && r->checksum_ok &&
	       dtm_its_reported(r);
}

void dtm_report_progress(const struct dtm_round *rd)
{
	fprintf(stderr, "round %5s: %8llu dirty, %8llu sent, sync %7.2f ms, copy %7.2f ms\n",
		rd->name, (unsigned long long)rd->dirty,
		(unsigned long long)rd->sent, rd->sync_ms, rd->copy_ms);
}

static void dtm_print_table(const struct dtm_report *r)
{
	uint64_t foreign, overflow, partial, sticky;
	int i;

	printf("dtmigrate: %s backend, %d vCPUs, %llu MiB, %s workload\n\n",
	       r->backend, r->vcpus, (unsigned long long)r->mem_mib, r->workload);
	printf("%6s %12s %12s %10s %10s\n", "round", "pages dirty", "pages sent",
	       "sync ms", "copy ms");
	for (i = 0; i < r->nr_rounds; i++) {
		const struct dtm_round *rd = &r->round[i];

		printf("%6s %12llu %12llu %10.2f %10.2f\n", rd->name,
		       (unsigned long long)rd->dirty,
		       (unsigned long long)rd->sent, rd->sync_ms, rd->copy_ms);
	}
	printf("\n");
	if (r->hotplug_round)
		printf("memslot hotplugged before round %d\n", r->hotplug_round);
	if (r->abort_round)
		printf("stop phase failed after round %d, resumed on the source, migrated again\n",
		       r->abort_round);
	if (r->dropped_gpa)
		printf("fault injected: page %#llx not copied\n",
		       (unsigned long long)r->dropped_gpa);
	printf("total time        %10.1f ms\n", r->total_ms);
	printf("final sync        %10.2f ms\n", r->final_sync_ms);
	printf("downtime          %10.2f ms\n", r->downtime_ms);
	printf("converged         %10s\n", r->converged ? "yes" : "no");
	printf("ring-full exits   %10llu\n", (unsigned long long)r->ring_full_exits);
	for (i = 0, foreign = overflow = partial = sticky = 0; i < r->nr_rounds; i++) {
		foreign += r->round[i].foreign;
		overflow += r->round[i].overflow;
		partial += r->round[i].partial;
		sticky += r->round[i].sticky;
	}
	printf("reaped entries    %10llu\n", (unsigned long long)r->reaped);
	/* Everything was marked dirty each time: safe, but no convergence. */
	printf("foreign entries   %10llu\n", (unsigned long long)foreign);
	/* KVM pushed past a full ring: all dirty once, the ring recovered. */
	printf("ring overflows    %10llu (%llu in syncs)\n",
	       (unsigned long long)r->ring_overflows, (unsigned long long)overflow);
	printf("resets ended early%10llu\n", (unsigned long long)partial);
	printf("sticky pages      %10llu\n", (unsigned long long)sticky);
	/* With rings, the backup bitmap: what no vCPU wrote (device saves). */
	printf("kvm-bitmap final  %10llu%s\n", (unsigned long long)r->final_kvm_bitmap,
	       dtm_its_reported(r) ? "" : " (NONE: the ITS save was not seen)");
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
	for (i = 0; i < r->nr_rounds; i++)
		printf("%s,%llu,%llu,%.3f,%.3f\n", r->round[i].name,
		       (unsigned long long)r->round[i].dirty,
		       (unsigned long long)r->round[i].sent,
		       r->round[i].sync_ms, r->round[i].copy_ms);
	printf("# total_ms=%.1f final_sync_ms=%.3f downtime_ms=%.3f converged=%d "
	       "ring_full_exits=%llu ring_overflows=%llu reaped=%llu "
	       "final_kvm_bitmap=%llu mismatched_pages=%llu result=%s\n",
	       r->total_ms, r->final_sync_ms, r->downtime_ms, r->converged,
	       (unsigned long long)r->ring_full_exits,
	       (unsigned long long)r->ring_overflows,
	       (unsigned long long)r->reaped,
	       (unsigned long long)r->final_kvm_bitmap,
	       (unsigned long long)r->mismatched_pages,
	       dtm_report_pass(r) ? "PASS" : "FAIL");
}

static void dtm_print_json(const struct dtm_report *r)
{
	int i;

	printf("{\"backend\":\"%s\",\"vcpus\":%d,\"mem_mib\":%llu,\"workload\":\"%s\",\"rounds\":[",
	       r->backend, r->vcpus, (unsigned long long)r->mem_mib, r->workload);
	for (i = 0; i < r->nr_rounds; i++)
		printf("%s{\"round\":\"%s\",\"pages_dirty\":%llu,\"pages_sent\":%llu,\"sync_ms\":%.3f,\"copy_ms\":%.3f}",
		       i ? "," : "", r->round[i].name,
		       (unsigned long long)r->round[i].dirty,
		       (unsigned long long)r->round[i].sent,
		       r->round[i].sync_ms, r->round[i].copy_ms);
	printf("],\"hotplug_round\":%d,\"abort_round\":%d,\"dropped_gpa\":%llu,"
	       "\"total_ms\":%.1f,\"final_sync_ms\":%.3f,\"downtime_ms\":%.3f,"
	       "\"converged\":%s,\"final_kvm_bitmap\":%llu,\"memory_equal\":%s,"
	       "\"mismatched_pages\":%llu,\"guest_ran\":%s,\"checksum_ok\":%s,"
	       "\"result\":\"%s\"}\n",
	       r->hotplug_round, r->abort_round, (unsigned long long)r->dropped_gpa,
	       r->total_ms, r->final_sync_ms, r->downtime_ms,
	       r->converged ? "true" : "false",
	       (unsigned long long)r->final_kvm_bitmap,
	       r->bytes_equal ? "true" : "false",
	       (unsigned long long)r->mismatched_pages,
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
