/*
 * NAME
 *	walk - walk a message's MIME tree (GMime) and find what to replace
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	mime_gmime_init();
 *	r = mime_walk(&sc, headers, nh, body, bodylen, &res);
 *	r = mime_walk_embedded(&sc, text, len, depth, &hit);
 * DESCRIPTION
 *	A message that is neither multipart nor message/rfc822 is one
 *	leaf: its names come from its own header fields and its content
 *	is the body, so it is judged without running the MIME parser.
 *
 *	Any other message is read through the core's MIME reader
 *	(mm_api.parts: GMime over the header block and the body, the
 *	parse shared with the chain's other plugins), whose parts give
 *	their content's range in the body. Every part is visited,
 *	message/rfc822 ones included (one level deeper each). For each banned leaf the walk records the range to
 *	replace: from the first header of the enclosing multipart child
 *	to the end of the leaf's content. When the leaf is the root of
 *	an embedded message, the enclosing child is the message/rfc822
 *	part itself, so the notice replaces the whole forwarded message;
 *	when it is the root of the message, the whole body goes.
 *
 *	A message/rfc822 part with a transfer encoding (which GMime does
 *	not parse as a message) is decoded and walked on its own, parsed
 *	through the reader's parts_parse.
 *
 *	Names are taken from every Content-Type and Content-Disposition
 *	field of a part and every name or filename parameter in them, so
 *	duplicated fields or parameters cannot hide one from the scan.
 *	Types likewise: a part with several Content-Type fields is walked
 *	once per field (readings.c), each time as if it had only that one,
 *	since readers differ in which they take (GMime the last, others
 *	the first); what any reading finds banned is replaced. The core's
 *	parse is the message as GMime reads it; each other reading is a
 *	copy parsed through parts_parse: this is why the plugin keeps
 *	building the message text (readings.c and salvage.c read it). Fields that
 *	disagree mark the message malformed, at the top level too, where
 *	a message is parsed when any of its types is multipart or message.
 *	A part read as a whole in one reading and as several parts in
 *	another is replaced whole.
 *
 *	The reader's problems (GMime's critical warnings: multipart
 *	without a boundary, boundary never found, invalid header names,
 *	conflicting fields or parameters...) mark the message malformed;
 *	the walk still judges every part GMime found, then salvage.c
 *	looks at the rest. Excessive nesting is a limit.
 *
 *	mime_gmime_init() initialises GMime once per process.
 * DIAGNOSTICS
 *	mime_walk: 0, or -1 when a limit was reached. mime_walk_embedded:
 *	1 banned, 0 clean, -1 limit.
 */
#define _GNU_SOURCE 1	/* strcasestr */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "mime.h"
#include "fields.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_init_once(void)
{
	g_mime_init();
}

void
mime_gmime_init(void)
{
	pthread_once(&gmime_once, gmime_init_once);
}

static char *quick_type(const char *v);

struct walker {
	struct mime_scan *sc;
	const struct mm_api *rd;	/* the core's reader */
	mm_parts *p;			/* the parse being walked */
	size_t bodylen;			/* offsets count from the body */
	int depth;			/* embedded messages above the text */
	struct mime_result *res;	/* collect units here, or */
	struct mime_hit *first;		/* stop at the first hit */
};

/* start and end are offsets in the body; -1: unknown */
static void
add_unit(struct walker *w, long start, long end, int whole,
    struct mime_hit *hit)
{
	struct mime_result *res = w->res;
	struct mime_unit *u;
	size_t i, at, s, e;

	if (!whole && (start < 0 || end < start || (size_t)end > w->bodylen))
		whole = 1;	/* cannot place it: take no chance */
	s = whole ? 0 : (size_t)start;
	e = whole ? w->bodylen : (size_t)end;
	/* the readings of an ambiguous part find parts inside parts, and
	   the same part again: keep the outermost, in body order */
	for (i = 0; !whole && i < res->n; ) {
		u = &res->u[i];
		if (u->whole) {
			i++;
		} else if (s >= u->start && e <= u->end) {
			mime_hit_free(hit);
			return;
		} else if (u->start >= s && u->end <= e) {
			mime_hit_free(&u->hit);
			memmove(u, u + 1, (res->n - i - 1) * sizeof(*u));
			res->n--;
		} else {
			if (s < u->end && u->start < e)
				whole = 1;	/* overlapping: take no chance */
			i++;
		}
	}
	if (whole) {
		s = 0;
		e = w->bodylen;
	}
	for (at = res->n; !whole && at > 0 && !res->u[at - 1].whole &&
	    res->u[at - 1].start > s; at--)
		;
	res->u = mime_xrealloc(res->u, (res->n + 1) * sizeof(*res->u));
	memmove(&res->u[at + 1], &res->u[at], (res->n - at) * sizeof(*res->u));
	res->n++;
	u = &res->u[at];
	u->whole = whole;
	u->start = s;
	u->end = e;
	u->hit = *hit;
	memset(hit, 0, sizeof(*hit));
}

