#include "config.h"
/*
 * NAME
 *	test_reply - SMTP replies are sanitized before they reach the MTA
 * DESCRIPTION
 *	Proves reply_make() (DESIGN.md merge rule 6): the reply code's
 *	class must match the verdict (a 250 or 450 for a REJECT becomes
 *	550, a 550 for a TEMPFAIL becomes 451), malformed codes get the
 *	default; the enhanced code is validated (class.subject.detail) and
 *	its class digit forced to the verdict's; '%' is doubled; CR, LF and
 *	other control characters become single spaces; the text never
 *	exceeds 980 characters, not even when a doubled '%' would straddle
 *	the limit; an empty or NULL text gets the default text; leading
 *	whitespace is trimmed; reply_copy() copies deeply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"

#define DEF_REJECT	"Message rejected"
#define DEF_TEMPFAIL	"Temporary failure, please try again later"

static void
check(mm_verdict v, const char *rc, const char *xc, const char *text,
    const char *want_rc, const char *want_xc, const char *want_text)
{
	struct reply r;

	reply_make(&r, v, rc, xc, text);
	assert_string_equal(r.rcode, want_rc);
	assert_string_equal(r.xcode, want_xc);
	assert_non_null(r.text);
	if (want_text)
		assert_string_equal(r.text, want_text);
	reply_free(&r);
	assert_null(r.text);
}

static void
test_code_class(void **state)
{
	(void)state;
	check(MM_REJECT, "554", "5.7.1", "x", "554", "5.7.1", "x");
	check(MM_REJECT, "250", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "450", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_TEMPFAIL, "452", "4.2.2", "x", "452", "4.2.2", "x");
	check(MM_TEMPFAIL, "550", "4.2.2", "x", "451", "4.2.2", "x");
	check(MM_TEMPFAIL, "250", "4.2.2", "x", "451", "4.2.2", "x");
	check(MM_TEMPFAIL, NULL, NULL, "x", "451", "4.7.1", "x");
	check(MM_REJECT, NULL, NULL, "x", "550", "5.7.1", "x");
	/* malformed codes */
	check(MM_REJECT, "", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "55", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "5500", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "5a0", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "590", "5.7.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "55x", "5.7.1", "x", "550", "5.7.1", "x");
}

static void
test_xcode(void **state)
{
	(void)state;
	/* class digit forced to the verdict's */
	check(MM_REJECT, "550", "4.2.2", "x", "550", "5.2.2", "x");
	check(MM_REJECT, "550", "2.0.0", "x", "550", "5.0.0", "x");
	check(MM_TEMPFAIL, "451", "5.7.1", "x", "451", "4.7.1", "x");
	check(MM_REJECT, "550", "5.123.456", "x", "550", "5.123.456", "x");
	/* malformed enhanced codes get the default */
	check(MM_REJECT, "550", "", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5.7", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5.7.1.2", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5.1234.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5..1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5.1.", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "3.1.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "x.1.1", "x", "550", "5.7.1", "x");
	check(MM_REJECT, "550", "5.1.1 ", "x", "550", "5.7.1", "x");
	check(MM_TEMPFAIL, "451", "4.a.1", "x", "451", "4.7.1", "x");
}

static void
test_percent(void **state)
{
	(void)state;
	check(MM_REJECT, "550", "5.7.1", "100% sure", "550", "5.7.1", "100%% sure");
	check(MM_REJECT, "550", "5.7.1", "%s%n%%", "550", "5.7.1", "%%s%%n%%%%");
}

static void
test_control_chars(void **state)
{
	(void)state;
	check(MM_REJECT, "550", "5.7.1", "line one\r\nline two", "550", "5.7.1",
	    "line one line two");
	check(MM_REJECT, "550", "5.7.1", "a\rb\nc", "550", "5.7.1", "a b c");
	check(MM_REJECT, "550", "5.7.1", "a\r\n\r\n\tb", "550", "5.7.1", "a b");
	check(MM_REJECT, "550", "5.7.1", "a\x01" "b\x1f" "c\x7f" "d\x1b[0m", "550",
	    "5.7.1", "a b c d [0m");
	check(MM_REJECT, "550", "5.7.1", "trailing\r\n", "550", "5.7.1", "trailing");
	check(MM_REJECT, "550", "5.7.1", "tab\there", "550", "5.7.1", "tab here");
	/* bytes above ASCII (UTF-8) are text, not control characters */
	check(MM_REJECT, "550", "5.7.1", "caf\xc3\xa9", "550", "5.7.1", "caf\xc3\xa9");
}

static void
test_leading_whitespace(void **state)
{
	(void)state;
	check(MM_REJECT, "550", "5.7.1", "   \t hello", "550", "5.7.1", "hello");
	check(MM_REJECT, "550", "5.7.1", "\r\n  hello", "550", "5.7.1", "hello");
	check(MM_REJECT, "550", "5.7.1", "\x01\x02hello", "550", "5.7.1", "hello");
}

