/*
 * NAME
 *	test_mime - unit tests of the mime plugin's modules (cmocka)
 * DESCRIPTION
 *	The name normaliser, the signature sniffer, the bounded decoder,
 *	the exception policy, the body rewriter, the message text, the
 *	saver and the readings of repeated Content-Type fields, each
 *	against the cases it exists for.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mime.h"

static void
name_is(const char *raw, const char *clean, const char *ext, unsigned flags)
{
	struct mime_name n;

	mime_name_clean(raw, strlen(raw), &n);
	assert_string_equal(n.clean, clean);
	assert_string_equal(n.ext, ext);
	assert_int_equal(n.flags, flags);
	mime_name_free(&n);
}

static void
test_names(void **state)
{
	(void)state;
	name_is("report.pdf", "report.pdf", "pdf", 0);
	name_is("REPORT.EXE", "REPORT.EXE", "exe", 0);
	name_is("C:\\Users\\x\\evil.exe", "evil.exe", "exe", 0);
	name_is("dir/sub/evil.scr", "evil.scr", "scr", 0);
	name_is("invoice.exe. . .", "invoice.exe", "exe", MIME_NAME_TRIMMED);
	name_is("invoice.pdf        .exe", "invoice.pdf        .exe", "exe", MIME_NAME_PADDED);
	/* U+202E RIGHT-TO-LEFT OVERRIDE */
	name_is("invoice\xe2\x80\xae" "fdp.exe", "invoicefdp.exe", "exe", MIME_NAME_BIDI);
	/* U+200B ZERO WIDTH SPACE inside the extension */
	name_is("a.e\xe2\x80\x8bxe", "a.exe", "exe", MIME_NAME_INVISIBLE);
	/* full-width letters and a full-width full stop */
	name_is("\xef\xbd\x81\xef\xbc\x8e\xef\xbd\x85\xef\xbd\x98\xef\xbd\x85", "a.exe", "exe", 0);
	/* NO-BREAK SPACE trailing */
	name_is("a.exe\xc2\xa0", "a.exe", "exe", MIME_NAME_TRIMMED);
	name_is("a.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}",
	    "a.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}", "txt", MIME_NAME_CLSID);
	name_is("\"quoted.exe\"", "\"quoted.exe", "exe", MIME_NAME_TRIMMED);
	name_is("noext", "noext", "", 0);
	name_is("", "", "", 0);
	name_is("a.verylongextensionthatisnotone1234567", "a.verylongextensionthatisnotone1234567", "", 0);
	/* invalid UTF-8 is repaired, not trusted */
	name_is("a\xff.exe", "a\xef\xbf\xbd.exe", "exe", 0);
}