static int
is_message_type(const char *t)
{
	return g_ascii_strcasecmp(t, "message/rfc822") == 0 ||
	    g_ascii_strcasecmp(t, "message/global") == 0 ||
	    g_ascii_strcasecmp(t, "message/news") == 0;
}

static enum mime_cte
cte_of(mm_cte e)
{
	switch (e) {
	case MM_CTE_BASE64: return MIME_CTE_BASE64;
	case MM_CTE_QP: return MIME_CTE_QP;
	case MM_CTE_UUENCODE: return MIME_CTE_UUENCODE;
	default: return MIME_CTE_IDENTITY;
	}
}

/* An encoded message/rfc822 leaf: decode it and walk it on its own. */
static int
embedded(struct mime_scan *sc, const struct mime_leaf *l, struct mime_hit *hit)
{
	unsigned char *text;
	size_t len;
	int more, bad, r;

	if (l->depth + 1 > sc->conf->max_depth) {
		mime_set_limit(sc, "messages nested deeper than %d levels",
		    sc->conf->max_depth);
		return -1;
	}
	text = mime_decode(l->cte, l->data, l->len, sc->conf->max_size - sc->decoded,
	    &len, &more, &bad);
	if (more || !mime_count_bytes(sc, len)) {
		mime_set_limit(sc, "more than %zu bytes to decode or decompress",
		    sc->conf->max_size);
		free(text);
		return -1;
	}
	if (bad)
		mime_set_malformed(sc, "invalid base64 in an embedded message");
	r = mime_walk_embedded(sc, (const char *)text, len, l->depth + 1, hit);
	free(text);
	return r;
}

/* A Content-Type field, or one renamed for a reading. */
static int
is_ct_field(const char *name)
{
	return g_ascii_strcasecmp(name, "Content-Type") == 0 ||
	    g_ascii_strcasecmp(name, MIME_MASKED_CT) == 0;
}

/* The media type of a Content-Type value, lower case, added to types. */
static void
field_type(const char *value, struct mime_strv *types)
{
	char *t = quick_type(value);

	mime_strv_add(types, t);
	g_free(t);
}

/* Where the replacement of leaf i starts: the enclosing multipart
   child (an embedded message's root: the message/rfc822 part that
   holds it); *whole when there is none (the message's own root). */
static long
unit_start(struct walker *w, size_t i, int *whole)
{
	const struct mm_part *pt = w->rd->part_at(w->p, i);

	for (;;) {
		const struct mm_part *par = pt->parent >= 0 ?
		    w->rd->part_at(w->p, (size_t)pt->parent) : NULL;

		if (par == NULL) {
			*whole = 1;
			return 0;
		}
		if (par->kind == MM_PART_MULTIPART) {
			*whole = pt->start < 0;
			return pt->start;
		}
		pt = par;
	}
}

static int
leaf(struct walker *w, size_t i)
{
	const struct mm_part *pt = w->rd->part_at(w->p, i);
	struct mime_strv names = { 0 }, types = { 0 };
	struct mime_leaf l;
	struct mime_hit hit = { 0 };
	const unsigned char *raw = NULL;
	size_t rawlen = 0, nct = 0;
	int r, whole = 0;
	long ustart;

	/* every name of every Content-Type and Content-Disposition field
	   (the reader's), and of those renamed for this reading; with
	   several type fields (renamed ones too), each one's type */
	for (size_t k = 0; k < pt->nnames; k++)
		mime_strv_add(&names, pt->names[k]);
	for (size_t k = 0; k < pt->nfields; k++)
		nct += is_ct_field(pt->fields[k].name);
	for (size_t k = 0; k < pt->nfields; k++) {
		const char *name = pt->fields[k].name, *v = pt->fields[k].value;

		if (nct > 1 && is_ct_field(name))
			field_type(v, &types);
		if (g_ascii_strcasecmp(name, MIME_MASKED_CT) == 0 &&
		    strcasestr(v, "name"))
			mime_field_names("Content-Type", v, &names);
	}
	if (w->rd->part_raw(w->p, i, &raw, &rawlen) < 0) {
		raw = (const unsigned char *)"";
		rawlen = 0;
	}
	memset(&l, 0, sizeof(l));
	l.ctype = pt->type;
	l.types = (const char *const *)types.v;
	l.ntypes = types.n;
	l.names = (const char *const *)names.v;
	l.nnames = names.n;
	l.cte = cte_of(pt->encoding);
	l.data = (const char *)raw;
	l.len = rawlen;
	l.depth = w->depth + pt->depth;
	if (is_message_type(pt->type) && l.cte != MIME_CTE_IDENTITY)
		r = embedded(w->sc, &l, &hit);
	else
		r = mime_leaf_scan(w->sc, &l, &hit);
	mime_strv_free(&names);
	mime_strv_free(&types);
	if (r == 1) {
		if (w->res == NULL) {
			*w->first = hit;
			return 1;
		}
		ustart = unit_start(w, i, &whole);
		add_unit(w, ustart, pt->content_end, whole, &hit);
		r = 0;
	}
	mime_hit_free(&hit);
	return r;
}

