/*
 * NAME
 *	util - memory, strings and files helpers shared by the core and tools
 * SYNOPSIS
 *	#include "util.h"
 * DESCRIPTION
 *	x*alloc abort the process on exhaustion (a milter that cannot
 *	allocate a few bytes cannot answer the MTA either; libmilter's
 *	default action then applies). struct buf is a growable byte string.
 */
#ifndef MM_UTIL_H
#define MM_UTIL_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (at most max bytes), NUL-terminated. */
char *read_file(const char *path, size_t max, size_t *len, char **err);

struct buf {
	char *data;
	size_t len, cap;
};

void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

double mono_now(void);	/* CLOCK_MONOTONIC seconds */
double wall_now(void);	/* CLOCK_REALTIME seconds */

#endif
