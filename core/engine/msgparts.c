/*
 * NAME
 *	msgparts - parse a message once (GMime) into a list of its parts
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	struct mm_parts *p = msgparts_parse(msg, len);
 *	struct mm_parts *p = msgparts_from(fields, nfields, body, blen);
 *	const struct mm_part *part = msgparts_at(p, i);
 *	msgparts_free(p);
 * DESCRIPTION
 *	The message is copied into one buffer (the header fields as
 *	"Name: value" lines with CRLF, a blank line, the body) and parsed
 *	with GMime over that buffer with the parser's streams kept, so
 *	that every part's content is a range of it and nothing is copied
 *	again. The tree becomes a flat list in document order, each part
 *	naming its parent; every string a part holds is copied into the
 *	parse's arena, and GMime's objects are released before the list
 *	is handed out.
 *
 *	A message none of whose Content-Type fields is multipart or
 *	message/rfc822 (global, news) is one leaf: it is read from its
 *	header fields without running the MIME parser, as that is most
 *	mail and the parser costs more than all the rest.
 *
 *	GMime's critical warnings (a multipart without a boundary or whose
 *	boundary never appears, a truncated message, invalid header names,
 *	conflicting fields or parameters, excessive nesting) become the
 *	MM_PARTS_* problems, the first one's text kept; the parse goes on
 *	and lists every part GMime found.
 *
 *	A part's names are every name and filename parameter of every
 *	Content-Type and Content-Disposition field it has, as GMime
 *	decodes them (RFC 2231, RFC 2047): duplicated fields or parameters
 *	hide no name. With several Content-Type fields, types lists each
 *	one's media type.
 * DIAGNOSTICS
 *	Never fails but for memory (which aborts, as xmalloc does): any
 *	input gives a list of at least one part.
 */
#define _GNU_SOURCE 1	/* strcasestr */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "msgparts.h"
#include "util.h"

void
parts_problem(struct mm_parts *p, unsigned bit, const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	p->problems |= bit;
	if (p->why || bit != MM_PARTS_MALFORMED)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->why = xstrdup(buf);
}

static void
parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
    gpointer data)
{
	struct mm_parts *p = data;
	const char *it = item ? item : "";

	switch (code) {
	case GMIME_CRIT_NESTING_OVERFLOW:
		parts_problem(p, MM_PARTS_TOO_DEEP, "MIME parts nested too deeply");
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		parts_problem(p, MM_PARTS_MALFORMED, "multipart without a boundary "
		    "(offset %lld)", (long long)offset);
		break;
	case GMIME_WARN_MALFORMED_MULTIPART:
		parts_problem(p, MM_PARTS_MALFORMED, "multipart whose boundary never "
		    "appears (offset %lld)", (long long)offset);
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		parts_problem(p, MM_PARTS_MALFORMED, "truncated message (a closing "
		    "boundary is missing)");
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		parts_problem(p, MM_PARTS_MALFORMED, "malformed message (offset %lld)",
		    (long long)offset);
		break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		parts_problem(p, MM_PARTS_MALFORMED, "part without headers or content "
		    "(offset %lld)", (long long)offset);
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
		parts_problem(p, MM_PARTS_MALFORMED, "invalid header name (offset %lld)",
		    (long long)offset);
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		parts_problem(p, MM_PARTS_MALFORMED, "conflicting %.64s header fields", it);
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		parts_problem(p, MM_PARTS_MALFORMED, "conflicting %.64s parameters", it);
		break;
	default:
		break;
	}
}

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_init_once(void)
{
	g_mime_init();
}

void
msgparts_gmime_init(void)
{
	pthread_once(&gmime_once, gmime_init_once);
}

/* --- the list --- */

static struct mm_part *
new_part(struct mm_parts *p, mm_part_kind kind, int parent, int depth)
{
	struct mm_part *pt;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->p = xrealloc(p->p, p->cap * sizeof(*p->p));
		p->slot = xrealloc(p->slot, p->cap * sizeof(*p->slot));
	}
	pt = &p->p[p->n];
	memset(pt, 0, sizeof(*pt));
	memset(&p->slot[p->n], 0, sizeof(p->slot[p->n]));
	p->slot[p->n].ce = 0;
	p->slot[p->n].cs = 1;		/* no content */
	pt->kind = kind;
	pt->parent = parent;
	pt->depth = depth;
	pt->start = pt->content_start = pt->content_end = -1;
	p->n++;
	return pt;
}

