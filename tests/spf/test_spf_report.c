#include "config.h"
/*
 * NAME
 *	test_spf_report - Received-SPF, Authentication-Results and replies
 * DESCRIPTION
 *	Proves that the Received-SPF value has the RFC 7208 §9.1 form
 *	(result, comment, receiver, client-ip, envelope-from, helo,
 *	identity, mechanism, problem) for each result; that hostile HELO
 *	and MAIL FROM strings (CR LF and a header after them, quotes,
 *	backslashes, parentheses, semicolons, bytes outside ASCII, a
 *	2,000-character name) can neither add a header nor break the
 *	syntax, and that the value passes the core's own header check;
 *	that the Authentication-Results clause quotes what is not a
 *	token; that replies follow RFC 7208 §8 (fail 550 5.7.1 with the
 *	explanation, permerror 550 5.5.2, temperror 451 4.4.3); and that
 *	reply text is made one printable line, with '%' escaped exactly
 *	once on its way to the MTA (by the core's reply_make()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"
#include "spf_report.h"

static struct spf_ip ip4, ip6;

/* What the core's api.c accepts as a header value, and printable. */
static void
assert_header_safe(const char *v)
{
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n') {
			assert_true(p[1] == '\t' || p[1] == ' ');
			continue;
		}
		assert_true(c == '\t' || (c >= 0x20 && c < 0x7f));
	}
}

static void
base(struct spf_report *r, spf_result res)
{
	memset(r, 0, sizeof(*r));
	r->result = res;
	r->receiver = "mx.example.com";
	r->ip = &ip4;
	r->envelope_from = "alice@example.org";
	r->helo = "mail.example.org";
	r->domain = "example.org";
	r->mechanism = "";
	r->problem = "";
}

static void
test_received_spf_pass(void **state)
{
	struct spf_report r;
	char *v;

	(void)state;
	base(&r, SPFR_PASS);
	r.mechanism = "ip4:192.0.2.0/24";
	v = spf_received_spf(&r);
	assert_non_null(v);
	assert_string_equal(v,
	    "pass (mx.example.com: domain of alice@example.org designates 192.0.2.1 as "
	    "permitted sender)\n"
	    "\treceiver=mx.example.com; client-ip=192.0.2.1;\n"
	    "\tenvelope-from=\"alice@example.org\"; helo=mail.example.org;\n"
	    "\tidentity=mailfrom; mechanism=\"ip4:192.0.2.0/24\";");
	assert_header_safe(v);
	free(v);
}

static void
test_received_spf_results(void **state)
{
	static const struct { spf_result r; const char *start, *comment; } cases[] = {
		{ SPFR_FAIL, "fail (", "does not designate 192.0.2.1 as permitted sender" },
		{ SPFR_SOFTFAIL, "softfail (", "transitioning domain of alice@example.org" },
		{ SPFR_NEUTRAL, "neutral (", "192.0.2.1 is neither permitted nor denied" },
		{ SPFR_NONE, "none (", "does not designate permitted sender hosts" },
		{ SPFR_TEMPERROR, "temperror (", "temporary error while checking" },
		{ SPFR_PERMERROR, "permerror (", "permanent error in the SPF record" },
	};
	struct spf_report r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v;
		base(&r, cases[i].r);
		if (cases[i].r >= SPFR_TEMPERROR)
			r.problem = "more than 10 DNS-querying terms, at 'include:x.example'";
		v = spf_received_spf(&r);
		assert_non_null(v);
		assert_int_equal(strncmp(v, cases[i].start, strlen(cases[i].start)), 0);
		assert_non_null(strstr(v, cases[i].comment));
		if (cases[i].r >= SPFR_TEMPERROR)
			assert_non_null(strstr(v, "problem=\"more than 10 DNS-querying terms, "
			    "at 'include:x.example'\";"));
		else
			assert_null(strstr(v, "problem="));
		assert_header_safe(v);
		free(v);
	}

	/* IPv6 client, HELO identity, a guess */
	base(&r, SPFR_NONE);
	r.ip = &ip6;
	r.helo_identity = 1;
	r.envelope_from = "";
	r.guessed = 1;
	r.guess = SPFR_PASS;
	{
		char *v = spf_received_spf(&r);
		assert_non_null(strstr(v, "domain of postmaster@mail.example.org"));
		assert_non_null(strstr(v, "; best guess record: pass)"));
		assert_non_null(strstr(v, "client-ip=\"2001:db8::25\";"));
		assert_non_null(strstr(v, "envelope-from=\"\";"));
		assert_non_null(strstr(v, "identity=helo;"));
		free(v);
	}
}

static void
test_received_spf_hostile(void **state)
{
	struct spf_report r;
	char longhelo[2001];
	char *v;

	(void)state;
	base(&r, SPFR_FAIL);
	r.helo = "evil.example\r\nX-Injected: yes";
	r.envelope_from = "\"quoted\\\" (x)\"@evil.example;\r\nBcc: victim@example.net";
	r.mechanism = "-all";
	v = spf_received_spf(&r);
	assert_non_null(v);
	assert_header_safe(v);
	assert_null(strchr(v, '\r'));
	/* nothing after a line break can start a field of its own */
	for (const char *p = strchr(v, '\n'); p; p = strchr(p + 1, '\n'))
		assert_true(p[1] == '\t');
	assert_non_null(strstr(v, "helo=\"evil.example??X-Injected: yes\";"));
	assert_non_null(strstr(v, "envelope-from=\"\\\"quoted\\\\\\\" (x)\\\"@evil.example;"
	    "??Bcc: victim@example.net\";"));
	/* in the comment, parentheses are quoted-pairs */
	assert_non_null(strstr(v, "domain of \"quoted\\\\\" \\(x\\)\"@evil.example;??Bcc"));
	free(v);

	/* bytes outside ASCII and a very long HELO */
	memset(longhelo, 'a', sizeof(longhelo) - 1);
	longhelo[sizeof(longhelo) - 1] = 0;
	memcpy(longhelo, "\xc3\xa9t\xc3\xa9.", 6);
	base(&r, SPFR_NEUTRAL);
	r.helo = longhelo;
	v = spf_received_spf(&r);
	assert_non_null(v);
	assert_header_safe(v);
	assert_non_null(strstr(v, "helo=\"??t??.aaa"));
	assert_non_null(strstr(v, "...\";"));
	assert_true(strlen(v) < 800);
	free(v);
}

