/*
 * NAME
 *	template - DSN notice templates with %(name)s variables
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_template *t = template_load(dir, "softfail", err, sizeof(err));
 *	struct cbv_rendered r;
 *	template_render(t, lookup, arg, &r);	(r.subject, r.action, r.status, r.body)
 *	template_rendered_free(&r);
 *	template_free(t);
 * DESCRIPTION
 *	A template is a file DIR/NAME: header lines, an empty line, then the
 *	human-readable text of the notice. The headers are Subject:
 *	(required) and optionally Action: and Status:, which go to the
 *	notice's RFC 3464 delivery-status part (default "delayed" and
 *	"4.7.0"). Anywhere, %(name)s is replaced by a variable (the
 *	names are template_vars[], as in pymilter's dsn.py) and %% is a
 *	percent sign. Values are put on one line: a sender cannot inject
 *	headers through them. A value is cut to 512 bytes.
 *
 *	Templates are checked when the configuration is loaded: unknown
 *	variables, a stray %, a missing Subject or a bad Action or Status
 *	are reported with the template's line.
 * DIAGNOSTICS
 *	template_load() and template_parse() return NULL with err set.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cbv.h"

#define TEMPLATE_MAX (64 * 1024)
/* a value longer than this is cut: the notice's lines stay readable
   and within RFC 5322's 998 characters */
#define TEMPLATE_VALUE_MAX 512

const char *const template_vars[] = {
	"sender", "receiver", "heloname", "connectip", "sender_domain",
	"result", "perm_error", "rcpt", "subject", "spf_result", NULL
};

struct cbv_template {
	char *name;
	char *text;
};

static const char *
var_name(const char *p, size_t *len)
{
	/* p points after "%(" */
	const char *e = strchr(p, ')');

	if (e == NULL || e[1] != 's')
		return NULL;
	*len = (size_t)(e - p);
	for (int i = 0; template_vars[i]; i++)
		if (strlen(template_vars[i]) == *len &&
		    strncmp(template_vars[i], p, *len) == 0)
			return template_vars[i];
	return NULL;
}

