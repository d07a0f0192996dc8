/*
 * NAME
 *	reply - SMTP replies that are safe to hand to the MTA
 * DESCRIPTION
 *	See reply.h. RFC 5321 §4.2 for codes, RFC 3463 for enhanced codes.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util.h"

static int
valid_rcode(const char *c, char cls)
{
	return c && strlen(c) == 3 && c[0] == cls && c[1] >= '0' && c[1] <= '5' &&
	    isdigit((unsigned char)c[2]);
}

/* class.subject.detail, subject and detail 1-3 digits */
static int
valid_xcode(const char *x)
{
	int part = 0, digits = 0;

	if (x == NULL || (x[0] != '2' && x[0] != '4' && x[0] != '5') || x[1] != '.')
		return 0;
	for (const char *p = x + 2; ; p++) {
		if (isdigit((unsigned char)*p)) {
			if (++digits > 3)
				return 0;
		} else if (*p == '.' || *p == 0) {
			if (digits == 0)
				return 0;
			digits = 0;
			if (++part > 2)
				return 0;
			if (*p == 0)
				return part == 2;
		} else
			return 0;
	}
}

void
reply_make(struct reply *r, mm_verdict v, const char *rcode,
    const char *xcode, const char *text)
{
	char cls = v == MM_TEMPFAIL ? '4' : '5';
	const char *defcode = cls == '4' ? "451" : "550";
	const char *defx = cls == '4' ? "4.7.1" : "5.7.1";
	const char *deftext = cls == '4' ?
	    "Temporary failure, please try again later" : "Message rejected";
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	strcpy(r->rcode, valid_rcode(rcode, cls) ? rcode : defcode);
	if (valid_xcode(xcode) && strlen(xcode) < sizeof(r->xcode)) {
		strcpy(r->xcode, xcode);
		r->xcode[0] = cls;
	} else
		strcpy(r->xcode, defx);

	if (text == NULL)
		text = "";
	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	r->text = xmalloc(2 * REPLY_TEXT_MAX + 2);
	for (const char *p = text; *p && n < REPLY_TEXT_MAX; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			if (n + 2 > REPLY_TEXT_MAX)
				break;
			r->text[n++] = '%';
			r->text[n++] = '%';
		} else if (c < 0x20 || c == 0x7f) {
			if (n > 0 && r->text[n - 1] != ' ')
				r->text[n++] = ' ';
		} else
			r->text[n++] = (char)c;
	}
	while (n > 0 && r->text[n - 1] == ' ')
		n--;
	r->text[n] = 0;
	if (n == 0) {
		free(r->text);
		r->text = xstrdup(deftext);
	}
}

void
reply_copy(struct reply *dst, const struct reply *src)
{
	*dst = *src;
	dst->text = src->text ? xstrdup(src->text) : NULL;
}

void
reply_free(struct reply *r)
{
	free(r->text);
	r->text = NULL;
}