static void
test_authres(void **state)
{
	struct spf_report r;
	char *a;

	(void)state;
	base(&r, SPFR_PASS);
	a = spf_authres(&r);
	assert_string_equal(a, "spf=pass smtp.mailfrom=example.org");
	free(a);

	base(&r, SPFR_SOFTFAIL);
	r.domain = "ex ample.org;dkim=pass";
	a = spf_authres(&r);
	assert_string_equal(a, "spf=softfail smtp.mailfrom=\"ex ample.org;dkim=pass\"");
	free(a);

	base(&r, SPFR_NONE);
	r.helo_identity = 1;
	r.helo = "[192.0.2.1]";
	r.guessed = 1;
	r.guess = SPFR_NEUTRAL;
	a = spf_authres(&r);
	assert_string_equal(a, "spf=none (best guess record: neutral) smtp.helo=\"[192.0.2.1]\"");
	free(a);

	base(&r, SPFR_FAIL);
	r.domain = "evil.example\r\nX: y";
	a = spf_authres(&r);
	assert_null(strpbrk(a, "\r\n"));
	free(a);
}

static void
reply(const struct spf_report *r, enum spf_action act, const char *exp,
    const char *code, const char *xcode, const char *text)
{
	struct spf_reply rp;

	assert_int_equal(spf_reply_for(r, act, exp, &rp), 0);
	assert_string_equal(rp.rcode, code);
	assert_string_equal(rp.xcode, xcode);
	assert_string_equal(rp.text, text);
	free(rp.text);
}

static void
test_replies(void **state)
{
	struct spf_report r;

	(void)state;
	base(&r, SPFR_FAIL);
	reply(&r, SPF_ACT_REJECT, "Mail from example.org must come through mx.example.org",
	    "550", "5.7.1", "Mail from example.org must come through mx.example.org");
	reply(&r, SPF_ACT_REJECT, NULL, "550", "5.7.1",
	    "SPF fail: example.org does not designate 192.0.2.1 as permitted sender");
	base(&r, SPFR_PERMERROR);
	r.problem = "example.org: unknown mechanism 'moo'";
	reply(&r, SPF_ACT_REJECT, NULL, "550", "5.5.2",
	    "SPF permanent error for example.org: example.org: unknown mechanism 'moo'");
	base(&r, SPFR_TEMPERROR);
	r.problem = "DNS failure looking up example.org TXT";
	reply(&r, SPF_ACT_TEMPFAIL, NULL, "451", "4.4.3",
	    "SPF temporary error for example.org: DNS failure looking up example.org TXT");
	base(&r, SPFR_SOFTFAIL);
	reply(&r, SPF_ACT_REJECT, NULL, "550", "5.7.1",
	    "SPF softfail: example.org does not designate 192.0.2.1 as permitted sender");
	base(&r, SPFR_NEUTRAL);
	reply(&r, SPF_ACT_TEMPFAIL, NULL, "451", "4.7.1",
	    "SPF neutral: example.org neither permits nor denies 192.0.2.1; try again later");
	base(&r, SPFR_FAIL);
	r.helo_identity = 1;
	r.domain = "mail.example.org";
	reply(&r, SPF_ACT_REJECT, "not our host", "550", "5.7.1",
	    "HELO mail.example.org: not our host");
}

static void
test_sanitize(void **state)
{
	char big[2000], *s;
	struct reply rp;
	struct spf_report r;
	struct spf_reply sr;

	(void)state;
	s = spf_reply_sanitize("  a\r\nb\t\tc   100%_ \x01\xff  ");
	assert_string_equal(s, "a b c 100%_ ??");
	free(s);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	s = spf_reply_sanitize(big);
	assert_int_equal(strlen(s), 453);
	assert_string_equal(s + 450, "...");
	free(s);

	/* an explanation with '%' reaches the MTA escaped once */
	base(&r, SPFR_FAIL);
	assert_int_equal(spf_reply_for(&r, SPF_ACT_REJECT,
	    "see https://example.org/why?s=a%40example.org\r\nX-Evil: 1", &sr), 0);
	assert_string_equal(sr.text, "see https://example.org/why?s=a%40example.org X-Evil: 1");
	reply_make(&rp, MM_REJECT, sr.rcode, sr.xcode, sr.text);
	assert_string_equal(rp.rcode, "550");
	assert_string_equal(rp.xcode, "5.7.1");
	assert_string_equal(rp.text, "see https://example.org/why?s=a%%40example.org X-Evil: 1");
	reply_free(&rp);
	free(sr.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_received_spf_pass),
		cmocka_unit_test(test_received_spf_results),
		cmocka_unit_test(test_received_spf_hostile),
		cmocka_unit_test(test_authres),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_sanitize),
	};

	spf_ip_parse("192.0.2.1", &ip4);
	spf_ip_parse("2001:db8::25", &ip6);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
