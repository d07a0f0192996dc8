/*
 * NAME
 *	test_cbv_dsn - the DSN notice, parsed back with GMime
 * DESCRIPTION
 *	Builds notices from the shipped templates and checks them against
 *	RFC 3464 / RFC 6522: a multipart/report of report-type
 *	delivery-status whose first part is human-readable text, whose
 *	second is message/delivery-status with the per-message fields
 *	(Reporting-MTA, Arrival-Date), then one group per recipient
 *	(Final-Recipient, Action, Status), and whose third carries the
 *	original headers; Auto-Submitted: auto-replied; CRLF everywhere;
 *	no header injection through the sender's own values; long and
 *	8-bit values (Subject, HELO, text, quoted headers) folded or
 *	encoded, so the notice is 7-bit with lines of at most 998 and every
 *	value reads back as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "cbv.h"

static const char *
vars(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "sender") == 0)
		return "alice@example.net";
	if (strcmp(name, "subject") == 0)
		return "hello\r\nBcc: victim@example.org";
	if (strcmp(name, "rcpt") == 0)
		return "bob@example.com, carol@example.com";
	if (strcmp(name, "result") == 0)
		return "softfail";
	return name;
}

static char *
part_text(GMimeObject *part)
{
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *a;
	char *out;

	if (GMIME_IS_PART(part)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
		g_mime_data_wrapper_write_to_stream(w, s);
	} else
		g_mime_object_write_content_to_stream(part, NULL, s);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	out = g_strndup((const char *)a->data, a->len);
	g_object_unref(s);
	return out;
}

/* The groups of a delivery-status body, separated by empty lines. */
static int
groups(const char *ds, char g[][1024], int max)
{
	int n = 0;
	const char *p = ds;

	while (*p && n < max) {
		const char *e = strstr(p, "\r\n\r\n"), *f = strstr(p, "\n\n");
		size_t len;
		if (f && (!e || f < e))
			e = f;
		len = e ? (size_t)(e - p) : strlen(p);
		if (len >= 1024)
			len = 1023;
		if (len > 0) {
			memcpy(g[n], p, len);
			g[n++][len] = 0;
		}
		if (!e)
			break;
		p = e + (e == f ? 2 : 4);
	}
	return n;
}

static void
check_notice(const char *tname, const char *want_action, const char *want_status)
{
	char err[512], grp[8][1024];
	struct cbv_template *t = template_load(SRCDIR "/plugins/cbv/templates", tname,
	    err, sizeof(err));
	struct cbv_rendered r;
	char *const rcpts[] = { "bob@example.com", "carol@example.com" };
	struct dsn_info di = {
		.reporting_mta = "mx.example.com", .from = "MAILER-DAEMON@mx.example.com",
		.to = "alice@example.net", .client_helo = "client.example.org",
		.client_ip = "198.51.100.9", .arrival = 1700000000, .now = 1700000005,
		.rcpts = rcpts, .nrcpt = 2, .diagnostic = "softfail",
		.headers = "From: <alice@example.net>\nTo: <bob@example.com>\nSubject: hello\n",
	};
	size_t len;
	char *msg;

	if (t == NULL)
		fail_msg("%s", err);
	assert_int_equal(template_render(t, vars, NULL, &r), 0);
	di.subject = r.subject;
	di.text = r.body;
	di.action = r.action;
	di.status = r.status;
	msg = dsn_build(&di, &len);
	assert_non_null(msg);
	assert_int_equal(strlen(msg), len);
	/* CRLF only, lines within RFC 5322's 998 */
	for (size_t i = 0, col = 0; i < len; i++, col++) {
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
		}
		assert_true(col < 1000);
	}

	GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted"),
	    "auto-replied");
	assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
	assert_non_null(g_mime_message_get_subject(m));
	assert_null(strpbrk(g_mime_message_get_subject(m), "\r\n"));
	assert_non_null(g_mime_object_get_header(GMIME_OBJECT(m), "Message-ID"));
	assert_non_null(g_mime_object_get_header(GMIME_OBJECT(m), "Date"));

	GMimeObject *top = g_mime_message_get_mime_part(m);
	GMimeContentType *ct = g_mime_object_get_content_type(top);
	assert_true(g_mime_content_type_is_type(ct, "multipart", "report"));
	assert_string_equal(g_mime_content_type_get_parameter(ct, "report-type"),
	    "delivery-status");
	GMimeMultipart *mp = GMIME_MULTIPART(top);
	assert_int_equal(g_mime_multipart_get_count(mp), 3);

	GMimeObject *human = g_mime_multipart_get_part(mp, 0);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(human),
	    "text", "plain"));
	char *txt = part_text(human);
	assert_non_null(strstr(txt, "alice@example.net"));
	/* a value stays on its line: no header can be smuggled in */
	assert_null(strstr(txt, "\nBcc:"));
	g_free(txt);

	GMimeObject *dsp = g_mime_multipart_get_part(mp, 1);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(dsp),
	    "message", "delivery-status"));
	char *ds = part_text(dsp);
	int n = groups(ds, grp, 8);
	assert_int_equal(n, 3);		/* per-message, two recipients */
	assert_non_null(strstr(grp[0], "Reporting-MTA: dns; mx.example.com"));
	assert_non_null(strstr(grp[0], "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000"));
	assert_non_null(strstr(grp[0], "Received-From-MTA: dns; client.example.org"));
	assert_null(strstr(grp[0], "Final-Recipient"));
	for (int i = 1; i < 3; i++) {
		char want[128];
		snprintf(want, sizeof(want), "Final-Recipient: rfc822; %s", rcpts[i - 1]);
		assert_non_null(strstr(grp[i], want));
		snprintf(want, sizeof(want), "Action: %s", want_action);
		assert_non_null(strstr(grp[i], want));
		snprintf(want, sizeof(want), "Status: %s", want_status);
		assert_non_null(strstr(grp[i], want));
	}
	g_free(ds);

	GMimeObject *hdrs = g_mime_multipart_get_part(mp, 2);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(hdrs),
	    "text", "rfc822-headers"));
	char *h = part_text(hdrs);
	assert_non_null(strstr(h, "Subject: hello\r\n"));
	g_free(h);

	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	free(msg);
	template_rendered_free(&r);
	template_free(t);
}

