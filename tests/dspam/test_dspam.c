/*
 * NAME
 *	test_dspam - unit tests of the dspam classifier's modules
 * DESCRIPTION
 *	Tokenizer on tricky MIME (quoted-printable, base64, RFC 2047,
 *	nested multiparts, a missing closing boundary, HTML, attachments
 *	left out), the stability of the token hashes, each combiner on
 *	cases computed by hand, the bookkeeping of TEFT and TOE, and a
 *	correction by signature that undoes exactly what classification
 *	counted (also when six threads correct the same message at once),
 *	the expiry of rare tokens, Bayesian noise reduction (the word
 *	sequence, patterns learned and marking noise), and a full store that fails a training
 *	whole. Dictionaries live in a temporary LMDB store, reached through
 *	the core's API table as in the daemon.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "dspam.h"
#include "log.h"
#include "store.h"

/* the core's API table (core/host/api.c), as the daemon hands it to plugins */
extern const struct mm_api core_api;

static char storedir[] = "/tmp/test_dspam.XXXXXX";

static int
has(const struct tokset *ts, uint64_t h)
{
	size_t lo = 0, hi = ts->len;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ts->t[mid].h == h)
			return 1;
		if (ts->t[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
has_word(const struct tokset *ts, const char *w)
{
	return has(ts, dspam_hash(w, strlen(w)));
}

static int
has_hdr(const struct tokset *ts, const char *name, const char *w)
{
	return has(ts, dspam_hash2(name, strlen(name), w, strlen(w)));
}

/* The message goes in a buffer of its exact length, as the plugin's
   are not NUL-terminated: a read past its end shows under ASan. */
static void
tok(const char *msg, struct tokset *ts, int pairs)
{
	struct tokopts o = { .pairs = pairs };
	size_t len = strlen(msg);
	unsigned char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, msg, len);
	tokset_init(ts);
	r = dspam_tokenize(&o, copy, len, ts);
	free(copy);
	assert_int_equal(r, 0);
}

static const char tricky[] =
	"From somebody@example.org Mon Jan  2 10:00:00 2023\n"
	"From: =?UTF-8?B?SsO8cmdlbg==?= <Juergen@Example.ORG>\r\n"
	"To: bob@example.com\r\n"
	"Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus?= Berlin\r\n"
	"X-DSPAM-Result: Innocent\r\n"
	"Content-Type: multipart/mixed;\r\n"
	"\tboundary=\"outer\"\r\n"
	"\r\n"
	"preamble words ignored\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=inner\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Caf=C3=A9 lunch with the compi=\r\n"
	"ler team\r\n"
	"--inner\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<html><body><p>Café lunch <b>htmlonlyword</b></p></body></html>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<html><body><p>Tom&amp;Jerry <a href=\"http://Click.Spam.Example.net/x\">here</a>"
	"<!-- hiddenword --><script>scriptword()</script></p></body></html>\r\n"
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"c2VjcmV0IGJhc2U2NHdvcmQgaW5zaWRl\r\n"	/* "secret base64word inside" */
	"--outer\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"aW1hZ2Vjb250ZW50d29yZA==\r\n"		/* "imagecontentword" */
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"truncated lastpart without closing boundary\r\n";

static void
test_tokenizer_mime(void **state)
{
	struct tokset ts;

	(void)state;
	tok(tricky, &ts, 0);
	/* quoted-printable with a soft line break, UTF-8; body words
	   lower-cased (ASCII letters only) */
	assert_true(has_word(&ts, "café"));
	assert_false(has_word(&ts, "Café"));
	assert_true(has_word(&ts, "compiler"));
	/* of an alternative, the text/plain part only */
	assert_false(has_word(&ts, "htmlonlyword"));
	/* RFC 2047 in B and Q, prefixed by the header name */
	assert_true(has_hdr(&ts, "subject", "Grüße"));
	assert_true(has_hdr(&ts, "subject", "Berlin"));
	assert_true(has_hdr(&ts, "from", "Jürgen"));
	/* host tokens from addresses, From: whitelist token, lower-cased */
	assert_true(has_hdr(&ts, "host", "example.org"));
	assert_int_equal(ts.from_token, dspam_hash2("from-whitelist", 14,
	    "juergen@example.org", 19));
	assert_true(has(&ts, ts.from_token));
	/* our own header does not feed itself */
	assert_false(has_hdr(&ts, "x-dspam-result", "Innocent"));
	/* HTML: entities decoded, link host and parents, comments and
	   scripts dropped */
	assert_true(has_word(&ts, "tom"));
	assert_true(has_word(&ts, "jerry"));
	assert_true(has_hdr(&ts, "url", "click.spam.example.net"));
	assert_true(has_hdr(&ts, "url", "example.net"));
	assert_false(has_word(&ts, "hiddenword"));
	assert_false(has_word(&ts, "scriptword"));
	/* base64 text is decoded, a base64 image is not read */
	assert_true(has_word(&ts, "base64word"));
	assert_false(has_word(&ts, "imagecontentword"));
	/* the part after the last boundary still counts */
	assert_true(has_word(&ts, "lastpart"));
	/* the preamble is not a part */
	assert_false(has_word(&ts, "preamble"));
	/* sorted and unique */
	for (size_t i = 1; i < ts.len; i++)
		assert_true(ts.t[i - 1].h < ts.t[i].h);
	tokset_free(&ts);
}

/* an alternative without text/plain: its last part, the preferred one */
static void
test_tokenizer_alternative(void **state)
{
	struct tokset ts;
	const char *m =
	    "Subject: KEEP Case\n"
	    "Content-Type: multipart/alternative; boundary=b\n\n"
	    "--b\nContent-Type: text/enriched\n\nfirstword\n"
	    "--b\nContent-Type: text/html\n\n<p>SECONDWORD</p>\n"
	    "--b--\n";

	(void)state;
	tok(m, &ts, 0);
	assert_false(has_word(&ts, "firstword"));
	assert_true(has_word(&ts, "secondword"));
	assert_false(has_word(&ts, "SECONDWORD"));
	/* header words keep their case */
	assert_true(has_hdr(&ts, "subject", "KEEP"));
	assert_false(has_hdr(&ts, "subject", "keep"));
	tokset_free(&ts);
}

static void
test_tokenizer_words_and_pairs(void **state)
{
	struct tokset ts, tp;
	const char *m = "Subject: hi\n\nalpha beta gamma alpha 12345 x $100 free!!\n";

	(void)state;
	tok(m, &ts, 0);
	assert_true(has_word(&ts, "alpha"));
	assert_true(has_word(&ts, "$100"));
	assert_true(has_word(&ts, "free!!"));
	assert_false(has_word(&ts, "12345"));	/* pure numbers */
	assert_false(has_word(&ts, "x"));	/* too short */
	for (size_t i = 0; i < ts.len; i++)
		if (ts.t[i].h == dspam_hash("alpha", 5))
			assert_int_equal(ts.t[i].n, 2);
	tok(m, &tp, 4);
	/* pairs add tokens, the words stay */
	assert_true(tp.len > ts.len);
	assert_true(has_word(&tp, "gamma"));
	tokset_free(&ts);
	tokset_free(&tp);
}

static void
test_tokenizer_malformed(void **state)
{
	static const char *bad[] = {
		"", "\n\n", "Subject", "Content-Type: multipart/mixed; boundary=\n\n--\n--",
		"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n====!!!",
		"Content-Type: text/html\n\n<a href=\"http://", "Subject: =?utf-8?B?",
		"Content-Type: text/plain; charset=no-such-charset\n\n\xff\xfe words",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n",
		"Content-Type: text/html\n\n<style>p{}</sty",
		"Content-Type: text/html\n\n<script>x()<",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tokset ts;

		tok(bad[i], &ts, 4);
		tokset_free(&ts);
	}
}

/* the tokens of an HTML body, with pairs so that word order counts too */
static void
tok_html(const char *html, struct tokset *ts)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "Content-Type: text/html\n\n%s\n", html);
	tok(msg, ts, 4);
}

