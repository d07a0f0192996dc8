/*
 * NAME
 *	fuzz_srs - libFuzzer target for the SRS address codec of the srs plugin
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined -Iplugins/srs \
 *	    tests/fuzz/fuzz_srs.c plugins/srs/codec.c plugins/srs/hmac.c -lcrypto
 * DESCRIPTION
 *	Each input is one address as a remote MTA could send it in RCPT TO
 *	(the reverse path parses it) or as a sender (the forward path).
 *	srs_reverse() and srs_forward() must not fault, and:
 *	- a result is a NUL-terminated address with an '@' that fits;
 *	- a sender that forward accepts comes back from reverse as it was
 *	  (the tag of an SRS0 sender in upper case), unless its domain holds
 *	  an '=' (the field separator: Mail::SRS and pysrs cannot reverse
 *	  those either) or it is an SRS1 address (which reverses to its
 *	  first forwarder);
 *	- an address changed in its hash (not just in its case) does not
 *	  verify.
 * DIAGNOSTICS
 *	abort() on a broken invariant, after printing it; sanitizer
 *	reports for memory errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what, const char *in, const char *got)
{
	fprintf(stderr, "fuzz_srs: %s\n  input: '%s'\n  got:   '%s'\n", what, in, got);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s1[] = "fuzz secret", s2[] = "older";
	static char *secrets[] = { s1, s2 };
	static struct srs_key *keys;	/* keyed once, as the plugin does */
	struct srs_codec c = { secrets, 2, 8, 8, 21, '=', NULL };
	char in[2 * SRS_ADDR_MAX], fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];
	const time_t now = 1764806400;
	const char *at;
	int rc;

	if (keys == NULL) {
		if (srs_codec_key(&c) < 0)
			abort();
		keys = c.keys;
	}
	c.keys = keys;
	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	if (size > 0)
		c.separator = "=+-"[data[0] % 3];
	rc = srs_reverse(&c, in, now, back, sizeof(back));
	if (rc == SRS_OK && (strchr(back, '@') == NULL || strlen(back) >= sizeof(back)))
		broken("reverse gave no address", in, back);
	if (rc != SRS_OK && back[0] != 0)
		broken("reverse failed but left a result", in, back);
	rc = srs_forward(&c, in, "fwd.example", now, fwd, sizeof(fwd));
	if (rc != SRS_OK)
		return 0;
	if ((at = strrchr(fwd, '@')) == NULL || strcmp(at, "@fwd.example") != 0)
		broken("forward gave no address at fwd.example", in, fwd);
	if (srs_is_srs(fwd + (fwd[0] == '"')) == 0)
		broken("forward made no SRS address", in, fwd);
	if (strchr(strrchr(in, '@'), '=') != NULL || srs_is_srs(in) == 2 ||
	    (in[0] == '"' && srs_is_srs(in + 1) == 2))
		return 0;
	rc = srs_reverse(&c, fwd, now, back, sizeof(back));
	if (rc == SRS_ETOOLONG)
		return 0;
	if (rc != SRS_OK)
		broken(srs_strerror(rc), in, fwd);
	if (srs_is_srs(in) || (in[0] == '"' && srs_is_srs(in + 1))) {
		size_t q = in[0] == '"';
		if (strncasecmp(back + q, in + q, 4) != 0 || strcmp(back + q + 4, in + q + 4) != 0)
			broken("an SRS0 sender did not come back", in, back);
	} else if (strcmp(back, in) != 0)
		broken("the sender did not come back", in, back);
	/* one character of the hash changed */
	{
		size_t h = fwd[0] == '"' ? 6 : 5;	/* after "SRSn" and the separator */
		fwd[h] = fwd[h] == 'A' || fwd[h] == 'a' ? 'B' : 'A';	/* not just its case */
		if (srs_reverse(&c, fwd, now, back, sizeof(back)) == SRS_OK)
			broken("a changed hash verified", in, fwd);
	}
	return 0;
}
