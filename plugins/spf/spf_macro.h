/*
 * NAME
 *	spf_macro - SPF macro strings (RFC 7208 §7)
 * SYNOPSIS
 *	#include "spf_macro.h"
 *
 *	int spf_macro_check(const char *s, size_t n, unsigned flags,
 *	    int *ends_with_macro);
 *	int spf_macro_expand(const char *s, size_t n, unsigned flags,
 *	    const struct spf_macro_vars *v, struct mm_buf *out);
 * DESCRIPTION
 *	spf_macro_check() validates the macro-string s[0..n): literal
 *	characters are visible ASCII except '%', a '%' must start "%%",
 *	"%_", "%-" or "%{" letter [digits] ["r"] [delimiters] "}". The
 *	letters are s l o d i p h v; with SPF_MACRO_EXP (explanation text)
 *	also c r t and the space character. A digit transformer of zero
 *	is an error. *ends_with_macro tells whether the string ends with
 *	a macro-expand (the "domain-end" rule of §7.1).
 *
 *	spf_macro_expand() appends the expansion to out: the letter's
 *	value, split on the delimiters (default "."), reversed with "r",
 *	cut to the rightmost digits parts and joined with "."; an upper
 *	case letter is URL-escaped (all but ALPHA DIGIT - . _ ~).
 *	"%{p}" calls v->p(v->parg) on first use, which may do DNS
 *	lookups.
 * DIAGNOSTICS
 *	Both return 0, or -1 on a syntax error. Memory exhaustion shows
 *	as out->oom.
 */
#ifndef MM_SPF_MACRO_H
#define MM_SPF_MACRO_H

#include <stddef.h>

#include "spf_util.h"

#define SPF_MACRO_EXP	0x1u	/* explanation text: c r t letters, spaces */

struct spf_macro_vars {
	const char *s;		/* sender */
	const char *l;		/* local part of the sender */
	const char *o;		/* domain of the sender */
	const char *d;		/* current domain */
	const char *i;		/* client IP, dotted (IPv6: 32 nibbles) */
	const char *c;		/* client IP, readable */
	const char *v;		/* "in-addr" or "ip6" */
	const char *h;		/* HELO/EHLO domain */
	const char *r;		/* receiving host */
	long t;			/* time of the check */
	const char *(*p)(void *parg);	/* validated client name, or "unknown" */
	void *parg;
};

int spf_macro_check(const char *s, size_t n, unsigned flags, int *ends_with_macro);
int spf_macro_expand(const char *s, size_t n, unsigned flags,
    const struct spf_macro_vars *v, struct mm_buf *out);

#endif