static long
body_offset(const struct mm_parts *p, gint64 off)
{
	return off >= (gint64)p->body_off && (guint64)off <= p->len ?
	    (long)(off - (gint64)p->body_off) : -1;
}

/* The fields of one or two header lists (a message's, and its root
   part's Content-* ones, which GMime keeps apart), in message order. */
static void
copy_fields(struct mm_parts *p, struct mm_part *pt, GMimeHeaderList *a,
    GMimeHeaderList *b)
{
	int na = a ? g_mime_header_list_get_count(a) : 0;
	int nb = b && b != a ? g_mime_header_list_get_count(b) : 0;
	struct mm_part_field *f;
	int i = 0, j = 0, o = 0;

	if (na + nb <= 0)
		return;
	f = parts_alloc(p, (size_t)(na + nb) * sizeof(*f));
	while (i < na || j < nb) {
		GMimeHeader *ha = i < na ? g_mime_header_list_get_header_at(a, i) : NULL;
		GMimeHeader *hb = j < nb ? g_mime_header_list_get_header_at(b, j) : NULL;
		GMimeHeader *h = ha == NULL ? hb : hb == NULL ? ha :
		    g_mime_header_get_offset(hb) < g_mime_header_get_offset(ha) ? hb : ha;
		const char *raw = g_mime_header_get_raw_value(h);

		if (h == ha)
			i++;
		else
			j++;
		f[o].name = parts_strdup(p, g_mime_header_get_name(h));
		f[o].value = parts_unfold(p, raw ? raw : "");
		o++;
	}
	pt->fields = f;
	pt->nfields = (size_t)o;
}

static void walk(struct mm_parts *p, GMimeObject *obj, int parent, int depth,
    GMimeHeaderList *msghl);

static void
walk_leaf(struct mm_parts *p, struct mm_part *pt, size_t idx, GMimeObject *obj)
{
	GMimePart *part = GMIME_PART(obj);
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	struct part_slot *sl = &p->slot[idx];
	const char *fn = g_mime_part_get_filename(part);

	pt->filename = parts_strdup(p, fn);
	switch (g_mime_part_get_content_encoding(part)) {
	case GMIME_CONTENT_ENCODING_7BIT: pt->encoding = MM_CTE_7BIT; break;
	case GMIME_CONTENT_ENCODING_8BIT: pt->encoding = MM_CTE_8BIT; break;
	case GMIME_CONTENT_ENCODING_BINARY: pt->encoding = MM_CTE_BINARY; break;
	case GMIME_CONTENT_ENCODING_BASE64: pt->encoding = MM_CTE_BASE64; break;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: pt->encoding = MM_CTE_QP; break;
	case GMIME_CONTENT_ENCODING_UUENCODE: pt->encoding = MM_CTE_UUENCODE; break;
	default:
		pt->encoding = parts_cte_parse(g_mime_object_get_header(obj,
		    "Content-Transfer-Encoding"));
		break;
	}
	if (s && GMIME_IS_STREAM_MEM(s)) {
		gint64 b = s->bound_start, e = s->bound_end < 0 ?
		    (gint64)p->len : s->bound_end;

		if (b >= 0 && b <= e && (guint64)e <= p->len) {
			sl->cs = (size_t)b;
			sl->ce = (size_t)e;
			pt->content_start = body_offset(p, b);
			pt->content_end = body_offset(p, e);
			pt->size = sl->ce - sl->cs;
			if (pt->start < 0) {
				/* no header: the part starts at the line end
				   before its content */
				size_t st = sl->cs;
				if (st >= 2 && p->text[st - 2] == '\r' && p->text[st - 1] == '\n')
					st -= 2;
				else if (st >= 1 && p->text[st - 1] == '\n')
					st -= 1;
				pt->start = body_offset(p, (gint64)st);
			}
		}
	}
}