static void
test_sniff(void **state)
{
	unsigned char pe[256] = { 'M', 'Z' };
	unsigned char iso[0x8010] = { 0 };
	unsigned char tar[512] = { 0 };
	const unsigned char fat[] = { 0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2 };
	const unsigned char java[] = { 0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52 };

	(void)state;
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	assert_int_equal(mime_sniff(pe, sizeof(pe)), MIME_KIND_EXE);
	assert_int_equal(mime_sniff((const unsigned char *)"MZ\x90\0\x03\0", 6), MIME_KIND_EXE);
	assert_int_equal(mime_sniff((const unsigned char *)"MZ Bank statement for March", 27),
	    MIME_KIND_NONE);
	assert_int_equal(mime_sniff((const unsigned char *)"\x7f" "ELF\x02", 5), MIME_KIND_ELF);
	assert_int_equal(mime_sniff(fat, sizeof(fat)), MIME_KIND_MACHO);
	assert_int_equal(mime_sniff(java, sizeof(java)), MIME_KIND_NONE);
	assert_int_equal(mime_sniff((const unsigned char *)"#!/bin/sh\n", 10), MIME_KIND_SCRIPT);
	assert_int_equal(mime_sniff((const unsigned char *)"#! /usr/bin/env perl\n", 21), MIME_KIND_SCRIPT);
	assert_int_equal(mime_sniff((const unsigned char *)"#!important", 11), MIME_KIND_NONE);
	assert_int_equal(mime_sniff((const unsigned char *)"@ECHO OFF\r\n", 11), MIME_KIND_SCRIPT);
	assert_int_equal(mime_sniff((const unsigned char *)"PK\x03\x04", 4), MIME_KIND_ZIP);
	assert_int_equal(mime_sniff((const unsigned char *)"7z\xbc\xaf\x27\x1c", 6), MIME_KIND_7Z);
	assert_int_equal(mime_sniff((const unsigned char *)"BZh91AY", 7), MIME_KIND_BZIP2);
	assert_int_equal(mime_sniff((const unsigned char *)"BZhx", 4), MIME_KIND_NONE);
	memcpy(tar + 257, "ustar", 5);
	assert_int_equal(mime_sniff(tar, sizeof(tar)), MIME_KIND_TAR);
	memcpy(iso + 0x8001, "CD001", 5);
	assert_int_equal(mime_sniff(iso, sizeof(iso)), MIME_KIND_ISO);
	assert_int_equal(mime_sniff(iso, 0x8000), MIME_KIND_NONE);
	assert_int_equal(mime_sniff(NULL, 0), MIME_KIND_NONE);
	assert_true(mime_ext_is_archive("zip"));
	assert_false(mime_ext_is_archive("pdf"));
	assert_int_equal(mime_kind_by_name("MachO"), MIME_KIND_MACHO);
	assert_int_equal(mime_kind_by_name("none"), MIME_KIND_NONE);
}

static void
test_decode(void **state)
{
	size_t n;
	int more, bad;
	unsigned char *p;
	const char *b64 = "SGVsbG8s\r\nIHdvcmxk\r\n";	/* "Hello, world" */

	(void)state;
	p = mime_decode(MIME_CTE_BASE64, b64, strlen(b64), 100, &n, &more, &bad);
	assert_int_equal(n, 12);
	assert_memory_equal(p, "Hello, world", 12);
	assert_false(more);
	assert_false(bad);
	free(p);
	p = mime_decode(MIME_CTE_BASE64, b64, strlen(b64), 5, &n, &more, &bad);
	assert_int_equal(n, 5);
	assert_true(more);
	free(p);
	p = mime_decode(MIME_CTE_BASE64, "SGk!\n", 5, 100, &n, &more, &bad);
	assert_true(bad);
	free(p);
	p = mime_decode(MIME_CTE_QP, "a=3Db=\r\nc", 9, 100, &n, &more, &bad);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "a=bc", 4);
	free(p);
	p = mime_decode(MIME_CTE_IDENTITY, "abcdef", 6, 3, &n, &more, &bad);
	assert_int_equal(n, 3);
	assert_true(more);
	free(p);
	assert_int_equal(mime_cte_parse(" Base64 "), MIME_CTE_BASE64);
	assert_int_equal(mime_cte_parse("quoted-printable"), MIME_CTE_QP);
	assert_int_equal(mime_cte_parse("x-uuencode"), MIME_CTE_UUENCODE);
	assert_int_equal(mime_cte_parse("7bit"), MIME_CTE_IDENTITY);
	assert_int_equal(mime_cte_parse(NULL), MIME_CTE_IDENTITY);
}

