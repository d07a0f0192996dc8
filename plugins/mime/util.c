/*
 * NAME
 *	util - small helpers of the mime plugin: string lists, findings
 * SYNOPSIS
 *	#include "mime.h"
 * DESCRIPTION
 *	mime_strv_*() keep a list of strings; mime_hit_*() fill and
 *	free a finding. Memory is the helper library's (mime.h):
 *	exhaustion aborts.
 * DIAGNOSTICS
 *	Out of memory: abort().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

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
	hit->reason = mm_xvasprintf(fmt, ap);
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
