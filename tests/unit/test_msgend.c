#include "config.h"
/*
 * NAME
 *	test_msgend - how a message ends, as the msg_end hook hears it
 * DESCRIPTION
 *	Drives the session engine in-process with testplug instances that
 *	decide (tests/plugins/testplug.c) and an endplug instance that
 *	records each msg_end call in a file (tests/plugins/endplug.c).
 *	Every way a message ends is checked to call msg_end exactly once,
 *	after the verdict is final and before the message data is freed,
 *	with the right outcome: accepted (with the changes applied),
 *	rejected at end of message, tempfailed at MAIL FROM, discarded at
 *	DATA, an SMTP abort, per-recipient refusals, a connection dropped
 *	mid-message, a MAIL FROM that follows an unfinished message, an
 *	ACCEPT before end of message, and the MTA refusing a modification
 *	(backend apply fails: tempfail, and abort hooks run). Actions and
 *	replies are refused inside msg_end; a hung msg_end is abandoned
 *	after the instance's timeout, and the end of the connection waits
 *	for it no longer than session_grace.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "session.h"

#define HEAD	"plugin_dir: " BUILDDIR "/tests/plugins/.libs\n" \
		"store: /tmp/modmilter-unit-store\n"

static int apply_fails;

static const char *
be_macro(void *bctx, const char *name)
{
	(void)bctx;
	return strcmp(name, "i") == 0 ? "4END0001" : NULL;
}

static int
be_apply(void *bctx, const struct eom_out *e)
{
	(void)bctx;
	(void)e;
	return apply_fails ? -1 : 0;
}

static struct backend be = { be_macro, NULL, 1, NULL, be_apply };

static struct conf *c;
static struct session *s;
static char outfile[64];

static void
start_e(const char *plugins, const char *eopts)
{
	char path[] = "/tmp/mmend-XXXXXX", *yaml, *errs;
	int fd;
	size_t len;
	FILE *fp;

	strcpy(outfile, "/tmp/mmend-out-XXXXXX");
	fd = mkstemp(outfile);
	assert_true(fd >= 0);
	close(fd);
	yaml = xasprintf(HEAD "plugins:\n%s"
	    "  e: { module: endplug, options: { file: %s%s } }\n", plugins, outfile,
	    eopts);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	free(yaml);
	fp = open_memstream(&errs, &len);
	c = conf_load(path, fp);
	fclose(fp);
	unlink(path);
	if (c == NULL)
		fail_msg("configuration refused:\n%s", errs);
	free(errs);
	apply_fails = 0;
	s = session_new(c, &be, NULL);
}

static void
start(const char *plugins)
{
	start_e(plugins, "");
}

static int
cleanup(void **state)
{
	(void)state;
	if (s)
		session_free(s);
	if (c)
		conf_unref(c);
	s = NULL;
	c = NULL;
	if (*outfile)
		unlink(outfile);
	*outfile = 0;
	return 0;
}

/* What endplug wrote so far (static buffer). */
static const char *
recorded(void)
{
	static char buf[8192];
	FILE *f = fopen(outfile, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Each word of want must be in the one "end" line recorded. */
#define expect_end(...) expect_end_(__LINE__, __VA_ARGS__, NULL)
static void
expect_end_(int line, const char *w, ...)
{
	const char *r = recorded(), *end = strstr(r, "end "), *fr;
	va_list ap;

	if (count_of(r, "end ") != 1)
		fail_msg("line %d: %d msg_end calls, expected 1:\n%s", line,
		    count_of(r, "end "), r);
	/* the message data is freed after msg_end, not before */
	fr = strstr(r, "free qid=");
	if (fr == NULL || fr < end)
		fail_msg("line %d: message data not freed after msg_end:\n%s", line, r);
	va_start(ap, w);
	for (; w; w = va_arg(ap, const char *))
		if (strstr(end, w) == NULL)
			fail_msg("line %d: '%s' missing in:\n%s", line, w, r);
	va_end(ap);
	/* inside msg_end nothing acts on the message */
	if (strstr(end, "act=refused reply=refused") == NULL)
		fail_msg("line %d: an action was allowed in msg_end:\n%s", line, r);
	truncate(outfile, 0);
}

static mm_verdict
stage(void (*fn)(struct session *, struct stage_out *))
{
	struct stage_out o;

	fn(s, &o);
	stage_out_free(&o);
	return o.verdict;
}

static mm_verdict
connect_from(const char *from)
{
	struct stage_out o;
	struct sockaddr_in sin;
	char *argv[] = { (char *)from, NULL };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	session_connect(s, "client.example.net", (struct sockaddr *)&sin, &o);
	stage_out_free(&o);
	session_helo(s, "client.example.net", &o);
	stage_out_free(&o);
	session_envfrom(s, argv, &o);
	stage_out_free(&o);
	return o.verdict;
}

static mm_verdict
rcpt(const char *addr)
{
	struct stage_out o;
	char *argv[] = { (char *)addr, NULL };

	session_envrcpt(s, argv, &o);
	stage_out_free(&o);
	return o.verdict;
}

/* DATA to EOM; the EOM verdict. */
static mm_verdict
rest(void)
{
	struct stage_out o;

	if (stage(session_data) != MM_CONTINUE)
		return MM_ERROR;
	session_header(s, "Subject", "hi", &o);
	stage_out_free(&o);
	stage(session_eoh);
	session_body(s, (const unsigned char *)"x\r\n", 3, &o);
	stage_out_free(&o);
	session_eom(s, &o, NULL);
	stage_out_free(&o);
	return o.verdict;
}

static void
test_accept(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { add_header: { name: X-A, value: b } } }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	assert_int_equal(rest(), MM_CONTINUE);
	expect_end("qid=4END0001", "verdict=accept", "aborted=0", "stage=eom", "by=-",
	    "rcpts=u@example.com/continue/-", "changed=0x1 ", "discarded=0",
	    "from=a@example.net", "fact=yes", "data=yes", "size=ok");
	assert_int_equal(conf_instance(c, "t1")->stats->calls[MM_STAGE_ABORT], 0);
}

static void
test_reject_eom(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { verdicts: { eom: reject },\n"
	    "        add_header: { name: X-A, value: b } } }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	assert_int_equal(rest(), MM_REJECT);
	expect_end("verdict=reject", "aborted=0", "stage=eom", "by=t1", "changed=0x0 ");
	assert_int_equal(conf_instance(c, "t1")->stats->calls[MM_STAGE_ABORT], 1);
}

static void
test_tempfail_envfrom(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { verdicts: { envfrom: tempfail } } }\n");
	assert_int_equal(connect_from("<a@example.net>"), MM_TEMPFAIL);
	expect_end("verdict=tempfail", "aborted=0", "stage=envfrom", "by=t1", "rcpts=-");
}

static void
test_discard_data(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { verdicts: { data: discard } } }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	assert_int_equal(stage(session_data), MM_DISCARD);
	expect_end("verdict=discard", "aborted=0", "stage=data", "by=t1",
	    "discarded=1", "rcpts=u@example.com/continue/-");
}

