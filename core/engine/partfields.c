/*
 * NAME
 *	partfields - what a part's header fields say, for the MIME reader
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	char *v = parts_unfold(p, raw);
 *	parts_read_fields(p, part, fast);
 *	mm_cte c = parts_cte_parse(value); c = parts_detect(content, len);
 * DESCRIPTION
 *	The parse's arena (every string and array of a parse lives in it and
 *	goes with it), and the reading of Content-* fields: a value
 *	unfolded, a media type, a transfer encoding, the names of every
 *	Content-Type and Content-Disposition field (GMime's parameter
 *	parser: RFC 2231, RFC 2047), and, for a message read without the
 *	MIME parser, the type, charset, disposition and file name.
 *	detect() tells what identity-encoded content is made of.
 */
#define _GNU_SOURCE 1	/* strcasestr */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "msgparts.h"
#include "util.h"

/* --- the arena: the parse's strings and arrays, freed at once --- */
void *
parts_alloc(struct mm_parts *p, size_t n)
{
	struct arena_blk *b = p->arena;
	void *r;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 4096 ? n : 4096;

		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = p->arena;
		p->arena = b;
	}
	r = (char *)b->data + b->used;
	b->used += n;
	return r;
}

char *
parts_strndup(struct mm_parts *p, const char *s, size_t n)
{
	char *r = parts_alloc(p, n + 1);

	memcpy(r, s, n);
	r[n] = 0;
	return r;
}

char *
parts_strdup(struct mm_parts *p, const char *s)
{
	return s ? parts_strndup(p, s, strlen(s)) : NULL;
}

char *
parts_lower(struct mm_parts *p, const char *s)
{
	char *r = parts_strdup(p, s);

	for (char *q = r; q && *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return r;
}

void
parts_strv_add(struct parts_strv *sv, struct mm_parts *p, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
	sv->v[sv->n++] = parts_strdup(p, s);
}

const char *const *
parts_strv_finish(struct parts_strv *sv, struct mm_parts *p, size_t *n)
{
	const char **r = NULL;

	if (sv->n) {
		r = parts_alloc(p, sv->n * sizeof(*r));
		memcpy(r, sv->v, sv->n * sizeof(*r));
	}
	*n = sv->n;
	free(sv->v);
	return r;
}

/* --- field values --- */

/* A field value unfolded and trimmed, in the arena. */
char *
parts_unfold(struct mm_parts *p, const char *v)
{
	size_t n = strlen(v), o = 0;
	char *r = parts_alloc(p, n + 1);

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	for (; *v; v++) {
		if (*v == '\r' || *v == '\n') {
			while (v[1] == '\r' || v[1] == '\n')
				v++;
			if (v[1] == ' ' || v[1] == '\t' || v[1] == 0) {
				while (v[1] == ' ' || v[1] == '\t')
					v++;
				r[o++] = ' ';
			}
			continue;
		}
		r[o++] = *v;
	}
	while (o > 0 && (r[o - 1] == ' ' || r[o - 1] == '\t'))
		o--;
	r[o] = 0;
	return r;
}

/* "Text/Plain; charset=x" -> "text/plain" in the arena; no '/':
   application/octet-stream, as GMime reads it */
static const char *
quick_type(struct mm_parts *p, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	for (n = 0; v[n] && v[n] != ';' && v[n] != ' ' && v[n] != '\t' &&
	    v[n] != '\r' && v[n] != '\n' && v[n] != '('; n++)
		;
	if (memchr(v, '/', n) == NULL)
		return "application/octet-stream";
	return parts_lower(p, parts_strndup(p, v, n));
}

mm_cte
parts_cte_parse(const char *v)
{
	size_t n;

	if (v == NULL)
		return MM_CTE_NONE;
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	for (n = 0; v[n] && v[n] != ' ' && v[n] != '\t' && v[n] != ';' &&
	    v[n] != '\r' && v[n] != '\n' && v[n] != '('; n++)
		;
#define IS(s) (n == sizeof(s) - 1 && strncasecmp(v, s, n) == 0)
	if (IS("base64"))
		return MM_CTE_BASE64;
	if (IS("quoted-printable"))
		return MM_CTE_QP;
	if (IS("x-uuencode") || IS("uuencode") || IS("x-uue"))
		return MM_CTE_UUENCODE;
	if (IS("7bit"))
		return MM_CTE_7BIT;
	if (IS("8bit"))
		return MM_CTE_8BIT;
	if (IS("binary"))
		return MM_CTE_BINARY;
#undef IS
	return n ? MM_CTE_OTHER : MM_CTE_NONE;
}

/* What identity-encoded content is: 8 bits, NULs or overlong lines
   (a word at a time, then the line ends with memchr). */
mm_cte
parts_detect(const char *s, size_t n)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t high = 0;
	size_t i = 0;
	const char *p = s, *end = s + n;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if ((w - lo) & ~w & hi)
			return MM_CTE_BINARY;		/* a NUL byte */
		high |= w & hi;
	}
	for (; i < n; i++) {
		if (s[i] == 0)
			return MM_CTE_BINARY;
		high |= (unsigned char)s[i] & 0x80;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);

		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > 998)
			return MM_CTE_BINARY;
		p = nl ? nl + 1 : end;
	}
	return high ? MM_CTE_8BIT : MM_CTE_7BIT;
}

