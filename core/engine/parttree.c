/*
 * NAME
 *	parttree - the MIME tree of a message (GMime) as the list of its parts
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	msgparts_gmime_init();
 *	if (parts_needs_parser(&p->p[0]))
 *		parts_parse_gmime(p);
 * DESCRIPTION
 *	The MIME parser's half of msgparts.c. parts_needs_parser() says
 *	whether any top-level Content-Type field of the message (its root
 *	part's fields) makes it more than one leaf: multipart, or
 *	message/rfc822 (global, news). parts_parse_gmime() parses the
 *	message's buffer (p->text) with GMime over that buffer with the
 *	parser's streams kept, so that every part's content is a range of
 *	it and nothing is copied again, and turns the tree into the flat
 *	list in document order, each part naming its parent; every string
 *	a part holds is copied into the parse's arena, and GMime's objects
 *	are released before it returns.
 *
 *	GMime's critical warnings (a multipart without a boundary or whose
 *	boundary never appears, a truncated message, invalid header names,
 *	conflicting fields or parameters, excessive nesting) become the
 *	MM_PARTS_* problems, the first one's text kept; the parse goes on
 *	and lists every part GMime found.
 *
 *	msgparts_gmime_init() initialises GMime once per process.
 * DIAGNOSTICS
 *	parts_parse_gmime() records MM_PARTS_MALFORMED when no message
 *	could be parsed (the list is then left empty).
 */
#define _GNU_SOURCE 1	/* strcasestr */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "msgparts.h"

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
	struct mm_part *pt = parts_new_part(p, kind, parent, depth);
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
int
parts_needs_parser(const struct mm_part *root)
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

void
parts_parse_gmime(struct mm_parts *p)
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
