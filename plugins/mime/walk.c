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
 *	Any other message is parsed with GMime over one buffer (the
 *	header block followed by the body) with the parser's streams
 *	kept, so that every part's content is a range of that buffer.
 *	Every part is visited, message/rfc822 ones included (one level
 *	deeper each). For each banned leaf the walk records the range to
 *	replace: from the first header of the enclosing multipart child
 *	to the end of the leaf's content. When the leaf is the root of
 *	an embedded message, the enclosing child is the message/rfc822
 *	part itself, so the notice replaces the whole forwarded message;
 *	when it is the root of the message, the whole body goes.
 *
 *	A message/rfc822 part with a transfer encoding (which GMime does
 *	not parse as a message) is decoded and walked on its own.
 *
 *	Names are taken from every Content-Type and Content-Disposition
 *	field of a part and every name or filename parameter in them, so
 *	duplicated fields or parameters cannot hide one from the scan.
 *	Types likewise: a part with several Content-Type fields is walked
 *	once per field (readings.c), each time as if it had only that one,
 *	since readers differ in which they take (GMime the last, others
 *	the first); what any reading finds banned is replaced. Fields that
 *	disagree mark the message malformed, at the top level too, where
 *	a message is parsed when any of its types is multipart or message.
 *	A part read as a whole in one reading and as several parts in
 *	another is replaced whole.
 *
 *	GMime's critical parser warnings (multipart without a boundary,
 *	boundary never found, invalid header names, conflicting fields
 *	or parameters...) mark the message malformed; the walk still
 *	judges every part GMime found, then salvage.c looks at the rest.
 *	Excessive nesting is a limit.
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
	const char *base;		/* the parsed text */
	size_t len;
	size_t body_off;		/* where the body starts in it */
	struct mime_result *res;	/* collect units here, or */
	struct mime_hit *first;		/* stop at the first hit */
};

static void
parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
    gpointer data)
{
	struct mime_scan *sc = data;
	const char *it = item ? item : "";

	switch (code) {
	case GMIME_CRIT_NESTING_OVERFLOW:
		mime_set_limit(sc, "MIME parts nested too deeply");
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		mime_set_malformed(sc, "multipart without a boundary (offset %lld)",
		    (long long)offset);
		break;
	case GMIME_WARN_MALFORMED_MULTIPART:
		mime_set_malformed(sc, "multipart whose boundary never appears "
		    "(offset %lld)", (long long)offset);
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		mime_set_malformed(sc, "truncated message (a closing boundary is "
		    "missing)");
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		mime_set_malformed(sc, "malformed message (offset %lld)",
		    (long long)offset);
		break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		mime_set_malformed(sc, "part without headers or content "
		    "(offset %lld)", (long long)offset);
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
		mime_set_malformed(sc, "invalid header name (offset %lld)",
		    (long long)offset);
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		mime_set_malformed(sc, "conflicting %.64s header fields", it);
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		mime_set_malformed(sc, "conflicting %.64s parameters", it);
		break;
	default:
		break;
	}
}

static enum mime_cte
cte_of(GMimeContentEncoding e)
{
	switch (e) {
	case GMIME_CONTENT_ENCODING_BASE64: return MIME_CTE_BASE64;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: return MIME_CTE_QP;
	case GMIME_CONTENT_ENCODING_UUENCODE: return MIME_CTE_UUENCODE;
	default: return MIME_CTE_IDENTITY;
	}
}

/* The content's range in w->base; 0, or -1 if it has none there. */
static int
content_range(struct walker *w, GMimePart *part, size_t *start, size_t *end)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	gint64 b, e;

	if (s == NULL || !GMIME_IS_STREAM_MEM(s))
		return -1;
	b = s->bound_start;
	e = s->bound_end < 0 ? (gint64)w->len : s->bound_end;
	if (b < 0 || b > e || (guint64)e > w->len)
		return -1;
	*start = (size_t)b;
	*end = (size_t)e;
	return 0;
}

/* Where a multipart child starts: its first header, else the blank
   line before its content. */
