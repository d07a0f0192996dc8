/*
 * NAME
 *	decode - undo a content transfer encoding, within a budget
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	enum mime_cte c = mime_cte_parse("base64");
 *	p = mime_decode(c, in, inlen, max, &outlen, &more, &bad);
 * DESCRIPTION
 *	mime_decode() decodes at most max bytes with GMime's incremental
 *	decoders, a chunk at a time, so that only the head of a large
 *	part is decoded when only its head is needed (sniffing) and an
 *	over-budget part costs no more than the budget. *more tells that
 *	the content decodes to more than max bytes. For base64, *bad is
 *	set when the content holds characters outside the alphabet
 *	(a sign of a broken or crafted part: decoders disagree on them).
 *	Unknown encodings (7bit, 8bit, binary, x-anything) are copied as
 *	they are.
 * DIAGNOSTICS
 *	None; the result is never NULL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "mime.h"

#define CHUNK	4096

enum mime_cte
mime_cte_parse(const char *value)
{
	size_t n;

	if (value == NULL)
		return MIME_CTE_IDENTITY;
	while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
		value++;
	for (n = 0; value[n] && value[n] != ' ' && value[n] != '\t' &&
	    value[n] != ';' && value[n] != '\r' && value[n] != '\n' &&
	    value[n] != '('; n++)
		;
	if (n == 6 && strncasecmp(value, "base64", 6) == 0)
		return MIME_CTE_BASE64;
	if (n == 16 && strncasecmp(value, "quoted-printable", 16) == 0)
		return MIME_CTE_QP;
	if ((n == 10 && strncasecmp(value, "x-uuencode", 10) == 0) ||
	    (n == 8 && strncasecmp(value, "uuencode", 8) == 0) ||
	    (n == 5 && strncasecmp(value, "x-uue", 5) == 0))
		return MIME_CTE_UUENCODE;
	return MIME_CTE_IDENTITY;
}

static int
base64_bad(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
		    c == '\r' || c == '\n' || c == ' ' || c == '\t'))
			return 1;
	}
	return 0;
}

unsigned char *
mime_decode(enum mime_cte cte, const char *in, size_t inlen, size_t max,
    size_t *outlen, int *more, int *bad)
{
	GMimeEncoding st;
	GMimeContentEncoding enc;
	unsigned char *out;
	size_t n = 0, cap, pos = 0;
	char scratch[CHUNK + 16];

	*more = *bad = 0;
	if (cte == MIME_CTE_IDENTITY) {
		size_t take = inlen > max ? max : inlen;
		*more = inlen > max;
		out = mime_xmalloc(take + 1);
		if (take)
			memcpy(out, in, take);
		out[take] = 0;
		*outlen = take;
		return out;
	}
	if (cte == MIME_CTE_BASE64) {
		enc = GMIME_CONTENT_ENCODING_BASE64;
		*bad = base64_bad(in, inlen);
	} else if (cte == MIME_CTE_QP)
		enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	else
		enc = GMIME_CONTENT_ENCODING_UUENCODE;
	g_mime_encoding_init_decode(&st, enc);
	cap = (inlen < max ? inlen : max) + CHUNK + 16;
	out = mime_xmalloc(cap + 1);
	while (pos < inlen && n < max) {
		size_t take = inlen - pos > CHUNK ? CHUNK : inlen - pos;
		size_t need = g_mime_encoding_outlen(&st, take);

		if (n + need > cap) {
			cap = n + need + CHUNK;
			out = mime_xrealloc(out, cap + 1);
		}
		n += g_mime_encoding_step(&st, in + pos, take, (char *)out + n);
		pos += take;
	}
	if (n > max) {
		*more = 1;
		n = max;
	}
	/* is there anything left beyond the budget? */
	while (!*more && pos < inlen) {
		size_t take = inlen - pos > CHUNK ? CHUNK : inlen - pos;
		if (g_mime_encoding_step(&st, in + pos, take, scratch) > 0)
			*more = 1;
		pos += take;
	}
	out[n] = 0;
	*outlen = n;
	return out;
}
