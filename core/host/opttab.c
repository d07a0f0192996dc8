/*
 * NAME
 *	opttab - a plugin's options read through its table
 * SYNOPSIS
 *	#include "opttab.h"
 *
 *	const struct mm_option *t = opttab_of(plugin);
 *	if (opttab_check(t, err, sizeof err) < 0) ... (a malformed table)
 *	if (opttab_read(options, t, &conf) < 0) ... (errors recorded)
 *	opttab_free(t, &conf);
 * DESCRIPTION
 *	The core's half of "options by table" (SDK 1.3, struct mm_option
 *	in modmilter/plugin.h): opttab_read() fills the plugin's config
 *	struct from an instance's options, each absent key with the
 *	table's default, and records every bad value at its node through
 *	cfg_error(), so that modmilterd -t names FILE:LINE:COL and the key.
 *	The messages of the scalar types are those of the core's own keys
 *	(cfg_int(), cfg_bool(), ...). A key "map.key" is read from the
 *	sub-map "map". opttab_check() checks a table and parses each of
 *	its defaults the same way, once, when the plugin is loaded.
 * DIAGNOSTICS
 *	opttab_read() returns -1 when any value was bad (all are reported);
 *	opttab_check() returns -1 with the first problem in err.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "cfgtree.h"
#include "cidr.h"
#include "opttab.h"
#include "util.h"

const struct mm_option *
opttab_of(const struct mm_plugin *p)
{
	if (p == NULL || p->size < offsetof(struct mm_plugin, options) +
	    sizeof(p->options))
		return NULL;
	return p->options;
}

/* "dns.timeout" -> the last part, "timeout" */
static const char *
leaf(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

/* 30 -> "30s", 86400 -> "1d", 0.25 -> "250ms" */
void
opttab_fmt_duration(double s, char *buf, size_t n)
{
	static const struct { double unit; const char *sfx; } u[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (s >= u[i].unit && s / u[i].unit == (double)(long long)(s / u[i].unit)) {
			snprintf(buf, n, "%lld%s", (long long)(s / u[i].unit), u[i].sfx);
			return;
		}
	if (s < 1 && s * 1000 == (double)(long long)(s * 1000))
		snprintf(buf, n, "%lldms", (long long)(s * 1000));
	else
		snprintf(buf, n, "%gs", s);
}

/* 1048576 -> "1M" */
void
opttab_fmt_size(double v, char *buf, size_t n)
{
	static const char sfx[] = "KMGT";
	int k = -1;

	while (k < 3 && v >= 1024 && v / 1024 == (double)(long long)(v / 1024)) {
		v /= 1024;
		k++;
	}
	if (k < 0)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.0f%c", v, sfx[k]);
}

static int
parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case 't': case 'T': v <<= 40; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* "a, b or c" */
static void
word_list(const char *const *w, char *buf, size_t n)
{
	size_t k = 0, len = 0;

	while (w && w[k])
		k++;
	buf[0] = 0;
	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(buf + (len < n ? len : n), len < n ? n - len : 0,
		    "%s%s", i == 0 ? "" : i + 1 == k ? " or " : ", ", w[i]);
}

/*
 * One scalar into the field. why gets the message (without the value's
 * place) on failure.
 */
static int
scalar_value(const struct mm_option *o, const char *s, void *field, char *why,
    size_t wn)
{
	char *end, a[32], b[32];
	long long ll;
	double d;
	unsigned long long sz;

	switch (o->type) {
	case MM_OT_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(s);
		return 0;
	case MM_OT_BOOL:
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
		    !strcasecmp(s, "on") || !strcmp(s, "1"))
			return *(int *)field = 1, 0;
		if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		    !strcasecmp(s, "off") || !strcmp(s, "0"))
			return *(int *)field = 0, 0;
		snprintf(why, wn, "'%s' must be true or false", o->name);
		return -1;
	case MM_OT_INT:
		errno = 0;
		ll = strtoll(s, &end, 0);
		if (errno || end == s || *end) {
			snprintf(why, wn, "'%s' must be an integer, not '%s'", o->name, s);
			return -1;
		}
		if (ll < (long long)o->min || ll > (long long)o->max) {
			snprintf(why, wn, "'%s' must be between %lld and %lld", o->name,
			    (long long)o->min, (long long)o->max);
			return -1;
		}
		*(long long *)field = ll;
		return 0;
	case MM_OT_NUMBER:
		errno = 0;
		d = strtod(s, &end);
		if (errno || end == s || *end || !(d >= o->min && d <= o->max)) {
			snprintf(why, wn, "'%s' must be a number from %g to %g, not '%s'",
			    o->name, o->min, o->max, s);
			return -1;
		}
		*(double *)field = d;
		return 0;
	case MM_OT_DURATION:
		if (cfg_parse_duration(s, &d) < 0) {
			snprintf(why, wn, "'%s' must be a duration such as 30s, 250ms, "
			    "5m, 2h, 1d", o->name);
			return -1;
		}
		if (d < o->min || (o->max > 0 && d > o->max)) {
			opttab_fmt_duration(d < o->min ? o->min : o->max, a, sizeof(a));
			snprintf(why, wn, "%s must be at %s %s", o->name,
			    d < o->min ? "least" : "most", a);
			return -1;
		}
		*(double *)field = d;
		return 0;
	case MM_OT_SIZE:
		if (parse_size(s, &sz) < 0 || (double)sz < o->min ||
		    (o->max > 0 && (double)sz > o->max)) {
			opttab_fmt_size(o->min, a, sizeof(a));
			opttab_fmt_size(o->max, b, sizeof(b));
			snprintf(why, wn, "'%s' must be a size between %s and %s "
			    "(e.g. 64M)", o->name, a, b);
			return -1;
		}
		*(size_t *)field = (size_t)sz;
		return 0;
	case MM_OT_ENUM:
		for (int i = 0; o->words && o->words[i]; i++)
			if (strcasecmp(s, o->words[i]) == 0)
				return *(int *)field = i, 0;
		{
			char w[512];
			word_list(o->words, w, sizeof(w));
			snprintf(why, wn, "%s must be %s, not '%s'", o->name, w, s);
		}
		return -1;
	default:
		snprintf(why, wn, "'%s' has an unknown type %d", o->name, (int)o->type);
		return -1;
	}
}

