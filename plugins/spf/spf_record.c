/*
 * NAME
 *	spf_record - strict parsing of SPF records (RFC 7208 §4.5, §4.6, §5, §6)
 * SYNOPSIS
 *	See spf_record.h.
 * DESCRIPTION
 *	The grammar of RFC 7208 §12, applied term by term:
 *
 *	  term      = directive / modifier
 *	  directive = [ qualifier ] mechanism
 *	  modifier  = redirect / explanation / unknown-modifier
 *
 *	A term without a qualifier whose name ends at '=' is a modifier;
 *	everything else is a mechanism, so "redirect:x" is an unknown
 *	mechanism and "1up=x" a malformed modifier name. For a and mx the
 *	CIDR lengths are taken from the end of the term, because a
 *	domain-spec may itself contain '/' and ':'.
 *
 *	This replaces libspf2's SPF_record_compile(), which accepts many
 *	of the syntax errors the RFC 7208 test suite checks for.
 * DIAGNOSTICS
 *	See spf_record.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_macro.h"
#include "spf_record.h"

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
	{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
	{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
};

int
spf_record_is_spf(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == 0);
}

static int
fail(char *err, size_t errlen, const char *what, const char *t, size_t n)
{
	snprintf(err, errlen, "%s '%.*s'", what, (int)(n > 64 ? 64 : n), t);
	return -1;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
              ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int
toplabel_ok(const char *s, size_t n)
{
	int alpha = 0, dash = 0;

	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '-')
			dash = 1;
		else if (isalpha(c))
			alpha = 1;
		else if (!isdigit(c))
			return 0;
	}
	return alpha || dash;
}

/* domain-spec = macro-string domain-end
   domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
static int
domain_spec_ok(const char *s, size_t n)
{
	int ends_macro;
	size_t end, dot;

	if (n == 0 || spf_macro_check(s, n, 0, &ends_macro) < 0)
		return 0;
	if (ends_macro)
		return 1;
	end = s[n - 1] == '.' ? n - 1 : n;
	for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return 0;		/* no "." before the toplabel */
	/* the toplabel must be literal text, not the tail of a macro */
	for (size_t i = dot; i < end; i++)
		if (s[i] == '%' || s[i] == '{' || s[i] == '}')
			return 0;
	return toplabel_ok(s + dot, end - dot);
}

/* "/" ( "0" / %x31-39 0*(maxdigits-1)DIGIT ), value <= max */
static int
cidr_ok(const char *s, size_t n, int maxdigits, int max, int *out)
{
	int v = 0;

	if (n == 0 || (int)n > maxdigits || (s[0] == '0' && n > 1))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return 0;
	*out = v;
	return 1;
}

static int
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ip4-network = qnum "." qnum "." qnum "." qnum, qnum 0-255 without
   leading zeros */