static int
same_tokens(const struct tokset *a, const struct tokset *b)
{
	size_t i;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++)
		if (a->t[i].h != b->t[i].h || a->t[i].n != b->t[i].n)
			return 0;
	return 1;
}

/* Markup that a reader does not see as a break must not cut a word,
   hidden text must not be read, and blocks must still separate words. */
/* Link targets as a browser reads them; field-specific header tokens. */
static void
test_tokenizer_links_and_fields(void **state)
{
	struct tokset ts;

	(void)state;
	tok_html("<a href=\" http://decoy@%65vil.example/p%61th?w=cheap&amp;x=1\">x</a>"
	    "<a href=\"http&#58;//www.other.example/\">y</a>", &ts);
	assert_true(has_hdr(&ts, "url", "evil.example"));
	assert_false(has_hdr(&ts, "url", "decoy"));
	assert_true(has_hdr(&ts, "url-path", "path"));
	assert_true(has_hdr(&ts, "url-path", "cheap"));
	assert_true(has_hdr(&ts, "url", "www.other.example"));
	tokset_free(&ts);

	tok("Received: from a.example by b.example\nReceived: from c by d\n"
	    "Message-ID: <123.abc@mx.sender.example>\nX-Mailer: Foo Mail 1.0 \n"
	    "Subject: hi\n\nbody\n", &ts, 0);
	assert_true(has_word(&ts, "received-hops 2"));
	assert_true(has_hdr(&ts, "msgid-host", "mx.sender.example"));
	assert_true(has_hdr(&ts, "msgid-host", "sender.example"));
	assert_true(has_hdr(&ts, "x-mailer-all", "Foo Mail 1.0"));
	assert_false(has_word(&ts, "msgid-nohost"));
	tokset_free(&ts);
	tok("Message-ID: <nohost>\nSubject: hi\n\nbody\n", &ts, 0);
	assert_true(has_word(&ts, "msgid-nohost"));
	assert_true(has_word(&ts, "received-hops 0"));
	tokset_free(&ts);
	/* the sender's software and setup count; list fields do not */
	tok("User-Agent: Mutt/1.4i\nX-Priority: 3 (Normal)\n"
	    "Organization: Example Widgets\nMIME-Version: 1.0\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "X-Originating-IP: [192.0.2.7]\nList-Id: Widgets <w.example.org>\n"
	    "Precedence: bulk\nSubject: hi\n\nbody\n", &ts, 0);
	assert_true(has_hdr(&ts, "user-agent", "Mutt"));
	assert_true(has_hdr(&ts, "x-priority", "Normal"));
	assert_true(has_hdr(&ts, "organization", "Widgets"));
	assert_true(has_hdr(&ts, "content-transfer-encoding", "quoted-printable"));
	assert_false(has_hdr(&ts, "list-id", "Widgets"));
	assert_false(has_hdr(&ts, "precedence", "bulk"));
	tokset_free(&ts);
}

static void
test_tokenizer_html_evasion(void **state)
{
	static const char *const joined[] = {
		"<p>buy V<s></s>iagra now</p>",
		"<p>buy v<b>i</b>agra now</p>",
		"<p>buy v<I>i</I>a<u>g</u>r<font color=red>a</font> now</p>",
		"<p>buy vi<!-- x -->agra now</p>",
		"<p>buy vi<!-- a > b -->agra now</p>",
		"<p>buy vi<span style=\"display:none\">zz</span>agra now</p>",
		"<p>buy vi<span style=\"COLOR:red; Display : None\">zz</span>agra now</p>",
		"<p>buy vi<span style=\"visibility:hidden\">z<b>z</b>z</span>agra now</p>",
		"<p>buy vi<font style='font-size:0px'>zz</font>agra now</p>",
		"<p>buy vi<span style=\"opacity:0\">zz</span>agra now</p>",
		"<p>buy vi<span hidden>zz</span>agra now</p>",
		"<p>buy vi<span hidden><b>zz</b><i>y<s>y</s></i></span>agra now</p>",
		"<p>buy v<blink>i</blink>agra now</p>",
		"<p>buy v<img width=1 height=1>iagra now</p>",
		"<p>buy v<wbr>iagra now</p>",
		"buy v<div style=\"display:inline\">i</div>agra now",
		"<p>buy vi<span title=\"a>b\">agra</span> now</p>",
		"<p>buy vi&#x61;gra now</p>",
		"<p>buy vi<script>x()</script>agra now</p>",
	};
	static const char *const split[] = {
		"<p>buy vi<br>agra now</p>",
		"<p>buy vi<br/>agra now</p>",
		"<p>buy vi</p><p>agra now</p>",
		"<p>buy vi<div>agra</div> now</p>",
		"<table><tr><td>buy vi<td>agra now</table>",
		"<ul><li>buy vi<li>agra now</ul>",
		"<p>buy vi<span style=\"display:block\">agra</span> now</p>",
	};
	struct tokset plain, ts;
	size_t i, bad = 0;

	(void)state;
	tok_html("<p>buy viagra now</p>", &plain);
	assert_true(has_word(&plain, "viagra"));
	for (i = 0; i < sizeof(joined) / sizeof(joined[0]); i++) {
		tok_html(joined[i], &ts);
		if (!same_tokens(&plain, &ts)) {
			print_error("not read as \"buy viagra now\": %s\n", joined[i]);
			bad++;
		}
		tokset_free(&ts);
	}
	tokset_free(&plain);
	tok_html("<p>buy vi agra now</p>", &plain);
	for (i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		tok_html(split[i], &ts);
		if (!same_tokens(&plain, &ts)) {
			print_error("not read as \"buy vi agra now\": %s\n", split[i]);
			bad++;
		}
		tokset_free(&ts);
	}
	tokset_free(&plain);
	assert_int_equal(bad, 0);

	/* a hidden element hides no more than a browser would: up to its
	   end, an enclosing element's end, or an implied end */
	tok_html("<div><span style=\"display:none\">zzhidden</div>shownafter",
	    &ts);
	assert_true(has_word(&ts, "shownafter"));
	assert_false(has_word(&ts, "zzhidden"));
	tokset_free(&ts);
	tok_html("<p style=\"display:none\">zzhidden<p>shownafter", &ts);
	assert_true(has_word(&ts, "shownafter"));
	assert_false(has_word(&ts, "zzhidden"));
	tokset_free(&ts);
	tok_html("<span hidden>zzhidden</b>stillhidden</span>shownafter", &ts);
	assert_false(has_word(&ts, "stillhidden"));
	assert_true(has_word(&ts, "shownafter"));
	tokset_free(&ts);
	/* hidden links still count, "mso-display" is not "display" */
	tok_html("<span style=\"display:none\"><a href=\"http://hidden.example.net/\">"
	    "zz</a></span><span style=\"mso-display:none\">msoshown</span>", &ts);
	assert_true(has_hdr(&ts, "url", "hidden.example.net"));
	assert_true(has_word(&ts, "msoshown"));
	tokset_free(&ts);
}

