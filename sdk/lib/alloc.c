/*
 * NAME
 *	alloc - allocation that aborts when memory runs out
 * SYNOPSIS
 *	#include <modmilter/alloc.h>
 * DESCRIPTION
 *	See modmilter/alloc.h.
 * DIAGNOSTICS
 *	Out of memory: a line on stderr (write(2): no allocation), abort().
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modmilter/alloc.h>

void
mm_oom(void)
{
	static const char m[] = "modmilter: out of memory\n";

	if (write(STDERR_FILENO, m, sizeof(m) - 1) < 0) {
		/* nothing else to do */
	}
	abort();
}

void *
mm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		mm_oom();
	return p;
}

void *
mm_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		mm_oom();
	return p;
}

void *
mm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		mm_oom();
	return q;
}

char *
mm_xstrdup(const char *s)
{
	return mm_xstrndup(s, strlen(s));
}

char *
mm_xstrndup(const char *s, size_t n)
{
	char *p = mm_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
mm_xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		mm_oom();
	return s;
}

char *
mm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = mm_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
mm_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
