#include "config.h"
/*
 * NAME
 *	test_session - the session engine driven in-process through testplug
 * DESCRIPTION
 *	Loads configurations of testplug instances (tests/plugins/testplug.c:
 *	a plugin that does what its options say) and drives session_*() as
 *	core/mta/milter.c would, with a backend whose macros come from a table
 *	(queue id "i", "{auth_authen}", "{daemon_name}") and that can SKIP.
 *	Proves, through real hooks, the DESIGN.md rules: the verdict merge
 *	(most severe wins, ties to the earliest reply, DISCARD stops the
 *	stage); per-recipient REJECT; ACCEPT only when every plugin accepted
 *	and nothing is queued; SKIP when no plugin wants the body; monitor
 *	mode (logged in X-Modmilter-Monitor, nothing enforced or queued);
 *	on_error for invalid verdicts, MM_ERROR and timeouts (the late hook
 *	neither delays the answer nor is called again, session_free()
 *	waits for it, it learns it was abandoned and what it queues then -
 *	a header, a fact - is dropped; conn_open is bounded the same way); chain selection by client class, SMTP AUTH and
 *	recipient domain, with replay of the events a late plugin missed and
 *	452 4.5.3 for a recipient of another chain; facts shared between
 *	plugins; actions applied once at EOM in order and dropped by a
 *	decisive REJECT (with abort called); one Authentication-Results
 *	header with our authserv-id and forged ones removed, however they
 *	write the id; recipient domains compared normalised for rcpt_domain.
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
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api.h"
#include "conf.h"
#include "log.h"
#include "session.h"

#define HEAD	"plugin_dir: " BUILDDIR "/tests/plugins/.libs\n" \
		"store: /tmp/modmilter-unit-store\n"

/* --- the MTA side --- */

static struct {
	const char *qid, *auth, *daemon;
} mac;

static const char *
be_macro(void *bctx, const char *name)
{
	(void)bctx;
	if (strcmp(name, "i") == 0)
		return mac.qid;
	if (strcmp(name, "{auth_authen}") == 0)
		return mac.auth;
	if (strcmp(name, "{daemon_name}") == 0)
		return mac.daemon;
	return NULL;
}

static struct backend be = { be_macro, NULL, 1, NULL, NULL };

struct fx {
	struct conf *c;
	struct session *s;
};

/* What the running test holds, freed by cleanup() if an assertion
   jumps out of it (so that a failure does not also report leaks). */
static struct fx live;

static void
start(struct fx *f, const char *yaml)
{
	char path[] = "/tmp/mmsess-XXXXXX";
	int fd = mkstemp(path);
	char *errs;
	size_t len, yl = strlen(yaml);
	FILE *fp;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, yl), (ssize_t)yl);
	close(fd);
	fp = open_memstream(&errs, &len);
	f->c = conf_load(path, fp);
	fclose(fp);
	unlink(path);
	if (f->c == NULL)
		fail_msg("configuration refused:\n%s", errs);
	free(errs);
	mac.qid = "4QID0001";
	mac.auth = NULL;
	mac.daemon = "MTA-v4";
	be.can_skip = 1;
	f->s = session_new(f->c, &be, NULL);
	live = *f;
}

static void
finish(struct fx *f)
{
	session_free(f->s);
	conf_unref(f->c);
	memset(&live, 0, sizeof(live));
}

static int
cleanup(void **state)
{
	(void)state;
	if (live.s)
		session_free(live.s);
	if (live.c)
		conf_unref(live.c);
	memset(&live, 0, sizeof(live));
	be.can_skip = 1;
	return 0;
}

static struct instance *
inst(struct fx *f, const char *name)
{
	struct instance *in = conf_instance(f->c, name);

	if (in == NULL)
		fail_msg("no instance %s", name);
	return in;
}

static unsigned long long
calls(struct fx *f, const char *name, mm_stage st)
{
	return inst(f, name)->stats->calls[st];
}

/* testplug keeps the hooks it saw in its connection data: a char[512]
   at the start of its struct trace. */
static const char *
trace_of(struct fx *f, const char *name)
{
	const char *t = f->s->ctx[inst(f, name)->index].conn_data;
	return t ? t : "";
}

/* --- stages --- */

static struct stage_out
do_connect(struct fx *f, const char *ip)
{
	struct stage_out o;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(40000);
		session_connect(f->s, "client.example.net", (struct sockaddr *)&sin, &o);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(40000);
		session_connect(f->s, "client.example.net", (struct sockaddr *)&sin6, &o);
	}
	return o;
}

static struct stage_out
do_helo(struct fx *f)
{
	struct stage_out o;

	session_helo(f->s, "client.example.net", &o);
	return o;
}

static struct stage_out
do_from(struct fx *f, const char *addr)
{
	struct stage_out o;
	char *argv[] = { (char *)addr, (char *)"SIZE=100", NULL };

	session_envfrom(f->s, argv, &o);
	return o;
}

static struct stage_out
do_rcpt(struct fx *f, const char *addr)
{
	struct stage_out o;
	char *argv[] = { (char *)addr, NULL };

	session_envrcpt(f->s, argv, &o);
	return o;
}

static const char *const std_headers[] = {
	"From", "<sender@example.net>",
	"To", "<rcpt1@example.com>",
	"Subject", "hello",
	NULL
};

/* The verdict of a stage, its reply freed. */
static mm_verdict
V(struct stage_out o)
{
	stage_out_free(&o);
	return o.verdict;
}

static const char *const vname[] = {
	"CONTINUE", "ACCEPT", "REJECT", "TEMPFAIL", "DISCARD", "SKIP", "ERROR"
};

#define expect_v(o, v) expect_v_(o, v, __LINE__)
static void
expect_v_(struct stage_out o, mm_verdict v, int line)
{
	mm_verdict got = o.verdict;

	stage_out_free(&o);
	if (got != v)
		fail_msg("line %d: verdict %s, expected %s", line,
		    (unsigned)got < 7 ? vname[got] : "?", vname[v]);
}

/* Verdict and reply; text NULL: not checked beyond being set. */
#define expect_reply(o, v, rc, xc, text) expect_reply_(o, v, rc, xc, text, __LINE__)
static void
expect_reply_(struct stage_out o, mm_verdict v, const char *rc, const char *xc,
    const char *text, int line)
{
	int ok = o.verdict == v && strcmp(o.reply.rcode, rc) == 0 &&
	    strcmp(o.reply.xcode, xc) == 0 && o.reply.text != NULL &&
	    (text == NULL || strcmp(o.reply.text, text) == 0);

	if (!ok)
		fail_msg("line %d: got %s %s %s '%s', expected %s %s %s '%s'", line,
		    (unsigned)o.verdict < 7 ? vname[o.verdict] : "?", o.reply.rcode,
		    o.reply.xcode, o.reply.text ? o.reply.text : "(null)", vname[v],
		    rc, xc, text ? text : "*");
	stage_out_free(&o);
}