static void
test_softfail(void **state)
{
	(void)state;
	check_notice("softfail", "delayed", "4.7.0");
}

static void
test_others(void **state)
{
	(void)state;
	check_notice("neutral", "delayed", "4.7.0");
	check_notice("permerror", "delayed", "4.7.24");
	check_notice("strike3", "delayed", "4.7.0");
	check_notice("quarantine", "delayed", "4.7.1");
}

/* CRLF only, no line over RFC 5322's 998, 7-bit throughout */
static void
check_wire(const char *msg, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)msg[i] > 0x7e)
			fail_msg("8-bit byte at offset %zu", i);
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
			continue;
		}
		if (msg[i] != '\r' && ++col > 998)
			fail_msg("line over 998 characters at offset %zu", i);
	}
}

static GMimeMessage *
parse(const char *msg, size_t len, GMimeStream **s, GMimeParser **p)
{
	GMimeMessage *m;

	*s = g_mime_stream_mem_new_with_buffer(msg, len);
	*p = g_mime_parser_new_with_stream(*s);
	m = g_mime_parser_construct_message(*p, NULL);
	assert_non_null(m);
	return m;
}

static char *
repeat(const char *word, size_t n)
{
	size_t wl = strlen(word);
	char *s = malloc(n * (wl + 1) + 1), *p = s;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		memcpy(p, word, wl);
		p += wl;
		*p++ = ' ';
	}
	p[-1] = 0;
	return s;
}

/*
 * Long and 8-bit values a sender controls: a Subject of 3,000 bytes in
 * words, one unbreakable word of 3,000 bytes, raw Latin-1 and UTF-8, a
 * 3,000-byte HELO, a body line of 3,000 bytes, quoted headers with 8-bit
 * text and an overlong line. The notice keeps its header structure and
 * every value reads back as it was.
 */
