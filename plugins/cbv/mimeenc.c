/*
 * NAME
 *	mimeenc - header folding, RFC 2047 words and quoted-printable for notices
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct mm_buf b = MM_BUF_SOFT_INIT;
 *	mime_header(&b, "Subject", subject, 1);	(folded, CRLF, encoded if needed)
 *	if (mime_needs_qp(text)) mime_qp(&b, text); else mbuf_text(&b, text);
 *	... b.data, b.len; b.oom after any failure; free(b.data)
 * DESCRIPTION
 *	A notice quotes what a stranger wrote (a Subject, header lines, a
 *	HELO name) and goes to a peer that may not take 8-bit data (we do
 *	not ask for 8BITMIME), so everything it carries is made 7-bit and
 *	every line kept within RFC 5322's 998 characters:
 *
 *	mime_header() writes one header field. Control characters become
 *	spaces, so a value cannot start another field. The field is folded
 *	at spaces (RFC 5322 2.2.3) to stay near 78 characters. An
 *	unstructured value (Subject) with 8-bit bytes, or with a word too
 *	long to fold, becomes RFC 2047 "B" encoded words of UTF-8, one per
 *	line, never splitting a character. A structured value is only
 *	folded: the caller keeps its words short (addresses, host names).
 *
 *	mime_qp() writes text as quoted-printable (RFC 2045 6.7), lines of
 *	at most 76 characters; mime_needs_qp() says whether text has 8-bit
 *	bytes or a line longer than 998 and so needs it.
 *
 *	mime_utf8() copies text as valid UTF-8: a byte that does not start
 *	a valid sequence is taken as Latin-1, the commonest raw 8-bit
 *	header charset, so nothing is lost and the label "utf-8" is true.
 * DIAGNOSTICS
 *	Allocation failures set b->oom and make later calls do nothing;
 *	mime_utf8() returns NULL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbv.h"

#define FOLD_AT		78	/* RFC 5322 2.1.1: SHOULD */
#define LINE_MAX_5322	998	/* RFC 5322 2.1.1: MUST */
#define QP_LINE		76	/* RFC 2045 6.7 (5) */
#define WORD_BYTES	45	/* 60 base64 characters: words of 72 */

void
mbuf_text(struct mm_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r')
			mm_buf_add(b, "\r\n", 2);
		else
			mm_buf_add(b, s, 1);
	}
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

char *
mime_utf8(const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	struct mm_buf b = MM_BUF_SOFT_INIT;
	size_t n;

	mm_buf_add(&b, "", 0);
	while (*s) {
		if ((n = utf8_len(s)) > 0) {
			mm_buf_add(&b, (const char *)s, n);
			s += n;
		} else {
			char two[2] = { (char)(0xc0 | *s >> 6), (char)(0x80 | (*s & 0x3f)) };
			mm_buf_add(&b, two, 2);
			s++;
		}
	}
	if (b.oom) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

static int
has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7e)
			return 1;
	return 0;
}

int
mime_needs_qp(const char *s)
{
	size_t col = 0;

	for (; *s; s++) {
		if ((unsigned char)*s > 0x7e)
			return 1;
		col = *s == '\n' || *s == '\r' ? 0 : col + 1;
		if (col > LINE_MAX_5322)
			return 1;
	}
	return 0;
}

static void
qp_byte(struct mm_buf *b, unsigned char c, size_t *col)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '=', hex[c >> 4], hex[c & 15] };

	if (*col + 3 > QP_LINE - 1) {
		mm_buf_add(b, "=\r\n", 3);
		*col = 0;
	}
	mm_buf_add(b, e, 3);
	*col += 3;
}

void
mime_qp(struct mm_buf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t col = 0;

	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r') {
			mm_buf_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		/* trailing white space would be lost in transport: encode it */
		if ((*s == ' ' || *s == '\t') && (s[1] == 0 || s[1] == '\n' ||
		    s[1] == '\r')) {
			qp_byte(b, *s, &col);
			continue;
		}
		if (*s == '=' || *s > 0x7e || (*s < 0x20 && *s != '\t')) {
			qp_byte(b, *s, &col);
			continue;
		}
		if (col + 1 > QP_LINE - 1) {
			mm_buf_add(b, "=\r\n", 3);
			col = 0;
		}
		mm_buf_add(b, (const char *)s, 1);
		col++;
	}
}

static void
base64(struct mm_buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		mm_buf_add(b, q, 4);
	}
}

/* The value as encoded words, one per line after the first. */
static void
encode_words(struct mm_buf *b, const char *value)
{
	char *u = mime_utf8(value);
	const unsigned char *s = (const unsigned char *)u;
	size_t len, take, n;
	int first = 1;

	if (u == NULL) {
		b->oom = 1;
		return;
	}
	len = strlen(u);
	while (len > 0) {
		/* whole characters only (RFC 2047 5) */
		for (take = 0; take < len; take += n) {
			n = utf8_len(s + take);
			if (n == 0)
				n = 1;	/* cannot happen after mime_utf8 */
			if (take + n > WORD_BYTES)
				break;
		}
		mm_buf_adds(b, first ? " =?utf-8?B?" : "\r\n =?utf-8?B?");
		base64(b, s, take);
		mm_buf_adds(b, "?=");
		s += take;
		len -= take;
		first = 0;
	}
	free(u);
}

/*
 * A copy with control characters as spaces: one line, whatever came in.
 * Trailing spaces go: folded, they would leave a line of white space only
 * (RFC 5322 3.2.2).
 */
static char *
one_line(const char *value)
{
	char *v = strdup(value ? value : "");
	size_t n;

	if (v == NULL)
		return NULL;
	for (char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (n = strlen(v); n > 0 && v[n - 1] == ' '; n--)
		v[n - 1] = 0;
	return v;
}

/*
 * The longest segment as folding cuts them: a run of spaces and the word
 * after it (a fold goes before the spaces, so they stay on the word's
 * line).
 */
static size_t
longest_segment(const char *s)
{
	size_t best = 0, cur = 0;

	for (const char *p = s; *p; p++) {
		if (*p == ' ' && p > s && p[-1] != ' ')
			cur = 0;
		cur++;
		if (cur > best)
			best = cur;
	}
	return best;
}

void
mime_header(struct mm_buf *b, const char *name, const char *value,
    int unstructured)
{
	char *v = one_line(value);
	size_t col, room = LINE_MAX_5322 - strlen(name) - 2;
	const char *p, *sp;

	if (v == NULL) {
		b->oom = 1;
		return;
	}
	mm_buf_adds(b, name);
	mm_buf_adds(b, ":");
	if (unstructured && *v && (has_8bit(v) || longest_segment(v) > room)) {
		encode_words(b, v);
		mm_buf_adds(b, "\r\n");
		free(v);
		return;
	}
	/* fold before a space when the line would pass FOLD_AT */
	col = strlen(name) + 1;
	p = v;
	if (*p != ' ')
		mm_buf_adds(b, " "), col++;
	while (*p) {
		/* the next segment: its leading spaces and one word */
		sp = p;
		while (*sp == ' ')
			sp++;
		while (*sp && *sp != ' ')
			sp++;
		if (col + (size_t)(sp - p) > FOLD_AT && col > strlen(name) + 2 &&
		    *p == ' ') {
			mm_buf_adds(b, "\r\n");
			col = 0;
		}
		mm_buf_add(b, p, (size_t)(sp - p));
		col += (size_t)(sp - p);
		p = sp;
	}
	mm_buf_adds(b, "\r\n");
	free(v);
}
