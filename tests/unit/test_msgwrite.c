#include "config.h"
/*
 * NAME
 *	test_msgwrite - a message written back as header fields and body
 * DESCRIPTION
 *	Proves mm_msg_header() with and without MM_MSG_AS_RECEIVED (no
 *	space after the colon only where the MTA removed none), folded
 *	values in CRLF form (an LF gets its CR, a CR already there is not
 *	doubled) and in LF form (CRLF becomes LF, a lone CR stays);
 *	mm_msg_text() on a body; and that a sink's refusal stops the
 *	writer with -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <modmilter/msgwrite.h>
#include <modmilter/strbuf.h>

static void
test_crlf(void **state)
{
	struct mm_buf b = MM_BUF_INIT;

	(void)state;
	assert_int_equal(mm_msg_header(mm_msg_to_buf, &b, "Subject",
	    "folded\n\tline", MM_MSG_AS_RECEIVED), 0);
	mm_msg_header(mm_msg_to_buf, &b, "X-Tab", "\tvalue", MM_MSG_AS_RECEIVED);
	mm_msg_header(mm_msg_to_buf, &b, "X-Empty", "", MM_MSG_AS_RECEIVED);
	mm_msg_header(mm_msg_to_buf, &b, "X-Null", NULL, MM_MSG_AS_RECEIVED);
	mm_msg_header(mm_msg_to_buf, &b, "X-Two", " two", MM_MSG_AS_RECEIVED);
	mm_msg_header(mm_msg_to_buf, &b, "X-Cr", "a\r\n\tb", MM_MSG_AS_RECEIVED);
	assert_string_equal(b.data, "Subject: folded\r\n\tline\r\nX-Tab:\tvalue\r\n"
	    "X-Empty:\r\nX-Null:\r\nX-Two:  two\r\nX-Cr: a\r\n\tb\r\n");
	mm_buf_reset(&b);
	/* without the flag: always ": " */
	mm_msg_header(mm_msg_to_buf, &b, "X-Tab", "\tvalue", 0);
	mm_msg_header(mm_msg_to_buf, &b, "X-Empty", "", 0);
	assert_string_equal(b.data, "X-Tab: \tvalue\r\nX-Empty: \r\n");
	mm_buf_reset(&b);
	assert_int_equal(mm_msg_text(mm_msg_to_buf, &b, "\na\nb\r\nc\rd", 9, 0), 0);
	assert_string_equal(b.data, "\r\na\r\nb\r\nc\rd");
	mm_buf_free(&b);
}

static void
test_lf(void **state)
{
	struct mm_buf b = MM_BUF_INIT;

	(void)state;
	mm_msg_header(mm_msg_to_buf, &b, "Subject", "folded\r\n\tline", MM_MSG_LF);
	mm_msg_header(mm_msg_to_buf, &b, "X-Tab", "\tvalue", MM_MSG_LF);
	assert_string_equal(b.data, "Subject: folded\n\tline\nX-Tab: \tvalue\n");
	mm_buf_reset(&b);
	assert_int_equal(mm_msg_text(mm_msg_to_buf, &b, "a\r\nb\rc\r\r\nd\r", 11,
	    MM_MSG_LF), 0);
	assert_memory_equal(b.data, "a\nb\rc\r\nd\r", 10);
	assert_int_equal(b.len, 9);
	mm_buf_free(&b);
}

struct limited {
	size_t left;
	size_t calls;
};

static int
limited_sink(void *arg, const void *p, size_t n)
{
	struct limited *l = arg;

	(void)p;
	l->calls++;
	if (n > l->left)
		return -1;
	l->left -= n;
	return 0;
}

static void
test_sink_refuses(void **state)
{
	struct limited l = { 8, 0 };

	(void)state;
	assert_int_equal(mm_msg_header(limited_sink, &l, "Subject", "x", 0), -1);
	assert_int_equal(l.calls, 2);
	l.left = 100;
	l.calls = 0;
	assert_int_equal(mm_msg_header(limited_sink, &l, "S", "a\nb", 0), 0);
	l.left = 2;
	assert_int_equal(mm_msg_text(limited_sink, &l, "ab\r\ncd", 6, MM_MSG_LF), -1);
	l.left = 2;
	assert_int_equal(mm_msg_text(limited_sink, &l, "ab\ncd", 5, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_lf),
		cmocka_unit_test(test_sink_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
