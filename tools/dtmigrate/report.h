/* SPDX-License-Identifier: GPL-2.0 */
/* What a migration measured, and how dtmigrate prints it. */
#ifndef DTM_REPORT_H
#define DTM_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#define DTM_MAX_ROUNDS	1000

struct dtm_round {
	uint64_t dirty;		/* pages the sources reported in the sync */
	uint64_t sent;		/* pages claimed and copied */
	uint64_t foreign;	/* ring entries KVM's reset did not match */
	double sync_ms;
	double copy_ms;
};

struct dtm_report {
	const char *backend;
	const char *workload;
	int vcpus;
	uint64_t mem_mib;
	int nr_rounds;
	struct dtm_round round[DTM_MAX_ROUNDS + 1];	/* + the final one */
	bool converged;
	double total_ms;
	double final_sync_ms;
	double downtime_ms;
	uint64_t ring_full_exits;
	bool bytes_equal;	/* destination == source at the stop point */
	uint64_t mismatched_pages;
	bool guest_ran;		/* every vCPU stored again on the destination */
	bool checksum_ok;	/* the guest's checksum of its memory, checked */
};

/* One line per round, while it runs (stderr). */
void dtm_report_progress(const struct dtm_report *r, int round);
/* The whole report on stdout: format "table", "csv" or "json". */
void dtm_report_print(const struct dtm_report *r, const char *format);
bool dtm_report_pass(const struct dtm_report *r);

#endif /* DTM_REPORT_H */
