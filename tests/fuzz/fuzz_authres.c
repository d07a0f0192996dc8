/*
 * NAME
 *	fuzz_authres - libFuzzer target for the Authentication-Results id parser
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined -Icore -I. -Isdk/include \
 *	    tests/fuzz/fuzz_authres.c core/authres.c sdk/lib/addr.c \
 *	    sdk/lib/alloc.c sdk/lib/strbuf.c
 * DESCRIPTION
 *	Each input is the value of an incoming Authentication-Results
 *	header. authres_id() must not fault, and an id it reads must obey
 *	the promises of core/authres.h:
 *	- a header claims its own id (unless the id is empty or a lone
 *	  dot, which is nobody's), in any case and with a trailing dot;
 *	- the id holds no CR or LF, and an id read from a token no
 *	  character a token may not hold;
 *	- a comment before the value, or the id written back as a quoted
 *	  string, gives the same id.
 * DIAGNOSTICS
 *	abort() on a broken invariant, after printing it; sanitizer
 *	reports for memory errors.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what, const char *in, const char *got)
{
	fprintf(stderr, "fuzz_authres: %s\n  input: '%s'\n  got:   '%s'\n", what,
	    in, got ? got : "(none)");
	abort();
}

static void
same_id(const char *what, const char *variant, const char *want)
{
	char *id = authres_id(variant, NULL, NULL);

	if (id == NULL || strcmp(id, want) != 0)
		broken(what, variant, id);
	free(id);
}

/* The id as a quoted-string, then a resinfo. */
static char *
quoted(const char *id)
{
	struct mm_buf b = { 0 };

	buf_adds(&b, "\"");
	for (const char *p = id; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_adds(&b, "\\");
		buf_add(&b, p, 1);
	}
	buf_adds(&b, "\"; spf=pass");
	return b.data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *id, *v;
	int wf = -1, nobody;

	if ((id = authres_id(s, &wf, NULL)) == NULL) {
		free(s);
		return 0;
	}
	if (wf != 0 && wf != 1)
		broken("well-formed is neither 0 nor 1", s, id);
	if (strpbrk(id, "\r\n"))
		broken("CR or LF in the id", s, id);
	nobody = id[0] == 0 || strcmp(id, ".") == 0;
	if (authres_claims(s, id) == nobody)
		broken("a header and its own id disagree", s, id);
	if (!nobody) {
		char *up = xstrdup(id);
		for (char *p = up; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		v = xasprintf("%s%s", up, up[strlen(up) - 1] == '.' ? "" : ".");
		if (!authres_claims(s, v))
			broken("case or a trailing dot hide our id", s, v);
		free(v);
		free(up);
	}
	v = xasprintf("(a (nested \\) comment)) %s", s);
	same_id("a comment before the value changes the id", v, id);
	free(v);
	v = quoted(id);
	same_id("the id as a quoted-string reads differently", v, id);
	free(v);
	free(id);
	free(s);
	return 0;
}
