/* SPDX-License-Identifier: GPL-2.0 */
/* What a migration measured, and how dtmigrate prints it. */
#ifndef DTM_REPORT_H
#define DTM_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#define DTM_MAX_ROUNDS	1000

struct dtm_round {
	char name[16];		/* "1", "2"..., "abort", "final" */
	uint64_t dirty;		/* pages the sources reported in the sync */
	uint64_t sent;		/* pages claimed and copied */
	uint64_t foreign;	/* ring entries KVM's reset did not match */
	uint64_t overflow;	/* rings found full (KVM pushed past the end) */
	uint64_t partial;	/* ring resets KVM ended early */
	uint64_t sticky;	/* pages that became dirty at every sync */
	uint64_t kvm_bitmap;	/* pages the KVM bitmap reported (rings: backup) */
	uint64_t kvm_bitmap_after_save;	/* of those, final_end's: after the save */
	double sync_ms;
	double copy_ms;
};

struct dtm_report {
	const char *backend;
	const char *workload;
	int vcpus;
	uint64_t mem_mib;
	bool its;		/* a device wrote guest memory in the final sync */
	int nr_rounds;		/* rows of round[], the final one included */
	struct dtm_round round[DTM_MAX_ROUNDS];
	bool converged;
	int hotplug_round;	/* the memslot was added before it; 0: none */
	int abort_round;	/* the stop phase that failed after it; 0: none */
	uint64_t dropped_gpa;	/* fault injection: the page not copied */
	double total_ms;
	double final_sync_ms;
	/* The KVM bitmap's pages read after the devices' save (final_end). */
	uint64_t final_kvm_bitmap;
	double downtime_ms;
	uint64_t ring_full_exits;
	uint64_t ring_overflows;	/* over every vCPU, every harvest */
	uint64_t reaped;	/* entries the reaper harvested before full */
	bool bytes_equal;	/* destination == source at the stop point */
	uint64_t mismatched_pages;
	bool guest_ran;		/* every vCPU stored again on the destination */
	bool checksum_ok;	/* the guest's checksum of its memory, checked */
};

/* One line per round, while it runs (stderr). */
void dtm_report_progress(const struct dtm_round *rd);
/* The whole report on stdout: format "table", "csv" or "json". */
void dtm_report_print(const struct dtm_report *r, const char *format);
bool dtm_report_pass(const struct dtm_report *r);

#endif /* DTM_REPORT_H */