/*
 * DATA, the headers, EOH, a body in two chunks and EOM. Every stage
 * before EOM must go on (CONTINUE, or SKIP for the body). Returns the
 * EOM verdict; *eom holds the actions (free with eom_out_free).
 */
static struct stage_out
data_to_eom(struct fx *f, const char *const *hdrs, struct eom_out *eom)
{
	struct stage_out o;
	static const char b1[] = "line one\r\n", b2[] = "line two\r\n";
	mm_verdict v;

	session_data(f->s, &o);
	expect_v(o, MM_CONTINUE);
	for (size_t i = 0; hdrs && hdrs[i]; i += 2) {
		session_header(f->s, hdrs[i], hdrs[i + 1], &o);
		expect_v(o, MM_CONTINUE);
	}
	session_eoh(f->s, &o);
	expect_v(o, MM_CONTINUE);
	session_body(f->s, (const unsigned char *)b1, strlen(b1), &o);
	v = V(o);
	if (v != MM_CONTINUE && v != MM_SKIP)
		fail_msg("body: %s", vname[v]);
	if (v == MM_CONTINUE) {
		session_body(f->s, (const unsigned char *)b2, strlen(b2), &o);
		v = V(o);
		if (v != MM_CONTINUE && v != MM_SKIP)
			fail_msg("body: %s", vname[v]);
	}
	session_eom(f->s, &o, eom);
	return o;
}

/* The whole message from an external client; EOM must be CONTINUE. */
static void
whole_message(struct fx *f, const char *ip, struct eom_out *eom)
{
	expect_v(do_connect(f, ip), MM_CONTINUE);
	expect_v(do_helo(f), MM_CONTINUE);
	expect_v(do_from(f, "<sender@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(f, "<rcpt1@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(f, std_headers, eom), MM_CONTINUE);
}

static const struct hdrop *
find_op(const struct eom_out *e, enum hdrop_kind kind, const char *name)
{
	for (size_t i = 0; i < e->nhdrops; i++)
		if (e->hdrops[i].kind == kind && strcasecmp(e->hdrops[i].name, name) == 0)
			return &e->hdrops[i];
	return NULL;
}

static size_t
count_ops(const struct eom_out *e, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nhdrops; i++)
		if (strcasecmp(e->hdrops[i].name, name) == 0)
			n++;
	return n;
}

/* The value of the header added with this name, or fail. */
static const char *
added(const struct eom_out *e, const char *name)
{
	const struct hdrop *op = find_op(e, HDROP_ADD, name);

	if (op == NULL) {
		char all[2048] = "";
		for (size_t i = 0; i < e->nhdrops; i++) {
			strncat(all, e->hdrops[i].name, sizeof(all) - strlen(all) - 2);
			strncat(all, " ", sizeof(all) - strlen(all) - 1);
		}
		fail_msg("no header %s added; ops: %s", name, all);
	}
	return op->value;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* verdict merge through real hooks                                    */

static void
test_tempfail_then_reject(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: tempfail },\n"
	    "        reply: { code: \"451\", xcode: \"4.7.1\", text: \"t1 says later\" } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envfrom: reject },\n"
	    "        reply: { code: \"554\", xcode: \"5.7.9\", text: \"t2 says no\" } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_REJECT, "554", "5.7.9", "t2 says no");
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVFROM), 1);
	/* rule 5: a decisive verdict calls abort on every plugin */
	assert_int_equal(calls(&f, "t1", MM_STAGE_ABORT), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ABORT), 1);
	finish(&f);
}

static void
test_two_rejects_first_reply(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: reject },\n"
	    "        reply: { code: \"550\", xcode: \"5.7.1\", text: \"first\" } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envfrom: reject },\n"
	    "        reply: { code: \"553\", xcode: \"5.1.8\", text: \"second\" } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_REJECT, "550", "5.7.1", "first");
	finish(&f);

	/* a reply of the wrong class is sanitized on the way */
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: reject },\n"
	    "        reply: { code: \"250\", xcode: \"2.1.0\", text: \"100% ok\" } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_REJECT, "550", "5.1.0", "100%% ok");
	finish(&f);
}

static void
test_discard_stops_later_plugins(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: discard } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envfrom: reject } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_DISCARD);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVFROM), 0);
	assert_null(strstr(trace_of(&f, "t2"), "envfrom"));
	assert_string_equal(trace_of(&f, "t2"), "connect,helo,abort");
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* recipients                                                          */

static void
test_reject_one_recipient(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { reject_rcpt: [bad@example.com],\n"
	    "        trace: X-Trace } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_reply(do_rcpt(&f, "<bad@example.com>"), MM_REJECT, "550", "5.1.1",
	    "No such user here");
	expect_v(do_rcpt(&f, "<good@example.com>"), MM_CONTINUE);
	assert_int_equal(f.s->m->nrcpts, 1);
	assert_string_equal(f.s->m->rcpts[0], "good@example.com");
	assert_int_equal(calls(&f, "t1", MM_STAGE_ABORT), 0);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Trace"),
	    "connect,helo,envfrom,envrcpt,envrcpt,data,header,eoh,body,eom");
	eom_out_free(&eom);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* ACCEPT and SKIP bookkeeping                                         */

static void
test_accept_all(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: accept } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envfrom: accept } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_ACCEPT);
	finish(&f);
}

