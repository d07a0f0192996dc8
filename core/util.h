/*
 * NAME
 *	util - memory, strings and files helpers shared by the core and tools
 * SYNOPSIS
 *	#include "util.h"
 * DESCRIPTION
 *	The allocation, growable strings and clocks are the helper
 *	library's (modmilter/alloc.h, strbuf.h, clock.h), here under the core's
 *	short names: x*alloc abort the process on exhaustion (a milter
 *	that cannot allocate a few bytes cannot answer the MTA either;
 *	libmilter's default action then applies), and so does a struct
 *	mm_buf initialised with zeros.
 *
 *	read_file() reads a whole file.
 */
#ifndef MM_UTIL_H
#define MM_UTIL_H

#include <stddef.h>

#include <modmilter/alloc.h>
#include <modmilter/clock.h>
#include <modmilter/strbuf.h>

#define xmalloc(n)		mm_xmalloc(n)
#define xcalloc(n, m)		mm_xcalloc(n, m)
#define xrealloc(p, n)		mm_xrealloc(p, n)
#define xstrdup(s)		mm_xstrdup(s)
#define xstrndup(s, n)		mm_xstrndup(s, n)
#define xasprintf(...)		mm_xasprintf(__VA_ARGS__)

#define buf_add(b, p, n)	mm_buf_add(b, p, n)
#define buf_adds(b, s)		mm_buf_adds(b, s)
#define buf_printf(b, ...)	mm_buf_printf(b, __VA_ARGS__)
#define buf_free(b)		mm_buf_free(b)

/* Read a whole file (at most max bytes), NUL-terminated. */
char *read_file(const char *path, size_t max, size_t *len, char **err);

#define mono_now()		mm_clock_mono()	/* CLOCK_MONOTONIC seconds */
#define wall_now()		mm_clock_wall()	/* CLOCK_REALTIME seconds */

#endif