static void
test_policy(void **state)
{
	char *items[] = { "exe" };
	struct mime_exception exc[] = {
		{ "partner.example", items, 1 },
		{ ".sub.example", items, 1 },
	};
	char *banned[] = { "exe", "scr" };
	struct mime_conf c;
	struct mime_scan sc;
	const char *one[] = { "bob@partner.example" };
	const char *two[] = { "bob@partner.example", "eve@other.example" };
	const char *sub[] = { "x@a.sub.example>" };
	struct mime_hit hit = { 0 };

	(void)state;
	memset(&c, 0, sizeof(c));
	c.banned_ext = banned;
	c.nbanned_ext = 2;
	c.banned_kinds = 1u << MIME_KIND_EXE;
	c.exc = exc;
	c.nexc = 2;
	c.max_parts = 10;
	c.max_size = 1000;

	memset(&sc, 0, sizeof(sc));
	sc.conf = &c;
	mime_policy_exceptions(&sc, "alice@partner.example", NULL, 0);
	assert_false(mime_policy_ext_banned(&sc, "exe"));
	assert_false(mime_policy_kind_banned(&sc, MIME_KIND_EXE));
	assert_true(mime_policy_ext_banned(&sc, "scr"));
	mime_scan_free(&sc);

	memset(&sc, 0, sizeof(sc));
	sc.conf = &c;
	mime_policy_exceptions(&sc, "alice@elsewhere.example", one, 1);
	assert_false(mime_policy_ext_banned(&sc, "exe"));
	mime_scan_free(&sc);

	memset(&sc, 0, sizeof(sc));
	sc.conf = &c;
	mime_policy_exceptions(&sc, "alice@elsewhere.example", two, 2);
	assert_true(mime_policy_ext_banned(&sc, "exe"));	/* not every recipient */
	mime_scan_free(&sc);

	memset(&sc, 0, sizeof(sc));
	sc.conf = &c;
	mime_policy_exceptions(&sc, "alice@sub.example", sub, 1);
	assert_false(mime_policy_ext_banned(&sc, "exe"));	/* via the recipient */
	assert_true(mime_policy_name(&sc, "x.scr", 5, "a.zip", &hit, NULL));
	assert_string_equal(hit.name, "a.zip: x.scr");
	assert_false(mime_policy_name(&sc, "x.exe", 5, "", &hit, NULL));
	assert_true(mime_policy_name(&sc, "x\xe2\x80\xae" "gpj.pdf", 11, "", &hit, NULL));
	mime_hit_free(&hit);
	for (int i = 0; i < 10; i++)
		assert_true(mime_count_part(&sc));
	assert_false(mime_count_part(&sc));
	assert_non_null(sc.limit);
	assert_true(mime_count_bytes(&sc, 999));
	assert_false(mime_count_bytes(&sc, 2));
	mime_scan_free(&sc);
}

static void
test_rewrite(void **state)
{
	const char *body = "pre\r\n--b\r\nContent-Type: text/plain\r\n\r\nkeep\r\n"
	    "--b\r\nContent-Type: application/x; name=\"a.exe\"\r\n\r\nMZ\r\n--b--\r\n";
	const char *cut = strstr(body, "Content-Type: application/x");
	struct mime_unit u = { 0 };
	struct mime_result res = { &u, 1 };
	struct mime_buf out = { 0 };
	struct mime_hit h = { "Rechnung_M\xc3\xa4rz.exe", "banned" };

	(void)state;
	u.start = (size_t)(cut - body);
	u.end = (size_t)(strstr(body, "MZ") + 2 - body);
	u.hit.name = "a.exe";
	u.hit.reason = "banned file name extension .exe";
	assert_int_equal(mime_rewrite(body, strlen(body), &res, "ID1", &out), 0);
	assert_memory_equal(out.data, body, u.start);
	assert_non_null(strstr(out.data, "name=\"WARNING.TXT\"\r\n"));
	assert_non_null(strstr(out.data, "    a.exe\r\n    (banned file name extension .exe)\r\n"));
	assert_non_null(strstr(out.data, "kept under the id ID1."));
	assert_string_equal(out.data + out.len - 9, "\r\n--b--\r\n");
	assert_null(strstr(out.data, "MZ"));
	mime_buf_free(&out);

	u.whole = 1;
	u.hit = h;
	assert_int_equal(mime_rewrite(body, strlen(body), &res, "ID2", &out), 1);
	assert_non_null(strstr(out.data, "Rechnung_M=C3=A4rz.exe"));
	assert_null(strstr(out.data, "Content-Type"));
	mime_buf_free(&out);
	{
		char *a = mime_ascii("a\xc3\xa4\x01z", 100);
		assert_string_equal(a, "a??z");
		free(a);
	}
}