static void
test_accept_one_still_working(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: accept } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envrcpt: accept } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	/* t1 is done with the message: not called at RCPT */
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_ACCEPT);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVRCPT), 0);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVRCPT), 1);
	/* the next message starts afresh */
	expect_v(do_from(&f, "<b@example.net>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 2);
	finish(&f);
}

static void
test_accept_but_queued(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	/* t1 in monitor mode would have rejected the connection: that note
	   is queued for the X-Modmilter-Monitor header, so no ACCEPT */
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, mode: monitor,\n"
	    "        options: { verdicts: { connect: reject, envfrom: accept } } }\n"
	    "  t2: { module: testplug, options: { verdicts: { envfrom: accept } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_non_null(strstr(added(&eom, "X-Modmilter-Monitor"), "reject at connect"));
	eom_out_free(&eom);
	finish(&f);
}

static void
test_skip_body(void **state)
{
	struct fx f;
	struct stage_out o;
	static const unsigned char chunk[] = "body\r\n";

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { body: skip } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	session_data(f.s, &o);
	expect_v(o, MM_CONTINUE);
	session_eoh(f.s, &o);
	expect_v(o, MM_CONTINUE);
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_SKIP);
	/* an MTA that sends more anyway: the plugin is not called again */
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_SKIP);
	assert_int_equal(calls(&f, "t1", MM_STAGE_BODY), 1);
	finish(&f);

	/* one plugin skips, the other still wants the body */
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { body: skip } } }\n"
	    "  t2: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_CONTINUE);
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_CONTINUE);
	assert_int_equal(calls(&f, "t1", MM_STAGE_BODY), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_BODY), 2);
	finish(&f);

	/* a chain whose only plugin has no body hook (hello) */
	start(&f, HEAD
	    "plugins:\n"
	    "  hello: { module: " BUILDDIR "/.libs/hello.so }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_SKIP);
	finish(&f);

	/* an MTA that cannot SKIP gets CONTINUE */
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { body: skip } } }\n");
	be.can_skip = 0;
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	session_body(f.s, chunk, sizeof(chunk) - 1, &o);
	expect_v(o, MM_CONTINUE);
	finish(&f);
	be.can_skip = 1;
}

/* ------------------------------------------------------------------ */
/* monitor mode                                                        */

static void
test_monitor(void **state)
{
	struct fx f;
	struct eom_out eom;
	const char *mon;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, mode: monitor,\n"
	    "        options: { verdicts: { envfrom: reject },\n"
	    "                   reply: { code: \"550\", xcode: \"5.7.1\", text: \"watched\" },\n"
	    "                   add_header: { name: X-A, value: b }, add_rcpt: extra@example.org,\n"
	    "                   quarantine: \"q\", change_from: new@example.org } }\n"
	    "  t2: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVFROM), 1);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	mon = added(&eom, "X-Modmilter-Monitor");
	assert_non_null(strstr(mon, "t1"));
	assert_non_null(strstr(mon, "reject at envfrom"));
	assert_non_null(strstr(mon, "550 5.7.1 watched"));
	/* its actions are not queued */
	assert_null(find_op(&eom, HDROP_ADD, "X-A"));
	assert_int_equal(eom.naddrcpt, 0);
	assert_null(eom.quarantine);
	assert_null(eom.chgfrom);
	assert_int_equal(eom.nhdrops, 1);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ABORT), 0);
	eom_out_free(&eom);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* on_error                                                            */

static void
test_on_error_tempfail(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, on_error: tempfail, options: { garbage_at: envfrom } }\n"
	    "  t2: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_TEMPFAIL, "451", "4.3.0", NULL);
	assert_int_equal(inst(&f, "t1")->stats->errors, 1);
	finish(&f);

	/* tempfail is the default */
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { helo: error } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_reply(do_helo(&f), MM_TEMPFAIL, "451", "4.3.0", NULL);
	finish(&f);
}

static void
test_on_error_continue(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, on_error: continue, options: { garbage_at: envfrom } }\n"
	    "  t2: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	/* left out of this message only */
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVRCPT), 0);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVRCPT), 1);
	session_abort(f.s);
	expect_v(do_from(&f, "<b@example.net>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 2);
	finish(&f);
}

static void
test_on_error_reject(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, on_error: reject, options: { verdicts: { envfrom: error } } }\n"
	    "  t2: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_REJECT, "550", "5.3.0", NULL);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* timeouts                                                            */

static void
test_timeout(void **state)
{
	struct fx f;
	struct stage_out o;
	double t0, t1;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 200ms,\n"
	    "        options: { sleep_at: envfrom, sleep: 2s, trace: X-T1 } }\n"
	    "  t2: { module: testplug, options: { trace: X-T2 } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	t0 = now();
	o = do_from(&f, "<a@example.net>");
	t1 = now();
	expect_reply(o, MM_TEMPFAIL, "451", "4.3.0", NULL);
	if (t1 - t0 >= 1.0 || t1 - t0 < 0.15)
		fail_msg("answered after %.3f s (timeout 0.2 s, hook sleeps 2 s)", t1 - t0);
	assert_int_equal(inst(&f, "t1")->stats->timeouts, 1);

	/* the next message: t1 is never called again on this connection;
	   its on_error verdict answers for it, at once */
	t0 = now();
	o = do_from(&f, "<b@example.net>");
	expect_reply(o, MM_TEMPFAIL, "451", "4.3.0", NULL);
	assert_true(now() - t0 < 0.19);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ENVFROM), 2);

	/* session_free() waits for the hook still sleeping */
	session_free(f.s);
	live.s = NULL;
	t1 = now();
	if (t1 - t0 < 1.5)
		fail_msg("session_free returned %.3f s after the hook started", t1 - t0);
	conf_unref(f.c);
	live.c = NULL;
}

/* on_error continue: after its timeout the plugin is left out of the
   connection's later messages, which go on without it */
static void
test_timeout_continue(void **state)
{
	struct fx f;
	struct stage_out o;
	struct eom_out eom;
	double t0;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 200ms, on_error: continue,\n"
	    "        options: { sleep_at: envfrom, sleep: 1s, trace: X-T1 } }\n"
	    "  t2: { module: testplug, options: { trace: X-T2 } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	o = do_from(&f, "<a@example.net>");
	expect_v(o, MM_CONTINUE);
	session_abort(f.s);
	t0 = now();
	expect_v(do_from(&f, "<b@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	assert_true(now() - t0 < 0.19);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_null(find_op(&eom, HDROP_ADD, "X-T1"));
	assert_non_null(find_op(&eom, HDROP_ADD, "X-T2"));
	eom_out_free(&eom);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "t1", MM_STAGE_EOM), 0);
	finish(&f);
}

/* Wait (up to 5 s) until no hook abandoned after its timeout runs. */
static void
wait_abandoned(struct fx *f)
{
	double t0 = now();
	int n;

	do {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		pthread_mutex_lock(&f->s->lock);
		n = f->s->outstanding;
		pthread_mutex_unlock(&f->s->lock);
		if (n > 0)
			nanosleep(&ts, NULL);
	} while (n > 0 && now() - t0 < 5);
	assert_int_equal(n, 0);
}

/* A hook that goes on after its timeout learns it was abandoned, and
   the header and the fact it queues then are dropped: the message went
   on without it (on_error continue) and stays as the others left it. */
