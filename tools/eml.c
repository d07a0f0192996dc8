/*
 * NAME
 *	eml - read an RFC 5322 message file as an MTA hands it to a milter
 * DESCRIPTION
 *	See eml.h. A header line without a colon ends the header section
 *	(what follows is body), as a lenient MTA would treat it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "eml.h"
#include "util.h"

static size_t
line_end(const char *t, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(t + pos, '\n', len - pos);
	size_t e = nl ? (size_t)(nl - t) : len;

	*next = nl ? e + 1 : len;
	if (e > pos && t[e - 1] == '\r')
		e--;
	return e;
}

int
eml_parse(const char *t, size_t len, struct eml *m)
{
	size_t pos = 0, next, e;
	struct mm_buf body = { 0 };

	memset(m, 0, sizeof(*m));
	if (len >= 5 && memcmp(t, "From ", 5) == 0) {
		line_end(t, len, 0, &next);
		pos = next;
	}
	while (pos < len) {
		const char *colon;
		e = line_end(t, len, pos, &next);
		if (e == pos) {		/* blank line: body follows */
			pos = next;
			break;
		}
		colon = memchr(t + pos, ':', e - pos);
		if (colon == NULL || t[pos] == ' ' || t[pos] == '\t') {
			if ((t[pos] == ' ' || t[pos] == '\t') && m->nhdrs > 0) {
				/* continuation of the previous header */
				char *old = m->values[m->nhdrs - 1];
				char *nv = xasprintf("%s\n%.*s", old, (int)(e - pos), t + pos);
				free(old);
				m->values[m->nhdrs - 1] = nv;
				pos = next;
				continue;
			}
			break;		/* not a header: the body starts here */
		}
		size_t nl = (size_t)(colon - (t + pos));
		while (nl > 0 && (t[pos + nl - 1] == ' ' || t[pos + nl - 1] == '\t'))
			nl--;
		const char *v = colon + 1;
		if (v < t + e && *v == ' ')
			v++;
		m->names = xrealloc(m->names, (m->nhdrs + 1) * sizeof(char *));
		m->values = xrealloc(m->values, (m->nhdrs + 1) * sizeof(char *));
		m->names[m->nhdrs] = xstrndup(t + pos, nl);
		m->values[m->nhdrs] = xstrndup(v, (size_t)(t + e - v));
		m->nhdrs++;
		pos = next;
	}
	while (pos < len) {
		e = line_end(t, len, pos, &next);
		buf_add(&body, t + pos, e - pos);
		if (next > e)
			buf_add(&body, "\r\n", 2);
		pos = next;
	}
	m->body = (unsigned char *)(body.data ? body.data : xstrdup(""));
	m->bodylen = body.len;
	return 0;
}

int
eml_load(const char *path, struct eml *m, char **err)
{
	size_t len;
	char *text = read_file(path, 256u << 20, &len, err);
	int r;

	if (text == NULL)
		return -1;
	r = eml_parse(text, len, m);
	free(text);
	return r;
}

void
eml_free(struct eml *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
	free(m->names);
	free(m->values);
	free(m->body);
	memset(m, 0, sizeof(*m));
}