/* Expand into a malloc'ed string; NULL on a syntax error (line in *line). */
static char *
expand(const char *text, const char *(*lookup)(void *, const char *), void *arg,
    int *line)
{
	size_t cap = strlen(text) + 256, n = 0;
	char *out = malloc(cap);

	*line = 1;
	if (out == NULL)
		return NULL;
	for (const char *p = text; *p; p++) {
		const char *val = NULL;
		char one[2] = { *p, 0 };
		size_t vl;

		if (*p == '\n')
			(*line)++;
		if (*p == '%') {
			const char *name;
			size_t len;
			if (p[1] == '%') {
				val = "%";
				p++;
			} else if (p[1] == '(' && (name = var_name(p + 2, &len)) != NULL) {
				val = lookup ? lookup(arg, name) : "x";
				if (val == NULL)
					val = "";
				p += 2 + len + 1;	/* on the 's' */
			} else {
				free(out);
				return NULL;
			}
		} else
			val = one;
		vl = strlen(val);
		if (val != one && vl > TEMPLATE_VALUE_MAX) {
			/* cut, but not inside a UTF-8 character */
			vl = TEMPLATE_VALUE_MAX;
			while (vl > 0 && ((unsigned char)val[vl] & 0xc0) == 0x80)
				vl--;
		}
		if (n + vl + 1 > cap) {
			char *o;
			cap = (n + vl + 1) * 2;
			if ((o = realloc(out, cap)) == NULL) {
				free(out);
				return NULL;
			}
			out = o;
		}
		for (size_t i = 0; i < vl; i++) {
			unsigned char ch = (unsigned char)val[i];
			/* values stay on one line; the template's own text not */
			out[n++] = val != one && (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
		}
	}
	out[n] = 0;
	return out;
}

static char *
trimdup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static int
valid_action(const char *a)
{
	static const char *const ok[] = { "failed", "delayed", "delivered",
		"relayed", "expanded", NULL };

	for (int i = 0; ok[i]; i++)
		if (strcasecmp(a, ok[i]) == 0)
			return 1;
	return 0;
}

static int
valid_status(const char *s)
{
	/* RFC 3463: class "." subject "." detail */
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	s += 2;
	for (int part = 0; part < 2; part++) {
		int d = 0;
		while (isdigit((unsigned char)*s) && d < 3) {
			s++;
			d++;
		}
		if (d == 0 || (part == 0 && *s != '.') || (part == 1 && *s != 0))
			return 0;
		if (part == 0)
			s++;
	}
	return 1;
}

/* Split the expanded text into headers and body. */
static int
split(char *x, struct cbv_rendered *r, char *err, size_t errlen)
{
	char *p = x;
	int line = 1;

	memset(r, 0, sizeof(*r));
	while (*p && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
		char *eol = strchr(p, '\n'), *colon;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char **slot = NULL;

		colon = memchr(p, ':', len);
		if (colon == NULL) {
			snprintf(err, errlen, "line %d: header line without ':'", line);
			return -1;
		}
		if ((size_t)(colon - p) == 7 && strncasecmp(p, "Subject", 7) == 0)
			slot = &r->subject;
		else if ((size_t)(colon - p) == 6 && strncasecmp(p, "Action", 6) == 0)
			slot = &r->action;
		else if ((size_t)(colon - p) == 6 && strncasecmp(p, "Status", 6) == 0)
			slot = &r->status;
		else {
			snprintf(err, errlen, "line %d: unknown header '%.*s' (Subject, "
			    "Action or Status)", line, (int)(colon - p), p);
			return -1;
		}
		free(*slot);
		*slot = trimdup(colon + 1, len - (size_t)(colon + 1 - p));
		p = eol ? eol + 1 : p + len;
		line++;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	if (r->subject == NULL || *r->subject == 0) {
		snprintf(err, errlen, "no Subject: header");
		return -1;
	}
	if (r->action && !valid_action(r->action)) {
		snprintf(err, errlen, "Action: '%s' is not an RFC 3464 action", r->action);
		return -1;
	}
	if (r->status && !valid_status(r->status)) {
		snprintf(err, errlen, "Status: '%s' is not an RFC 3463 status", r->status);
		return -1;
	}
	r->body = strdup(p);
	return 0;
}

struct cbv_template *
template_parse(const char *name, const char *text, char *err, size_t errlen)
{
	struct cbv_template *t;
	struct cbv_rendered r;
	char *x;
	int line;

	if ((x = expand(text, NULL, NULL, &line)) == NULL) {
		snprintf(err, errlen, "template %s, line %d: '%%' must start %%%% or "
		    "%%(variable)s with a known variable", name, line);
		return NULL;
	}
	if (split(x, &r, err, errlen) < 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "template %s: %s", name, why);
		template_rendered_free(&r);
		free(x);
		return NULL;
	}
	template_rendered_free(&r);
	free(x);
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->name = strdup(name)) == NULL ||
	    (t->text = strdup(text)) == NULL) {
		template_free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return t;
}

struct cbv_template *
template_load(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096], *buf;
	FILE *fp;
	size_t n;
	struct cbv_template *t;

	if (strchr(name, '/') || name[0] == '.' || name[0] == 0) {
		snprintf(err, errlen, "template name '%s' must be a plain file name", name);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "template %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TEMPLATE_MAX + 1)) == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, TEMPLATE_MAX + 1, fp);
	fclose(fp);
	if (n > TEMPLATE_MAX || memchr(buf, 0, n)) {
		free(buf);
		snprintf(err, errlen, "template %s: larger than 64 kB or binary", path);
		return NULL;
	}
	buf[n] = 0;
	t = template_parse(name, buf, err, errlen);
	free(buf);
	return t;
}

const char *
template_name(const struct cbv_template *t)
{
	return t->name;
}

void
template_free(struct cbv_template *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->text);
	free(t);
}

int
template_render(const struct cbv_template *t,
    const char *(*lookup)(void *, const char *), void *arg, struct cbv_rendered *r)
{
	char err[256], *x;
	int line;

	memset(r, 0, sizeof(*r));
	if ((x = expand(t->text, lookup, arg, &line)) == NULL)
		return -1;
	if (split(x, r, err, sizeof(err)) < 0 || r->body == NULL) {
		template_rendered_free(r);
		free(x);
		return -1;
	}
	free(x);
	return 0;
}

void
template_rendered_free(struct cbv_rendered *r)
{
	free(r->subject);
	free(r->action);
	free(r->status);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