/* One list item, malloc'ed in *out. */
static int
item_value(const struct mm_option *o, const char *s, char **out, char *why,
    size_t wn)
{
	const char *reason = NULL;
	char err[256];
	struct mm_cidr c;

	switch (o->type) {
	case MM_OT_DOMAINS:
		if ((*out = domain_normalize(s, &reason)) == NULL) {
			snprintf(why, wn, "%s: '%s' is not a domain: %s", o->name, s,
			    reason ? reason : "malformed");
			return -1;
		}
		return 0;
	case MM_OT_ADDRESSES:
		if ((*out = addr_normalize(s, &reason)) == NULL || **out == 0) {
			free(*out);
			*out = NULL;
			snprintf(why, wn, "%s: '%s': %s", o->name, s,
			    reason ? reason : "not an address");
			return -1;
		}
		return 0;
	case MM_OT_NETWORKS:
		if (cidr_parse(s, &c, err, sizeof(err)) < 0) {
			snprintf(why, wn, "%s: '%s' is not a network (%s)", o->name, s, err);
			return -1;
		}
		break;
	default:
		if (*s == 0) {
			snprintf(why, wn, "%s: each item must be a non-empty string", o->name);
			return -1;
		}
		break;
	}
	*out = xstrdup(s);
	return 0;
}

static int
is_list(mm_option_type t)
{
	return t == MM_OT_LIST || t == MM_OT_DOMAINS || t == MM_OT_ADDRESSES ||
	    t == MM_OT_NETWORKS;
}

static void
strv_add(struct mm_strv *l, char *s)
{
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(char *));
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static void
strv_clear(struct mm_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = xcalloc(1, sizeof(char *));
	l->n = 0;
}

/* The default into the field; -1 with why when it does not parse. */
static int
set_default(const struct mm_option *o, void *field, char *why, size_t wn)
{
	if (is_list(o->type)) {
		struct mm_strv *l = field;
		char *copy, *tok, *save = NULL;

		strv_clear(l);
		if (o->def == NULL)
			return 0;
		copy = xstrdup(o->def);
		for (tok = strtok_r(copy, " \t,", &save); tok;
		    tok = strtok_r(NULL, " \t,", &save)) {
			char *v;
			if (item_value(o, tok, &v, why, wn) < 0) {
				free(copy);
				return -1;
			}
			strv_add(l, v);
		}
		free(copy);
		return 0;
	}
	if (o->type == MM_OT_HAND)
		return 0;
	if (o->def == NULL) {
		if (o->type == MM_OT_STRING) {
			free(*(char **)field);
			*(char **)field = NULL;
		}
		return 0;
	}
	return scalar_value(o, o->def, field, why, wn);
}

/* The sub-map a "map.key" entry reads from (NULL: absent or reported). */
static const mm_opt *
parent_of(const mm_opt *opts, const struct mm_option *tab,
    const struct mm_option *o, int *bad)
{
	const char *dot = strrchr(o->name, '.');
	const mm_opt *m;
	char *pname;
	int first = 1;

	if (dot == NULL)
		return opts;
	pname = xasprintf("%.*s", (int)(dot - o->name), o->name);
	m = cfg_get(opts, pname);
	if (m != NULL && cfg_is_null(m))
		m = NULL;
	if (m != NULL && m->type != MM_OPT_MAP) {
		size_t pl = strlen(pname);
		for (const struct mm_option *p = tab; p < o; p++)
			if (strncmp(p->name, pname, pl) == 0 && p->name[pl] == '.')
				first = 0;
		if (first) {
			char keys[512];
			size_t len = 0;
			keys[0] = 0;
			for (const struct mm_option *p = tab; p->name; p++)
				if (strncmp(p->name, pname, pl) == 0 && p->name[pl] == '.' &&
				    len < sizeof(keys))
					len += (size_t)snprintf(keys + len, sizeof(keys) - len,
					    "%s%s", len ? ", " : "", p->name + pl + 1);
			cfg_error(m, "'%s' must be a map (%s)", pname, keys);
		}
		*bad = 1;
		m = NULL;
	}
	free(pname);
	return m;
}

