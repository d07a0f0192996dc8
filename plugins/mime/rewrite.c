/*
 * NAME
 *	rewrite - the new body: each banned part replaced by a notice
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	mime_rewrite(body, len, &res, saved_id, &out);
 *	mime_notice(&buf, &hit, saved_id, part);
 * DESCRIPTION
 *	mime_rewrite() copies the body and splices, in place of each
 *	unit's byte range, a text/plain part named WARNING.TXT saying
 *	which file was removed, why, and under which id the original
 *	message is kept. Everything outside those ranges (the other
 *	parts, boundaries, preamble and epilogue) is copied byte for
 *	byte, so the message's structure and its other parts are exactly
 *	what they were. A unit that is the whole message makes the body
 *	the notice's text alone (naming every finding); the caller then
 *	rewrites the top-level Content-* fields, with quoted-printable
 *	when mime_rewrite() returns 1.
 *
 *	The notice is 7bit when the names are ASCII, quoted-printable
 *	(UTF-8) otherwise, with CRLF line ends like the body around it.
 *	mime_ascii() gives a printable ASCII rendering of a name for an
 *	SMTP reply or a log line.
 * DIAGNOSTICS
 *	None.
 */
#include <stdlib.h>
#include <string.h>

#include "mime.h"

#define SHOWN_MAX	300	/* bytes of a name in a notice */

/* s cut to at most max bytes on a UTF-8 character boundary */
static char *
cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return mime_xstrdup(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return mime_xasprintf("%.*s...", (int)n, s);
}

static int
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Quoted-printable with CRLF hard breaks and lines of at most 76. */
static void
qp_encode(struct mime_buf *b, const char *s)
{
	size_t col = 0;
	char enc[4];

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\r' && p[1] == '\n') {
			mime_buf_adds(b, "\r\n");
			p++;
			col = 0;
			continue;
		}
		if (*p >= 0x80 || *p == '=' || *p < 0x20 ||
		    (*p == ' ' && (p[1] == '\r' || p[1] == 0))) {
			enc[0] = '=';
			enc[1] = "0123456789ABCDEF"[*p >> 4];
			enc[2] = "0123456789ABCDEF"[*p & 15];
			enc[3] = 0;
		} else {
			enc[0] = (char)*p;
			enc[1] = 0;
		}
		if (col + strlen(enc) > 75) {
			mime_buf_adds(b, "=\r\n");
			col = 0;
		}
		mime_buf_adds(b, enc);
		col += strlen(enc);
	}
}

void
mime_notice(struct mime_buf *b, const struct mime_hit *hits, size_t nhits,
    const char *saved_id, int part, int *qp)
{
	struct mime_buf text = { 0 };
	int ascii;

	mime_buf_printf(&text, "This message contained %s that %s removed:\r\n\r\n",
	    nhits > 1 ? "attachments" : "an attachment", nhits > 1 ? "were" : "was");
	for (size_t i = 0; i < nhits; i++) {
		char *name = cut_utf8(hits[i].name ? hits[i].name : "", SHOWN_MAX);
		mime_buf_printf(&text, "    %s\r\n    (%s)\r\n\r\n", name,
		    hits[i].reason ? hits[i].reason : "banned");
		free(name);
	}
	if (saved_id)
		mime_buf_printf(&text,
		    "The original message is kept under the id %s.\r\n"
		    "Ask your mail administrator if you need it.\r\n", saved_id);
	else
		mime_buf_adds(&text,
		    "Ask the sender to send it in another form if you need it.\r\n");
	ascii = is_ascii(text.data);
	if (qp)
		*qp = !ascii;
	if (part)
		mime_buf_printf(b,
		    "Content-Type: text/plain; charset=%s; name=\"WARNING.TXT\"\r\n"
		    "Content-Disposition: inline; filename=\"WARNING.TXT\"\r\n"
		    "Content-Transfer-Encoding: %s\r\n"
		    "\r\n", ascii ? "us-ascii" : "utf-8",
		    ascii ? "7bit" : "quoted-printable");
	if (ascii)
		mime_buf_add(b, text.data, text.len);
	else
		qp_encode(b, text.data);
	mime_buf_free(&text);
}

int
mime_rewrite(const char *body, size_t len, const struct mime_result *res,
    const char *saved_id, struct mime_buf *out)
{
	size_t pos = 0;
	int qp = 0;

	for (size_t i = 0; i < res->n; i++)
		if (res->u[i].whole) {
			/* the notice is the message; it names every finding */
			struct mime_hit *hits = mime_xmalloc(res->n * sizeof(*hits));
			for (size_t j = 0; j < res->n; j++)
				hits[j] = res->u[j].hit;
			mime_notice(out, hits, res->n, saved_id, 0, &qp);
			free(hits);
			return qp;
		}
	for (size_t i = 0; i < res->n; i++) {
		const struct mime_unit *u = &res->u[i];

		if (u->start < pos || u->end > len || u->end < u->start)
			continue;	/* nested in one already replaced */
		mime_buf_add(out, body + pos, u->start - pos);
		mime_notice(out, &u->hit, 1, saved_id, 1, NULL);
		pos = u->end;
	}
	mime_buf_add(out, body + pos, len - pos);
	return 0;
}

char *
mime_ascii(const char *s, size_t max)
{
	struct mime_buf b = { 0 };

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (b.len >= max) {
			mime_buf_adds(&b, "...");
			break;
		}
		if (*p >= 0x20 && *p < 0x7f)
			mime_buf_add(&b, p, 1);
		else {
			mime_buf_add(&b, "?", 1);
			while ((p[1] & 0xc0) == 0x80)
				p++;	/* one '?' per character */
		}
	}
	if (b.data == NULL)
		mime_buf_adds(&b, "");
	return b.data;
}