static int
part_start(struct walker *w, GMimeObject *obj, size_t *start)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	size_t s, e;

	if (hl && g_mime_header_list_get_count(hl) > 0) {
		gint64 off = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, 0));
		if (off >= 0 && (guint64)off <= w->len) {
			*start = (size_t)off;
			return 0;
		}
	}
	if (!GMIME_IS_PART(obj) || content_range(w, GMIME_PART(obj), &s, &e) < 0)
		return -1;
	if (s >= 2 && w->base[s - 2] == '\r' && w->base[s - 1] == '\n')
		s -= 2;
	else if (s >= 1 && w->base[s - 1] == '\n')
		s -= 1;
	*start = s;
	return 0;
}

static void
add_unit(struct walker *w, size_t start, size_t end, int whole,
    struct mime_hit *hit)
{
	struct mime_result *res = w->res;
	struct mime_unit *u;
	size_t bodylen = w->len - w->body_off, i, at;

	if (!whole && (start < w->body_off || end < start || end > w->len))
		whole = 1;	/* cannot place it: take no chance */
	/* the readings of an ambiguous part find parts inside parts, and
	   the same part again: keep the outermost, in body order */
	for (i = 0; !whole && i < res->n; ) {
		u = &res->u[i];
		if (u->whole) {
			i++;
		} else if (start - w->body_off >= u->start &&
		    end - w->body_off <= u->end) {
			mime_hit_free(hit);
			return;
		} else if (u->start >= start - w->body_off &&
		    u->end <= end - w->body_off) {
			mime_hit_free(&u->hit);
			memmove(u, u + 1, (res->n - i - 1) * sizeof(*u));
			res->n--;
		} else {
			if (start - w->body_off < u->end && u->start < end - w->body_off)
				whole = 1;	/* overlapping: take no chance */
			i++;
		}
	}
	for (at = res->n; !whole && at > 0 && !res->u[at - 1].whole &&
	    res->u[at - 1].start > start - w->body_off; at--)
		;
	res->u = mime_xrealloc(res->u, (res->n + 1) * sizeof(*res->u));
	memmove(&res->u[at + 1], &res->u[at], (res->n - at) * sizeof(*res->u));
	res->n++;
	u = &res->u[at];
	u->whole = whole;
	u->start = whole ? 0 : start - w->body_off;
	u->end = whole ? bodylen : end - w->body_off;
	u->hit = *hit;
	memset(hit, 0, sizeof(*hit));
}

static int
is_message_type(GMimeContentType *ct)
{
	const char *sub;

	if (ct == NULL || g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct),
	    "message") != 0)
		return 0;
	sub = g_mime_content_type_get_media_subtype(ct);
	return g_ascii_strcasecmp(sub, "rfc822") == 0 ||
	    g_ascii_strcasecmp(sub, "global") == 0 ||
	    g_ascii_strcasecmp(sub, "news") == 0;
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

static int
leaf(struct walker *w, GMimeObject *obj, int depth, size_t ustart, int whole)
{
	GMimePart *part = GMIME_PART(obj);
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	struct mime_strv names = { 0 }, types = { 0 };
	struct mime_leaf l;
	struct mime_hit hit = { 0 };
	size_t cs = 0, ce = 0;
	char *ctype;
	int n = hl ? g_mime_header_list_get_count(hl) : 0, r;

	/* the parsed fields' parameters; when a field is there more than
	   once (or was renamed for this reading), every copy's, parsed
	   again (GMime keeps one) */
	if (ct)
		mime_param_names(g_mime_content_type_get_parameters(ct), &names);
	if (g_mime_object_get_content_disposition(obj))
		mime_param_names(g_mime_content_disposition_get_parameters(
		    g_mime_object_get_content_disposition(obj)), &names);
	for (int i = 0, nct = 0, ncd = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		nct += is_ct_field(name);
		ncd += g_ascii_strcasecmp(name, "Content-Disposition") == 0;
		if (i == n - 1 && (nct > 1 || ncd > 1))
			for (int j = 0; j < n; j++) {
				const char *raw;
				h = g_mime_header_list_get_header_at(hl, j);
				name = g_mime_header_get_name(h);
				raw = g_mime_header_get_raw_value(h);
				if (raw && nct > 1 && is_ct_field(name))
					field_type(raw, &types);
				if (raw && strcasestr(raw, "name") &&
				    ((nct > 1 && is_ct_field(name)) ||
				    (ncd > 1 && g_ascii_strcasecmp(name, "Content-Disposition") == 0)))
					mime_field_names(is_ct_field(name) ? "Content-Type" :
					    name, raw, &names);
			}
	}
	ctype = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	if (content_range(w, part, &cs, &ce) < 0)
		cs = ce = 0;
	memset(&l, 0, sizeof(l));
	l.ctype = ctype;
	l.types = (const char *const *)types.v;
	l.ntypes = types.n;
	l.names = (const char *const *)names.v;
	l.nnames = names.n;
	l.cte = cte_of(g_mime_part_get_content_encoding(part));
	l.data = w->base + cs;
	l.len = ce - cs;
	l.depth = depth;
	if (is_message_type(ct) && l.cte != MIME_CTE_IDENTITY)
		r = embedded(w->sc, &l, &hit);
	else
		r = mime_leaf_scan(w->sc, &l, &hit);
	g_free(ctype);
	mime_strv_free(&names);
	mime_strv_free(&types);
	if (r == 1) {
		if (w->res == NULL) {
			*w->first = hit;
			return 1;
		}
		add_unit(w, ustart, ce, whole, &hit);
		r = 0;
	}
	mime_hit_free(&hit);
	return r;
}