static void
test_abort(void **state)
{
	(void)state;
	start("  t1: { module: testplug }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	session_abort(s);
	expect_end("verdict=tempfail", "aborted=1", "stage=abort", "by=-");
	assert_int_equal(conf_instance(c, "t1")->stats->calls[MM_STAGE_ABORT], 1);
	/* nothing more for a message that has ended */
	session_abort(s);
	assert_int_equal(count_of(recorded(), "end "), 0);
}

static void
test_rcpt_reject(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { reject_rcpt: [bad@example.com] } }\n");
	connect_from("<a@example.net>");
	assert_int_equal(rcpt("<bad@example.com>"), MM_REJECT);
	assert_int_equal(rcpt("<good@example.com>"), MM_CONTINUE);
	assert_int_equal(rest(), MM_CONTINUE);
	expect_end("verdict=accept", "by=-",
	    "rcpts=bad@example.com/reject/t1,good@example.com/continue/-");
}

static void
test_dropped(void **state)
{
	(void)state;
	start("  t1: { module: testplug }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	stage(session_data);
	session_free(s);
	s = NULL;
	expect_end("verdict=tempfail", "aborted=1", "stage=close");
}

static void
test_next_mail(void **state)
{
	(void)state;
	start("  t1: { module: testplug }\n");
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	connect_from("<b@example.net>");
	expect_end("verdict=tempfail", "aborted=1", "stage=abort", "from=a@example.net");
}

/* Everybody accepted at MAIL FROM: the MTA sends no more of it, and the
   message ends as accepted when the next one starts. */
static void
test_early_accept(void **state)
{
	(void)state;
	start_e("", ", accept: true");
	assert_int_equal(connect_from("<a@example.net>"), MM_ACCEPT);
	assert_int_equal(count_of(recorded(), "end "), 0);
	connect_from("<b@example.net>");
	expect_end("verdict=accept", "aborted=0", "stage=envfrom", "from=a@example.net");
}

static void
test_apply_refused(void **state)
{
	(void)state;
	start("  t1: { module: testplug, options: { add_header: { name: X-A, value: b } } }\n");
	apply_fails = 1;
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	assert_int_equal(rest(), MM_TEMPFAIL);
	expect_end("verdict=tempfail", "aborted=0", "stage=eom", "by=-", "changed=0x0 ");
	assert_int_equal(conf_instance(c, "t1")->stats->calls[MM_STAGE_ABORT], 1);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A msg_end that hangs is given up after the instance's timeout, and
   the connection's end does not wait for it beyond session_grace: the
   hook's return frees what is left (its message data, "free"). */
static void
test_hung(void **state)
{
	char hfile[] = "/tmp/mmend-hung-XXXXXX", *yaml;
	double t0, dt;
	int fd = mkstemp(hfile), freed = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	yaml = xasprintf("  t1: { module: testplug }\n"
	    "  h: { module: endplug, timeout: 200ms, options: { file: %s, sleep: 1500ms } }\n",
	    hfile);
	start(yaml);
	free(yaml);
	connect_from("<a@example.net>");
	rcpt("<u@example.com>");
	t0 = mono();
	assert_int_equal(rest(), MM_CONTINUE);
	dt = mono() - t0;
	assert_true(dt < 0.9);
	assert_int_equal(conf_instance(c, "h")->stats->timeouts, 1);
	expect_end("verdict=accept");

	session_grace = 0.2;
	t0 = mono();
	session_free(s);
	s = NULL;
	dt = mono() - t0;
	session_grace = 30;
	assert_true(dt < 0.9);
	/* the hook wakes, writes its line; the teardown frees its data */
	while (!freed && mono() - t0 < 5) {
		char buf[4096] = "";
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		if ((f = fopen(hfile, "r")) != NULL) {
			buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
			fclose(f);
		}
		freed = strstr(buf, "free qid=") != NULL;
		if (!freed)
			nanosleep(&ts, NULL);
	}
	unlink(hfile);
	assert_true(freed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_accept, cleanup),
		cmocka_unit_test_teardown(test_reject_eom, cleanup),
		cmocka_unit_test_teardown(test_tempfail_envfrom, cleanup),
		cmocka_unit_test_teardown(test_discard_data, cleanup),
		cmocka_unit_test_teardown(test_abort, cleanup),
		cmocka_unit_test_teardown(test_rcpt_reject, cleanup),
		cmocka_unit_test_teardown(test_dropped, cleanup),
		cmocka_unit_test_teardown(test_next_mail, cleanup),
		cmocka_unit_test_teardown(test_early_accept, cleanup),
		cmocka_unit_test_teardown(test_apply_refused, cleanup),
		cmocka_unit_test_teardown(test_hung, cleanup),
	};

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_msgend");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
