/*
 * NAME
 *	dsn - an RFC 3464 delivery status notification to a sender
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct dsn_info di = { .reporting_mta = "mx.example.com", ... };
 *	size_t len;
 *	char *msg = dsn_build(&di, &len);	(free() it)
 * DESCRIPTION
 *	Builds the notice sent to a MAIL FROM address: From, To, Subject,
 *	Date, Message-ID and "Auto-Submitted: auto-replied" (RFC 3834, so
 *	that no autoresponder answers it), and a multipart/report body of
 *	report-type delivery-status (RFC 6522) with three parts:
 *	the human-readable text (rendered from a template), the
 *	message/delivery-status fields (RFC 3464: Reporting-MTA,
 *	Received-From-MTA, Arrival-Date, then Final-Recipient, Action and
 *	Status for each recipient of the original message) and the original
 *	message's headers as text/rfc822-headers. Every line ends in CRLF.
 *	The values of header and report fields come from the sender: each
 *	is kept on its line (control characters become spaces) and cut to
 *	900 bytes, so that no value can add a field or a part.
 *	The notice goes out with the null sender (probe_from), as RFC 3464
 *	requires.
 * DIAGNOSTICS
 *	dsn_build() returns NULL when out of memory.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbv.h"

struct buf {
	char *s;
	size_t n, cap;
	int oom;
};

static void
put_raw(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

/* Text with every line end made CRLF. */
static void
put_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r')
			put_raw(b, "\r\n", 2);
		else
			put_raw(b, s, 1);
	}
}

static void put_fmt(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Formatted text, however long: a cut line would run into the next. */
static void
put_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[256], *s = tmp;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp)) {
		if ((s = malloc((size_t)n + 1)) == NULL) {
			b->oom = 1;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	put_text(b, s);
	if (s != tmp)
		free(s);
}

/*
 * A value inside a header or report field: control characters become
 * spaces, so that it stays on its line whatever the sender put in it,
 * and it is cut at max bytes (not inside a UTF-8 character), so that
 * the line stays within RFC 5322's 998.
 */
static void
put_value(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return;
	while (s[n] && n < max)
		n++;
	if (s[n])
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char sp = ' ';

		if (c < 0x20 || c == 0x7f)
			put_raw(b, &sp, 1);
		else
			put_raw(b, s + i, 1);
	}
}

/* "Name: value\r\n", the value one line of at most VALUE_MAX bytes */
#define VALUE_MAX	900
static void
put_field(struct buf *b, const char *name, const char *value, const char *after)
{
	put_text(b, name);
	put_value(b, value, VALUE_MAX);
	put_text(b, after);
	put_text(b, "\n");
}

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

static int
is_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

char *
dsn_build(const struct dsn_info *di, size_t *len)
{
	struct buf b = { 0 };
	char date[64], arrival[64], boundary[64];
	uint32_t r1 = arc4random(), r2 = arc4random();

	rfc5322_date(di->now, date, sizeof(date));
	rfc5322_date(di->arrival, arrival, sizeof(arrival));
	snprintf(boundary, sizeof(boundary), "%.0f.%08x%08x/%s", di->now, r1, r2,
	    "cbv");

	put_field(&b, "From: ", di->from, "");
	put_field(&b, "To: <", di->to, ">");
	put_field(&b, "Subject: ", di->subject, "");
	put_fmt(&b, "Date: %s\n", date);
	put_fmt(&b, "Message-ID: <%.0f.%08x%08x@", di->now, r2, r1);
	put_field(&b, "", di->reporting_mta, ">");
	put_text(&b, "Auto-Submitted: auto-replied\n");
	put_text(&b, "MIME-Version: 1.0\n");
	put_fmt(&b, "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s\"\n", boundary);
	put_text(&b, "\nThis is a MIME-encapsulated message.\n\n");

	put_fmt(&b, "--%s\n", boundary);
	put_fmt(&b, "Content-Type: text/plain; charset=%s\n", is_ascii(di->text) ?
	    "us-ascii" : "utf-8");
	if (!is_ascii(di->text))
		put_text(&b, "Content-Transfer-Encoding: 8bit\n");
	put_text(&b, "Content-Description: Notification\n\n");
	put_text(&b, di->text);
	if (b.n > 0 && b.s[b.n - 1] != '\n')
		put_text(&b, "\n");

	put_fmt(&b, "--%s\n", boundary);
	put_text(&b, "Content-Type: message/delivery-status\n"
	    "Content-Description: Delivery report\n\n");
	put_field(&b, "Reporting-MTA: dns; ", di->reporting_mta, "");
	if (di->client_helo && *di->client_helo) {
		put_text(&b, "Received-From-MTA: dns; ");
		put_value(&b, di->client_helo, VALUE_MAX / 2);
		put_field(&b, " (", di->client_ip ? di->client_ip : "unknown", ")");
	}
	put_fmt(&b, "Arrival-Date: %s\n", arrival);
	for (size_t i = 0; i < (di->nrcpt ? di->nrcpt : 1); i++) {
		put_field(&b, "\nFinal-Recipient: rfc822; ", di->nrcpt ? di->rcpts[i] :
		    "postmaster", "");
		put_field(&b, "Action: ", di->action ? di->action : "delayed", "");
		put_field(&b, "Status: ", di->status ? di->status : "4.7.0", "");
		if (di->diagnostic && *di->diagnostic)
			put_field(&b, "Diagnostic-Code: X-SPF; ", di->diagnostic, "");
	}
	put_text(&b, "\n");

	if (di->headers && *di->headers) {
		put_fmt(&b, "--%s\n", boundary);
		put_text(&b, "Content-Type: text/rfc822-headers\n"
		    "Content-Description: Headers of the message\n\n");
		put_text(&b, di->headers);
		put_text(&b, "\n");
	}
	put_fmt(&b, "--%s--\n", boundary);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	*len = b.n;
	return b.s;
}