static void
walk(struct mm_parts *p, GMimeObject *obj, int parent, int depth,
    GMimeHeaderList *msghl)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	mm_part_kind kind = GMIME_IS_MULTIPART(obj) ? MM_PART_MULTIPART :
	    GMIME_IS_MESSAGE_PART(obj) ? MM_PART_MESSAGE : MM_PART_LEAF;
	size_t idx = p->n;
	struct mm_part *pt = new_part(p, kind, parent, depth);
	struct parts_strv names = { 0 };

	if (hl && g_mime_header_list_get_count(hl) > 0) {
		gint64 off = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, 0));
		pt->start = body_offset(p, off);
	}
	copy_fields(p, pt, msghl ? msghl : hl, msghl ? hl : NULL);
	if (ct) {
		char *t = g_mime_content_type_get_mime_type(ct);
		pt->type = parts_lower(p, t);
		g_free(t);
		pt->charset = parts_strdup(p, g_mime_content_type_get_parameter(ct, "charset"));
		parts_param_names(g_mime_content_type_get_parameters(ct), &names, p);
	} else
		pt->type = "text/plain";
	if (cd) {
		pt->disposition = parts_lower(p, g_mime_content_disposition_get_disposition(cd));
		parts_param_names(g_mime_content_disposition_get_parameters(cd), &names, p);
	}
	pt->names = parts_strv_finish(&names, p, &pt->nnames);
	if (kind == MM_PART_LEAF && GMIME_IS_PART(obj))
		walk_leaf(p, pt, idx, obj);
	/* the root of a message has the message's fields: the part's own
	   Content-* ones are read from its own list */
	if (msghl && hl != msghl) {
		const struct mm_part_field *all = pt->fields;
		size_t nall = pt->nfields;
		copy_fields(p, pt, hl, NULL);
		parts_read_fields(p, pt, 0);
		pt = &p->p[idx];
		pt->fields = all;
		pt->nfields = nall;
	} else
		parts_read_fields(p, pt, 0);
	pt = &p->p[idx];
	if (pt->kind == MM_PART_LEAF && p->slot[idx].cs <= p->slot[idx].ce) {
		if (pt->encoding == MM_CTE_NONE || pt->encoding == MM_CTE_7BIT ||
		    pt->encoding == MM_CTE_8BIT || pt->encoding == MM_CTE_BINARY)
			pt->detected = parts_detect(p->text + p->slot[idx].cs,
			    p->slot[idx].ce - p->slot[idx].cs);
		else
			pt->detected = pt->encoding;
	}
	if (kind == MM_PART_MULTIPART) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk(p, g_mime_multipart_get_part(mp, i), (int)idx, depth, NULL);
	} else if (kind == MM_PART_MESSAGE) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *root = m ? g_mime_message_get_mime_part(m) : NULL;

		if (root)
			walk(p, root, (int)idx, depth + 1,
			    g_mime_object_get_header_list(GMIME_OBJECT(m)));
	}
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

/* Does any top-level Content-Type field make the message more than one
   leaf? GMime parses a field only when it may. */
static int
needs_parser(const struct mm_part *root)
{
	for (size_t i = 0; i < root->nfields; i++) {
		const char *v = root->fields[i].value;
		GMimeContentType *ct;
		int r;

		if (strcasecmp(root->fields[i].name, "Content-Type") != 0 ||
		    (strcasestr(v, "multipart") == NULL && strcasestr(v, "message") == NULL))
			continue;
		if ((ct = g_mime_content_type_parse(NULL, v)) == NULL)
			continue;
		r = g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct),
		    "multipart") == 0 || is_message_type(ct);
		g_object_unref(ct);
		if (r)
			return 1;
	}
	return 0;
}