/* <s> and <st> are not <script> and <style>: their text is read. */
static void
test_tokenizer_html_short_tags(void **state)
{
	struct tokset ts;

	(void)state;
	tok("Content-Type: text/html\n\n<s>struck</s> <st>inside</st> "
	    "<style>hidden</style> <script>secret</script> after", &ts, 0);
	assert_true(has_word(&ts, "struck"));
	assert_true(has_word(&ts, "inside"));
	assert_true(has_word(&ts, "after"));
	assert_false(has_word(&ts, "hidden"));
	assert_false(has_word(&ts, "secret"));
	tokset_free(&ts);
}

/* Bytes a charset does not have are skipped, and nothing past the body
   is read: glibc's //IGNORE reports them once the input is consumed,
   which made the reader step past the end of the body. */
static void
test_tokenizer_bad_bytes_in_charset(void **state)
{
	struct tokset bad, good;

	(void)state;
	tok("Content-Type: text/plain; charset=us\n\nalpha \xff\xfe beta gamma", &bad, 0);
	tok("Content-Type: text/plain; charset=us\n\nalpha  beta gamma", &good, 0);
	assert_true(has_word(&bad, "alpha"));
	assert_true(has_word(&bad, "gamma"));
	assert_int_equal(bad.len, good.len);
	for (size_t i = 0; i < bad.len; i++)
		assert_true(bad.t[i].h == good.t[i].h);
	tokset_free(&bad);
	tokset_free(&good);
}

static void
test_hash_stable(void **state)
{
	(void)state;
	/* values a stored dictionary depends on: they must never change */
	assert_int_equal(dspam_hash("viagra", 6), 0x06b3c4ea13857858ULL);
	assert_int_equal(dspam_hash2("subject", 7, "Free", 4), 0x06f98f76617748a9ULL);
	assert_int_equal(dspam_hash("", 0), 0x8b0fd55bdb7c31b6ULL);
	/* the separator keeps prefix and word apart */
	assert_int_not_equal(dspam_hash2("ab", 2, "c", 1), dspam_hash2("a", 1, "bc", 1 + 1));
	assert_int_not_equal(dspam_hash2("subject", 7, "Free", 4), dspam_hash("subjectFree", 11));
}

static void
test_chi2(void **state)
{
	(void)state;
	/* df 2: Q = e^-m */
	assert_true(fabs(chi2_log_q(4.0, 2) - (-2.0)) < 1e-12);
	/* df 4: Q = e^-m (1 + m) */
	assert_true(fabs(chi2_log_q(4.0, 4) - (log(3.0) - 2.0)) < 1e-12);
	assert_true(fabs(exp(chi2_log_p(4.0, 4)) - (1.0 - 3.0 * exp(-2.0))) < 1e-12);
	/* far tails stay finite in logs */
	assert_true(chi2_log_q(3000.0, 20) < -1000.0);
	assert_true(isfinite(chi2_log_p(0.001, 200)));
}

static void
test_robinson_token(void **state)
{
	struct combparams p;

	(void)state;
	combine_defaults(&p);
	p.robs = 0.05;
	p.robx = 0.5;
	/* p(w) = 0.3 / (0.3 + 0.1) = 0.75; n = 4 */
	assert_true(fabs(combine_token_robinson(&p, 3, 1, 10, 10) -
	    (0.05 * 0.5 + 4 * 0.75) / 4.05) < 1e-12);
	/* unknown: the prior */
	assert_true(fabs(combine_token_robinson(&p, 0, 0, 10, 10) - 0.5) < 1e-12);
}

static void
test_fisher(void **state)
{
	struct combparams p;
	struct tokstat st[2] = { { 9, 1, 1, 0 }, { 3, 1, 1, 0 } };
	struct verdict v;
	double f1, f2, h, s, want;

	(void)state;
	combine_defaults(&p);
	p.min_dev = 0.0;
	/* one token: I = f */
	f1 = combine_token_robinson(&p, 9, 1, 10, 10);
	combine(&p, st, 1, 10, 10, &v);
	assert_true(fabs(v.probability - f1) < 1e-9);
	assert_int_equal(v.used, 1);
	assert_true(v.spam);
	/* two tokens: H = Q(-2 ln f1f2, 4), S = Q(-2 ln (1-f1)(1-f2), 4) */
	f2 = combine_token_robinson(&p, 3, 1, 10, 10);
	h = f1 * f2 * (1.0 - log(f1 * f2));
	s = (1 - f1) * (1 - f2) * (1.0 - log((1 - f1) * (1 - f2)));
	want = (1.0 + h - s) / 2.0;
	combine(&p, st, 2, 10, 10, &v);
	assert_true(fabs(v.probability - want) < 1e-9);
	assert_true(fabs(v.logodds - log(want / (1 - want))) < 1e-6);
	/* min_dev leaves the weak token out */
	p.min_dev = 0.3;
	combine(&p, st, 2, 10, 10, &v);
	assert_int_equal(v.used, 1);
	/* nothing known: 0.5, innocent */
	st[0].spam = st[0].ham = st[1].spam = st[1].ham = 0;
	combine(&p, st, 2, 10, 10, &v);
	assert_true(fabs(v.probability - 0.5) < 1e-12);
	assert_false(v.spam);
}