static int
ip4_ok(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0;

	for (int q = 0; q < 4; q++) {
		size_t start = i;
		int v = 0;
		while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == start || (s[start] == '0' && i - start > 1) || v > 255)
			return 0;
		out[q] = (unsigned char)v;
		if (q < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

static int
ip6_ok(const char *s, size_t n, unsigned char out[16])
{
	char tmp[64];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* a / mx: [ ":" domain-spec ] [ "/" ip4-cidr ] [ "//" ip6-cidr ] */
static int
parse_dual(struct spf_term *t, const char *arg, size_t n, char *err, size_t errlen)
{
	size_t k;

	/* "//" ip6-cidr-length at the end */
	for (k = n; k > 0 && isdigit((unsigned char)arg[k - 1]); k--)
		;
	if (k >= 2 && k < n && arg[k - 1] == '/' && arg[k - 2] == '/') {
		if (!cidr_ok(arg + k, n - k, 3, 128, &t->cidr6))
			return fail(err, errlen, "invalid IPv6 CIDR length in", t->text, t->textlen);
		n = k - 2;
	}
	/* "/" ip4-cidr-length at the end */
	for (k = n; k > 0 && isdigit((unsigned char)arg[k - 1]); k--)
		;
	if (k >= 1 && k < n && arg[k - 1] == '/') {
		if (!cidr_ok(arg + k, n - k, 2, 32, &t->cidr4))
			return fail(err, errlen, "invalid IPv4 CIDR length in", t->text, t->textlen);
		n = k - 1;
	}
	if (n == 0)
		return 0;
	if (arg[0] != ':' || !domain_spec_ok(arg + 1, n - 1))
		return fail(err, errlen, "invalid domain-spec in", t->text, t->textlen);
	t->spec = arg + 1;
	t->speclen = n - 1;
	return 0;
}

/* "ip4:" / "ip6:" network [ "/" cidr ] */
static int
parse_ip(struct spf_term *t, const char *arg, size_t n, char *err, size_t errlen)
{
	const char *slash;
	size_t netlen;
	int ok;

	if (n < 2 || arg[0] != ':')
		return fail(err, errlen, "missing network in", t->text, t->textlen);
	arg++;
	n--;
	slash = memchr(arg, '/', n);
	netlen = slash ? (size_t)(slash - arg) : n;
	if (t->mech == SPF_M_IP4)
		ok = ip4_ok(arg, netlen, t->net);
	else
		ok = ip6_ok(arg, netlen, t->net);
	if (!ok)
		return fail(err, errlen, "invalid network in", t->text, t->textlen);
	if (slash) {
		size_t cl = n - netlen - 1;
		int *dst = t->mech == SPF_M_IP4 ? &t->cidr4 : &t->cidr6;
		if (!all_digits(slash + 1, cl) ||
		    !cidr_ok(slash + 1, cl, t->mech == SPF_M_IP4 ? 2 : 3,
		    t->mech == SPF_M_IP4 ? 32 : 128, dst))
			return fail(err, errlen, "invalid CIDR length in", t->text, t->textlen);
	}
	return 0;
}

static int
parse_mechanism(struct spf_term *t, const char *s, size_t n, char *err,
    size_t errlen)
{
	size_t namelen = 0;
	const char *arg;
	size_t argn;
	size_t i;

	while (namelen < n && s[namelen] != ':' && s[namelen] != '/')
		namelen++;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == namelen &&
		    strncasecmp(mechs[i].name, s, namelen) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0]))
		return fail(err, errlen, "unknown mechanism", t->text, t->textlen);
	t->mech = mechs[i].mech;
	arg = s + namelen;
	argn = n - namelen;
	switch (t->mech) {
	case SPF_M_ALL:
		if (argn)
			return fail(err, errlen, "'all' takes no argument:", t->text, t->textlen);
		return 0;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		if (argn < 2 || arg[0] != ':' || !domain_spec_ok(arg + 1, argn - 1))
			return fail(err, errlen, "missing or invalid domain-spec in",
			    t->text, t->textlen);
		t->spec = arg + 1;
		t->speclen = argn - 1;
		return 0;
	case SPF_M_PTR:
		if (argn == 0)
			return 0;
		if (arg[0] != ':' || !domain_spec_ok(arg + 1, argn - 1))
			return fail(err, errlen, "invalid domain-spec in", t->text, t->textlen);
		t->spec = arg + 1;
		t->speclen = argn - 1;
		return 0;
	case SPF_M_A:
	case SPF_M_MX:
		return parse_dual(t, arg, argn, err, errlen);
	case SPF_M_IP4:
	case SPF_M_IP6:
		return parse_ip(t, arg, argn, err, errlen);
	}
	return -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static int
modifier_name_ok(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return 0;
	return 1;
}

static int
parse_modifier(struct spf_record *r, const char *s, size_t n, size_t namelen,
    char *err, size_t errlen)
{
	const char *val = s + namelen + 1;
	size_t vn = n - namelen - 1;
	const char **slot = NULL;
	size_t *slotlen = NULL;

	if (!modifier_name_ok(s, namelen))
		return fail(err, errlen, "invalid modifier name in", s, n);
	if (namelen == 8 && strncasecmp(s, "redirect", 8) == 0) {
		slot = &r->redirect;
		slotlen = &r->redirectlen;
	} else if (namelen == 3 && strncasecmp(s, "exp", 3) == 0) {
		slot = &r->exp;
		slotlen = &r->explen;
	}
	if (slot == NULL) {
		/* unknown-modifier = name "=" macro-string: checked, ignored */
		if (spf_macro_check(val, vn, SPF_MACRO_EXP, NULL) < 0)
			return fail(err, errlen, "invalid macro-string in", s, n);
		return 0;
	}
	if (*slot)
		return fail(err, errlen, "modifier given twice:", s, namelen);
	if (!domain_spec_ok(val, vn))
		return fail(err, errlen, "invalid domain-spec in", s, n);
	*slot = val;
	*slotlen = vn;
	return 0;
}

static int
parse_term(struct spf_record *r, const char *s, size_t n, char *err, size_t errlen)
{
	struct spf_term *t, *nt;
	size_t namelen = 0;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return fail(err, errlen, "invalid character in term", s, n);
	if (s[0] != '+' && s[0] != '-' && s[0] != '~' && s[0] != '?') {
		while (namelen < n && s[namelen] != ':' && s[namelen] != '/' &&
		    s[namelen] != '=')
			namelen++;
		if (namelen < n && s[namelen] == '=')
			return parse_modifier(r, s, n, namelen, err, errlen);
	}
	nt = realloc(r->terms, (r->nterms + 1) * sizeof(*r->terms));
	if (nt == NULL) {
		r->oom = 1;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->terms = nt;
	t = &r->terms[r->nterms];
	memset(t, 0, sizeof(*t));
	t->text = s;
	t->textlen = n;
	t->cidr4 = 32;
	t->cidr6 = 128;
	t->qual = '+';
	if (strchr("+-~?", s[0])) {
		t->qual = s[0];
		s++;
		n--;
	}
	if (parse_mechanism(t, s, n, err, errlen) < 0)
		return -1;
	r->nterms++;
	return 0;
}

int
spf_record_parse(const char *txt, struct spf_record *r, char *err, size_t errlen)
{
	const char *p;

	memset(r, 0, sizeof(*r));
	if (!spf_record_is_spf(txt))
		return fail(err, errlen, "not an SPF record:", txt, strlen(txt));
	if ((r->buf = strdup(txt)) == NULL) {
		r->oom = 1;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p = r->buf + 6;
	for (;;) {
		const char *start;

		while (*p == ' ')
			p++;
		if (*p == 0)
			return 0;
		start = p;
		while (*p && *p != ' ')
			p++;
		if (parse_term(r, start, (size_t)(p - start), err, errlen) < 0)
			return -1;
	}
}

void
spf_record_free(struct spf_record *r)
{
	free(r->terms);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
