// SPDX-License-Identifier: GPL-2.0
/*
 * list and stat: one look at the trackers, with (stat) their regions and
 * vCPUs.  dt_fetch_trackers() is also top's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int dt_cmp_id(const void *a, const void *b)
{
	const struct dt_tracker *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static struct dt_tracker *dt_find_tracker(struct dt_vec *trackers, uint64_t id)
{
	struct dt_tracker key = { .id = id };

	return bsearch(&key, trackers->items, trackers->n, trackers->size, dt_cmp_id);
}

/* How a kind of row is dumped, and where it lands in its tracker. */
struct dt_rows {
	const char *what;
	unsigned int show;		/* DT_SHOW_* */
	int (*dump)(struct dtnl *nl, uint32_t tracker_id, struct dt_vec *rows);
	size_t size;
	size_t id_offset;		/* of the row's tracker_id */
	size_t offset;			/* of the tracker's vector */
};

static const struct dt_rows dt_row_kinds[] = {
	{
		"region dump", DT_SHOW_REGIONS, dtnl_region_dump, sizeof(struct dt_region),
		offsetof(struct dt_region, tracker_id),
		offsetof(struct dt_tracker, region_list),
	}, {
		"vCPU dump", DT_SHOW_VCPUS, dtnl_vcpu_dump, sizeof(struct dt_vcpu),
		offsetof(struct dt_vcpu, tracker_id),
		offsetof(struct dt_tracker, vcpus),
	},
};

/*
 * Dump every visible tracker's rows of kind @k and hand each to its
 * tracker.  A row of a tracker created after the tracker dump has no
 * tracker: it is dropped.
 */
static int dt_fetch_rows(struct dtnl *nl, struct dt_vec *trackers, const struct dt_rows *k)
{
	struct dt_vec rows = { .size = k->size };
	int err;
	size_t i;

	err = k->dump(nl, 0, &rows);
	if (err)
		dtnl_perror(nl, k->what);
	for (i = 0; !err && i < rows.n; i++) {
		const char *row = (const char *)rows.items + i * rows.size;
		uint64_t tracker_id;
		struct dt_tracker *t;
		void *slot;

		memcpy(&tracker_id, row + k->id_offset, sizeof(tracker_id));
		t = dt_find_tracker(trackers, tracker_id);
		if (!t)
			continue;
		slot = dt_vec_push((struct dt_vec *)((char *)t + k->offset));
		if (!slot)
			err = -ENOMEM;
		else
			memcpy(slot, row, rows.size);
	}
	dt_vec_free(&rows);
	return err;
}

void dt_trackers_free(struct dt_vec *trackers)
{
	size_t i;

	for (i = 0; i < trackers->n; i++)
		dt_tracker_free(DT_VEC_AT(trackers, struct dt_tracker, i));
	dt_vec_free(trackers);
}

int dt_fetch_trackers(struct dtnl *nl, unsigned int show, struct dt_vec *trackers)
{
	size_t i;
	int err;

	err = dtnl_tracker_dump(nl, trackers);
	if (err) {
		dtnl_perror(nl, "tracker dump");
		return err;
	}
	qsort(trackers->items, trackers->n, trackers->size, dt_cmp_id);
	for (i = 0; !err && i < ARRAY_SIZE(dt_row_kinds); i++)
		if (show & dt_row_kinds[i].show)
			err = dt_fetch_rows(nl, trackers, &dt_row_kinds[i]);
	return err;
}

/* One tracker with its rows; ENOENT (gone, or never visible) says so. */
static int dt_fetch_one(struct dtnl *nl, uint32_t id, struct dt_vec *trackers)
{
	struct dt_tracker *t = dt_vec_push(trackers);
	char what[48];
	size_t i;
	int err;

	if (!t)
		return -ENOMEM;
	err = dtnl_tracker_get(nl, id, t);
	for (i = 0; !err && i < ARRAY_SIZE(dt_row_kinds); i++)
		err = dt_row_kinds[i].dump(nl, id, (struct dt_vec *)((char *)t +
							      dt_row_kinds[i].offset));
	if (err == -ENOENT) {
		fprintf(stderr, "dirtytrack: tracker %u: no such tracker, or not visible to you\n",
			id);
	} else if (err) {
		snprintf(what, sizeof(what), "tracker %u", id);
		dtnl_perror(nl, what);
	}
	return err;
}

static void dt_show(const struct dt_cli *cli, const struct dt_vec *trackers,
		    unsigned int show)
{
	struct dt_json j;
	size_t i;

	if (!cli->json) {
		if (!(show & DT_SHOW_REGIONS)) {
			dt_print_list(stdout, trackers);
			return;
		}
		for (i = 0; i < trackers->n; i++) {
			if (i)
				putchar('\n');
			dt_print_stat(stdout, DT_VEC_AT(trackers, struct dt_tracker, i));
		}
		return;
	}
	dt_json_init(&j, stdout);
	dt_json_object(&j, NULL);
	dt_json_array(&j, "trackers");
	for (i = 0; i < trackers->n; i++)
		dt_json_tracker(&j, DT_VEC_AT(trackers, struct dt_tracker, i), show);
	dt_json_end(&j);
	dt_json_end(&j);
	putchar('\n');
}

struct dt_list_args {
	const char *cmd;
	uint32_t id;		/* stat's TRACKER, or 0 */
};

static int dt_stat_operand(const char *arg, void *priv)
{
	struct dt_list_args *a = priv;

	if (a->id)
		return dt_usage_error(a->cmd, "unexpected argument '%s'", arg);
	if (dt_parse_tracker_id(arg, &a->id))
		return dt_usage_error(a->cmd, "'%s' is not a tracker id (1 to %u)",
				      arg, UINT32_MAX);
	return 0;
}

/* list, and stat (with [TRACKER], regions and vCPUs). */
static int dt_list_or_stat(struct dt_cli *cli, const char *cmd, unsigned int show,
			   int argc, char **argv)
{
	struct dt_list_args a = { .cmd = cmd };
	const struct dt_cmd_opts o = {
		.cmd = cmd, .operand = show ? dt_stat_operand : NULL, .priv = &a,
	};
	struct dt_vec trackers = DT_VEC_INIT(struct dt_tracker);
	struct dtnl *nl;
	int ret;

	nl = dt_cmd_start(cli, &o, argc, argv, &ret);
	if (!nl)
		return ret;
	ret = a.id ? dt_fetch_one(nl, a.id, &trackers) : dt_fetch_trackers(nl, show, &trackers);
	if (!ret)
		dt_show(cli, &trackers, show);
	dt_trackers_free(&trackers);
	dtnl_close(nl);
	return ret ? DT_EXIT_FAIL : DT_EXIT_OK;
}

int dt_cmd_list(struct dt_cli *cli, int argc, char **argv)
{
	return dt_list_or_stat(cli, "list", 0, argc, argv);
}

int dt_cmd_stat(struct dt_cli *cli, int argc, char **argv)
{
	return dt_list_or_stat(cli, "stat", DT_SHOW_REGIONS | DT_SHOW_VCPUS, argc, argv);
}