static void
test_burton(void **state)
{
	struct combparams p;
	/* Graham: 0.99 (clamped), 0.2, and one below 5 weighted hits */
	struct tokstat st[3] = { { 10, 0, 1, 0 }, { 1, 2, 1, 0 }, { 1, 1, 1, 0 } };
	struct verdict v;
	double want = 0.99 * 0.2 / (0.99 * 0.2 + 0.01 * 0.8);

	(void)state;
	combine_defaults(&p);
	p.algo = ALGO_BURTON;
	assert_true(fabs(combine_token_graham(10, 0, 10, 10) - 0.99) < 1e-12);
	assert_true(fabs(combine_token_graham(1, 2, 10, 10) - 0.2) < 1e-12);
	assert_true(combine_token_graham(1, 1, 10, 10) < 0.0);
	combine(&p, st, 3, 10, 10, &v);
	assert_int_equal(v.used, 2);
	assert_true(fabs(v.probability - want) < 1e-9);
	/* seen twice in the message: counted twice */
	st[1].n = 2;
	want = 0.99 * 0.04 / (0.99 * 0.04 + 0.01 * 0.64);
	combine(&p, st, 3, 10, 10, &v);
	assert_int_equal(v.used, 3);
	assert_true(fabs(v.probability - want) < 1e-9);
}

/* --- dictionaries --- */

static struct dstore
store_at(const char *dir, long long map_size)
{
	struct store_cfg cfg;
	struct dstore ds = { &core_api, NULL, 0, 0, NULL, 0 };
	char *err = NULL;

	assert_int_equal(store_cfg_from_uri(dir, &cfg, &err), 0);
	cfg.map_size = map_size;
	cfg.nosync = 1;
	if ((ds.st = store_open(&cfg, "dspam", &err)) == NULL)
		fail_msg("%s", err);
	store_cfg_free(&cfg);
	return ds;
}

static struct dstore
store(void)
{
	return store_at(storedir, 64 << 20);
}

static void
counts(const struct dstore *ds, uint64_t dict, const struct tokset *ts,
    size_t i, uint32_t *spam, uint32_t *ham)
{
	struct tokstat *st = calloc(ts->len, sizeof(*st));
	struct dtotals tot;

	assert_non_null(st);
	assert_int_equal(dict_read(ds, dict, ts, st, &tot, NULL), 0);
	*spam = st[i].spam;
	*ham = st[i].ham;
	free(st);
}

static void
totals(const struct dstore *ds, uint64_t dict, struct dtotals *tot)
{
	assert_int_equal(dict_read(ds, dict, NULL, NULL, tot, NULL), 0);
}

static void
test_teft_toe(void **state)
{
	struct classifier c = { 0 };
	struct tokset ts;
	struct verdict v;
	struct dtotals tot;
	uint64_t dteft = dstore_dict_id("teft"), dtoe = dstore_dict_id("toe");
	uint32_t s, h;

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.sig_ttl = 3600;
	tok("Subject: hello\n\nquarterly report attached\n", &ts, 0);

	c.mode = MODE_TEFT;
	assert_int_equal(classify_and_learn(&c, dteft, &ts, 0, &v, NULL, NULL), 0);
	assert_false(v.spam);			/* empty dictionary: innocent */
	totals(&c.ds, dteft, &tot);
	assert_int_equal(tot.ham_learned, 1);
	assert_int_equal(tot.ham_classified, 1);
	assert_int_equal(tot.spam_learned, 0);
	counts(&c.ds, dteft, &ts, 0, &s, &h);
	assert_int_equal(s, 0);
	assert_int_equal(h, 1);

	c.mode = MODE_TOE;
	assert_int_equal(classify_and_learn(&c, dtoe, &ts, 0, &v, NULL, NULL), 0);
	totals(&c.ds, dtoe, &tot);
	assert_int_equal(tot.ham_learned, 0);
	assert_int_equal(tot.ham_classified, 1);
	counts(&c.ds, dtoe, &ts, 0, &s, &h);
	assert_int_equal(s + h, 0);
	/* an error under TOE: corpus-trained into the right class */
	assert_int_equal(train_tokens(&c, dtoe, &ts, 1, SRC_CORPUS, NULL), 0);
	counts(&c.ds, dtoe, &ts, 0, &s, &h);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	/* an error under TEFT moves the counts */
	assert_int_equal(train_tokens(&c, dteft, &ts, 1, SRC_ERROR, NULL), 0);
	counts(&c.ds, dteft, &ts, 0, &s, &h);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	totals(&c.ds, dteft, &tot);
	assert_int_equal(tot.spam_learned, 1);
	assert_int_equal(tot.ham_learned, 0);
	assert_int_equal(tot.spam_misclassified, 1);
	tokset_free(&ts);
}