void
parts_param_names(void *list, struct parts_strv *out, struct mm_parts *p)
{
	GMimeParamList *pl = list;
	int n = pl ? g_mime_param_list_length(pl) : 0;

	for (int i = 0; i < n; i++) {
		GMimeParam *pa = g_mime_param_list_get_parameter_at(pl, i);
		const char *k = g_mime_param_get_name(pa), *v = g_mime_param_get_value(pa);

		if (k && v && (g_ascii_strcasecmp(k, "name") == 0 ||
		    g_ascii_strcasecmp(k, "filename") == 0))
			parts_strv_add(out, p, v);
	}
}

/*
 * What a part's Content-* fields say, from the fields themselves (the
 * list is the part's own): names, types, and in fast mode (no GMime
 * object) the type, charset, disposition and file name too.
 */
void
parts_read_fields(struct mm_parts *p, struct mm_part *pt, int fast)
{
	struct parts_strv names = { 0 }, types = { 0 };
	const char *lastct = NULL, *firstct = NULL, *cd = NULL, *cte = NULL;
	size_t nct = 0, ncd = 0;

	for (size_t i = 0; i < pt->nfields; i++) {
		const char *n = pt->fields[i].name;

		if (strcasecmp(n, "Content-Type") == 0) {
			nct++;
			if (firstct == NULL)
				firstct = pt->fields[i].value;
			lastct = pt->fields[i].value;
		} else if (strcasecmp(n, "Content-Disposition") == 0) {
			ncd++;
			cd = pt->fields[i].value;
		} else if (cte == NULL && strcasecmp(n, "Content-Transfer-Encoding") == 0)
			cte = pt->fields[i].value;
	}
	for (size_t i = 0; i < pt->nfields; i++) {
		const char *n = pt->fields[i].name, *v = pt->fields[i].value;
		int isct = strcasecmp(n, "Content-Type") == 0;

		if (isct && nct > 1)
			types.v = xrealloc(types.v, (types.n + 1) * sizeof(char *)),
			types.v[types.n++] = quick_type(p, v);
		/* with one field of a kind GMime's parse is used below */
		if (!fast && !(isct ? nct > 1 : ncd > 1))
			continue;
		if (strcasestr(v, "name") == NULL)
			continue;
		if (isct) {
			GMimeContentType *ct = g_mime_content_type_parse(NULL, v);
			if (ct) {
				parts_param_names(g_mime_content_type_get_parameters(ct), &names, p);
				g_object_unref(ct);
			}
		} else if (strcasecmp(n, "Content-Disposition") == 0) {
			GMimeContentDisposition *d = g_mime_content_disposition_parse(NULL, v);
			if (d) {
				parts_param_names(g_mime_content_disposition_get_parameters(d), &names, p);
				g_object_unref(d);
			}
		}
	}
	if (fast) {
		pt->type = "text/plain";
		if (lastct) {
			GMimeContentType *ct = g_mime_content_type_parse(NULL, lastct);
			pt->type = quick_type(p, lastct);
			if (ct) {
				pt->charset = parts_strdup(p,
				    g_mime_content_type_get_parameter(ct, "charset"));
				if (pt->filename == NULL)
					pt->filename = parts_strdup(p,
					    g_mime_content_type_get_parameter(ct, "name"));
				g_object_unref(ct);
			}
		}
		if (cd) {
			GMimeContentDisposition *d = g_mime_content_disposition_parse(NULL, cd);
			if (d) {
				const char *fn = g_mime_content_disposition_get_parameter(d, "filename");
				pt->disposition = parts_lower(p,
				    g_mime_content_disposition_get_disposition(d));
				if (fn)
					pt->filename = parts_strdup(p, fn);
				g_object_unref(d);
			}
		}
		pt->encoding = parts_cte_parse(cte);
		if (nct > 1 && firstct && lastct && g_ascii_strcasecmp(firstct, lastct))
			parts_problem(p, MM_PARTS_MALFORMED,
			    "conflicting Content-Type header fields");
	}
	pt->types = parts_strv_finish(&types, p, &pt->ntypes);
	if (!fast) {
		/* the names GMime parsed go first */
		struct parts_strv all = { 0 };
		for (size_t i = 0; i < pt->nnames; i++)
			parts_strv_add(&all, p, pt->names[i]);
		for (size_t i = 0; i < names.n; i++)
			parts_strv_add(&all, p, names.v[i]);
		free(names.v);
		pt->names = parts_strv_finish(&all, p, &pt->nnames);
	} else
		pt->names = parts_strv_finish(&names, p, &pt->nnames);
}