static void
test_message_text(void **state)
{
	struct mime_header h[] = {
		{ "Subject", "folded\n\tline" }, { "X-Tab", "\tvalue" },
		{ "X-Empty", "" }, { "X-Two", " two" },
	};
	struct mime_buf b = { 0 };

	(void)state;
	mime_message_text(&b, h, 4, "body\r\n", 6);
	assert_string_equal(b.data, "Subject: folded\r\n\tline\r\nX-Tab:\tvalue\r\n"
	    "X-Empty:\r\nX-Two:  two\r\n\r\nbody\r\n");
	mime_buf_free(&b);
}

/* Content-Type fields repeated in one header block: one reading per
   field, each keeping one and renaming the others in place */
static void
test_readings(void **state)
{
	static const char text[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n"
	    "Subject: x\r\n"
	    "\r\n"
	    "Content-Type: text/plain\r\n"	/* body text: alone in its block */
	    "--b\r\n"
	    "content-type : text/plain\r\n"
	    "Content-Type: multipart/mixed;\r\n boundary=c\r\n"
	    "CONTENT-TYPE: application/x-msdownload\r\n"
	    "\r\n"
	    "--c\r\n"
	    "Content-Type: a/b\r\n"
	    "Content-Type: c/d\r\n"
	    "\r\n";
	struct mime_readings rd;
	size_t len = sizeof(text) - 1;
	char *r0, *r2;

	(void)state;
	assert_int_equal(mime_readings_find(text, len, &rd), 3);
	assert_int_equal(rd.n, 5);
	r0 = mime_reading(text, len, &rd, 0);
	r2 = mime_reading(text, len, &rd, 2);
	assert_int_equal(strlen(r0), len);
	assert_non_null(strstr(r0, "content-type : text/plain"));
	assert_non_null(strstr(r0, "Xontent-Type: multipart/mixed;\r\n boundary=c"));
	assert_non_null(strstr(r0, "Xontent-Type: application/x-msdownload"));
	assert_non_null(strstr(r0, "Content-Type: a/b\r\nXontent-Type: c/d"));
	/* untouched: the single fields */
	assert_memory_equal(r0, text, 60);
	/* k beyond a block's fields: its last one */
	assert_non_null(strstr(r2, "Xontent-Type : text/plain"));
	assert_non_null(strstr(r2, "CONTENT-TYPE: application/x-msdownload"));
	assert_non_null(strstr(r2, "Xontent-Type: a/b\r\nContent-Type: c/d"));
	free(r0);
	free(r2);
	mime_readings_free(&rd);
	assert_int_equal(mime_readings_find("Content-Type: a/b\r\n\r\nx", 22, &rd), 0);
	mime_readings_free(&rd);
}

static void
test_save(void **state)
{
	char dir[] = "/tmp/test_mime.XXXXXX";
	struct mime_header h[] = { { "Subject", "s" } };
	char *id = NULL, *err = NULL, path[256], buf[64];
	FILE *fp;
	size_t n;
	DIR *d;
	struct dirent *de;
	int files = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mime_save(dir, "Q/../1", h, 1, "b\r\n", 3, &id, &err), 0);
	assert_null(strchr(id, '/'));
	snprintf(path, sizeof(path), "%s/%s.eml", dir, id);
	assert_non_null(fp = fopen(path, "rb"));
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(n, 17);
	assert_memory_equal(buf, "Subject: s\r\n\r\nb\r\n", 17);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp"))
			files++;
	closedir(d);
	assert_int_equal(files, 1);	/* no temporary file left */
	unlink(path);
	free(id);
	rmdir(dir);
	id = NULL;
	assert_int_equal(mime_save("/nonexistent/dir", "Q", h, 1, "", 0, &id, &err), -1);
	assert_null(id);
	assert_non_null(strstr(err, "cannot save the original in /nonexistent/dir: create"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_message_text),
		cmocka_unit_test(test_save),
	};

	mime_gmime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
