/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small recursive-descent JSON parser (RFC 8259) for the selftests that
 * read a tool's --json output in the guests, where no JSON library is.
 * It builds a tree; integers keep their exact value (up to 64 bits) and
 * whether they were written as integers, so a test can insist on numbers
 * that are not quoted and not rounded.
 */
#ifndef DT_JSON_H
#define DT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dtj_type { DTJ_NULL, DTJ_BOOL, DTJ_NUMBER, DTJ_STRING, DTJ_ARRAY, DTJ_OBJECT };

struct dtj {
	enum dtj_type type;
	bool boolean;
	bool integer;		/* a number with no fraction or exponent */
	bool negative;
	uint64_t u;		/* an integer's magnitude */
	char *str;
	size_t n;		/* array items or object members */
	struct dtj *items;
	char **keys;		/* an object's, beside its items */
};

struct dtj_parser {
	const char *p;
	int depth;
	char err[96];		/* why the text is not JSON, with where */
	const char *start;
};

#define DTJ_MAX_DEPTH	32

static inline int dtj_fail(struct dtj_parser *jp, const char *why)
{
	if (!jp->err[0])
		snprintf(jp->err, sizeof(jp->err), "%s at offset %td", why,
			 jp->p - jp->start);
	return -1;
}

static inline void dtj_ws(struct dtj_parser *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')
		jp->p++;
}

static inline int dtj_value(struct dtj_parser *jp, struct dtj *v);

static inline int dtj_hex4(struct dtj_parser *jp, unsigned int *cp)
{
	int i;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		char c = *jp->p++;

		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*cp |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*cp |= c - 'A' + 10;
		else
			return dtj_fail(jp, "bad \\u escape");
	}
	return 0;
}

/* The character a one-letter escape stands for, or 0. */
static inline char dtj_escaped(char c)
{
	switch (c) {
	case '"': case '\\': case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	}
	return 0;
}

/* A string, into a malloc()ed copy with escapes resolved (UTF-8 out). */
static inline int dtj_string(struct dtj_parser *jp, char **out)
{
	size_t cap = 16, n = 0;
	const char *why = NULL;
	char *s = NULL, *t;
	unsigned int cp;

	if (*jp->p++ != '"')
		return dtj_fail(jp, "expected a string");
	for (;;) {
		unsigned char c = *jp->p++;

		if (!s || n + 4 >= cap) {
			t = realloc(s, cap *= 2);
			if (!t) {
				why = "out of memory";
				break;
			}
			s = t;
		}
		if (c == '"') {
			s[n] = '\0';
			*out = s;
			return 0;
		}
		if (c < 0x20) {
			why = c ? "control character in a string" : "unterminated string";
			break;
		}
		if (c != '\\') {
			s[n++] = c;
			continue;
		}
		c = *jp->p++;
		if (dtj_escaped(c)) {
			s[n++] = dtj_escaped(c);
		} else if (c == 'u') {
			if (dtj_hex4(jp, &cp))
				break;
			/* The tools write ASCII: surrogate pairs are not expected. */
			if (cp < 0x80) {
				s[n++] = cp;
			} else if (cp < 0x800) {
				s[n++] = 0xc0 | cp >> 6;
				s[n++] = 0x80 | (cp & 0x3f);
			} else {
				s[n++] = 0xe0 | cp >> 12;
				s[n++] = 0x80 | (cp >> 6 & 0x3f);
				s[n++] = 0x80 | (cp & 0x3f);
			}
		} else {
			why = "bad escape";
			break;
		}
	}
	free(s);
	return why ? dtj_fail(jp, why) : -1;
}

static inline bool dtj_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int dtj_number(struct dtj_parser *jp, struct dtj *v)
{
	v->type = DTJ_NUMBER;
	v->integer = true;
	if (*jp->p == '-') {
		v->negative = true;
		jp->p++;
	}
	if (!dtj_digit(*jp->p))
		return dtj_fail(jp, "expected a digit");
	if (*jp->p == '0' && dtj_digit(jp->p[1]))
		return dtj_fail(jp, "leading zero");
	while (dtj_digit(*jp->p)) {
		unsigned int d = *jp->p++ - '0';

		if (v->u > (UINT64_MAX - d) / 10)
			return dtj_fail(jp, "integer beyond 64 bits");
		v->u = v->u * 10 + d;
	}
	if (*jp->p == '.') {
		v->integer = false;
		jp->p++;
		if (!dtj_digit(*jp->p))
			return dtj_fail(jp, "expected a digit after '.'");
		while (dtj_digit(*jp->p))
			jp->p++;
	}
	if (*jp->p == 'e' || *jp->p == 'E') {
		v->integer = false;
		jp->p++;
		if (*jp->p == '+' || *jp->p == '-')
			jp->p++;
		if (!dtj_digit(*jp->p))
			return dtj_fail(jp, "expected an exponent");
		while (dtj_digit(*jp->p))
			jp->p++;
	}
	return 0;
}