static void
test_hostile_values(void **state)
{
	char *const rcpts[] = { "bob@example.com" };
	char *words = repeat("word", 600), *blob = malloc(3001), *helo = malloc(3001);
	char *hdrs, *bodyline = repeat("bob@example.com,", 200);
	const char *subjects[][2] = {
		{ words, words },
		{ blob, blob },
		{ "caf\xe9 au lait", "caf\xc3\xa9 au lait" },		/* raw Latin-1 */
		{ "Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93", "Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93" },
		{ "=?utf-8?B?not decoded twice", NULL },
	};

	(void)state;
	memset(blob, 'x', 3000);
	blob[3000] = 0;
	memset(helo, 'h', 3000);
	helo[3000] = 0;
	hdrs = g_strdup_printf("From: <alice@example.net>\nSubject: caf\xe9\n"
	    "X-Long: %s\nTo: <bob@example.com>\n", blob);
	for (size_t k = 0; k < sizeof(subjects) / sizeof(subjects[0]); k++) {
		struct dsn_info di = {
			.reporting_mta = "mx.example.com",
			.from = "MAILER-DAEMON@mx.example.com", .to = "alice@example.net",
			.client_helo = helo, .client_ip = "198.51.100.9",
			.arrival = 1700000000, .now = 1700000005, .rcpts = rcpts,
			.nrcpt = 1, .diagnostic = "softfail", .subject = subjects[k][0],
			.text = bodyline, .headers = hdrs,
		};
		GMimeStream *s;
		GMimeParser *p;
		GMimeMessage *m;
		size_t len;
		char *msg = dsn_build(&di, &len), grp[8][1024];

		assert_non_null(msg);
		check_wire(msg, len);
		m = parse(msg, len, &s, &p);
		/* no header swallowed by a long one before it */
		assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
		    "Auto-Submitted"), "auto-replied");
		assert_non_null(g_mime_object_get_header(GMIME_OBJECT(m), "Date"));
		assert_non_null(strstr(g_mime_object_get_header(GMIME_OBJECT(m),
		    "Message-ID"), "@mx.example.com"));
		if (subjects[k][1])
			assert_string_equal(g_mime_message_get_subject(m), subjects[k][1]);
		else
			assert_non_null(g_mime_message_get_subject(m));
		GMimeMultipart *mp = GMIME_MULTIPART(g_mime_message_get_mime_part(m));
		assert_int_equal(g_mime_multipart_get_count(mp), 3);
		char *txt = part_text(g_mime_multipart_get_part(mp, 0));
		assert_non_null(strstr(txt, bodyline));
		g_free(txt);
		char *ds = part_text(g_mime_multipart_get_part(mp, 1));
		assert_int_equal(groups(ds, grp, 8), 2);
		assert_non_null(strstr(grp[0], "Arrival-Date: "));
		assert_non_null(strstr(grp[1], "Final-Recipient: rfc822; bob@example.com"));
		g_free(ds);
		char *h = part_text(g_mime_multipart_get_part(mp, 2));
		assert_non_null(strstr(h, blob));
		assert_non_null(strstr(h, "Subject: caf\xc3\xa9"));
		assert_non_null(strstr(h, "To: <bob@example.com>"));
		g_free(h);
		g_object_unref(m);
		g_object_unref(p);
		g_object_unref(s);
		free(msg);
	}
	g_free(hdrs);
	free(words);
	free(blob);
	free(helo);
	free(bodyline);
}

/* The encoders on their own: folding keeps the value, words stay whole. */
static void
test_mimeenc(void **state)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;
	char *u;

	(void)state;
	mime_header(&b, "Subject", "a\r\nBcc: x", 1);
	assert_string_equal(b.data, "Subject: a  Bcc: x\r\n");
	free(b.data);
	memset(&b, 0, sizeof(b));
	/* folded before a space, never into a line of white space only */
	u = calloc(1, 200);
	memset(u, ' ', 150);
	memcpy(u + 60, "x", 1);
	mime_header(&b, "Subject", u, 1);
	for (const char *l = b.data; *l; l = strstr(l, "\r\n") + 2)
		assert_true(strspn(l, " ") < strcspn(l, "\r"));
	assert_non_null(strstr(b.data, "x\r\n"));
	free(u);
	free(b.data);
	memset(&b, 0, sizeof(b));
	mime_header(&b, "Subject", "one two three four five six seven eight nine "
	    "ten eleven twelve thirteen fourteen fifteen", 1);
	/* 71 characters, then " thirteen" would pass 78 */
	assert_string_equal(b.data, "Subject: one two three four five six seven "
	    "eight nine ten eleven twelve\r\n thirteen fourteen fifteen\r\n");
	free(b.data);
	memset(&b, 0, sizeof(b));
	/* 4-byte characters: no encoded word splits one */
	mime_header(&b, "Subject", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	    "\xf0\x9f\x98\x80", 1);
	assert_non_null(strstr(b.data, "\r\n =?utf-8?B?"));
	{
		/* 11 characters fit the first word (44 bytes), 1 the second */
		char *sec = strstr(b.data, "\r\n =?utf-8?B?") + 13;
		assert_int_equal(strcspn(sec, "?"), 8);
	}
	free(b.data);
	memset(&b, 0, sizeof(b));
	mime_qp(&b, "a=b \nc\xff");
	assert_string_equal(b.data, "a=3Db=20\r\nc=FF");
	free(b.data);
	assert_int_equal(mime_needs_qp("plain\nascii"), 0);
	assert_int_equal(mime_needs_qp("caf\xe9"), 1);
	u = mime_utf8("caf\xe9 \xc3\xa9 \xed\xa0\x80");	/* Latin-1, UTF-8, a surrogate */
	assert_string_equal(u, "caf\xc3\xa9 \xc3\xa9 \xc3\xad\xc2\xa0\xc2\x80");
	free(u);
}