static void
test_default_text(void **state)
{
	(void)state;
	check(MM_REJECT, "550", "5.7.1", NULL, "550", "5.7.1", DEF_REJECT);
	check(MM_REJECT, "550", "5.7.1", "", "550", "5.7.1", DEF_REJECT);
	check(MM_REJECT, "550", "5.7.1", "   ", "550", "5.7.1", DEF_REJECT);
	check(MM_REJECT, "550", "5.7.1", "\r\n\t\x01", "550", "5.7.1", DEF_REJECT);
	check(MM_TEMPFAIL, "451", "4.7.1", NULL, "451", "4.7.1", DEF_TEMPFAIL);
	check(MM_TEMPFAIL, "451", "4.7.1", "", "451", "4.7.1", DEF_TEMPFAIL);
	check(MM_TEMPFAIL, NULL, NULL, NULL, "451", "4.7.1", DEF_TEMPFAIL);
}

static char *
repeat(char c, size_t n, const char *tail)
{
	size_t tl = tail ? strlen(tail) : 0;
	char *s = malloc(n + tl + 1);

	memset(s, c, n);
	if (tail)
		memcpy(s + n, tail, tl);
	s[n + tl] = 0;
	return s;
}

/* Doubled '%' come in pairs: no lone '%' that libmilter would expand. */
static void
assert_percent_pairs(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '%') {
			assert_int_equal(p[1], '%');
			p++;
		}
}

static void
test_length_limit(void **state)
{
	struct reply r;
	char *t;

	(void)state;
	assert_int_equal(REPLY_TEXT_MAX, 980);

	/* exactly at the limit: kept whole */
	t = repeat('a', 980, NULL);
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	assert_int_equal(strlen(r.text), 980);
	assert_string_equal(r.text, t);
	reply_free(&r);
	free(t);

	/* beyond it: cut at 980 */
	t = repeat('b', 2000, NULL);
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	assert_int_equal(strlen(r.text), 980);
	assert_memory_equal(r.text, t, 980);
	reply_free(&r);
	free(t);

	/* a '%' whose doubling would end at 981: dropped, not left lone */
	t = repeat('c', 979, "%tail");
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	assert_true(strlen(r.text) <= 980);
	assert_int_equal(strlen(r.text), 979);
	assert_null(strchr(r.text, '%'));
	reply_free(&r);
	free(t);

	/* a '%' whose doubling ends exactly at 980: kept */
	t = repeat('d', 978, "%tail");
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	assert_int_equal(strlen(r.text), 980);
	assert_string_equal(r.text + 978, "%%");
	reply_free(&r);
	free(t);

	/* nothing but '%': 490 pairs */
	t = repeat('%', 700, NULL);
	reply_make(&r, MM_TEMPFAIL, "451", "4.7.1", t);
	assert_int_equal(strlen(r.text), 980);
	assert_percent_pairs(r.text);
	reply_free(&r);
	free(t);

	/* an odd offset: 'x' then '%' repeated */
	t = malloc(1201);
	for (int i = 0; i < 1200; i++)
		t[i] = i % 2 ? '%' : 'x';
	t[1200] = 0;
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	assert_true(strlen(r.text) <= 980);
	assert_true(strlen(r.text) >= 978);
	assert_percent_pairs(r.text);
	reply_free(&r);
	free(t);

	/* control characters count after becoming spaces */
	t = malloc(1 + 2 * 1500 + 1);
	strcpy(t, "x");
	for (int i = 0; i < 1500; i++)
		strcat(t, "\ry");
	reply_make(&r, MM_REJECT, "550", "5.7.1", t);
	/* "x y y ... y " cut at 980 ends in a space, which is trimmed */
	assert_int_equal(strlen(r.text), 979);
	assert_null(strchr(r.text, '\r'));
	assert_int_equal(strncmp(r.text, "x y y", 5), 0);
	reply_free(&r);
	free(t);
}

static void
test_copy(void **state)
{
	struct reply a, b;

	(void)state;
	reply_make(&a, MM_TEMPFAIL, "452", "4.5.3", "later");
	reply_copy(&b, &a);
	assert_ptr_not_equal(a.text, b.text);
	assert_string_equal(b.text, "later");
	assert_string_equal(b.rcode, "452");
	assert_string_equal(b.xcode, "4.5.3");
	reply_free(&a);
	assert_string_equal(b.text, "later");
	reply_free(&b);

	memset(&a, 0, sizeof(a));
	reply_copy(&b, &a);
	assert_null(b.text);
	reply_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_class),
		cmocka_unit_test(test_xcode),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_leading_whitespace),
		cmocka_unit_test(test_default_text),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