/* the From: history whitelists only when the caller trusts the address */
static void
test_whitelist_trust(void **state)
{
	struct classifier c = { 0 };
	struct tokset ham, spam, other;
	struct verdict v;
	uint64_t d = dstore_dict_id("wl");
	int i;

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.mode = MODE_NOTRAIN;
	c.sig_ttl = 3600;
	tok("From: Friend <Friend@Partner.example>\nSubject: notes\n\nagenda\n",
	    &ham, 0);
	assert_string_equal(ham.from_addr, "friend@partner.example");
	tok("From: \"Friend\" <friend@partner.example>\nSubject: pills\n\n"
	    "cheap pills casino lottery\n", &spam, 0);
	assert_int_equal(spam.from_token, ham.from_token);
	for (i = 0; i < 9; i++)
		assert_int_equal(train_tokens(&c, d, &ham, 0, SRC_CORPUS, NULL), 0);
	assert_int_equal(train_tokens(&c, d, &spam, 1, SRC_CORPUS, NULL), 0);
	/* 9 innocent hits and one spam: no history either way */
	assert_int_equal(classify_tokens(&c, d, &spam, 1, &v, NULL), 0);
	assert_false(v.from_history);
	assert_false(v.whitelisted);

	d = dstore_dict_id("wl2");
	for (i = 0; i < 10; i++)
		assert_int_equal(train_tokens(&c, d, &ham, 0, SRC_CORPUS, NULL), 0);
	assert_int_equal(classify_tokens(&c, d, &spam, 0, &v, NULL), 0);
	assert_true(v.from_history);
	assert_false(v.whitelisted);		/* not trusted: words decide */
	assert_int_equal(classify_and_learn(&c, d, &spam, 0, &v, NULL, NULL), 0);
	assert_false(v.whitelisted);
	assert_int_equal(classify_tokens(&c, d, &spam, 1, &v, NULL), 0);
	assert_true(v.from_history);
	assert_true(v.whitelisted);
	assert_false(v.spam);
	assert_true(v.probability == 0.0);

	/* TEFT trains a forged message as spam without its From: token:
	   the real sender stays whitelisted */
	c.mode = MODE_TEFT;
	d = dstore_dict_id("wl3");
	tok("Subject: pills\n\ncheap pills casino lottery\n", &other, 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(train_tokens(&c, d, &ham, 0, SRC_CORPUS, NULL), 0);
		assert_int_equal(train_tokens(&c, d, &other, 1, SRC_CORPUS, NULL), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(classify_and_learn(&c, d, &spam, 0, &v, NULL, NULL), 0);
		assert_true(v.from_history);
		assert_false(v.whitelisted);
		assert_true(v.spam);
	}
	assert_int_equal(classify_tokens(&c, d, &spam, 1, &v, NULL), 0);
	assert_true(v.whitelisted);
	tokset_free(&other);
	tokset_free(&ham);
	tokset_free(&spam);
}

static void
test_retrain_signature(void **state)
{
	struct classifier c = { 0 };
	struct tokset ts, other;
	struct verdict v;
	struct dtotals tot;
	uint64_t d = dstore_dict_id("sig");
	char id[SIG_ID_LEN + 1], found[SIG_ID_LEN + 1], buf[128];
	uint32_t s, h;

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.mode = MODE_TEFT;
	c.sig_ttl = 3600;
	tok("Subject: cheap\n\ncheap pills online pharmacy\n", &ts, 0);
	tok("Subject: other\n\nsomething unrelated entirely\n", &other, 0);
	assert_int_equal(classify_and_learn(&c, d, &other, 0, &v, NULL, NULL), 0);
	assert_int_equal(sig_new_id(id), 0);
	assert_true(sig_valid_id(id));
	assert_int_equal(classify_and_learn(&c, d, &ts, 0, &v, id, NULL), 0);
	assert_false(v.spam);
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.ham_learned, 2);

	/* the correction moves exactly the counted tokens (the other
	   message shares only "received-hops 0") */
	assert_int_equal(retrain_signature(&c, id, 1, NULL), 1);
	for (size_t i = 0; i < ts.len; i++) {
		counts(&c.ds, d, &ts, i, &s, &h);
		assert_int_equal(s, 1);
		assert_int_equal(h, has(&other, ts.t[i].h) ? 1 : 0);
	}
	counts(&c.ds, d, &other, 0, &s, &h);
	assert_int_equal(h, 1);			/* the other message untouched */
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.ham_learned, 1);
	assert_int_equal(tot.spam_learned, 1);
	assert_int_equal(tot.spam_misclassified, 1);
	assert_int_equal(tot.ham_classified, 1);

	/* the same correction again changes nothing */
	assert_int_equal(retrain_signature(&c, id, 1, NULL), 1);
	counts(&c.ds, d, &ts, 0, &s, &h);
	assert_int_equal(s, 1);
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.spam_learned, 1);

	/* and back: the original counts */
	assert_int_equal(retrain_signature(&c, id, 0, NULL), 1);
	for (size_t i = 0; i < ts.len; i++) {
		counts(&c.ds, d, &ts, i, &s, &h);
		assert_int_equal(s, 0);
		assert_int_equal(h, has(&other, ts.t[i].h) ? 2 : 1);
	}
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.ham_learned, 2);
	assert_int_equal(tot.spam_learned, 0);
	/* it was classified right after all: the statistics say so again */
	assert_int_equal(tot.ham_classified, 2);
	assert_int_equal(tot.spam_misclassified, 0);
	assert_int_equal(tot.ham_misclassified, 0);

	/* unknown and malformed ids */
	assert_int_equal(retrain_signature(&c, "0123456789abcdef0123456789abcdef", 1, NULL), 0);
	assert_false(sig_valid_id("0123"));
	assert_false(sig_valid_id("0123456789ABCDEF0123456789ABCDEF"));

	/* found in a forwarded message */
	snprintf(buf, sizeof(buf), "> X-Dspam-Signature:  %s\n> body\n", id);
	assert_int_equal(sig_find_in((unsigned char *)buf, strlen(buf), found), 1);
	assert_string_equal(found, id);
	assert_int_equal(sig_find_in((const unsigned char *)"X-DSPAM-Signature: 12", 21, found), 0);
	tokset_free(&ts);
	tokset_free(&other);
}

/* Many corrections of one message at once count it once. */
struct racer {
	const struct classifier *c;
	const char *id;
	int r;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	r->r = retrain_signature(r->c, r->id, 1, NULL);
	return NULL;
}

static void
test_retrain_race(void **state)
{
	struct classifier c = { 0 };
	struct tokset ts;
	struct verdict v;
	struct dtotals tot;
	uint64_t d = dstore_dict_id("race");
	char id[SIG_ID_LEN + 1];
	pthread_t t[6];
	struct racer r[6];
	uint32_t s, h;

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.mode = MODE_TEFT;
	c.sig_ttl = 3600;
	tok("Subject: race\n\nthe same correction many times over\n", &ts, 0);
	assert_int_equal(sig_new_id(id), 0);
	assert_int_equal(classify_and_learn(&c, d, &ts, 0, &v, id, NULL), 0);
	assert_false(v.spam);
	for (int i = 0; i < 6; i++) {
		r[i] = (struct racer){ &c, id, -9 };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].r, 1);
	}
	for (size_t i = 0; i < ts.len; i++) {
		counts(&c.ds, d, &ts, i, &s, &h);
		assert_int_equal(s, 1);
		assert_int_equal(h, 0);
	}
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.spam_learned, 1);
	assert_int_equal(tot.ham_learned, 0);
	assert_int_equal(tot.spam_misclassified, 1);
	tokset_free(&ts);
}