static const char *
long_vars(void *arg, const char *name)
{
	return strcmp(name, "subject") == 0 || strcmp(name, "rcpt") == 0 ? arg :
	    vars(NULL, name);
}

/* Values from the sender that are long or hold line breaks: the notice
   keeps every field on its line, every line within 998 characters, and
   its three parts. Before, a value over 2 kB lost the end of its line
   and the next field ran into it, and an envelope value with a line
   break added a field of the sender's choosing. */
static void
test_line_breaks(void **state)
{
	char err[512], grp[8][1024], *big = malloc(3001), *msg;
	struct cbv_template *t = template_load(SRCDIR "/plugins/cbv/templates",
	    "softfail", err, sizeof(err));
	struct cbv_rendered r;
	char *rcpts[] = { big, "bob@example.com\r\nBcc: rcpt@example.org" };
	struct dsn_info di = {
		.reporting_mta = "mx.example.com", .from = "MAILER-DAEMON@mx.example.com",
		.to = "alice@example.net>\r\nBcc: to@example.org", .client_helo =
		"client\nBcc: helo@example.org", .client_ip = "198.51.100.9",
		.arrival = 1700000000, .now = 1700000005, .rcpts = rcpts, .nrcpt = 2,
		.diagnostic = "softfail\rBcc: diag@example.org",
		.headers = "Subject: hello\n",
	};
	size_t len;

	(void)state;
	assert_non_null(big);
	assert_non_null(t);
	memset(big, 'x', 3000);
	memcpy(big + 2988, "@example.org", 12);
	big[3000] = 0;
	assert_int_equal(template_render(t, long_vars, big, &r), 0);
	di.subject = r.subject;
	di.text = r.body;
	di.action = r.action;
	di.status = r.status;
	msg = dsn_build(&di, &len);
	assert_non_null(msg);
	for (size_t i = 0, col = 0; i < len; i++, col++) {
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
		}
		assert_true(col < 1000);
	}

	GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	assert_null(g_mime_object_get_header(GMIME_OBJECT(m), "Bcc"));
	assert_non_null(g_mime_object_get_header(GMIME_OBJECT(m), "Date"));
	assert_non_null(g_mime_object_get_header(GMIME_OBJECT(m), "Message-ID"));
	GMimeMultipart *mp = GMIME_MULTIPART(g_mime_message_get_mime_part(m));
	assert_int_equal(g_mime_multipart_get_count(mp), 3);
	char *ds = part_text(g_mime_multipart_get_part(mp, 1));
	assert_int_equal(groups(ds, grp, 8), 3);
	assert_non_null(strstr(grp[0], "Received-From-MTA: dns; client Bcc: helo@example.org"));
	for (int i = 1; i < 3; i++) {
		assert_non_null(strstr(grp[i], "\nAction: delayed"));
		assert_non_null(strstr(grp[i], "\nStatus: 4.7.0"));
	}
	assert_null(strstr(ds, "\nBcc:"));
	g_free(ds);

	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	free(msg);
	free(big);
	template_rendered_free(&r);
	template_free(t);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_softfail),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_line_breaks),
		cmocka_unit_test(test_mimeenc),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
