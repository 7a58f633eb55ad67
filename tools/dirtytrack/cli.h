/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirtytrack(8): the host-wide view of the dirtytrack module's trackers,
 * over its generic netlink family.  The map of the tool:
 *
 *   main.c      global options, the commands' table, --help and --version
 *   args.c      a command's options and operands, strictly, then netlink
 *   model.c     the family's attributes: what each becomes in C and JSON
 *   nl.c        netlink (libnl): requests, dumps, events, errors
 *   json.c      a small JSON writer
 *   output.c    trackers, regions, vCPUs and events as tables and JSON
 *   stat.c      the list and stat commands
 *   top.c       the top command
 *   monitor.c   the monitor command
 */
#ifndef DT_CLI_H
#define DT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/dirtytrack_netlink.h>

struct option;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Exit status (dirtytrack(8), EXIT STATUS). */
#define DT_EXIT_OK	0
#define DT_EXIT_FAIL	1	/* no such tracker, a netlink failure */
#define DT_EXIT_USAGE	2	/* bad arguments, or no dirtytrack family */

struct dt_cli {
	bool json;
};

/* --- the family's objects, as the kernel sent them (model.c) ------------ */

/*
 * Every object begins with which attributes its message carried, as bit n
 * for attribute n: JSON leaves out what the kernel did not send rather
 * than write 0.
 */
#define DT_HAS(obj, attr)	(((obj)->present >> (attr)) & 1)

struct dt_source {
	uint64_t present;
	uint64_t kind, pages, harvests, last_ns, max_ns, invalid, errors;
};

#define DT_MAX_SOURCES	8

struct dt_region {
	uint64_t present;
	uint64_t tracker_id, slot, first_gfn, pages;
};

struct dt_vcpu {
	uint64_t present;
	uint64_t tracker_id, id, harvested, last, dirty_rate, ring_size,
		 ring_fill, ring_fill_max, fill_events, ring_overflow;
};

/* A growing array of objects of one size. */
struct dt_vec {
	void *items;
	size_t n, cap, size;
};

#define DT_VEC_INIT(type)	{ .size = sizeof(type) }
#define DT_VEC_AT(vec, type, i)	(&((type *)(vec)->items)[i])

void *dt_vec_push(struct dt_vec *v);
void dt_vec_free(struct dt_vec *v);

struct dt_tracker {
	uint64_t present;
	uint64_t id, pid, uid;
	int64_t vm_fd;
	uint64_t state, regions, pages, rings, kvm_bitmap, iommus, syncs,
		 harvested, dirty_rate, last_sync_ns, max_sync_ns, invalid,
		 foreign, errors, ring_overflow, ring_resets,
		 ring_partial_resets, ring_sticky;
	int nr_sources;
	struct dt_source source[DT_MAX_SOURCES];
	/* Filled by the caller from the region and vCPU dumps. */
	struct dt_vec region_list;	/* struct dt_region */
	struct dt_vec vcpus;		/* struct dt_vcpu */
};

struct dt_event {
	uint64_t present;
	uint8_t cmd;		/* DIRTYTRACK_CMD_*_NTF */
	uint64_t tracker_id, vcpu, ring_fill, ring_size, threshold, source;
	int64_t error;
	uint64_t errors, pages, duration_ns;
	uint64_t time_ns;	/* CLOCK_REALTIME when it was received */
};

/*
 * How one attribute of an attribute set is read (nl.c) and written as
 * JSON (output.c): its type on the wire and where it lands.
 */
enum dt_type { DT_U32, DT_S32, DT_UINT };

#define DT_F_OPTIONAL	(1 << 0)	/* JSON null when absent */
#define DT_F_PARENT	(1 << 1)	/* its tracker's id: not repeated in JSON */

struct dt_field {
	const char *json;		/* JSON key */
	uint16_t attr;
	uint8_t type;			/* enum dt_type */
	uint8_t flags;			/* DT_F_* */
	const char *(*name)(uint64_t v);	/* an enum's name, or NULL */
	size_t offset;			/* of a uint64_t, or int64_t (DT_S32) */
};

struct dt_set {
	const struct dt_field *fields;
	size_t nr_fields;
	int maxattr;
};

extern const struct dt_set dt_tracker_set, dt_source_set, dt_region_set,
	dt_vcpu_set, dt_event_set;

const char *dt_state_name(uint64_t state);
const char *dt_source_name(uint64_t kind);
const char *dt_event_name(uint8_t cmd);
void dt_tracker_free(struct dt_tracker *t);

/* --- netlink (nl.c) ------------------------------------------------------ */

struct dtnl;

/* 0, -ENOENT when the kernel has no dirtytrack family, or -errno. */
int dtnl_open(struct dtnl **out);
void dtnl_close(struct dtnl *nl);
/* Print "dirtytrack: WHAT: error[: kernel's message]" for the last error. */
void dtnl_perror(const struct dtnl *nl, const char *what);
/* An error dtnl_open() could not hand back in a dtnl: print it. */
void dtnl_open_perror(int err);

