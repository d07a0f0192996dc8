/*
 * NAME
 *	spf_macro - SPF macro strings (RFC 7208 §7)
 * SYNOPSIS
 *	See spf_macro.h.
 * DESCRIPTION
 *	One scanner serves both the syntax check and the expansion, so
 *	that what was accepted at parse time is exactly what expands.
 *	The expansion is done here rather than by libspf2, whose
 *	SPF_record_expand_data() loses spaces in explanation text and
 *	had memory-safety bugs (CVE-2021-20314, CVE-2023-42118).
 * DIAGNOSTICS
 *	See spf_macro.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"

#define MAX_PARTS	1000		/* a larger digit transformer keeps all parts */

struct macro {
	char letter;			/* as written */
	int digits;			/* 0: none */
	int reverse;
	const char *delims;		/* NULL: default "." */
	size_t ndelims;
};

static int
letter_ok(char c, unsigned flags)
{
	c = (char)tolower((unsigned char)c);
	if (strchr("slodiphv", c))
		return 1;
	return (flags & SPF_MACRO_EXP) && strchr("crt", c) != NULL;
}

static int
is_delim(char c)
{
	return strchr(".-+,/_=", c) != NULL && c != 0;
}

/*
 * Scan one token at s[0..n): a literal character (returns 1, *m
 * unused), "%%" "%_" "%-" (returns 2, m->letter is '%', '_' or '-'),
 * or "%{...}" (returns its length, m filled). Returns -1 on a syntax
 * error.
 */
static int
scan(const char *s, size_t n, unsigned flags, struct macro *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if (s[0] != '%') {
		unsigned char c = (unsigned char)s[0];
		if (c == ' ' && (flags & SPF_MACRO_EXP))
			return 1;
		return c >= 0x21 && c <= 0x7e ? 1 : -1;
	}
	if (n < 2)
		return -1;
	if (s[1] == '%' || s[1] == '_' || s[1] == '-') {
		m->letter = s[1];
		return 2;
	}
	if (s[1] != '{' || n < 4 || !letter_ok(s[2], flags))
		return -1;
	m->letter = s[2];
	i = 3;
	if (i < n && isdigit((unsigned char)s[i])) {
		long d = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			if (d <= MAX_PARTS)
				d = d * 10 + (s[i] - '0');
			i++;
		}
		if (d == 0)
			return -1;	/* RFC 7208 §7.3: the value MUST be nonzero */
		m->digits = d > MAX_PARTS ? 0 : (int)d;	/* 0: all parts */
	}
	if (i < n && (s[i] == 'r' || s[i] == 'R')) {
		m->reverse = 1;
		i++;
	}
	m->delims = s + i;
	while (i < n && is_delim(s[i]))
		i++;
	m->ndelims = (size_t)(s + i - m->delims);
	if (m->ndelims == 0)
		m->delims = NULL;
	if (i >= n || s[i] != '}')
		return -1;
	return (int)(i + 1);
}

int
spf_macro_check(const char *s, size_t n, unsigned flags, int *ends_with_macro)
{
	struct macro m;
	int last_macro = 0;

	for (size_t i = 0; i < n; ) {
		int k = scan(s + i, n - i, flags, &m);
		if (k < 0)
			return -1;
		last_macro = s[i] == '%';
		i += (size_t)k;
	}
	if (ends_with_macro)
		*ends_with_macro = last_macro;
	return 0;
}

static void
url_escape(struct mm_buf *out, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			mm_buf_addc(out, c);
		else {
			mm_buf_addc(out, '%');
			mm_buf_addc(out, hex[c >> 4]);
			mm_buf_addc(out, hex[c & 15]);
		}
	}
}

static const char *
value_of(const struct spf_macro_vars *v, char letter, char *tbuf, size_t tlen)
{
	const char *r = NULL;

	switch (tolower((unsigned char)letter)) {
	case 's': r = v->s; break;
	case 'l': r = v->l; break;
	case 'o': r = v->o; break;
	case 'd': r = v->d; break;
	case 'i': r = v->i; break;
	case 'c': r = v->c; break;
	case 'v': r = v->v; break;
	case 'h': r = v->h; break;
	case 'r': r = v->r && *v->r ? v->r : "unknown"; break;
	case 'p': r = v->p ? v->p(v->parg) : NULL; break;
	case 't':
		snprintf(tbuf, tlen, "%ld", v->t);
		r = tbuf;
		break;
	}
	if (r == NULL && tolower((unsigned char)letter) == 'p')
		r = "unknown";
	return r ? r : "";
}

/* Part k (0-based) of val split on the delimiters. */
static void
part_at(const char *val, size_t len, const char *dl, size_t ndl, size_t k,
    const char **p, size_t *plen)
{
	size_t start = 0, idx = 0;

	for (size_t i = 0; i <= len; i++)
		if (i == len || memchr(dl, val[i], ndl)) {
			if (idx++ == k) {
				*p = val + start;
				*plen = i - start;
				return;
			}
			start = i + 1;
		}
	*p = val + len;
	*plen = 0;
}

/* One %{...}: split, reverse, keep the rightmost parts, join with '.'. */
static void
expand_one(const struct macro *m, const char *val, struct mm_buf *out)
{
	size_t np = 1, len = strlen(val), keep;
	const char *dl = m->delims ? m->delims : ".";
	size_t ndl = m->delims ? m->ndelims : 1;
	struct mm_buf tmp = MM_BUF_SOFT_INIT;
	struct mm_buf *dst = isupper((unsigned char)m->letter) ? &tmp : out;

	if (!m->digits && !m->reverse && !m->delims) {
		if (dst == out)
			mm_buf_adds(out, val);
		else
			url_escape(out, val, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (memchr(dl, val[i], ndl))
			np++;
	keep = m->digits && (size_t)m->digits < np ? (size_t)m->digits : np;
	for (size_t j = 0; j < keep; j++) {
		/* reversed, the rightmost parts are the first ones, last first */
		size_t k = m->reverse ? keep - 1 - j : np - keep + j;
		const char *p;
		size_t plen;

		part_at(val, len, dl, ndl, k, &p, &plen);
		if (j > 0)
			mm_buf_addc(dst, '.');
		mm_buf_add(dst, p, plen);
	}
	if (dst == &tmp) {
		if (tmp.oom)
			out->oom = 1;
		else if (tmp.data)
			url_escape(out, tmp.data, tmp.len);
		mm_buf_free(&tmp);
	}
}

int
spf_macro_expand(const char *s, size_t n, unsigned flags,
    const struct spf_macro_vars *v, struct mm_buf *out)
{
	struct macro m;
	char tbuf[32];

	for (size_t i = 0; i < n; ) {
		int k = scan(s + i, n - i, flags, &m);
		if (k < 0)
			return -1;
		if (s[i] != '%')
			mm_buf_addc(out, s[i]);
		else if (m.letter == '%')
			mm_buf_addc(out, '%');
		else if (m.letter == '_')
			mm_buf_addc(out, ' ');
		else if (m.letter == '-')
			mm_buf_adds(out, "%20");
		else
			expand_one(&m, value_of(v, m.letter, tbuf, sizeof(tbuf)), out);
		i += (size_t)k;
	}
	return 0;
}