static void
report(const struct mm_option *o, const mm_opt *node, const char *why)
{
	cfg_error(node, "%s", o->error ? o->error : why);
}

static int
read_one(const mm_opt *map, const struct mm_option *o, void *field)
{
	const mm_opt *v = cfg_get(map, leaf(o->name));
	char why[1024];

	if (v == NULL || cfg_is_null(v))
		return 0;		/* the default stays */
	if (is_list(o->type)) {
		struct mm_strv *l = field;
		size_t n = v->type == MM_OPT_SCALAR ? 1 : v->n;
		int bad = 0;

		if (v->type == MM_OPT_MAP) {
			snprintf(why, sizeof(why), "'%s' must be a list", o->name);
			report(o, v, why);
			return -1;
		}
		strv_clear(l);
		for (size_t i = 0; i < n; i++) {
			const mm_opt *it = v->type == MM_OPT_SCALAR ? v : v->items[i];
			char *s;
			if (it->type != MM_OPT_SCALAR) {
				snprintf(why, sizeof(why), "%s: each item must be a "
				    "non-empty string", o->name);
				report(o, it, why);
				bad = 1;
			} else if (item_value(o, it->scalar, &s, why, sizeof(why)) < 0) {
				report(o, it, why);
				bad = 1;
			} else
				strv_add(l, s);
		}
		return bad ? -1 : 0;
	}
	if (v->type != MM_OPT_SCALAR) {
		snprintf(why, sizeof(why), "'%s' must be %s, not a %s", o->name,
		    o->type == MM_OT_STRING ? "a string" : "a single value",
		    v->type == MM_OPT_LIST ? "list" : "map");
		report(o, v, why);
		return -1;
	}
	if (scalar_value(o, v->scalar, field, why, sizeof(why)) < 0) {
		report(o, v, why);
		return -1;
	}
	return 0;
}

int
opttab_read(const mm_opt *opts, const struct mm_option *tab, void *conf)
{
	char why[1024];
	int bad = 0;

	if (tab == NULL)
		return 0;
	for (const struct mm_option *o = tab; o->name; o++) {
		void *field = (char *)conf + o->offset;
		const mm_opt *map;

		if (o->type == MM_OT_HAND)
			continue;
		if (set_default(o, field, why, sizeof(why)) < 0) {
			/* opttab_check() refused such a table at load */
			cfg_error(opts, "option table: default of %s: %s", o->name, why);
			bad = 1;
			continue;
		}
		map = parent_of(opts, tab, o, &bad);
		if (map != NULL && read_one(map, o, field) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

void
opttab_free(const struct mm_option *tab, void *conf)
{
	if (tab == NULL)
		return;
	for (const struct mm_option *o = tab; o->name; o++) {
		void *field = (char *)conf + o->offset;

		if (is_list(o->type)) {
			struct mm_strv *l = field;
			for (size_t i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		} else if (o->type == MM_OT_STRING) {
			free(*(char **)field);
			*(char **)field = NULL;
		}
	}
}

int
opttab_check(const struct mm_option *tab, char *err, size_t errlen)
{
	union {
		char *s;
		long long ll;
		double d;
		size_t z;
		int i;
		struct mm_strv l;
	} scratch;
	char why[1024];

	for (const struct mm_option *o = tab; o && o->name; o++) {
		if (*o->name == 0 || o->name[strlen(o->name) - 1] == '.' ||
		    strspn(o->name, "abcdefghijklmnopqrstuvwxyz0123456789_.") !=
		    strlen(o->name)) {
			snprintf(err, errlen, "bad option name '%s'", o->name);
			return -1;
		}
		for (const struct mm_option *p = tab; p < o; p++)
			if (strcmp(p->name, o->name) == 0) {
				snprintf(err, errlen, "option %s is listed twice", o->name);
				return -1;
			}
		if (o->type < MM_OT_STRING || o->type > MM_OT_HAND) {
			snprintf(err, errlen, "option %s has an unknown type %d",
			    o->name, (int)o->type);
			return -1;
		}
		if (o->type == MM_OT_ENUM && (o->words == NULL || o->words[0] == NULL)) {
			snprintf(err, errlen, "option %s: an enum without words", o->name);
			return -1;
		}
		if (o->type == MM_OT_INT && o->min > o->max) {
			snprintf(err, errlen, "option %s: min above max", o->name);
			return -1;
		}
		memset(&scratch, 0, sizeof(scratch));
		if (set_default(o, &scratch, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "default of %s: %s", o->name, why);
			return -1;
		}
		if (is_list(o->type)) {
			for (size_t i = 0; i < scratch.l.n; i++)
				free(scratch.l.v[i]);
			free(scratch.l.v);
		} else if (o->type == MM_OT_STRING)
			free(scratch.s);
	}
	return 0;
}