/* Every part in document order: 0, 1 at the first hit (first-hit
   mode), -1 at a limit. */
static int
walk(struct walker *w)
{
	struct mime_scan *sc = w->sc;
	size_t n = w->rd->parts_count(w->p);
	const char *why;
	unsigned pr = w->rd->parts_problems(w->p, &why);

	if (pr & MM_PARTS_MALFORMED)
		mime_set_malformed(sc, "%s", why);
	if (pr & MM_PARTS_TOO_DEEP) {
		mime_set_limit(sc, "MIME parts nested too deeply");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mm_part *pt = w->rd->part_at(w->p, i);
		int r;

		if (sc->limit || !mime_count_part(sc))
			return -1;
		if (pt->kind == MM_PART_MESSAGE && i + 1 < n &&
		    w->rd->part_at(w->p, i + 1)->parent == (int)i &&
		    w->depth + pt->depth + 1 > sc->conf->max_depth) {
			mime_set_limit(sc, "messages nested deeper than %d levels",
			    sc->conf->max_depth);
			return -1;
		}
		if (pt->kind == MM_PART_LEAF && (r = leaf(w, i)) != 0)
			return r;
	}
	return 0;
}

/* Parse text (a whole message: header, blank line, body) and walk it. */
static int
parse_and_walk_once(struct walker *w, const char *text, size_t len)
{
	int r;

	w->p = w->rd->parts_parse((const unsigned char *)text, len);
	r = walk(w);
	w->rd->parts_free(w->p);
	w->p = NULL;
	return r;
}

/* Walk text (parsed already: p, or parsed here) as the reader reads
   it, then once per reading of its parts with several Content-Type
   fields: 0, 1 at the first hit (first-hit mode), -1 at a limit. */
static int
parse_and_walk(struct walker *w, const char *text, size_t len, mm_parts *p)
{
	struct mime_readings rd;
	size_t n = mime_readings_find(text, len, &rd), k;
	int r;

	if (p) {
		w->p = p;
		r = walk(w);
		w->p = NULL;
	} else
		r = parse_and_walk_once(w, text, len);
	if (r == 0 && n > MIME_MAX_READINGS) {
		mime_set_limit(w->sc, "more than %d Content-Type fields in one part",
		    MIME_MAX_READINGS);
		r = -1;
	}
	for (k = 0; r == 0 && k < n; k++) {
		char *copy = mime_reading(text, len, &rd, k);

		r = parse_and_walk_once(w, copy, len);
		free(copy);
	}
	mime_readings_free(&rd);
	return r;
}

int
mime_walk_embedded(struct mime_scan *sc, const char *msg, size_t len,
    int depth, struct mime_hit *hit)
{
	struct walker w;
	struct mime_hit h = { 0 };
	int r;

	memset(&w, 0, sizeof(w));
	w.sc = sc;
	w.rd = sc->reader;
	w.depth = depth;
	w.first = &h;
	r = parse_and_walk(&w, msg, len, NULL);
	if (r == 1) {
		char *shown = mime_xasprintf("embedded message: %s", h.name);
		mime_hit_set(hit, shown, "%s", h.reason);
		free(shown);
	}
	mime_hit_free(&h);
	return r;
}

/* "Text/Plain; charset=x" -> "text/plain" (g_malloc'ed); GMime's own
   parse is used whenever the type could be multipart or message */
static char *
quick_type(const char *v)
{
	char *t;
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	for (n = 0; v[n] && v[n] != ';' && v[n] != ' ' && v[n] != '\t' &&
	    v[n] != '\r' && v[n] != '\n' && v[n] != '('; n++)
		;
	t = g_ascii_strdown(v, (gssize)n);
	if (strchr(t, '/') == NULL) {
		g_free(t);
		t = g_strdup("application/octet-stream");	/* as GMime would */
	}
	return t;
}

/* Two field values that are the same but for case and surrounding
   blanks: a repeated field, not a conflicting one. */
