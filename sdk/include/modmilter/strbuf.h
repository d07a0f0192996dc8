/*
 * NAME
 *	modmilter/strbuf.h - growable byte strings
 * SYNOPSIS
 *	#include <modmilter/strbuf.h>
 *
 *	struct mm_buf b = MM_BUF_INIT;		(running out of memory aborts)
 *	struct mm_buf s = MM_BUF_SOFT_INIT;	(running out of memory sets s.oom)
 *
 *	mm_buf_add(&b, p, n); mm_buf_adds(&b, "text"); mm_buf_addc(&b, '\n');
 *	mm_buf_printf(&b, "%d", n);
 *	... b.data (NUL-terminated once anything was added), b.len
 *	const char *str = mm_buf_str(&s);	("" when empty, NULL after oom)
 *	mm_buf_free(&b);
 * DESCRIPTION
 *	A struct mm_buf holds bytes (NUL bytes included) and keeps a NUL
 *	after them, so text can be used as a C string. Capacity doubles
 *	from 256 bytes.
 *
 *	How it meets memory exhaustion is the buffer's own choice, made
 *	when it is initialised: a zeroed buffer (MM_BUF_INIT, "= { 0 }")
 *	aborts like mm_xmalloc(); a soft one (MM_BUF_SOFT_INIT) sets oom,
 *	keeps what it has and ignores every later addition, so the caller
 *	checks oom (or mm_buf_str() for NULL) once, at the end.
 *
 *	mm_buf_free() releases the memory and empties the buffer, keeping
 *	its choice; mm_buf_reset() empties it and keeps the memory.
 */
#ifndef MODMILTER_STRBUF_H
#define MODMILTER_STRBUF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mm_buf {
	char *data;
	size_t len, cap;
	int oom;		/* a soft buffer ran out of memory */
	int soft;		/* 1: oom instead of abort() */
};
#define MM_BUF_INIT		{ NULL, 0, 0, 0, 0 }
#define MM_BUF_SOFT_INIT	{ NULL, 0, 0, 0, 1 }

void mm_buf_add(struct mm_buf *b, const void *p, size_t n);
void mm_buf_adds(struct mm_buf *b, const char *s);
void mm_buf_addc(struct mm_buf *b, int c);
void mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text: "" when nothing was added, NULL after an out-of-memory. */
const char *mm_buf_str(struct mm_buf *b);
void mm_buf_reset(struct mm_buf *b);
void mm_buf_free(struct mm_buf *b);
/* The UTF-8 encoding of one code point (at most 0x10FFFF) into o, which
   has room for 4 bytes; returns how many were written. */
size_t mm_utf8_put(char *o, unsigned long cp);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_STRBUF_H */