static void
parse_gmime(struct mm_parts *p)
{
	GByteArray *ba = g_byte_array_new_take((guint8 *)p->text, p->len);
	GMimeStream *st = g_mime_stream_mem_new_with_byte_array(ba);
	GMimeParser *ps;
	GMimeParserOptions *po = g_mime_parser_options_new();
	GMimeMessage *m;
	GMimeObject *root;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	ps = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_persist_stream(ps, TRUE);
	g_mime_parser_options_set_warning_callback(po, parser_warning, p);
	m = g_mime_parser_construct_message(ps, po);
	if (m && (root = g_mime_message_get_mime_part(m)) != NULL) {
		p->n = 0;
		walk(p, root, -1, 0, g_mime_object_get_header_list(GMIME_OBJECT(m)));
	} else
		parts_problem(p, MM_PARTS_MALFORMED, "no message could be parsed");
	if (m)
		g_object_unref(m);
	g_object_unref(ps);
	g_object_unref(st);
	g_mime_parser_options_free(po);
	g_byte_array_steal(ba, NULL);
	g_byte_array_unref(ba);
}

/* The root as one leaf, from its fields; content: the whole body. */
static void
fast_root(struct mm_parts *p, struct mm_part_field *f, size_t nf)
{
	struct mm_part *pt = new_part(p, MM_PART_LEAF, -1, 0);

	pt->fields = f;
	pt->nfields = nf;
	parts_read_fields(p, pt, 1);
	pt = &p->p[0];
	p->slot[0].cs = p->body_off;
	p->slot[0].ce = p->len;
	pt->content_start = 0;
	pt->content_end = (long)(p->len - p->body_off);
	pt->size = p->len - p->body_off;
	pt->detected = pt->encoding == MM_CTE_BASE64 || pt->encoding == MM_CTE_QP ||
	    pt->encoding == MM_CTE_UUENCODE ? pt->encoding :
	    parts_detect(p->text + p->body_off, pt->size);
}

static struct mm_parts *
parts_new(void)
{
	struct mm_parts *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	msgparts_gmime_init();
	return p;
}

static void
finish(struct mm_parts *p, struct mm_part_field *f, size_t nf)
{
	fast_root(p, f, nf);
	if (needs_parser(&p->p[0])) {
		struct mm_part root = p->p[0];
		struct part_slot rs = p->slot[0];

		parse_gmime(p);
		if (p->n == 0) {	/* nothing parsed: keep the one leaf */
			p->n = 1;
			p->p[0] = root;
			p->slot[0] = rs;
		}
		/* the message's own fields as they came, in their order */
		p->p[0].fields = root.fields;
		p->p[0].nfields = root.nfields;
	}
}

/* Append s (len) to b with bare LF made CRLF. */
static void
add_crlf(struct mm_buf *b, const char *s)
{
	for (const char *q = s; *q; ) {
		size_t n = strcspn(q, "\r\n");
		buf_add(b, q, n);
		q += n;
		if (*q == '\r' && q[1] == '\n') {
			buf_adds(b, "\r\n");
			q += 2;
		} else if (*q) {
			buf_adds(b, "\r\n");
			q++;
		}
	}
}

struct mm_parts *
msgparts_from(const struct msgparts_field *fl, size_t nf,
    const unsigned char *body, size_t blen)
{
	struct mm_parts *p = parts_new();
	struct mm_buf b = { 0 };
	struct mm_part_field *f = nf ? parts_alloc(p, nf * sizeof(*f)) : NULL;

	for (size_t i = 0; i < nf; i++) {
		const char *v = fl[i].value ? fl[i].value : "";

		buf_adds(&b, fl[i].name);
		buf_adds(&b, *v == 0 || *v == '\t' || *v == '\r' || *v == '\n' ?
		    ":" : ": ");
		add_crlf(&b, v);
		buf_adds(&b, "\r\n");
		f[i].name = parts_strdup(p, fl[i].name);
		f[i].value = parts_unfold(p, v);
	}
	buf_adds(&b, "\r\n");
	p->body_off = b.len;
	buf_add(&b, body, blen);
	buf_add(&b, "", 1);		/* a NUL after the text, not counted */
	p->len = b.len - 1;
	p->text = b.data;
	finish(p, f, nf);
	return p;
}