static int
walk(struct walker *w, GMimeObject *obj, int depth, size_t ustart, int whole)
{
	struct mime_scan *sc = w->sc;

	if (sc->limit || !mime_count_part(sc))
		return -1;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);
			size_t cs = 0;
			int cwhole = part_start(w, child, &cs) < 0;
			int r = walk(w, child, depth, cs, cwhole);
			if (r != 0)
				return r;
		}
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *root = m ? g_mime_message_get_mime_part(m) : NULL;

		if (root == NULL)
			return 0;
		if (depth + 1 > sc->conf->max_depth) {
			mime_set_limit(sc, "messages nested deeper than %d levels",
			    sc->conf->max_depth);
			return -1;
		}
		return walk(w, root, depth + 1, ustart, whole);
	}
	if (GMIME_IS_PART(obj))
		return leaf(w, obj, depth, ustart, whole);
	return 0;
}

/* Parse w->base (owned by the caller, not copied) and walk it. */
static int
parse_and_walk_once(struct walker *w, int depth)
{
	GByteArray *ba;
	GMimeStream *st;
	GMimeParser *p;
	GMimeParserOptions *po;
	GMimeMessage *m;
	GMimeObject *root;
	int r = 0;

	ba = g_byte_array_new_take((guint8 *)w->base, w->len);
	st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	p = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_persist_stream(p, TRUE);
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, parser_warning, w->sc);
	m = g_mime_parser_construct_message(p, po);
	if (w->sc->limit)
		r = -1;
	else if (m && (root = g_mime_message_get_mime_part(m)) != NULL)
		r = walk(w, root, depth, w->body_off, 1);
	else
		mime_set_malformed(w->sc, "no message could be parsed");
	if (m)
		g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	g_mime_parser_options_free(po);
	/* the text goes back to the caller, the array goes */
	g_byte_array_steal(ba, NULL);
	g_byte_array_unref(ba);
	return r;
}

/* Walk w->base as GMime reads it, then once per reading of its parts
   with several Content-Type fields: 0, 1 at the first hit (first-hit
   mode), -1 at a limit. */
static int
parse_and_walk(struct walker *w, int depth)
{
	struct mime_readings rd;
	size_t n = mime_readings_find(w->base, w->len, &rd), k;
	int r = parse_and_walk_once(w, depth);

	if (r == 0 && n > MIME_MAX_READINGS) {
		mime_set_limit(w->sc, "more than %d Content-Type fields in one part",
		    MIME_MAX_READINGS);
		r = -1;
	}
	for (k = 0; r == 0 && k < n; k++) {
		struct walker v = *w;
		char *copy = mime_reading(w->base, w->len, &rd, k);

		v.base = copy;
		r = parse_and_walk_once(&v, depth);
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
	w.base = msg;
	w.len = len;
	w.first = &h;
	r = parse_and_walk(&w, depth);
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
					    "multipart") == 0 || is_message_type(ct);
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
	w.base = text.data;
	w.len = text.len;
	w.body_off = text.len - bodylen;
	w.res = res;
	r = parse_and_walk(&w, 0);
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
