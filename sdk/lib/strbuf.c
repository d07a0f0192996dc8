/*
 * NAME
 *	strbuf - growable byte strings
 * SYNOPSIS
 *	#include <modmilter/strbuf.h>
 * DESCRIPTION
 *	See modmilter/strbuf.h.
 * DIAGNOSTICS
 *	A soft buffer sets oom when memory runs out; any other aborts
 *	(mm_oom()).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

/* Room for more bytes and the NUL; -1 when a soft buffer cannot have it. */
static int
grow(struct mm_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (more >= (size_t)-1 - b->len - 1)
		goto oom;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap = cap > (size_t)-1 / 2 ? b->len + more + 1 : cap * 2;
	if ((p = realloc(b->data, cap)) == NULL)
		goto oom;
	b->data = p;
	b->cap = cap;
	return 0;
oom:
	if (!b->soft)
		mm_oom();
	b->oom = 1;
	return -1;
}

void
mm_buf_add(struct mm_buf *b, const void *p, size_t n)
{
	if (grow(b, n) < 0)
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void
mm_buf_adds(struct mm_buf *b, const char *s)
{
	mm_buf_add(b, s, strlen(s));
}

void
mm_buf_addc(struct mm_buf *b, int c)
{
	char ch = (char)c;

	mm_buf_add(b, &ch, 1);
}

void
mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
mm_buf_str(struct mm_buf *b)
{
	if (b->data == NULL && grow(b, 0) == 0)
		b->data[0] = 0;
	return b->oom ? NULL : b->data;
}

void
mm_buf_reset(struct mm_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = 0;
}

void
mm_buf_free(struct mm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

size_t
mm_utf8_put(char *o, unsigned long c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | ((c >> 18) & 0x07));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}