static void
test_purge_and_count(void **state)
{
	struct dstore ds = store();
	struct dwrite *w;
	struct tokset ts;
	struct tokstat st[3];
	struct dtotals tot;
	uint64_t d = dstore_dict_id("purge"), h[3];
	size_t n;
	char *err = NULL;

	(void)state;
	ds.purge_after = 1;		/* a second, to see it happen */
	ds.purge_hits = 1;
	tokset_init(&ts);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tokset_add(&ts, 11 + (uint64_t)i), 0);
	tokset_finish(&ts);
	for (int i = 0; i < 3; i++)
		h[i] = ts.t[i].h;
	/* h[0] trained twice: 2 hits, kept; h[1], h[2] once: expire */
	assert_int_equal(dict_read(&ds, d, &ts, st, &tot, NULL), 0);
	w = dwrite_begin(&ds);
	dwrite_tokens(w, d, h, st, 3, 1, 0, 0);
	assert_int_equal(dwrite_run(w, NULL), 1);
	assert_int_equal(dict_read(&ds, d, &ts, st, &tot, NULL), 0);
	w = dwrite_begin(&ds);
	dwrite_tokens(w, d, h, st, 1, 1, 0, 0);
	assert_int_equal(dwrite_run(w, NULL), 1);
	assert_int_equal(dict_count_tokens(&ds, d, &n, NULL), 0);
	assert_int_equal(n, 3);
	/* TUM: a mature token is not trained further */
	assert_int_equal(dict_read(&ds, d, &ts, st, &tot, NULL), 0);
	assert_int_equal(st[0].spam, 2);
	w = dwrite_begin(&ds);
	dwrite_tokens(w, d, h, st, 1, 1, 0, 2);
	assert_int_equal(dwrite_run(w, NULL), 1);
	assert_int_equal(dict_read(&ds, d, &ts, st, &tot, NULL), 0);
	assert_int_equal(st[0].spam, 2);
	/* decrementing to zero removes the token */
	w = dwrite_begin(&ds);
	dwrite_tokens(w, d, h + 2, st + 2, 1, -1, 0, 0);
	assert_int_equal(dwrite_run(w, NULL), 1);
	assert_int_equal(dict_count_tokens(&ds, d, &n, NULL), 0);
	assert_int_equal(n, 2);
	/* the rare token expires; the trained one stays */
	sleep(2);
	assert_int_equal(dict_count_tokens(&ds, d, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dstore_expire(&ds, &err), 1);
	assert_int_equal(dict_read(&ds, d, &ts, st, &tot, NULL), 0);
	assert_int_equal(st[0].spam, 2);
	assert_int_equal(st[1].spam + st[1].ham, 0);
	tokset_free(&ts);
}

/* TUM: mature tokens are not trained, and a correction leaves them be. */
static void
test_tum_signature(void **state)
{
	struct classifier c = { 0 };
	struct tokset ts;
	struct verdict v;
	struct dwrite *w;
	uint64_t d = dstore_dict_id("tum");
	int64_t delta[T_COUNT] = { 0 };
	char id[SIG_ID_LEN + 1];
	uint32_t s, h, s0[64], h0[64];

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.mode = MODE_TUM;
	c.sig_ttl = 3600;
	tok("Subject: tum\n\nmature words here\n", &ts, 0);
	assert_true(ts.len >= 2 && ts.len < 64);
	/* a grown-up dictionary; the first token already seen 30 times */
	w = dwrite_begin(&c.ds);
	delta[T_HAM_LEARNED] = 3000;
	dwrite_totals(w, d, delta);
	dwrite_token(w, d, ts.t[0].h, 0, 30);
	assert_int_equal(dwrite_run(w, NULL), 1);
	for (size_t i = 0; i < ts.len; i++)
		counts(&c.ds, d, &ts, i, &s0[i], &h0[i]);
	assert_int_equal(sig_new_id(id), 0);
	assert_int_equal(classify_and_learn(&c, d, &ts, 0, &v, id, NULL), 0);
	assert_false(v.spam);
	counts(&c.ds, d, &ts, 0, &s, &h);
	assert_int_equal(h, 30);		/* mature: not trained */
	counts(&c.ds, d, &ts, 1, &s, &h);
	assert_int_equal(h, h0[1] + 1);
	/* the correction moves what was counted, nothing else */
	assert_int_equal(retrain_signature(&c, id, 1, NULL), 1);
	counts(&c.ds, d, &ts, 0, &s, &h);
	assert_int_equal(s, 0);
	assert_int_equal(h, 30);
	for (size_t i = 1; i < ts.len; i++) {
		counts(&c.ds, d, &ts, i, &s, &h);
		assert_int_equal(s, s0[i] + 1);
		assert_int_equal(h, h0[i]);
	}
	tokset_free(&ts);
}

/* Corpus training of many messages at once counts as one by one. */
/* Group commit: messages classified by many threads at once, through
   the writer thread, are each counted once, with their signatures. */
struct gc_arg {
	struct classifier *c;
	uint64_t dict;
	int n, failed;
	char last[SIG_ID_LEN + 1];
};

static void *
gc_worker(void *p)
{
	struct gc_arg *a = p;
	struct tokset ts;
	struct verdict v;

	tok("Subject: group\n\ncommitted together with others\n", &ts, 0);
	for (int i = 0; i < a->n; i++)
		if (sig_new_id(a->last) < 0 || classify_and_learn(a->c, a->dict, &ts,
		    0, &v, a->last, NULL) < 0)
			a->failed++;
	tokset_free(&ts);
	return NULL;
}

/* 6 threads classify and learn 40 messages each through the writer;
   with q, their batches are queued (durability: queued) and the stop
   commits what is left */
