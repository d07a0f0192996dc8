/*
 * NAME
 *	salvage - names a malformed message shows outside its parsed parts
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	mime_salvage(&sc, text, len, &res);
 * DESCRIPTION
 *	A malformed message may hold parts the parser did not find but a
 *	lenient mail reader would. mime_salvage() looks for every
 *	Content-Type and Content-Disposition field anywhere in the text
 *	(at a line start, continuation lines included) and judges every
 *	name they give that the walk did not already meet. A banned one
 *	cannot be cut out alone, since no parser delimited its part: it
 *	becomes a unit for the whole body (the original is saved first).
 * DIAGNOSTICS
 *	None.
 */
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "mime.h"
#include "fields.h"

static int
known_name(const struct mime_strv *names, size_t n, const char *clean)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names->v[i], clean) == 0)
			return 1;
	return 0;
}

/* Length of the header field starting at p (continuation lines
   included, at most max bytes). */
static size_t
field_len(const char *p, const char *end, size_t max)
{
	const char *q = p;

	while (q < end && (size_t)(q - p) < max) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		if (nl == NULL)
			return (size_t)(end - p);
		q = nl + 1;
		if (q >= end || (*q != ' ' && *q != '\t'))
			break;
	}
	return (size_t)(q - p) < max ? (size_t)(q - p) : max;
}

/* A malformed message may hold parts the parser did not find but a
   lenient mail reader would. Look for fields naming files anywhere in
   the text; a banned name the walk did not meet cannot be cut out
   alone, so it costs the whole body (the original is kept). */
void
mime_salvage(struct mime_scan *sc, const char *text, size_t len,
    struct mime_result *res)
{
	static const char *const fields[] = { "content-type:", "content-disposition:" };
	const char *end = text + len;
	size_t known = sc->names.n;

	for (const char *p = text; p < end; ) {
		const char *nl;

		for (size_t f = 0; f < 2; f++) {
			size_t fl = strlen(fields[f]), vlen;
			struct mime_strv names = { 0 };
			char *value;

			if ((size_t)(end - p) <= fl || g_ascii_strncasecmp(p, fields[f], fl) != 0)
				continue;
			vlen = field_len(p + fl, end, 8192);
			value = mime_xstrndup(p + fl, vlen);
			mime_field_names(f == 0 ? "Content-Type" : "Content-Disposition",
			    value, &names);
			for (size_t i = 0; i < names.n; i++) {
				struct mime_name nm;
				struct mime_hit hit = { 0 };

				mime_name_clean(names.v[i], strlen(names.v[i]), &nm);
				if (!known_name(&sc->names, known, nm.clean) &&
				    mime_policy_name(sc, names.v[i], strlen(names.v[i]),
				    "", &hit, NULL)) {
					res->u = mime_xrealloc(res->u, (res->n + 1) * sizeof(*res->u));
					memset(&res->u[res->n], 0, sizeof(res->u[0]));
					res->u[res->n].whole = 1;
					res->u[res->n].hit = hit;
					res->n++;
				} else
					mime_hit_free(&hit);
				mime_name_free(&nm);
			}
			mime_strv_free(&names);
			free(value);
		}
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
}