int dtnl_tracker_get(struct dtnl *nl, uint32_t id, struct dt_tracker *t);
int dtnl_tracker_dump(struct dtnl *nl, struct dt_vec *trackers);
/* tracker_id 0: every visible tracker's rows. */
int dtnl_region_dump(struct dtnl *nl, uint32_t tracker_id, struct dt_vec *regions);
int dtnl_vcpu_dump(struct dtnl *nl, uint32_t tracker_id, struct dt_vec *vcpus);

/* Join the "events" group; events then come through dtnl_recv_events(). */
int dtnl_subscribe(struct dtnl *nl);
int dtnl_fd(const struct dtnl *nl);
/*
 * Read what is queued (without blocking) and call @fn for each event; @fn
 * returns 0 to go on, 1 to stop.  Returns 1 if @fn stopped, 0 when the
 * queue is empty, -ENOBUFS when events were lost, or -errno.
 */
int dtnl_recv_events(struct dtnl *nl, int (*fn)(const struct dt_event *ev, void *arg),
		     void *arg);

/* --- output (json.c, output.c) ------------------------------------------- */

#define DT_JSON_MAX_DEPTH	16

struct dt_json {
	FILE *f;
	int depth;
	bool has_item[DT_JSON_MAX_DEPTH];
	char closer[DT_JSON_MAX_DEPTH];
};

void dt_json_init(struct dt_json *j, FILE *f);
/* @key is NULL inside arrays and for the outermost value. */
void dt_json_object(struct dt_json *j, const char *key);
void dt_json_array(struct dt_json *j, const char *key);
void dt_json_end(struct dt_json *j);		/* of the object or array */
void dt_json_u64(struct dt_json *j, const char *key, uint64_t v);
void dt_json_s64(struct dt_json *j, const char *key, int64_t v);
void dt_json_string(struct dt_json *j, const char *key, const char *s);
void dt_json_null(struct dt_json *j, const char *key);

/* What a tracker's JSON object or table carries beyond its attributes. */
#define DT_SHOW_REGIONS	(1 << 0)
#define DT_SHOW_VCPUS	(1 << 1)

void dt_json_tracker(struct dt_json *j, const struct dt_tracker *t, unsigned int show);
void dt_print_list(FILE *f, const struct dt_vec *trackers);
void dt_print_stat(FILE *f, const struct dt_tracker *t);
void dt_print_top(FILE *f, const struct dt_vec *trackers, unsigned int show);
void dt_print_event(FILE *f, const struct dt_event *ev, bool json);
/* A duration in nanoseconds as "12.3 us", "4.56 ms"... */
const char *dt_fmt_ns(char *buf, size_t size, uint64_t ns);

/* --- arguments (args.c) -------------------------------------------------- */

/* 0, or -EINVAL for anything but a whole decimal number in range. */
int dt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds with an optional fraction ("2", "0.5"), 0.001 to 86400: ns. */
int dt_parse_seconds(const char *s, uint64_t *ns);
int dt_parse_tracker_id(const char *s, uint32_t *id);
/* Print "dirtytrack CMD: MSG" and "Try ..." to stderr: DT_EXIT_USAGE. */
int dt_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A command's arguments: the options every command takes (--json, --help)
 * and its own, parsed with getopt_long (@option gets each of its own and
 * returns 0 or an exit status), then its operands, each handed to
 * @operand (none allowed without it).
 */
struct dt_cmd_opts {
	const char *cmd;
	const char *shortopts;		/* the command's own */
	const struct option *longopts;	/* the command's own, { 0 }-ended */
	int (*option)(int opt, const char *arg, void *priv);
	int (*operand)(const char *arg, void *priv);
	void *priv;
};

/*
 * Parse a command's arguments, then connect: the socket, or NULL with the
 * exit status in *status (--help, a usage error, no dirtytrack family).
 */
struct dtnl *dt_cmd_start(struct dt_cli *cli, const struct dt_cmd_opts *o,
			  int argc, char **argv, int *status);
/* Open netlink and print why not: NULL, with *status set. */
struct dtnl *dt_connect(int *status);
uint64_t dt_now_ns(int clock);

/* --- commands ------------------------------------------------------------ */

/* Every visible tracker by id, with the rows @show asks for (stat.c). */
int dt_fetch_trackers(struct dtnl *nl, unsigned int show, struct dt_vec *trackers);
void dt_trackers_free(struct dt_vec *trackers);

int dt_cmd_list(struct dt_cli *cli, int argc, char **argv);
int dt_cmd_stat(struct dt_cli *cli, int argc, char **argv);
int dt_cmd_top(struct dt_cli *cli, int argc, char **argv);
int dt_cmd_monitor(struct dt_cli *cli, int argc, char **argv);
void dt_cmd_help(FILE *f, const char *cmd);

#endif /* DT_CLI_H */