struct mm_parts *
msgparts_parse(const unsigned char *msg, size_t len)
{
	struct mm_parts *p = parts_new();
	struct mm_part_field *f = NULL;
	size_t nf = 0, cap = 0, pos = 0;
	struct mm_buf val = { 0 };
	const char *name = NULL;

	/* an mbox "From " separator line is not a header field */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		const unsigned char *nl = memchr(msg, '\n', len);
		size_t skip = nl ? (size_t)(nl - msg) + 1 : len;
		msg += skip;
		len -= skip;
	}
	p->text = xmalloc(len + 1);
	memcpy(p->text, msg, len);
	p->text[len] = 0;
	p->len = len;
	/* the header: fields up to the first empty line */
	for (;;) {
		const char *t = p->text + pos;
		const char *nl = pos < len ? memchr(t, '\n', len - pos) : NULL;
		size_t ll = nl ? (size_t)(nl - t) : len - pos, next = nl ? pos + ll + 1 : len;
		int cont = pos < len && ll > 0 && (t[0] == ' ' || t[0] == '\t');

		if (ll > 0 && t[ll - 1] == '\r')
			ll--;
		if (name && !cont) {
			if (nf == cap) {
				cap = cap ? cap * 2 : 16;
				f = xrealloc(f, cap * sizeof(*f));
			}
			buf_add(&val, "", 1);
			f[nf].name = name;
			f[nf].value = parts_unfold(p, val.data);
			nf++;
			name = NULL;
		}
		if (pos >= len || ll == 0) {
			pos = next;
			break;
		}
		if (cont && name) {
			size_t k = 0;
			while (k < ll && (t[k] == ' ' || t[k] == '\t'))
				k++;
			buf_add(&val, " ", 1);
			buf_add(&val, t + k, ll - k);
		} else if (!cont) {
			const char *colon = memchr(t, ':', ll);
			if (colon) {
				size_t nl2 = (size_t)(colon - t);
				while (nl2 > 0 && (t[nl2 - 1] == ' ' || t[nl2 - 1] == '\t'))
					nl2--;
				name = parts_strndup(p, t, nl2);
				val.len = 0;
				buf_add(&val, colon + 1, ll - (size_t)(colon + 1 - t));
			}
		}
		pos = next;
	}
	buf_free(&val);
	p->body_off = pos > len ? len : pos;
	{
		struct mm_part_field *af = nf ? parts_alloc(p, nf * sizeof(*af)) : NULL;
		if (nf)
			memcpy(af, f, nf * sizeof(*af));
		free(f);
		finish(p, af, nf);
	}
	return p;
}

void
msgparts_free(struct mm_parts *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		if (p->slot[i].own_text)
			free(p->slot[i].utf8);
		if (p->slot[i].own_data)
			free(p->slot[i].data);
	}
	while (p->arena) {
		struct arena_blk *b = p->arena;
		p->arena = b->next;
		free(b);
	}
	pthread_mutex_destroy(&p->lock);
	free(p->p);
	free(p->slot);
	free(p->why);
	free(p->text);
	free(p);
}

size_t
msgparts_count(const struct mm_parts *p)
{
	return p ? p->n : 0;
}

const struct mm_part *
msgparts_at(const struct mm_parts *p, size_t i)
{
	return p && i < p->n ? &p->p[i] : NULL;
}

unsigned
msgparts_problems(const struct mm_parts *p, const char **why)
{
	if (why)
		*why = p == NULL ? NULL : p->why ? p->why :
		    (p->problems & MM_PARTS_TOO_DEEP) ? "MIME parts nested too deeply" :
		    NULL;
	return p ? p->problems : 0;
}

static void
reader_free(void *p)
{
	free(p);
}

/* The reader alone, for programs that run no daemon. */
const struct mm_api msgparts_reader = {
	.size = sizeof(struct mm_api),
	.sdk_major = MM_SDK_MAJOR,
	.sdk_minor = MM_SDK_MINOR,
	.free = reader_free,
	.parts_parse = msgparts_parse,
	.parts_free = msgparts_free,
	.parts_count = msgparts_count,
	.part_at = msgparts_at,
	.part_data = msgparts_data,
	.part_text = msgparts_text,
	.part_raw = msgparts_raw,
	.parts_problems = msgparts_problems,
	.header_decode = msgparts_header_decode,
};

