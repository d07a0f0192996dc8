/*
 * NAME
 *	msgwrite - a message written back as header fields and body
 * SYNOPSIS
 *	#include <modmilter/msgwrite.h>
 * DESCRIPTION
 *	See modmilter/msgwrite.h.
 * DIAGNOSTICS
 *	-1 when the sink refused.
 */
#include "config.h"

#include <string.h>

#include <modmilter/msgwrite.h>
#include <modmilter/strbuf.h>

int
mm_msg_to_buf(void *arg, const void *p, size_t n)
{
	struct mm_buf *b = arg;

	mm_buf_add(b, p, n);
	return b->oom ? -1 : 0;
}

/* LF made CRLF; a CR already there is kept. */
static int
text_crlf(mm_msg_sink put, void *arg, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *q;

	for (; (q = memchr(p, '\n', (size_t)(end - p))) != NULL; p = q + 1) {
		if (q > p && put(arg, p, (size_t)(q - p)) < 0)
			return -1;
		if (q > s && q[-1] == '\r' ? put(arg, "\n", 1) < 0 :
		    put(arg, "\r\n", 2) < 0)
			return -1;
	}
	return p < end ? put(arg, p, (size_t)(end - p)) : 0;
}

/* CRLF made LF; a lone CR is kept. */
static int
text_lf(mm_msg_sink put, void *arg, const char *p, size_t n)
{
	while (n > 0) {
		const char *cr = memchr(p, '\r', n);
		size_t k;

		if (cr == NULL)
			return put(arg, p, n);
		k = (size_t)(cr - p);
		if (k && put(arg, p, k) < 0)
			return -1;
		if ((k + 1 == n || cr[1] != '\n') && put(arg, cr, 1) < 0)
			return -1;
		p = cr + 1;
		n -= k + 1;
	}
	return 0;
}

int
mm_msg_text(mm_msg_sink put, void *arg, const void *p, size_t n, unsigned flags)
{
	return flags & MM_MSG_LF ? text_lf(put, arg, p, n) :
	    text_crlf(put, arg, p, n);
}

int
mm_msg_header(mm_msg_sink put, void *arg, const char *name, const char *value,
    unsigned flags)
{
	const char *v = value ? value : "";
	int bare = (flags & MM_MSG_AS_RECEIVED) &&
	    (*v == 0 || *v == '\t' || *v == '\r' || *v == '\n');

	if (put(arg, name, strlen(name)) < 0 || put(arg, ": ", bare ? 1 : 2) < 0 ||
	    mm_msg_text(put, arg, v, strlen(v), flags) < 0)
		return -1;
	return flags & MM_MSG_LF ? put(arg, "\n", 1) : put(arg, "\r\n", 2);
}
