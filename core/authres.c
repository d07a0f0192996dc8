/*
 * NAME
 *	authres - the authserv-id of an Authentication-Results header
 * SYNOPSIS
 *	#include "authres.h"
 * DESCRIPTION
 *	See authres.h. The grammar, from RFC 8601 2.2, RFC 2045 5.1 and
 *	RFC 5322 3.2:
 *
 *	  authres-payload = [CFWS] authserv-id
 *	                    [ CFWS authres-version ] ( no-result / 1*resinfo )
 *	  authserv-id     = value = token / quoted-string
 *	  authres-version = 1*DIGIT [CFWS]
 *	  no-result, resinfo both start with [CFWS] ";"
 *
 *	Header values reach us unfolded or still folded (CR, LF before
 *	the blank): both count as white space. UTF-8 is allowed in a
 *	token (RFC 8601 2.5 with RFC 6532).
 * DIAGNOSTICS
 *	NULL with a static reason when there is no id to read.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "addr.h"
#include "util.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 token byte: not a control, space or tspecial. */
static int
is_token(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	return c > ' ' && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Skip [CFWS]. NULL with *why for a comment that never ends. */
static const char *
skip_cfws(const char *p, const char **why)
{
	for (;;) {
		size_t depth = 0;

		while (is_wsp(*p))
			p++;
		if (*p != '(')
			return p;
		/* a comment: nested ones and quoted-pairs inside */
		do {
			if (*p == 0) {
				*why = "unterminated comment";
				return NULL;
			}
			if (*p == '\\' && p[1] != 0)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (depth > 0);
	}
}

char *
authres_id(const char *value, int *wellformed, const char **why)
{
	const char *p, *dummy;
	struct mm_buf id = { 0 };
	int wf;

	if (why == NULL)
		why = &dummy;
	if (wellformed == NULL)
		wellformed = &wf;
	*wellformed = 0;
	if ((p = skip_cfws(value, why)) == NULL)
		return NULL;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '\r' || p[1] == '\n'))
				continue;	/* quotes nothing: a line break is folding */
			if (*p == '\\' && p[1] != 0)
				p++;
			else if (*p == 0) {
				*why = "unterminated quoted string";
				buf_free(&id);
				return NULL;
			} else if (*p == '\r' || *p == '\n')
				continue;	/* folding is no part of the content */
			buf_add(&id, p, 1);
		}
		p++;
		if (id.data == NULL)
			buf_adds(&id, "");
	} else {
		const char *start = p;
		while (is_token((unsigned char)*p))
			p++;
		if (p == start) {
			*why = "no authserv-id";
			return NULL;
		}
		buf_add(&id, start, (size_t)(p - start));
	}
	/* the rest: [CFWS authres-version] [CFWS] ";" or the end */
	if ((p = skip_cfws(p, why)) != NULL) {
		if (*p >= '0' && *p <= '9') {
			while (*p >= '0' && *p <= '9')
				p++;
			p = skip_cfws(p, why);
		}
		*wellformed = p != NULL && (*p == ';' || *p == 0);
	}
	return id.data;
}

int
authres_id_eq(const char *a, const char *b)
{
	return mm_domain_equal(a, b);
}

int
authres_claims(const char *value, const char *ours)
{
	char *id;
	int r;

	if (value == NULL || ours == NULL || (id = authres_id(value, NULL, NULL)) == NULL)
		return 0;
	r = authres_id_eq(id, ours);
	free(id);
	return r;
}
