/*
 * NAME
 *	msgparts - a message once into a list of its parts
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	struct mm_parts *p = msgparts_parse(msg, len);
 *	struct mm_parts *p = msgparts_from(fields, nfields, body, blen);
 *	const struct mm_part *part = msgparts_at(p, i);
 *	msgparts_free(p);
 * DESCRIPTION
 *	The message is copied into one buffer (the header fields as
 *	"Name: value" lines with CRLF, a blank line, the body) and its
 *	header fields read; parttree.c parses it with GMime over that
 *	buffer, so that every part's content is a range of it, into the
 *	flat list of parts (parts_new_part() adds one) that this file
 *	hands out (msgparts_count(), msgparts_at(), msgparts_problems())
 *	and frees.
 *
 *	A message none of whose Content-Type fields is multipart or
 *	message/rfc822 (global, news) is one leaf: it is read from its
 *	header fields without running the MIME parser, as that is most
 *	mail and the parser costs more than all the rest.
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
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* --- the list --- */

struct mm_part *
parts_new_part(struct mm_parts *p, mm_part_kind kind, int parent, int depth)
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

/* The root as one leaf, from its fields; content: the whole body. */
static void
fast_root(struct mm_parts *p, struct mm_part_field *f, size_t nf)
{
	struct mm_part *pt = parts_new_part(p, MM_PART_LEAF, -1, 0);

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
	if (parts_needs_parser(&p->p[0])) {
		struct mm_part root = p->p[0];
		struct part_slot rs = p->slot[0];

		parts_parse_gmime(p);
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