static inline struct dtj *dtj_push(struct dtj_parser *jp, struct dtj *v)
{
	struct dtj *items = realloc(v->items, (v->n + 1) * sizeof(*items));

	if (!items) {
		dtj_fail(jp, "out of memory");
		return NULL;
	}
	v->items = items;
	memset(&items[v->n], 0, sizeof(items[0]));
	return &items[v->n++];
}

/* An array or an object: items separated by commas, up to @close. */
static inline int dtj_container(struct dtj_parser *jp, struct dtj *v, char close)
{
	bool object = close == '}';

	v->type = object ? DTJ_OBJECT : DTJ_ARRAY;
	if (++jp->depth > DTJ_MAX_DEPTH)
		return dtj_fail(jp, "nested too deep");
	jp->p++;
	dtj_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		jp->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct dtj *item;

		if (object) {
			char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

			if (!keys)
				return dtj_fail(jp, "out of memory");
			v->keys = keys;
			dtj_ws(jp);
			if (dtj_string(jp, &key))
				return -1;
			dtj_ws(jp);
			if (*jp->p++ != ':') {
				free(key);
				return dtj_fail(jp, "expected ':'");
			}
		}
		item = dtj_push(jp, v);
		if (!item) {
			free(key);
			return -1;
		}
		/* Counted from here: dtj_free() frees the key and the item. */
		if (object)
			v->keys[v->n - 1] = key;
		if (dtj_value(jp, item))
			return -1;
		dtj_ws(jp);
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p++ != close)
			return dtj_fail(jp, object ? "expected ',' or '}'" :
					"expected ',' or ']'");
		jp->depth--;
		return 0;
	}
}

static inline int dtj_literal(struct dtj_parser *jp, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(jp->p, word, n))
		return dtj_fail(jp, "unexpected character");
	jp->p += n;
	return 0;
}

static inline int dtj_value(struct dtj_parser *jp, struct dtj *v)
{
	dtj_ws(jp);
	switch (*jp->p) {
	case '{':
		return dtj_container(jp, v, '}');
	case '[':
		return dtj_container(jp, v, ']');
	case '"':
		v->type = DTJ_STRING;
		return dtj_string(jp, &v->str);
	case 't':
		v->type = DTJ_BOOL;
		v->boolean = true;
		return dtj_literal(jp, "true");
	case 'f':
		v->type = DTJ_BOOL;
		return dtj_literal(jp, "false");
	case 'n':
		v->type = DTJ_NULL;
		return dtj_literal(jp, "null");
	default:
		return dtj_number(jp, v);
	}
}

static inline void dtj_free(struct dtj *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		dtj_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

/*
 * Parse all of @text (one value, surrounded by whitespace at most) into
 * @v: 0, or -1 with the reason in @err.
 */
static inline int dtj_parse(const char *text, struct dtj *v, char *err, size_t size)
{
	struct dtj_parser jp = { .p = text, .start = text };

	memset(v, 0, sizeof(*v));
	if (!dtj_value(&jp, v)) {
		dtj_ws(&jp);
		if (!*jp.p)
			return 0;
		dtj_fail(&jp, "text after the value");
	}
	snprintf(err, size, "%s", jp.err);
	dtj_free(v);
	return -1;
}

/* An object's member @key, or NULL. */
static inline const struct dtj *dtj_get(const struct dtj *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != DTJ_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

/* Member @key as an unsigned integer written as one: true if it is. */
static inline bool dtj_uint(const struct dtj *obj, const char *key, uint64_t *out)
{
	const struct dtj *v = dtj_get(obj, key);

	if (!v || v->type != DTJ_NUMBER || !v->integer || (v->negative && v->u))
		return false;
	*out = v->u;
	return true;
}

/* Member @key as a signed integer written as one: true if it is. */
static inline bool dtj_int(const struct dtj *obj, const char *key, int64_t *out)
{
	const struct dtj *v = dtj_get(obj, key);

	if (!v || v->type != DTJ_NUMBER || !v->integer ||
	    v->u > (uint64_t)INT64_MAX + v->negative)
		return false;
	*out = v->negative ? (int64_t)(0 - v->u) : (int64_t)v->u;
	return true;
}

/* Member @key as a string, or NULL. */
static inline const char *dtj_str(const struct dtj *obj, const char *key)
{
	const struct dtj *v = dtj_get(obj, key);

	return v && v->type == DTJ_STRING ? v->str : NULL;
}

#endif /* DT_JSON_H */