static int
same_value(const char *a, const char *b)
{
	size_t al, bl;

	while (g_ascii_isspace(*a))
		a++;
	while (g_ascii_isspace(*b))
		b++;
	al = strlen(a);
	bl = strlen(b);
	while (al > 0 && g_ascii_isspace(a[al - 1]))
		al--;
	while (bl > 0 && g_ascii_isspace(b[bl - 1]))
		bl--;
	return al == bl && g_ascii_strncasecmp(a, b, al) == 0;
}

/* A message that is one leaf, judged from its header fields (names and
   the transfer encoding already collected by the caller). */
static int
single_leaf(struct mime_scan *sc, const struct mime_strv *types,
    struct mime_strv *names, const char *ctev, const char *body, size_t bodylen,
    struct mime_result *res)
{
	struct mime_leaf l;
	struct mime_hit hit = { 0 };
	int r;

	memset(&l, 0, sizeof(l));
	l.ctype = types->n > 0 ? types->v[0] : "text/plain";
	l.types = (const char *const *)types->v;
	l.ntypes = types->n;
	l.names = (const char *const *)names->v;
	l.nnames = names->n;
	l.cte = mime_cte_parse(ctev);
	l.data = body;
	l.len = bodylen;
	r = mime_count_part(sc) ? mime_leaf_scan(sc, &l, &hit) : -1;
	if (r == 1) {
		res->u = mime_xrealloc(res->u, (res->n + 1) * sizeof(*res->u));
		res->u[res->n].whole = 1;
		res->u[res->n].start = 0;
		res->u[res->n].end = bodylen;
		res->u[res->n].hit = hit;
		res->n++;
		memset(&hit, 0, sizeof(hit));
		r = 0;
	}
	mime_hit_free(&hit);
	return r;
}

int
mime_walk(struct mime_scan *sc, const struct mime_header *h, size_t nh,
    const char *body, size_t bodylen, struct mime_result *res)
{
	struct mime_buf text = { 0 };
	struct mime_strv names = { 0 }, types = { 0 };
	struct walker w;
	const char *ctev = NULL, *firstct = NULL;
	int parse = 0, r;

	mime_gmime_init();
	/* one pass over the top-level fields: the types decide whether the
	   MIME parser is needed (any of them multipart or message: a reader
	   may take that one); names and encoding serve a single leaf.
	   GMime parses a field only when it can matter: a type that may be
	   multipart or message, a field that may carry a name parameter
	   (a parameter's name is never encoded, so "name" is literally
	   there). */
	for (size_t i = 0; i < nh; i++) {
		const char *v = h[i].value;

		if (g_ascii_strcasecmp(h[i].name, "Content-Type") == 0) {
			char *t = quick_type(v);
			if (strcasestr(v, "multipart") || strcasestr(v, "message")) {
				GMimeContentType *ct = g_mime_content_type_parse(NULL, v);
				if (ct) {
					g_free(t);
					t = g_mime_content_type_get_mime_type(ct);
					parse |= g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct),
					    "multipart") == 0 || is_message_type(t);
					g_object_unref(ct);
				}
			}
			mime_strv_add(&types, t);
			g_free(t);
			if (firstct == NULL)
				firstct = v;
			else if (!same_value(firstct, v))
				mime_set_malformed(sc, "conflicting Content-Type header fields");
			if (strcasestr(v, "name"))
				mime_field_names(h[i].name, v, &names);
		} else if (g_ascii_strcasecmp(h[i].name, "Content-Disposition") == 0) {
			if (strcasestr(v, "name"))
				mime_field_names(h[i].name, v, &names);
		} else if (ctev == NULL && g_ascii_strcasecmp(h[i].name,
		    "Content-Transfer-Encoding") == 0)
			ctev = v;
	}
	if (!parse) {
		r = single_leaf(sc, &types, &names, ctev, body, bodylen, res);
		mime_strv_free(&types);
		mime_strv_free(&names);
		return r < 0 ? -1 : 0;
	}
	mime_strv_free(&types);
	mime_strv_free(&names);

	mime_message_text(&text, h, nh, body, bodylen);
	memset(&w, 0, sizeof(w));
	w.sc = sc;
	w.rd = sc->reader;
	w.bodylen = bodylen;
	w.res = res;
	/* the core's parse of this very text, when there is one */
	r = parse_and_walk(&w, text.data, text.len, sc->message_parts ?
	    sc->message_parts(sc->parts_arg) : NULL);
	if (r == 0 && sc->malformed)
		mime_salvage(sc, text.data, text.len, res);
	mime_buf_free(&text);
	return r < 0 ? -1 : 0;
}

void
mime_result_free(struct mime_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		mime_hit_free(&res->u[i].hit);
	free(res->u);
	res->u = NULL;
	res->n = 0;
}
