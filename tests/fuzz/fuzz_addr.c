/*
 * NAME
 *	fuzz_addr - libFuzzer target for the envelope address parser
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined -Icore -I. -Isdk/include \
 *	    tests/fuzz/fuzz_addr.c sdk/lib/addr.c sdk/lib/alloc.c sdk/lib/strbuf.c
 * DESCRIPTION
 *	Each input is one address (or domain) as a client or an admin could
 *	write it. addr_normalize() and domain_normalize() must not fault,
 *	and what they accept must obey the promises of modmilter/addr.h:
 *	- the normal form is a fixed point;
 *	- it holds no control character, and its domain (after the last
 *	  '@') is in lower case, without a trailing dot, and is a domain
 *	  that domain_normalize() keeps as it is and domain_match() finds
 *	  equal to itself;
 *	- the forms that must not hide a mailbox give the same normal
 *	  form: in angle brackets, behind a source route, with the domain
 *	  in upper case and a trailing dot.
 * DIAGNOSTICS
 *	abort() on a broken invariant, after printing it; sanitizer
 *	reports for memory errors.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what, const char *in, const char *got)
{
	fprintf(stderr, "fuzz_addr: %s\n  input: '%s'\n  got:   '%s'\n", what, in,
	    got ? got : "(refused)");
	abort();
}

/* The normal form of a variant must be want. */
static void
same(const char *what, const char *variant, const char *want)
{
	char *n = addr_normalize(variant, NULL);

	if (n == NULL || strcmp(n, want) != 0)
		broken(what, variant, n);
	free(n);
}

static void
check_domain(const char *in, const char *dom)
{
	char *d;

	for (const char *p = dom; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			broken("upper case in the domain", in, dom);
	if (*dom == 0 || dom[strlen(dom) - 1] == '.')
		broken("empty domain or a trailing dot", in, dom);
	if (!domain_match(dom, dom))
		broken("a domain does not match itself", in, dom);
	if (*dom == '[')
		return;		/* an address literal: no domain_normalize() */
	d = domain_normalize(dom, NULL);
	if (d == NULL || strcmp(d, dom) != 0)
		broken("domain_normalize() changes a normalised domain", dom, d);
	free(d);
}

static void
check_address(const char *in)
{
	char *n = addr_normalize(in, NULL), *v, *up;
	const char *at, *p;

	if (n == NULL)
		return;
	same("not a fixed point", n, n);
	for (p = n; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 127)
			broken("control character in the normal form", in, n);
	p = in;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '<') {
		v = xasprintf("<%s>", in);
		same("brackets change the mailbox", v, n);
		free(v);
	}
	if (*n == 0 || strcmp(n, "postmaster") == 0) {
		free(n);
		return;
	}
	if ((at = strrchr(n, '@')) == NULL)
		broken("a mailbox without '@'", in, n);
	check_domain(in, at + 1);

	v = xasprintf("<@relay.example,@[192.0.2.1]:%s>", n);
	same("a source route changes the mailbox", v, n);
	free(v);
	if (at[1] != '[') {
		up = xstrdup(n);
		for (char *q = up + (at - n); *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 'a' + 'A');
		v = xasprintf("%s.", up);
		same("case or a trailing dot changes the mailbox", v, n);
		free(v);
		free(up);
	}
	free(n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char *d;

	check_address(s);
	if ((d = domain_normalize(s, NULL)) != NULL) {
		char *again = domain_normalize(d, NULL);
		if (again == NULL || strcmp(again, d) != 0)
			broken("domain_normalize() is not a fixed point", s, again);
		check_domain(s, d[0] == '.' ? d + 1 : d);
		free(again);
		free(d);
	}
	free(s);
	return 0;
}