static void
group_commit(const struct gqueue *q, const char *dict)
{
	struct classifier c = { 0 };
	struct gc_arg a[6];
	pthread_t t[6];
	struct dtotals tot;
	struct tokset ts;
	struct sig sg;
	char *err = NULL;
	uint32_t sp, hm;

	c.ds = store();
	combine_defaults(&c.cp);
	c.mode = MODE_TEFT;
	c.sig_ttl = 3600;
	assert_non_null(c.ds.gc = gcommit_start(&c.ds, q, &err));
	c.ds.queued = q != NULL;
	for (int i = 0; i < 6; i++) {
		a[i] = (struct gc_arg){ &c, dstore_dict_id(dict), 40, 0, "" };
		assert_int_equal(pthread_create(&t[i], NULL, gc_worker, &a[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failed, 0);
	}
	gcommit_stop(c.ds.gc);
	c.ds.gc = NULL;
	totals(&c.ds, dstore_dict_id(dict), &tot);
	assert_int_equal(tot.ham_learned + tot.spam_learned, 240);
	assert_int_equal(tot.ham_classified + tot.spam_classified, 240);
	tok("Subject: group\n\ncommitted together with others\n", &ts, 0);
	counts(&c.ds, dstore_dict_id(dict), &ts, 0, &sp, &hm);
	assert_int_equal(sp + hm, 240);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(sig_read(&c.ds, a[i].last, &sg, NULL), 1);
		assert_int_equal(sg.n, ts.len);
		sig_free(&sg);
	}
	tokset_free(&ts);
}

static void
test_group_commit(void **state)
{
	(void)state;
	group_commit(NULL, "group");
}

/* queued: nothing lost at the stop, the bound of 3 waiting batches
   holds the submitters back without losing one */
static void
test_group_commit_queued(void **state)
{
	struct gqueue q = { NULL, NULL, NULL, 3 };

	(void)state;
	group_commit(&q, "queued");
}

static void
test_corpus_many(void **state)
{
	struct classifier c = { 0 };
	struct tokset ts[3], all;
	struct dtotals ta, tb;
	uint64_t da = dstore_dict_id("one-by-one"), db = dstore_dict_id("at-once");

	(void)state;
	c.ds = store();
	c.ds.purge_after = 3600;
	c.ds.purge_hits = 1;
	combine_defaults(&c.cp);
	tok("Subject: a\n\ncheap pills cheap offer\n", &ts[0], 0);
	tok("Subject: b\n\ncheap watches today\n", &ts[1], 0);
	tok("Subject: c\n\noffer ends today\n", &ts[2], 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(train_tokens(&c, da, &ts[i], 1, SRC_CORPUS, NULL), 0);
	assert_int_equal(train_corpus_many(&c, db, ts, 3, 1, TRAIN_WORDS | TRAIN_PATTERNS, NULL), 0);
	totals(&c.ds, da, &ta);
	totals(&c.ds, db, &tb);
	assert_memory_equal(&ta, &tb, sizeof(ta));
	assert_int_equal(tb.spam_learned, 3);
	tok("Subject: a b c\n\ncheap pills offer watches today ends\n", &all, 0);
	for (size_t i = 0; i < all.len; i++) {
		uint32_t sa, ha, sb, hb;

		counts(&c.ds, da, &all, i, &sa, &ha);
		counts(&c.ds, db, &all, i, &sb, &hb);
		assert_int_equal(sa, sb);
		assert_int_equal(ha, hb);
	}
	/* "cheap" is in two of the messages: two hits, not three */
	int seen = 0;
	for (size_t i = 0; i < all.len; i++)
		if (all.t[i].h == dspam_hash("cheap", 5)) {
			uint32_t sb, hb;
			counts(&c.ds, db, &all, i, &sb, &hb);
			assert_int_equal(sb, 2);
			seen = 1;
		}
	assert_true(seen);
	for (int i = 0; i < 3; i++)
		tokset_free(&ts[i]);
	tokset_free(&all);
}

/* a tokset of one token, to read its counts */
static void
one_token(struct tokset *ts, uint64_t h)
{
	tokset_init(ts);
	assert_int_equal(tokset_add(ts, h), 0);
	tokset_finish(ts);
}

static void
tok_bnr(const char *msg, struct tokset *ts)
{
	struct tokopts o = { .bnr = 1 };
	size_t len = strlen(msg);
	unsigned char *copy = malloc(len);

	assert_non_null(copy);
	memcpy(copy, msg, len);
	tokset_init(ts);
	assert_int_equal(dspam_tokenize(&o, copy, len, ts), 0);
	free(copy);
}

/*
 * Bayesian noise reduction: the body words in order; a learned pattern
 * "spam word, innocent word, spam word" decided spam leaves the innocent
 * word out; patterns are trained (corpus, TEFT) and corrected by
 * signature like words.
 */
static void
test_bnr(void **state)
{
	static const unsigned char bands[3] = { 20, 0, 20 };
	struct classifier c = { 0 };
	struct tokset mixed, plain, sp, hm, parts, pat, rev;
	struct tokset sp5[5], hm5[5], mix5[5], rev5[5];
	struct verdict v0, v1, v;
	struct dtotals tot;
	uint64_t d = dstore_dict_id("bnr");
	char id[SIG_ID_LEN + 1];
	uint32_t s, h;

	(void)state;
	c.ds = store();
	combine_defaults(&c.cp);
	c.sig_ttl = 3600;
	c.mode = MODE_TEFT;

	/* the sequence: body words in order, a break between parts; no
	   sequence without bnr */
	tok_bnr("Subject: note\n\nviagra meeting casino\n", &mixed);
	assert_int_equal(mixed.nseq, 3);
	assert_true(mixed.seq[0] == dspam_hash("viagra", 6));
	assert_true(mixed.seq[1] == dspam_hash("meeting", 7));
	assert_true(mixed.seq[2] == dspam_hash("casino", 6));
	tok("Subject: note\n\nviagra meeting casino\n", &plain, 0);
	assert_int_equal(plain.nseq, 0);
	assert_null(plain.seq);
	tok_bnr("Subject: p\nContent-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\none two three\n--b\n\nfour five\n--b--\n", &parts);
	assert_int_equal(parts.nseq, 6);
	assert_true(parts.seq[3] == 0);

	tok_bnr("Subject: note\n\nviagra casino lottery\n", &sp);
	tok_bnr("Subject: note\n\nmeeting agenda budget\n", &hm);
	for (int i = 0; i < 5; i++) {
		sp5[i] = sp;
		hm5[i] = hm;
		mix5[i] = mixed;
	}
	c.cp.bnr = 1;
	assert_int_equal(train_corpus_many(&c, d, sp5, 5, 1, TRAIN_WORDS, NULL), 0);
	assert_int_equal(train_corpus_many(&c, d, hm5, 5, 0, TRAIN_WORDS, NULL), 0);
	/* no pattern learned yet: nothing is noise */
	assert_int_equal(classify_tokens(&c, d, &mixed, 0, &v0, NULL), 0);
	assert_int_equal(v0.noise, 0);

	/* the mixed message's pattern (bands 20, 0, 20) learned as spam,
	   from the finished dictionary; the totals stay */
	assert_int_equal(train_corpus_many(&c, d, mix5, 5, 1, TRAIN_PATTERNS, NULL), 0);
	totals(&c.ds, d, &tot);
	assert_int_equal(tot.spam_learned, 5);
	assert_int_equal(tot.ham_learned, 5);
	one_token(&pat, dspam_hash2("bnr", 3, bands, 3));
	counts(&c.ds, d, &pat, 0, &s, &h);
	assert_int_equal(s, 5);
	assert_int_equal(h, 0);

	/* "meeting" contradicts a decided spam pattern: left out */
	assert_int_equal(classify_tokens(&c, d, &mixed, 0, &v1, NULL), 0);
	assert_int_equal(v1.noise, 1);
	assert_int_equal(v1.used, v0.used - 1);
	assert_true(v1.probability > v0.probability);
	assert_true(v1.spam);
	/* a threshold the pattern does not pass: nothing is noise */
	c.cp.bnr_threshold = 0.5;
	assert_int_equal(classify_tokens(&c, d, &mixed, 0, &v, NULL), 0);
	assert_int_equal(v.noise, 0);
	assert_int_equal(v.used, v0.used);
	c.cp.bnr_threshold = 0.3;
	/* BNR off: the same counts give the plain verdict */
	c.cp.bnr = 0;
	assert_int_equal(classify_tokens(&c, d, &mixed, 0, &v, NULL), 0);
	assert_int_equal(v.noise, 0);
	assert_true(v.probability == v0.probability);
	c.cp.bnr = 1;
	/* an innocent pattern (0, 20, 0) marks the spam word among innocent
	   ones, unless only spam patterns may mark (bnr_sides spam) */
	tok_bnr("Subject: note\n\nmeeting viagra agenda\n", &rev);
	for (int i = 0; i < 5; i++)
		rev5[i] = rev;
	assert_int_equal(train_corpus_many(&c, d, rev5, 5, 0, TRAIN_PATTERNS, NULL), 0);
	assert_int_equal(classify_tokens(&c, d, &rev, 0, &v, NULL), 0);
	assert_int_equal(v.noise, 1);
	c.cp.bnr_sides = BNR_SPAM;
	assert_int_equal(classify_tokens(&c, d, &rev, 0, &v, NULL), 0);
	assert_int_equal(v.noise, 0);
	assert_int_equal(classify_tokens(&c, d, &mixed, 0, &v, NULL), 0);
	assert_int_equal(v.noise, 1);
	c.cp.bnr_sides = BNR_BOTH;

	/* TEFT learns the pattern with the class given; the signature
	   keeps it, so a correction moves it */
	assert_int_equal(sig_new_id(id), 0);
	assert_int_equal(classify_and_learn(&c, d, &mixed, 0, &v, id, NULL), 0);
	assert_true(v.spam);
	counts(&c.ds, d, &pat, 0, &s, &h);
	assert_int_equal(s, 6);
	assert_int_equal(h, 0);
	assert_int_equal(retrain_signature(&c, id, 0, NULL), 1);
	counts(&c.ds, d, &pat, 0, &s, &h);
	assert_int_equal(s, 5);
	assert_int_equal(h, 1);
	/* a training by hand learns it too (from the dictionary as it is) */
	d = dstore_dict_id("bnr2");
	assert_int_equal(train_corpus_many(&c, d, sp5, 5, 1, TRAIN_WORDS, NULL), 0);
	assert_int_equal(train_corpus_many(&c, d, hm5, 5, 0, TRAIN_WORDS, NULL), 0);
	assert_int_equal(train_tokens(&c, d, &mixed, 1, SRC_CORPUS, NULL), 0);
	counts(&c.ds, d, &pat, 0, &s, &h);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);

	tokset_free(&pat);
	tokset_free(&rev);
	tokset_free(&sp);
	tokset_free(&hm);
	tokset_free(&parts);
	tokset_free(&plain);
	tokset_free(&mixed);
}

/* A store that is full fails the write whole: nothing half-counted. */
/* message i: a subject and 150 words no other message has */
static void
unique_words(int i, struct tokset *ts)
{
	char msg[4096];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "Subject: m%d\n\n", i);

	for (int k = 0; k < 150; k++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "w%dx%d ", i, k);
	tok(msg, ts, 0);
}