static void
test_timeout_late_actions(void **state)
{
	struct fx f;
	struct eom_out eom;
	const struct fact *facts;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 200ms, on_error: continue,\n"
	    "        options: { sleep_at: eom, sleep: 600ms, trace: X-T1,\n"
	    "                   late_header: { name: X-Late, value: late },\n"
	    "                   late_fact: { key: t1.late, value: late } } }\n"
	    "  t2: { module: testplug, options: { trace: X-T2 } }\n");
	whole_message(&f, "192.0.2.1", &eom);
	assert_int_equal(inst(&f, "t1")->stats->timeouts, 1);
	assert_null(find_op(&eom, HDROP_ADD, "X-T1"));
	assert_non_null(find_op(&eom, HDROP_ADD, "X-T2"));
	eom_out_free(&eom);

	/* the hook is still asleep; once it has woken and tried */
	wait_abandoned(&f);
	assert_non_null(strstr(trace_of(&f, "t1"), "eom,abandoned"));
	/* the message ended while the hook slept: it is parked */
	assert_non_null(f.s->parked);
	assert_null(hdrlist_get(&f.s->parked->hdrs, "X-Late", 1));
	facts = f.s->parked->facts;
	for (size_t i = 0; i < f.s->parked->nfacts; i++)
		assert_string_not_equal(facts[i].key, "t1.late");
	finish(&f);
}

/* A hook that keeps within its time is not told it was abandoned. */
static void
test_not_abandoned_in_time(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 2s,\n"
	    "        options: { sleep_at: eom, sleep: 50ms, trace: X-T1,\n"
	    "                   late_header: { name: X-Late, value: in-time } } }\n");
	whole_message(&f, "192.0.2.1", &eom);
	assert_string_equal(added(&eom, "X-Late"), "in-time");
	assert_null(strstr(added(&eom, "X-T1"), "abandoned"));
	eom_out_free(&eom);
	finish(&f);
}

/* conn_open is bounded by the timeout too: on_error tempfail answers
   the connection at once, and the plugin is never called on it. */
static void
test_conn_open_timeout(void **state)
{
	struct fx f;
	double t0;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 200ms,\n"
	    "        options: { sleep_at: conn_open, sleep: 2s, trace: X-T1,\n"
	    "                   late_fact: { key: t1.late, value: late } } }\n"
	    "  t2: { module: testplug, options: { trace: X-T2 } }\n");
	t0 = now();
	expect_reply(do_connect(&f, "192.0.2.1"), MM_TEMPFAIL, "451", "4.3.0", NULL);
	if (now() - t0 >= 1.0)
		fail_msg("connect answered after %.3f s (timeout 0.2 s, conn_open sleeps 2 s)",
		    now() - t0);
	assert_int_equal(inst(&f, "t1")->stats->timeouts, 1);
	expect_reply(do_helo(&f), MM_TEMPFAIL, "451", "4.3.0", NULL);
	expect_reply(do_from(&f, "<a@example.net>"), MM_TEMPFAIL, "451", "4.3.0", NULL);
	assert_int_equal(calls(&f, "t1", MM_STAGE_CONNECT), 0);
	assert_int_equal(calls(&f, "t1", MM_STAGE_HELO), 0);
	wait_abandoned(&f);
	assert_non_null(strstr(trace_of(&f, "t1"), "conn_open,abandoned"));
	assert_int_equal(f.s->m->nfacts, 0);
	finish(&f);
}

