/*
 * NAME
 *	test_msgparts - the core's MIME reader (core/msgparts.c, parttext.c)
 * DESCRIPTION
 *	One leaf read without the parser; a multipart's list, names,
 *	offsets and decoded content; an embedded message's fields (GMime
 *	keeps its Content-* fields apart); several Content-Type fields;
 *	charsets and their fallback; RFC 2047 words decoded one by one;
 *	a broken multipart flagged; the MTA's field list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msgparts.h"

static struct mm_parts *
parse(const char *s)
{
	return msgparts_parse((const unsigned char *)s, strlen(s));
}

static void
test_one_leaf(void **state)
{
	struct mm_parts *p = parse("From sender Mon Jan  1 00:00:00 2024\n"
	    "Subject: hi\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "\ncaf\xe9\n");
	const struct mm_part *pt;
	const char *t;
	size_t tl;

	(void)state;
	assert_int_equal(msgparts_count(p), 1);
	pt = msgparts_at(p, 0);
	assert_int_equal(pt->kind, MM_PART_LEAF);
	assert_int_equal(pt->parent, -1);
	assert_string_equal(pt->type, "text/plain");
	assert_string_equal(pt->charset, "iso-8859-1");
	assert_int_equal(pt->detected, MM_CTE_8BIT);
	assert_int_equal(pt->nfields, 2);	/* the mbox line is no field */
	assert_string_equal(pt->fields[0].name, "Subject");
	assert_int_equal(pt->content_start, 0);
	assert_int_equal(pt->content_end, 5);
	assert_int_equal(msgparts_text(p, 0, &t, &tl), 0);
	assert_int_equal(tl, 6);
	assert_memory_equal(t, "caf\xc3\xa9\n", 6);
	assert_int_equal(msgparts_problems(p, NULL), 0);
	msgparts_free(p);
}

#define MULTI \
	"From: a@example.org\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" \
	"preamble\r\n--b1\r\n" \
	"Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n" \
	"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n" \
	"--b2\r\nContent-Type: text/html\r\n\r\n<p>Hello</p>\r\n--b2--\r\n" \
	"--b1\r\nContent-Type: application/octet-stream; name=\"a.exe\"\r\n" \
	"Content-Disposition: attachment; filename=\"b.pdf\"\r\n" \
	"Content-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n--b1--\r\n"

static void
test_multipart(void **state)
{
	struct mm_parts *p = parse(MULTI);
	const char *body = strstr(MULTI, "\r\n\r\n") + 4;
	const struct mm_part *pt;
	const unsigned char *d;
	size_t dl;

	(void)state;
	assert_int_equal(msgparts_count(p), 5);
	assert_int_equal(msgparts_at(p, 0)->kind, MM_PART_MULTIPART);
	assert_string_equal(msgparts_at(p, 1)->type, "multipart/alternative");
	assert_int_equal(msgparts_at(p, 1)->parent, 0);
	assert_int_equal(msgparts_at(p, 2)->parent, 1);
	assert_string_equal(msgparts_at(p, 3)->type, "text/html");
	assert_int_equal(msgparts_at(p, 3)->parent, 1);
	pt = msgparts_at(p, 4);
	assert_int_equal(pt->parent, 0);
	assert_string_equal(pt->filename, "b.pdf");
	assert_string_equal(pt->disposition, "attachment");
	assert_int_equal(pt->nnames, 2);	/* name and filename both */
	assert_string_equal(pt->names[0], "a.exe");
	assert_string_equal(pt->names[1], "b.pdf");
	assert_int_equal(pt->encoding, MM_CTE_BASE64);
	/* offsets in the body: the part starts at its first field */
	assert_true(pt->start > 0);
	assert_memory_equal(body + pt->start, "Content-Type: application", 25);
	assert_memory_equal(body + pt->content_start, "TVqQAA==", 8);
	assert_int_equal(msgparts_data(p, 4, &d, &dl), 0);
	assert_int_equal(dl, 4);
	assert_memory_equal(d, "MZ\x90\0", 4);
	assert_int_equal(msgparts_data(p, 0, &d, &dl), -1);	/* no leaf */
	assert_int_equal(msgparts_text(p, 4, (const char **)&d, &dl), -1);
	/* the root keeps all of the message's fields, in order */
	assert_int_equal(msgparts_at(p, 0)->nfields, 3);
	assert_string_equal(msgparts_at(p, 0)->fields[2].name, "Content-Type");
	assert_int_equal(msgparts_problems(p, NULL), 0);
	msgparts_free(p);
}

