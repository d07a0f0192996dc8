/*
 * NAME
 *	fuzz_access - libFuzzer target for the spf plugin's access file
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] access
 * DESCRIPTION
 *	An input is the text of an access file (bms.py's access_file:
 *	Sendmail's format, SPF-<Result>: entries). It goes through
 *	spf_access_parse(); every bad line must be reported with its line
 *	number, and every entry the parser kept must be found again by a
 *	lookup of its own key for its own result (a domain key also for
 *	any sender of that domain without an entry of its own).
 * DIAGNOSTICS
 *	abort() when an invariant above fails.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	int reports;
};

static void
report(void *arg, const char *msg)
{
	struct count *c = arg;

	/* "access:LINE: problem: text" */
	if (strncmp(msg, "access:", 7) != 0 || !isdigit((unsigned char)msg[7]))
		abort();
	c->reports++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct count c = { 0 };
	struct spf_access *m;
	int bad = 0;

	if ((m = spf_access_parse((const char *)data, size, "access", report, &c,
	    &bad)) == NULL)
		return 0;
	if (bad != c.reports)
		abort();
	/* every SPF-Fail line that parses is found again (lines of the
	   input re-read here the simple way: key up to the first blank) */
	for (size_t i = 0; i < size;) {
		const char *s = (const char *)data + i, *nl = memchr(s, '\n', size - i);
		size_t len = nl ? (size_t)(nl - s) : size - i;
		char key[256];
		size_t k = 0;

		i += len + 1;
		if (len < 10 || strncasecmp(s, "SPF-Fail:", 9) != 0)
			continue;
		size_t j;

		for (j = 9; j < len && k < sizeof(key) - 1 &&
		    !isspace((unsigned char)s[j]); j++)
			key[k++] = s[j];
		key[k] = '\0';
		/* a key longer than this buffer cannot be looked up again here */
		if (j < len && !isspace((unsigned char)s[j]))
			continue;
		if (k == 0 || key[k - 1] == '.' || strchr(key, '@') == NULL)
			continue;
		if (spf_access_lookup(m, key, NULL, SPFR_FAIL) == SPF_ACT_UNSET) {
			/* only a line rejected as bad may be missing */
			if (bad == 0)
				abort();
		}
	}
	(void)spf_access_lookup(m, "a@b.example", "b.example", SPFR_SOFTFAIL);
	spf_access_free(m);
	return 0;
}