/* ... and with on_error continue the connection goes on without it. */
static void
test_conn_open_timeout_continue(void **state)
{
	struct fx f;
	struct eom_out eom;
	double t0;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, timeout: 200ms, on_error: continue,\n"
	    "        options: { sleep_at: conn_open, sleep: 1s, trace: X-T1 } }\n"
	    "  t2: { module: testplug, options: { trace: X-T2 } }\n");
	t0 = now();
	whole_message(&f, "192.0.2.1", &eom);
	assert_true(now() - t0 < 0.9);
	assert_null(find_op(&eom, HDROP_ADD, "X-T1"));
	assert_string_equal(added(&eom, "X-T2"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
	eom_out_free(&eom);
	assert_int_equal(calls(&f, "t1", MM_STAGE_CONNECT), 0);
	assert_int_equal(calls(&f, "t1", MM_STAGE_EOM), 0);
	assert_int_equal(inst(&f, "t1")->stats->timeouts, 1);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* chains                                                              */

static const char chains_client[] = HEAD
    "networks: { internal: [10.0.0.0/8] }\n"
    "plugins:\n"
    "  out: { module: testplug, options: { trace: X-Out } }\n"
    "  in:  { module: testplug, options: { trace: X-In } }\n"
    "chains:\n"
    "  - { name: outbound, match: { client: internal }, plugins: [out] }\n"
    "  - { name: inbound, plugins: [in] }\n";

static void
test_chain_client(void **state)
{
	static const char *const ips[] = { "10.1.2.3", "::ffff:10.1.2.3", "192.0.2.7",
		"2001:db8::7" };
	static const int internal[] = { 1, 1, 0, 0 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct fx f;
		struct eom_out eom;

		start(&f, chains_client);
		whole_message(&f, ips[i], &eom);
		if (internal[i]) {
			assert_string_equal(added(&eom, "X-Out"),
			    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
			assert_null(find_op(&eom, HDROP_ADD, "X-In"));
			assert_int_equal(calls(&f, "in", MM_STAGE_CONNECT), 0);
		} else {
			assert_string_equal(added(&eom, "X-In"),
			    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
			assert_null(find_op(&eom, HDROP_ADD, "X-Out"));
			assert_int_equal(calls(&f, "out", MM_STAGE_CONNECT), 0);
		}
		eom_out_free(&eom);
		finish(&f);
	}
}

static const char chains_auth[] = HEAD
    "plugins:\n"
    "  sub: { module: testplug, options: { trace: X-Sub } }\n"
    "  mx:  { module: testplug, options: { trace: X-Mx } }\n"
    "chains:\n"
    "  - { name: submission, match: { auth: true }, plugins: [sub] }\n"
    "  - { name: mx, plugins: [mx] }\n";

static void
test_chain_auth(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, chains_auth);
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	/* undecided until MAIL: nobody called yet */
	assert_int_equal(calls(&f, "sub", MM_STAGE_CONNECT), 0);
	assert_int_equal(calls(&f, "mx", MM_STAGE_CONNECT), 0);
	mac.auth = "alice";
	expect_v(do_from(&f, "<alice@example.net>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "sub", MM_STAGE_CONNECT), 1);
	assert_int_equal(calls(&f, "sub", MM_STAGE_HELO), 1);
	assert_int_equal(calls(&f, "sub", MM_STAGE_ENVFROM), 1);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Sub"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
	assert_null(find_op(&eom, HDROP_ADD, "X-Mx"));
	eom_out_free(&eom);

	/* the next message on the connection is not authenticated */
	mac.auth = NULL;
	expect_v(do_from(&f, "<bob@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Mx"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
	assert_null(find_op(&eom, HDROP_ADD, "X-Sub"));
	assert_int_equal(calls(&f, "sub", MM_STAGE_ENVFROM), 1);
	eom_out_free(&eom);
	finish(&f);
}

static const char chains_rcpt[] = HEAD
    "plugins:\n"
    "  org:  { module: testplug, options: { trace: X-Org } }\n"
    "  rest: { module: testplug, options: { trace: X-Rest } }\n"
    "chains:\n"
    "  - { name: org, match: { rcpt_domain: [example.org] }, plugins: [org] }\n"
    "  - { name: rest, plugins: [rest] }\n";

static void
test_chain_rcpt_domain(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, chains_rcpt);
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "org", MM_STAGE_ENVFROM), 0);
	assert_int_equal(calls(&f, "rest", MM_STAGE_ENVFROM), 0);
	/* the first recipient chooses; the plugin is replayed what it missed */
	expect_v(do_rcpt(&f, "<x@example.org>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "org", MM_STAGE_CONNECT), 1);
	assert_int_equal(calls(&f, "org", MM_STAGE_HELO), 1);
	assert_int_equal(calls(&f, "org", MM_STAGE_ENVFROM), 1);
	assert_int_equal(calls(&f, "org", MM_STAGE_ENVRCPT), 1);
	expect_v(do_rcpt(&f, "<Y@EXAMPLE.ORG>"), MM_CONTINUE);
	/* a recipient of another chain: send it separately */
	expect_reply(do_rcpt(&f, "<z@other.net>"), MM_TEMPFAIL, "452", "4.5.3", NULL);
	assert_int_equal(f.s->m->nrcpts, 2);
	assert_int_equal(calls(&f, "org", MM_STAGE_ENVRCPT), 2);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Org"),
	    "connect,helo,envfrom,envrcpt,envrcpt,data,header,eoh,body,eom");
	assert_null(find_op(&eom, HDROP_ADD, "X-Rest"));
	assert_int_equal(calls(&f, "rest", MM_STAGE_CONNECT), 0);
	eom_out_free(&eom);

	/* the next message goes elsewhere first: the other chain */
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<z@other.net>"), MM_CONTINUE);
	expect_reply(do_rcpt(&f, "<x@example.org>"), MM_TEMPFAIL, "452", "4.5.3", NULL);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Rest"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
	assert_null(find_op(&eom, HDROP_ADD, "X-Org"));
	eom_out_free(&eom);
	finish(&f);
}

/*
 * The recipient's domain is compared normalised: a trailing dot, a
 * source route, a quoted local part or upper case do not move a
 * recipient to another chain, neither the first (which chooses) nor a
 * later one (which would get 452); configured domains are normalised
 * the same way.
 */
static void
test_chain_rcpt_domain_forms(void **state)
{
	static const char *const forms[] = {
		"<x@example.org.>", "<@relay.example:x@example.org>",
		"<@a.example,@b.example:x@example.org>", "<\"x\"@example.org>",
		"<X@EXAMPLE.ORG>", "<\"x\"@Example.Org.>", NULL
	};
	static const char *const confs[] = { chains_rcpt, HEAD
	    "plugins:\n"
	    "  org:  { module: testplug, options: { trace: X-Org } }\n"
	    "  rest: { module: testplug, options: { trace: X-Rest } }\n"
	    "chains:\n"
	    "  - { name: org, match: { rcpt_domain: [Example.ORG.] }, plugins: [org] }\n"
	    "  - { name: rest, plugins: [rest] }\n", NULL };
	struct fx f;

	(void)state;
	for (size_t c = 0; confs[c]; c++)
		for (size_t i = 0; forms[i]; i++) {
			start(&f, confs[c]);
			expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
			expect_v(do_helo(&f), MM_CONTINUE);
			expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
			expect_v(do_rcpt(&f, forms[i]), MM_CONTINUE);
			if (f.s->ch == NULL || strcmp(f.s->ch->name, "org") != 0)
				fail_msg("conf %zu: %s chose chain %s", c, forms[i],
				    f.s->ch ? f.s->ch->name : "(none)");
			/* the plain form and the other forms belong with it */
			expect_v(do_rcpt(&f, "<y@example.org>"), MM_CONTINUE);
			for (size_t k = 0; forms[k]; k++)
				expect_v(do_rcpt(&f, forms[k]), MM_CONTINUE);
			assert_int_equal(calls(&f, "rest", MM_STAGE_ENVRCPT), 0);

			/* chosen by a plain recipient, the form is no stranger */
			expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
			expect_v(do_rcpt(&f, "<y@example.org>"), MM_CONTINUE);
			expect_v(do_rcpt(&f, forms[i]), MM_CONTINUE);
			/* while another domain still is */
			expect_reply(do_rcpt(&f, "<x@example.org.evil>"), MM_TEMPFAIL,
			    "452", "4.5.3", NULL);
			finish(&f);
		}
}

/*
 * A plugin that joins late (chain chosen by SMTP AUTH at MAIL) and
 * rejects the replayed connect has judged the connection: every
 * message of it is refused, not just the first.
 */
static void
test_late_connect_reject_holds(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  block: { module: testplug, options: { verdicts: { connect: reject },\n"
	    "           reply: { code: \"554\", xcode: \"5.7.1\", text: \"listed\" } } }\n"
	    "chains:\n"
	    "  - { name: auth, match: { auth: false }, plugins: [block] }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_reply(do_from(&f, "<a@example.net>"), MM_REJECT, "554", "5.7.1", "listed");
	session_abort(f.s);
	expect_reply(do_from(&f, "<b@example.net>"), MM_REJECT, "554", "5.7.1", "listed");
	assert_int_equal(calls(&f, "block", MM_STAGE_CONNECT), 1);
	finish(&f);
}

/* DISCARD is a message action: at connect it waits for MAIL, and then
   holds for every message of the connection */
static void
test_discard_at_connect(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  d: { module: testplug, options: { verdicts: { connect: discard } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_DISCARD);
	session_abort(f.s);
	expect_v(do_from(&f, "<b@example.net>"), MM_DISCARD);
	finish(&f);
}

/* With chains chosen by recipient domain, the core never answers ACCEPT
   before DATA: the MTA would stop showing us the next recipients */
static void
test_no_accept_before_all_rcpts(void **state)
{
	struct fx f;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  ok: { module: testplug, options: { verdicts: { envfrom: accept } } }\n"
	    "chains:\n"
	    "  - { name: org, match: { rcpt_domain: [example.org] }, plugins: [ok] }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	/* the replayed MAIL FROM accepts; still CONTINUE at RCPT */
	expect_v(do_rcpt(&f, "<x@example.org>"), MM_CONTINUE);
	expect_reply(do_rcpt(&f, "<y@other.net>"), MM_TEMPFAIL, "452", "4.5.3", NULL);
	session_abort(f.s);
	/* first recipient matches no chain: one that matches must wait */
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<y@other.net>"), MM_CONTINUE);
	expect_reply(do_rcpt(&f, "<x@example.org>"), MM_TEMPFAIL, "452", "4.5.3", NULL);
	finish(&f);
}

/* A message whose body spilled to a file: the body read at EOM is all
   of it, however often it is read */
static void
test_spilled_body(void **state)
{
	struct fx f;
	struct stage_out o;
	struct eom_out eom;
	unsigned char chunk[4096];
	const unsigned char *b;
	size_t len;

	(void)state;
	start(&f, HEAD
	    "message_memory_limit: 4096\n"
	    "tmpdir: /tmp\n"
	    "plugins:\n"
	    "  m: { module: msgplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	memset(chunk, 'x', sizeof(chunk));
	session_body(f.s, chunk, sizeof(chunk), &o);
	stage_out_free(&o);
	assert_int_equal(session_body_get(f.s, &b, &len), 0);
	assert_int_equal(len, sizeof(chunk));
	for (int i = 0; i < 3; i++) {
		session_body(f.s, chunk, sizeof(chunk), &o);
		stage_out_free(&o);
	}
	assert_int_equal(session_body_get(f.s, &b, &len), 0);
	assert_int_equal(len, 4 * sizeof(chunk));
	assert_true(f.s->m->body.fd >= 0);
	for (size_t i = 0; i < len; i++)
		if (b[i] != 'x')
			fail_msg("byte %zu of the spilled body is wrong", i);
	session_eom(f.s, &o, &eom);
	stage_out_free(&o);
	eom_out_free(&eom);
	finish(&f);
}

/* The message's parts: parsed once and shared; an edit of a Content-*
   field makes the next request parse again, another edit does not */
static void
test_message_parts(void **state)
{
	static const char body[] = "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
	struct fx f;
	struct stage_out o;
	struct eom_out eom;
	struct mm_ctx *c;
	mm_parts *p, *q;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  m: { module: msgplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	session_data(f.s, &o);
	stage_out_free(&o);
	session_header(f.s, "Content-Type", "multipart/mixed; boundary=b", &o);
	stage_out_free(&o);
	session_eoh(f.s, &o);
	stage_out_free(&o);
	session_body(f.s, (const unsigned char *)body, strlen(body), &o);
	stage_out_free(&o);
	c = &f.s->ctx[0];
	c->msg = f.s->m;		/* as during the plugin's hook */
	c->inst->actions |= MM_ACT_CHGHDRS;	/* msgplug only adds */
	p = core_api.parts(c);
	assert_non_null(p);
	assert_ptr_equal(core_api.parts(c), p);		/* parsed once */
	assert_int_equal(core_api.parts_count(p), 2);
	assert_int_equal(core_api.add_header(c, "X-Other", "1"), 0);
	assert_ptr_equal(core_api.parts(c), p);
	assert_int_equal(core_api.change_header(c, "Content-Type", 1, "text/plain"), 0);
	q = core_api.parts(c);
	assert_true(q != p);
	assert_int_equal(core_api.parts_count(q), 1);
	assert_int_equal(core_api.parts_count(p), 2);	/* still readable */
	c->msg = NULL;
	session_eom(f.s, &o, &eom);
	stage_out_free(&o);
	eom_out_free(&eom);
	finish(&f);
}

/*
 * A plugin that joined for an earlier message of the connection and is
 * chosen again at the first RCPT of the next one must still see that
 * message's MAIL FROM: "every plugin sees a whole session".
 */
static void
test_chain_rcpt_second_message(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, chains_rcpt);
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<x@example.org>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Org"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom");
	eom_out_free(&eom);

	expect_v(do_from(&f, "<b@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<x@example.org>"), MM_CONTINUE);
	assert_int_equal(calls(&f, "org", MM_STAGE_ENVFROM), 2);
	expect_v(data_to_eom(&f, std_headers, &eom), MM_CONTINUE);
	assert_string_equal(added(&eom, "X-Org"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom,"
	    "envfrom,envrcpt,data,header,eoh,body,eom");
	eom_out_free(&eom);
	finish(&f);
}

/* What a late plugin says about an earlier event holds for the message. */
static void
test_chain_replay_verdict(void **state)
{
	struct fx f;
	struct stage_out o;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  org: { module: testplug, options: { verdicts: { envfrom: reject },\n"
	    "         reply: { code: \"550\", xcode: \"5.7.1\", text: \"bad sender\" } } }\n"
	    "chains:\n"
	    "  - { name: org, match: { rcpt_domain: [example.org] }, plugins: [org] }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_reply(do_rcpt(&f, "<x@example.org>"), MM_REJECT, "550", "5.7.1", "bad sender");
	expect_reply(do_rcpt(&f, "<y@example.org>"), MM_REJECT, "550", "5.7.1", "bad sender");
	assert_int_equal(f.s->m->nrcpts, 0);
	session_data(f.s, &o);
	expect_reply(o, MM_REJECT, "550", "5.7.1", "bad sender");
	session_abort(f.s);
	finish(&f);
}

static void
test_chain_none_matches(void **state)
{
	struct fx f;
	struct eom_out eom;
	struct stage_out o;

	(void)state;
	start(&f, HEAD
	    "networks: { internal: [10.0.0.0/8] }\n"
	    "plugins:\n"
	    "  out: { module: testplug, options: { trace: X-Out, add_header: { name: X-A, value: b } } }\n"
	    "chains:\n"
	    "  - { name: outbound, match: { client: internal }, plugins: [out] }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	assert_int_equal(f.s->chain, -2);
	/* no plugin has anything to say about the message (rule 3) */
	expect_v(do_from(&f, "<a@example.net>"), MM_ACCEPT);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_ACCEPT);
	session_eom(f.s, &o, &eom);
	expect_v(o, MM_CONTINUE);
	assert_int_equal(eom.nhdrops, 0);
	assert_int_equal(eom.naddrcpt, 0);
	assert_null(eom.body);
	eom_out_free(&eom);
	for (int st = 0; st < MM_STAGE_COUNT; st++)
		assert_int_equal(calls(&f, "out", (mm_stage)st), 0);
	assert_false(f.s->ctx[0].joined);
	finish(&f);
}

static void
test_chain_daemon(void **state)
{
	struct fx f;
	struct eom_out eom;
	static const char yaml[] = HEAD
	    "plugins:\n"
	    "  sub: { module: testplug, options: { trace: X-Sub } }\n"
	    "  mx:  { module: testplug, options: { trace: X-Mx } }\n"
	    "chains:\n"
	    "  - { name: submission, match: { daemon: [MSA] }, plugins: [sub] }\n"
	    "  - { name: mx, plugins: [mx] }\n";

	(void)state;
	start(&f, yaml);
	mac.daemon = "MSA";
	whole_message(&f, "192.0.2.1", &eom);
	assert_non_null(find_op(&eom, HDROP_ADD, "X-Sub"));
	assert_null(find_op(&eom, HDROP_ADD, "X-Mx"));
	eom_out_free(&eom);
	finish(&f);

	start(&f, yaml);
	mac.daemon = "MTA-v4";
	whole_message(&f, "192.0.2.1", &eom);
	assert_null(find_op(&eom, HDROP_ADD, "X-Sub"));
	assert_non_null(find_op(&eom, HDROP_ADD, "X-Mx"));
	eom_out_free(&eom);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* facts                                                               */

static void
test_facts(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { set_fact: { key: spf.result, value: softfail } } }\n"
	    "  t2: { module: testplug, options: { show_fact: spf.result } }\n"
	    "  t3: { module: testplug, options: { show_fact: nobody.set.this } }\n");
	whole_message(&f, "192.0.2.1", &eom);
	assert_string_equal(added(&eom, "X-Fact-spf.result"), "softfail");
	assert_string_equal(added(&eom, "X-Fact-nobody.set.this"), "(unset)");
	eom_out_free(&eom);
	assert_int_equal(f.s->m->nfacts, 0);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* actions at end of message                                           */

static void
test_actions(void **state)
{
	struct fx f;
	struct eom_out eom;
	static const char *const hdrs[] = {
		"From", "<sender@example.net>",
		"Subject", "hello",
		"To", "<rcpt1@example.com>",
		NULL
	};

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: {\n"
	    "        add_header: { name: X-A, value: b },\n"
	    "        insert_header: { name: X-I, value: c },\n"
	    "        delete_header: Subject,\n"
	    "        add_rcpt: new@x.example, del_rcpt: old@y.example,\n"
	    "        change_from: \"<c@z.example>\",\n"
	    "        replace_body: \"first body\", quarantine: looks bad } }\n"
	    "  t2: { module: testplug, options: {\n"
	    "        add_rcpt: \"<NEW@x.example>\", quarantine: me too,\n"
	    "        replace_body: \"second body\" } }\n"
	    "  t3: { module: testplug, options: { add_rcpt: rcpt1@example.com } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<sender@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<rcpt1@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, hdrs, &eom), MM_CONTINUE);

	assert_string_equal(eom.chgfrom, "c@z.example");
	assert_null(eom.chgfrom_args);
	assert_int_equal(eom.ndelrcpt, 1);
	assert_string_equal(eom.delrcpt[0], "old@y.example");
	/* deduplicated, and an existing recipient is not added again */
	assert_int_equal(eom.naddrcpt, 1);
	assert_string_equal(eom.addrcpt[0], "new@x.example");
	/* changes and deletes, then inserts, then adds */
	assert_int_equal(eom.nhdrops, 3);
	assert_int_equal(eom.hdrops[0].kind, HDROP_DELETE);
	assert_string_equal(eom.hdrops[0].name, "Subject");
	assert_int_equal(eom.hdrops[0].index, 1);
	assert_int_equal(eom.hdrops[1].kind, HDROP_INSERT);
	assert_string_equal(eom.hdrops[1].name, "X-I");
	assert_string_equal(eom.hdrops[1].value, "c");
	assert_int_equal(eom.hdrops[1].index, 0);
	assert_int_equal(eom.hdrops[2].kind, HDROP_ADD);
	assert_string_equal(eom.hdrops[2].name, "X-A");
	assert_string_equal(eom.hdrops[2].value, "b");
	/* the later replacement wins */
	assert_non_null(eom.body);
	assert_int_equal(eom.bodylen, strlen("second body"));
	assert_memory_equal(eom.body, "second body", eom.bodylen);
	assert_string_equal(eom.quarantine, "t1: looks bad; t2: me too");
	eom_out_free(&eom);
	finish(&f);
}

static void
test_reject_at_eom_drops_actions(void **state)
{
	struct fx f;
	struct eom_out eom;

	(void)state;
	start(&f, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { trace: X-T,\n"
	    "        add_header: { name: X-A, value: b }, add_rcpt: new@x.example,\n"
	    "        quarantine: q, replace_body: nb, change_from: c@z.example } }\n"
	    "  t2: { module: testplug, options: { verdicts: { eom: reject },\n"
	    "        reply: { code: \"554\", xcode: \"5.7.1\", text: \"spam\" } } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<a@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_reply(data_to_eom(&f, std_headers, &eom), MM_REJECT, "554", "5.7.1", "spam");
	assert_int_equal(eom.nhdrops, 0);
	assert_int_equal(eom.naddrcpt, 0);
	assert_null(eom.quarantine);
	assert_null(eom.body);
	assert_null(eom.chgfrom);
	eom_out_free(&eom);
	assert_int_equal(calls(&f, "t1", MM_STAGE_ABORT), 1);
	assert_int_equal(calls(&f, "t2", MM_STAGE_ABORT), 1);
	assert_string_equal(trace_of(&f, "t1"),
	    "connect,helo,envfrom,envrcpt,data,header,eoh,body,eom,abort");
	/* nothing carries over into the next message */
	assert_null(f.s->m->chgfrom);
	assert_int_equal(f.s->m->naddrcpt, 0);
	assert_int_equal(f.s->m->actions_queued, 0);
	finish(&f);
}

/* ------------------------------------------------------------------ */
/* Authentication-Results                                              */

static void
test_authres(void **state)
{
	struct fx f;
	struct eom_out eom;
	const struct hdrop *ins;
	size_t ninsert = 0;
	static const char *const hdrs[] = {
		"Authentication-Results", "other.example; spf=fail",
		"Authentication-Results", " mx.test; spf=pass",
		"From", "<sender@example.net>",
		"Authentication-Results", "mx.testing; dkim=pass",
		"Authentication-Results", "MX.TEST; dkim=pass",
		"Subject", "hi",
		NULL
	};

	(void)state;
	start(&f, HEAD
	    "authserv_id: mx.test\n"
	    "plugins:\n"
	    "  t1: { module: testplug, options: { auth_result: \"test=pass\" } }\n"
	    "  t2: { module: testplug, options: { auth_result: \"spf=softfail smtp.mailfrom=x\" } }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<sender@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, hdrs, &eom), MM_CONTINUE);

	for (size_t i = 0; i < eom.nhdrops; i++)
		if (eom.hdrops[i].kind == HDROP_INSERT || eom.hdrops[i].kind == HDROP_ADD)
			ninsert++;
	assert_int_equal(ninsert, 1);
	ins = find_op(&eom, HDROP_INSERT, "Authentication-Results");
	assert_non_null(ins);
	assert_int_equal(ins->index, 0);
	assert_int_equal(strncmp(ins->value, "mx.test;", 8), 0);
	assert_non_null(strstr(ins->value, "test=pass"));
	assert_non_null(strstr(ins->value, "spf=softfail smtp.mailfrom=x"));
	/* the two claiming our id are deleted, last first; the others kept */
	assert_int_equal(eom.nhdrops, 3);
	assert_int_equal(eom.hdrops[0].kind, HDROP_DELETE);
	assert_string_equal(eom.hdrops[0].name, "Authentication-Results");
	assert_int_equal(eom.hdrops[0].index, 4);
	assert_int_equal(eom.hdrops[1].kind, HDROP_DELETE);
	assert_int_equal(eom.hdrops[1].index, 2);
	assert_int_equal(count_ops(&eom, "Authentication-Results"), 3);
	eom_out_free(&eom);
	finish(&f);

	/* no contribution: forged ones still go, nothing is added */
	start(&f, HEAD
	    "authserv_id: mx.test\n"
	    "plugins:\n"
	    "  t1: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<sender@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, hdrs, &eom), MM_CONTINUE);
	assert_int_equal(eom.nhdrops, 2);
	assert_int_equal(eom.hdrops[0].kind, HDROP_DELETE);
	assert_int_equal(eom.hdrops[0].index, 4);
	assert_int_equal(eom.hdrops[1].kind, HDROP_DELETE);
	assert_int_equal(eom.hdrops[1].index, 2);
	eom_out_free(&eom);
	finish(&f);
}

/*
 * Forged headers claiming our id in the forms a byte comparison missed
 * (a comment before the id, quotes, case, a trailing dot), at any
 * position, all removed; ids that only resemble ours kept.
 */
static void
test_authres_forged_forms(void **state)
{
	struct fx f;
	struct eom_out eom;
	static const char *const hdrs[] = {
		"Authentication-Results", "(x) mx.test; spf=pass",
		"From", "<sender@example.net>",
		"Authentication-Results", "\"mx.test\"; spf=pass",
		"Authentication-Results", "mx.test.evil; spf=pass",
		"Subject", "hi",
		"Authentication-Results", "MX.Test.; dkim=pass",
		"Authentication-Results", "xmx.test; spf=pass",
		"Authentication-Results", "(a (b) \\) c)\r\n\t\"MX.TEST.\" 1; dmarc=pass",
		NULL
	};
	static const size_t gone[] = { 6, 4, 2, 1 };

	(void)state;
	start(&f, HEAD
	    "authserv_id: mx.test\n"
	    "plugins:\n"
	    "  t1: { module: testplug }\n");
	expect_v(do_connect(&f, "192.0.2.1"), MM_CONTINUE);
	expect_v(do_helo(&f), MM_CONTINUE);
	expect_v(do_from(&f, "<sender@example.net>"), MM_CONTINUE);
	expect_v(do_rcpt(&f, "<r@example.com>"), MM_CONTINUE);
	expect_v(data_to_eom(&f, hdrs, &eom), MM_CONTINUE);
	assert_int_equal(eom.nhdrops, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(eom.hdrops[i].kind, HDROP_DELETE);
		assert_string_equal(eom.hdrops[i].name, "Authentication-Results");
		assert_int_equal(eom.hdrops[i].index, gone[i]);
	}
	eom_out_free(&eom);
	finish(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tempfail_then_reject, cleanup),
		cmocka_unit_test_teardown(test_two_rejects_first_reply, cleanup),
		cmocka_unit_test_teardown(test_discard_stops_later_plugins, cleanup),
		cmocka_unit_test_teardown(test_reject_one_recipient, cleanup),
		cmocka_unit_test_teardown(test_accept_all, cleanup),
		cmocka_unit_test_teardown(test_accept_one_still_working, cleanup),
		cmocka_unit_test_teardown(test_accept_but_queued, cleanup),
		cmocka_unit_test_teardown(test_skip_body, cleanup),
		cmocka_unit_test_teardown(test_monitor, cleanup),
		cmocka_unit_test_teardown(test_on_error_tempfail, cleanup),
		cmocka_unit_test_teardown(test_on_error_continue, cleanup),
		cmocka_unit_test_teardown(test_on_error_reject, cleanup),
		cmocka_unit_test_teardown(test_timeout, cleanup),
		cmocka_unit_test_teardown(test_timeout_continue, cleanup),
		cmocka_unit_test_teardown(test_timeout_late_actions, cleanup),
		cmocka_unit_test_teardown(test_not_abandoned_in_time, cleanup),
		cmocka_unit_test_teardown(test_conn_open_timeout, cleanup),
		cmocka_unit_test_teardown(test_conn_open_timeout_continue, cleanup),
		cmocka_unit_test_teardown(test_late_connect_reject_holds, cleanup),
		cmocka_unit_test_teardown(test_discard_at_connect, cleanup),
		cmocka_unit_test_teardown(test_no_accept_before_all_rcpts, cleanup),
		cmocka_unit_test_teardown(test_spilled_body, cleanup),
		cmocka_unit_test_teardown(test_message_parts, cleanup),
		cmocka_unit_test_teardown(test_chain_client, cleanup),
		cmocka_unit_test_teardown(test_chain_auth, cleanup),
		cmocka_unit_test_teardown(test_chain_rcpt_domain, cleanup),
		cmocka_unit_test_teardown(test_chain_rcpt_domain_forms, cleanup),
		cmocka_unit_test_teardown(test_chain_rcpt_second_message, cleanup),
		cmocka_unit_test_teardown(test_chain_replay_verdict, cleanup),
		cmocka_unit_test_teardown(test_chain_none_matches, cleanup),
		cmocka_unit_test_teardown(test_chain_daemon, cleanup),
		cmocka_unit_test_teardown(test_facts, cleanup),
		cmocka_unit_test_teardown(test_actions, cleanup),
		cmocka_unit_test_teardown(test_reject_at_eom_drops_actions, cleanup),
		cmocka_unit_test_teardown(test_authres, cleanup),
		cmocka_unit_test_teardown(test_authres_forged_forms, cleanup),
	};

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_session");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
