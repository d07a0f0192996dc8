/*
 * NAME
 *	util - small helpers of the mime plugin: memory, string lists,
 *	growable buffers, findings
 * SYNOPSIS
 *	#include "mime.h"
 * DESCRIPTION
 *	mime_xmalloc() and friends abort on memory exhaustion, as GLib
 *	(which GMime uses) and the modmilter core do: there is no useful
 *	verdict to give without memory.
 *
 *	mime_buf_*() append to a growable byte buffer; mime_strv_*()
 *	keep a list of strings; mime_hit_*() fill and free a finding.
 * DIAGNOSTICS
 *	Out of memory: abort().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

void *
mime_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

void *
mime_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		abort();
	return q;
}

char *
mime_xstrdup(const char *s)
{
	return mime_xstrndup(s, strlen(s));
}

char *
mime_xstrndup(const char *s, size_t n)
{
	char *p = mime_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	p = mime_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
mime_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
mime_buf_add(struct mime_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = mime_xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void
mime_buf_adds(struct mime_buf *b, const char *s)
{
	mime_buf_add(b, s, strlen(s));
}

void
mime_buf_printf(struct mime_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	mime_buf_adds(b, p);
	free(p);
}

void
mime_buf_free(struct mime_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
mime_strv_add(struct mime_strv *v, const char *s)
{
	v->v = mime_xrealloc(v->v, (v->n + 1) * sizeof(char *));
	v->v[v->n++] = mime_xstrdup(s);
}

void
mime_strv_free(struct mime_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

void
mime_hit_set(struct mime_hit *hit, const char *name, const char *fmt, ...)
{
	va_list ap;

	mime_hit_free(hit);
	hit->name = mime_xstrdup(name ? name : "");
	va_start(ap, fmt);
	hit->reason = xvasprintf(fmt, ap);
	va_end(ap);
}

void
mime_hit_free(struct mime_hit *hit)
{
	free(hit->name);
	free(hit->reason);
	hit->name = hit->reason = NULL;
}

void
mime_scan_free(struct mime_scan *sc)
{
	mime_strv_free(&sc->allow);
	mime_strv_free(&sc->names);
	free(sc->limit);
	free(sc->malformed);
	sc->limit = sc->malformed = NULL;
}
