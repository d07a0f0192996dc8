#include "config.h"
/*
 * NAME
 *	test_authres - the authserv-id of Authentication-Results headers
 * DESCRIPTION
 *	Proves that the id is read after comments (nested, with
 *	quoted-pairs) and folding, as a token or a quoted-string, with an
 *	optional version after it; that ids compare case-insensitively
 *	with one trailing dot ignored; that every forged form of our id is
 *	recognised, and that ids which merely resemble ours
 *	("mx.example.com.evil", "xmx.example.com", ours only inside a
 *	comment) are not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authres.h"

#define OURS	"mx.example.com"

#define id_is(v, want, wf) id_is_(v, want, wf, __LINE__)
static void
id_is_(const char *value, const char *want, int want_wf, int line)
{
	const char *why = NULL;
	int wf = -1;
	char *id = authres_id(value, &wf, &why);

	if (id == NULL)
		fail_msg("line %d: no id in '%s': %s", line, value, why);
	if (strcmp(id, want) != 0 || wf != want_wf) {
		char got[256];
		strncpy(got, id, sizeof(got) - 1);
		got[sizeof(got) - 1] = 0;
		free(id);
		fail_msg("line %d: '%s' gave '%s' (well-formed %d), wanted '%s' (%d)",
		    line, value, got, wf, want, want_wf);
	}
	free(id);
}

static void
test_id(void **state)
{
	(void)state;
	id_is("mx.example.com; spf=pass", "mx.example.com", 1);
	id_is("  mx.example.com;spf=pass", "mx.example.com", 1);
	id_is("mx.example.com 1; spf=pass", "mx.example.com", 1);
	id_is("mx.example.com (v) 1 (c); none", "mx.example.com", 1);
	id_is("mx.example.com", "mx.example.com", 1);
	id_is("(x) mx.example.com; spf=pass", "mx.example.com", 1);
	id_is("(a (nested) comment) mx.example.com; spf=pass", "mx.example.com", 1);
	id_is("(a \\) quoted \\( pair) mx.example.com; spf=pass", "mx.example.com", 1);
	id_is("\r\n\t(x)\r\n mx.example.com;\r\n\tspf=pass", "mx.example.com", 1);
	id_is("\"mx.example.com\"; spf=pass", "mx.example.com", 1);
	id_is("\"mx.exa\\mple.com\"; spf=pass", "mx.example.com", 1);
	id_is("\"a b\"; spf=pass", "a b", 1);
	id_is("mx.example.com(c);spf=pass", "mx.example.com", 1);
	id_is("mx.example.com garbage; spf=pass", "mx.example.com", 0);
	id_is("mx.example.com/x; spf=pass", "mx.example.com", 0);
	id_is("mx.example.com 1 2; spf=pass", "mx.example.com", 0);
	id_is("\"\"; none", "", 1);
	/* a backslash before a line break quotes nothing: the break is
	   folding, no part of the id (found by fuzz_authres) */
	id_is("\"mx.exa\\\r\n\tmple.com\"; none", "mx.exa\tmple.com", 1);
	id_is("\"xa\\\n\tom\"; none", "xa\tom", 1);
}

static void
test_no_id(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_null(authres_id("", NULL, &why));
	assert_non_null(why);
	assert_null(authres_id("; spf=pass", NULL, NULL));
	assert_null(authres_id("(unterminated mx.example.com; spf=pass", NULL, NULL));
	assert_null(authres_id("\"mx.example.com; spf=pass", NULL, NULL));
	assert_null(authres_id("(x) (y)", NULL, NULL));
}

static void
test_eq(void **state)
{
	(void)state;
	assert_true(authres_id_eq("mx.example.com", OURS));
	assert_true(authres_id_eq("MX.Example.COM", OURS));
	assert_true(authres_id_eq("mx.example.com.", OURS));
	assert_true(authres_id_eq("mx.example.com", "mx.example.com."));
	assert_false(authres_id_eq("mx.example.com..", OURS));
	assert_false(authres_id_eq("mx.example.com.evil", OURS));
	assert_false(authres_id_eq("xmx.example.com", OURS));
	assert_false(authres_id_eq("mx.example.co", OURS));
	assert_false(authres_id_eq("", OURS));
	assert_false(authres_id_eq(".", ""));
}

static void
test_claims(void **state)
{
	static const char *const forged[] = {
		"mx.example.com; spf=pass",
		" mx.example.com ; spf=pass",
		"(x) mx.example.com; spf=pass",
		"(x (y)) mx.example.com; spf=pass",
		"\"mx.example.com\"; spf=pass",
		"\"MX.EXAMPLE.COM.\"; spf=pass",
		"MX.Example.Com; dkim=pass",
		"mx.example.com.; dmarc=pass",
		"mx.example.com 1; spf=pass",
		"mx.example.com; none",
		"mx.example.com",
		"mx.example.com garbage; spf=pass",
		"\r\n\tmx.example.com;\r\n\tspf=pass",
		NULL
	};
	static const char *const others[] = {
		"mx.example.com.evil; spf=pass",
		"xmx.example.com; spf=pass",
		"(mx.example.com) other.example; spf=pass",
		"\"mx.example.com.evil\"; spf=pass",
		"other.example; spf=pass smtp.mailfrom=mx.example.com",
		"mx.example.com..; spf=pass",
		"mx-example.com; spf=pass",
		"(mx.example.com; spf=pass",
		"",
		NULL
	};

	(void)state;
	for (size_t i = 0; forged[i]; i++)
		if (!authres_claims(forged[i], OURS))
			fail_msg("not recognised as ours: '%s'", forged[i]);
	for (size_t i = 0; others[i]; i++)
		if (authres_claims(others[i], OURS))
			fail_msg("taken for ours: '%s'", others[i]);
	assert_false(authres_claims(NULL, OURS));
	assert_false(authres_claims("mx.example.com; spf=pass", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_no_id),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