static void
test_store_full(void **state)
{
	char dir[] = "/tmp/test_dspam_full.XXXXXX", cmd[80];
	struct classifier c = { 0 };
	struct dtotals before, after;
	uint64_t d = dstore_dict_id("full");
	char *err = NULL;
	int i, r = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	c.ds = store_at(dir, 1 << 20);
	combine_defaults(&c.cp);
	c.mode = MODE_TEFT;
	for (i = 0; i < 1000 && r == 0; i++) {
		struct tokset ts;

		unique_words(i, &ts);
		struct tokstat *was = calloc(ts.len, sizeof(*was));
		struct tokstat *now = calloc(ts.len, sizeof(*now));
		assert_true(was && now);
		assert_int_equal(dict_read(&c.ds, d, &ts, was, &before, NULL), 0);
		r = train_tokens(&c, d, &ts, i % 2, SRC_CORPUS, &err);
		if (r < 0) {
			/* the failed message left no trace */
			assert_int_equal(dict_read(&c.ds, d, &ts, now, &after, NULL), 0);
			assert_memory_equal(&before, &after, sizeof(before));
			assert_memory_equal(was, now, ts.len * sizeof(*was));
		}
		free(was);
		free(now);
		tokset_free(&ts);
	}
	assert_int_equal(r, -1);
	assert_non_null(err);
	free(err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* durability: queued on a store that fills up: the messages were
   answered (train_tokens returned 0), so the failed commits are logged
   and counted as lost; learned + lost = submitted */
static double lost_count;
static int lost_logged;

static void
lost_log(mm_ctx *ctx, mm_log_level level, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
	lost_logged += level == MM_LOG_ERR;
}

static void
lost_add(mm_metric *m, const char *label, double v)
{
	(void)label;
	*(double *)(void *)m += v;
}

static void
test_queued_lost(void **state)
{
	char dir[] = "/tmp/test_dspam_qlost.XXXXXX", cmd[80];
	struct mm_api api;
	struct classifier c = { 0 };
	struct dtotals tot;
	struct gqueue q = { &api, NULL, (mm_metric *)(void *)&lost_count, 8 };
	uint64_t d = dstore_dict_id("qlost");
	char *err = NULL;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	c.ds = store_at(dir, 1 << 20);
	api = *c.ds.api;
	api.log = lost_log;
	api.metric_add = lost_add;
	combine_defaults(&c.cp);
	c.mode = MODE_TEFT;
	assert_non_null(c.ds.gc = gcommit_start(&c.ds, &q, &err));
	c.ds.queued = 1;
	for (i = 0; i < 400; i++) {
		struct tokset ts;

		unique_words(i, &ts);
		assert_int_equal(train_tokens(&c, d, &ts, i % 2, SRC_CORPUS, &err), 0);
		tokset_free(&ts);
	}
	gcommit_stop(c.ds.gc);
	c.ds.gc = NULL;
	totals(&c.ds, d, &tot);
	assert_true(lost_count > 0);
	assert_true(lost_logged > 0);
	assert_int_equal(tot.spam_learned + tot.ham_learned + (uint64_t)lost_count, 400);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenizer_mime),
		cmocka_unit_test(test_tokenizer_alternative),
		cmocka_unit_test(test_tokenizer_words_and_pairs),
		cmocka_unit_test(test_tokenizer_malformed),
		cmocka_unit_test(test_tokenizer_html_evasion),
		cmocka_unit_test(test_tokenizer_links_and_fields),
		cmocka_unit_test(test_tokenizer_bad_bytes_in_charset),
		cmocka_unit_test(test_tokenizer_html_short_tags),
		cmocka_unit_test(test_hash_stable),
		cmocka_unit_test(test_chi2),
		cmocka_unit_test(test_robinson_token),
		cmocka_unit_test(test_fisher),
		cmocka_unit_test(test_burton),
		cmocka_unit_test(test_teft_toe),
		cmocka_unit_test(test_whitelist_trust),
		cmocka_unit_test(test_retrain_signature),
		cmocka_unit_test(test_retrain_race),
		cmocka_unit_test(test_tum_signature),
		cmocka_unit_test(test_corpus_many),
		cmocka_unit_test(test_bnr),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_group_commit_queued),
		cmocka_unit_test(test_purge_and_count),
		cmocka_unit_test(test_store_full),
		cmocka_unit_test(test_queued_lost),
	};
	int r;

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_dspam");
	if (mkdtemp(storedir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char p[64];

		snprintf(p, sizeof(p), "%s/data.mdb", storedir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/lock.mdb", storedir);
		unlink(p);
		rmdir(storedir);
	}
	return r;
}
