/*
 * NAME
 *	modmilter/alloc.h - allocation that aborts when memory runs out
 * SYNOPSIS
 *	#include <modmilter/alloc.h>
 *
 *	char *s = mm_xstrdup("text");
 *	struct x *v = mm_xcalloc(n, sizeof(*v));
 *	char *m = mm_xasprintf("%s: %d", what, n);
 * DESCRIPTION
 *	For code whose policy on memory exhaustion is to stop (the daemon,
 *	a plugin built on GLib/GMime, which aborts the same way): these
 *	never return NULL. A request for 0 bytes allocates 1, so the
 *	result can always be freed and never collides with NULL.
 *	Code that must answer the MTA even then uses malloc() and checks,
 *	or a struct mm_buf made with MM_BUF_SOFT_INIT (modmilter/strbuf.h).
 * DIAGNOSTICS
 *	Out of memory: "modmilter: out of memory" on stderr, then abort().
 */
#ifndef MODMILTER_ALLOC_H
#define MODMILTER_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *mm_xmalloc(size_t n);
void *mm_xcalloc(size_t n, size_t m);
void *mm_xrealloc(void *p, size_t n);
char *mm_xstrdup(const char *s);
char *mm_xstrndup(const char *s, size_t n);
char *mm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mm_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Free v[0] .. v[n-1], then v (NULL v: nothing). */
void mm_strv_free(char **v, size_t n);
/* Report the exhaustion and abort(): what the functions above do. */
void mm_oom(void) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_ALLOC_H */