static void
test_embedded(void **state)
{
	struct mm_parts *p = parse("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: message/rfc822\n\n"
	    "Subject: inner\nContent-Type: text/plain\nX-After: 1\n\nbody\n--b--\n");
	const struct mm_part *m, *r;

	(void)state;
	assert_int_equal(msgparts_count(p), 3);
	m = msgparts_at(p, 1);
	r = msgparts_at(p, 2);
	assert_int_equal(m->kind, MM_PART_MESSAGE);
	assert_int_equal(r->parent, 1);
	assert_int_equal(r->depth, 1);
	assert_int_equal(r->nfields, 3);
	assert_string_equal(r->fields[0].name, "Subject");
	assert_string_equal(r->fields[1].name, "Content-Type");
	assert_string_equal(r->fields[2].name, "X-After");
	msgparts_free(p);
}

static void
test_types(void **state)
{
	struct mm_parts *p = parse("Content-Type: text/plain\n"
	    "Content-Type: application/zip; name=x.zip\n\nPK");
	const struct mm_part *pt = msgparts_at(p, 0);

	(void)state;
	assert_int_equal(pt->ntypes, 2);
	assert_string_equal(pt->types[0], "text/plain");
	assert_string_equal(pt->types[1], "application/zip");
	assert_string_equal(pt->type, "application/zip");	/* the last */
	assert_int_equal(pt->nnames, 1);
	assert_true(msgparts_problems(p, NULL) & MM_PARTS_MALFORMED);
	msgparts_free(p);
}

static void
test_charsets(void **state)
{
	size_t n;
	char *s;

	(void)state;
	/* valid UTF-8 needs nothing */
	assert_null(msgparts_to_utf8(NULL, "caf\xc3\xa9", 5, &n));
	/* undeclared or lying: Windows-1252 for what is not UTF-8 */
	s = msgparts_to_utf8("utf-8", "\x93q\x94 \xc3\xa9", 7, &n);
	assert_non_null(s);
	assert_string_equal(s, "\xe2\x80\x9cq\xe2\x80\x9d \xc3\xa9");
	free(s);
	s = msgparts_to_utf8("x-no-such-charset", "caf\xe9", 4, &n);
	assert_string_equal(s, "caf\xc3\xa9");
	free(s);
	s = msgparts_to_utf8("koi8-r", "\xf0\xd2\xc9", 3, &n);
	assert_string_equal(s, "\xd0\x9f\xd1\x80\xd0\xb8");	/* "При" */
	free(s);
}

static void
test_header_decode(void **state)
{
	char *s;

	(void)state;
	/* two ISO-2022-JP words: each decoded on its own, blanks between go */
	s = msgparts_header_decode("=?iso-2022-jp?B?GyRCRnxLXBsoQg==?= "
	    "=?iso-2022-jp?B?GyRCOGwbKEI=?=");
	assert_string_equal(s, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	free(s);
	s = msgparts_header_decode("=?utf-8?q?caf=C3=A9_au?= lait");
	assert_string_equal(s, "caf\xc3\xa9 au lait");
	free(s);
	s = msgparts_header_decode("r\xe9sum\xe9");	/* raw 8 bits */
	assert_string_equal(s, "r\xc3\xa9sum\xc3\xa9");
	free(s);
}

static void
test_malformed(void **state)
{
	struct mm_parts *p = parse("Content-Type: multipart/mixed; boundary=zz\n\n"
	    "no boundary here\n");
	const char *why;

	(void)state;
	assert_true(msgparts_problems(p, &why) & MM_PARTS_MALFORMED);
	assert_non_null(why);
	assert_non_null(strstr(why, "boundary"));
	msgparts_free(p);
}

static void
test_from_mta(void **state)
{
	struct msgparts_field f[] = {
		{ "Subject", "one\n\ttwo" },
		{ "Content-Type", "multipart/mixed;\n\tboundary=q" },
	};
	const char *body = "--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--\r\n";
	struct mm_parts *p = msgparts_from(f, 2, (const unsigned char *)body,
	    strlen(body));

	(void)state;
	assert_int_equal(msgparts_count(p), 2);
	assert_string_equal(msgparts_at(p, 0)->fields[0].value, "one two");
	assert_memory_equal(body + msgparts_at(p, 1)->content_start, "x", 1);
	assert_int_equal(msgparts_at(p, 1)->content_end -
	    msgparts_at(p, 1)->content_start, 1);
	msgparts_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_leaf),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_header_decode),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_from_mta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
