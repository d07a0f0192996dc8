/*
 * NAME
 *	dsn - an RFC 3464 delivery status notification to a sender
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct dsn_info di = { .reporting_mta = "mx.example.com", ... };
 *	size_t len;
 *	char *msg = dsn_build(&di, &len);	(free() it)
 *
 *	struct mm_buf q = MM_BUF_SOFT_INIT;			(the headers quoted)
 *	if (dsn_quote_header(&q, 4096, name, value) == 0) stop quoting...
 * DESCRIPTION
 *	Builds the notice sent to a MAIL FROM address: From, To, Subject,
 *	Date, Message-ID and "Auto-Submitted: auto-replied" (RFC 3834, so
 *	that no autoresponder answers it), and a multipart/report body of
 *	report-type delivery-status (RFC 6522) with three parts:
 *	the human-readable text (rendered from a template), the
 *	message/delivery-status fields (RFC 3464: Reporting-MTA,
 *	Received-From-MTA, Arrival-Date, then Final-Recipient, Action and
 *	Status for each recipient of the original message) and the original
 *	message's headers as text/rfc822-headers. Every line ends in CRLF
 *	and none is longer than RFC 5322's 998 characters; the notice is
 *	7-bit (mimeenc.c): the Subject is folded, or RFC 2047 encoded when
 *	it carries 8-bit text or a word too long to fold; a text part with
 *	8-bit text or overlong lines is UTF-8 in quoted-printable; the
 *	delivery-status fields are printable ASCII, folded.
 *
 *	dsn_quote_header() adds one header field of the original message
 *	to the block the notice quotes, only when all of it fits within
 *	max bytes: a notice never carries part of a field, and a message
 *	with huge headers cannot make it large.
 *	The notice goes out with the null sender (probe_from), as RFC 3464
 *	requires.
 * DIAGNOSTICS
 *	dsn_build() returns NULL when out of memory. dsn_quote_header()
 *	returns 1 added, 0 no room, -1 out of memory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbv.h"

/* RFC 5322 date, in UTC, independent of the locale. */
static void
rfc5322_date(double t, char *out, size_t len)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, len, "%s, %d %s %d %02d:%02d:%02d +0000", day[tm.tm_wday],
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* A text part: 7-bit as it is, else UTF-8 in quoted-printable. */
static void
text_part(struct mm_buf *b, const char *type, const char *desc, const char *text)
{
	char *u;

	if (!mime_needs_qp(text)) {
		mm_buf_adds(b, "Content-Type: ");
		mm_buf_adds(b, type);
		mm_buf_adds(b, "; charset=us-ascii\r\n");
		mime_header(b, "Content-Description", desc, 1);
		mm_buf_adds(b, "\r\n");
		mbuf_text(b, text);
	} else if ((u = mime_utf8(text)) != NULL) {
		mm_buf_adds(b, "Content-Type: ");
		mm_buf_adds(b, type);
		mm_buf_adds(b, "; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n");
		mime_header(b, "Content-Description", desc, 1);
		mm_buf_adds(b, "\r\n");
		mime_qp(b, u);
		free(u);
	} else
		b->oom = 1;
	/* the CRLF before the boundary belongs to the boundary (RFC 2046
	   5.1.1): without this one the text's last line end would be lost */
	mm_buf_adds(b, "\r\n");
}

/* A delivery-status field: printable ASCII on one line, folded. */
static void
ds_field(struct mm_buf *b, const char *name, const char *type, const char *value,
    const char *comment)
{
	char v[CBV_ADDR_MAX * 2], c[64], line[sizeof(v) + sizeof(c) + 64];

	smtp_sanitize(value ? value : "", v, sizeof(v));
	smtp_sanitize(comment ? comment : "", c, sizeof(c));
	snprintf(line, sizeof(line), "%s%s%s%s%s%s", type ? type : "",
	    type ? "; " : "", v, *c ? " (" : "", c, *c ? ")" : "");
	mime_header(b, name, line, 0);
}

char *
dsn_build(const struct dsn_info *di, size_t *len)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;
	char date[64], arrival[64], boundary[64], buf[CBV_ADDR_MAX + 512];
	uint32_t r1 = arc4random(), r2 = arc4random();

	rfc5322_date(di->now, date, sizeof(date));
	rfc5322_date(di->arrival, arrival, sizeof(arrival));
	snprintf(boundary, sizeof(boundary), "%.0f.%08x%08x/%s", di->now, r1, r2,
	    "cbv");

	mime_header(&b, "From", di->from, 0);
	snprintf(buf, sizeof(buf), "<%s>", di->to);
	mime_header(&b, "To", buf, 0);
	mime_header(&b, "Subject", di->subject, 1);
	mime_header(&b, "Date", date, 0);
	snprintf(buf, sizeof(buf), "<%.0f.%08x%08x@%s>", di->now, r2, r1,
	    di->reporting_mta);
	mime_header(&b, "Message-ID", buf, 0);
	mm_buf_adds(&b, "Auto-Submitted: auto-replied\r\n");
	mm_buf_adds(&b, "MIME-Version: 1.0\r\n");
	mm_buf_adds(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"");
	mm_buf_adds(&b, boundary);
	mm_buf_adds(&b, "\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	mm_buf_adds(&b, "--");
	mm_buf_adds(&b, boundary);
	mm_buf_adds(&b, "\r\n");
	text_part(&b, "text/plain", "Notification", di->text ? di->text : "");

	mm_buf_adds(&b, "--");
	mm_buf_adds(&b, boundary);
	mm_buf_adds(&b, "\r\nContent-Type: message/delivery-status\r\n"
	    "Content-Description: Delivery report\r\n\r\n");
	ds_field(&b, "Reporting-MTA", "dns", di->reporting_mta, NULL);
	if (di->client_helo && *di->client_helo)
		ds_field(&b, "Received-From-MTA", "dns", di->client_helo,
		    di->client_ip ? di->client_ip : "unknown");
	mime_header(&b, "Arrival-Date", arrival, 0);
	for (size_t i = 0; i < (di->nrcpt ? di->nrcpt : 1); i++) {
		mm_buf_adds(&b, "\r\n");
		ds_field(&b, "Final-Recipient", "rfc822", di->nrcpt ?
		    di->rcpts[i] : "postmaster", NULL);
		ds_field(&b, "Action", NULL, di->action ? di->action : "delayed", NULL);
		ds_field(&b, "Status", NULL, di->status ? di->status : "4.7.0", NULL);
		if (di->diagnostic && *di->diagnostic)
			ds_field(&b, "Diagnostic-Code", "X-SPF", di->diagnostic, NULL);
	}
	mm_buf_adds(&b, "\r\n");

	if (di->headers && *di->headers) {
		mm_buf_adds(&b, "--");
		mm_buf_adds(&b, boundary);
		mm_buf_adds(&b, "\r\n");
		text_part(&b, "text/rfc822-headers", "Headers of the message",
		    di->headers);
	}
	mm_buf_adds(&b, "--");
	mm_buf_adds(&b, boundary);
	mm_buf_adds(&b, "--\r\n");
	if (b.oom) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

int
dsn_quote_header(struct mm_buf *q, size_t max, const char *name,
    const char *value)
{
	size_t need = strlen(name) + 2 + strlen(value) + 1;

	if (q->len + need > max)
		return 0;
	mm_buf_adds(q, name);
	mm_buf_adds(q, ": ");
	mm_buf_adds(q, value);
	mm_buf_adds(q, "\n");
	return q->oom ? -1 : 1;
}
