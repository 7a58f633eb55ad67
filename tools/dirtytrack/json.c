// SPDX-License-Identifier: GPL-2.0
/*
 * A small streaming JSON writer: compact output, commas placed by nesting
 * depth, strings escaped as RFC 8259 requires.  Numbers are written as
 * integers, never quoted.
 */
#include <inttypes.h>

#include "cli.h"

void dt_json_init(struct dt_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->has_item[0] = false;
}

/* Quotes and backslashes escaped, control characters as \u00XX. */
static void dt_json_write_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* The comma before an item after the first, and its key in an object. */
static void dt_json_item(struct dt_json *j, const char *key)
{
	if (j->has_item[j->depth])
		fputc(',', j->f);
	j->has_item[j->depth] = true;
	if (key) {
		dt_json_write_string(j->f, key);
		fputc(':', j->f);
	}
}

static void dt_json_open(struct dt_json *j, const char *key, char open, char close)
{
	dt_json_item(j, key);
	fputc(open, j->f);
	/* The shapes written here nest a few levels: never this deep. */
	if (j->depth + 1 < DT_JSON_MAX_DEPTH)
		j->depth++;
	j->has_item[j->depth] = false;
	j->closer[j->depth] = close;
}

void dt_json_object(struct dt_json *j, const char *key)
{
	dt_json_open(j, key, '{', '}');
}

void dt_json_array(struct dt_json *j, const char *key)
{
	dt_json_open(j, key, '[', ']');
}

void dt_json_end(struct dt_json *j)
{
	if (j->depth == 0)
		return;
	fputc(j->closer[j->depth], j->f);
	j->depth--;
}

void dt_json_u64(struct dt_json *j, const char *key, uint64_t v)
{
	dt_json_item(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void dt_json_s64(struct dt_json *j, const char *key, int64_t v)
{
	dt_json_item(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void dt_json_string(struct dt_json *j, const char *key, const char *s)
{
	dt_json_item(j, key);
	dt_json_write_string(j->f, s);
}

void dt_json_null(struct dt_json *j, const char *key)
{
	dt_json_item(j, key);
	fputs("null", j->f);
}
