#include "config.h"
/*
 * NAME
 *	test_abandon - wiretap's archive when the core gives up on its end of message
 * DESCRIPTION
 *	Loads the built wiretap plugin into the session engine (as
 *	modmilterd does) and sends a message to a watched recipient with a
 *	64 MB body of short lines: writing its archived copy takes several
 *	times the instance's 100 ms timeout (which leaves the hook time to
 *	read the body first), so the core abandons the end-of-message hook,
 *	answers with on_error (tempfail) and goes on. The hook still
 *	finishes its copy in tmp/ afterwards; the copy must then be
 *	withdrawn, never moved into new/: the message was not accepted with
 *	wiretap's part in it. DATA is not sent (the MTA may leave it out),
 *	so end of message is the only hook that can time out. The same
 *	message with a generous timeout is archived, so the first case
 *	proves something.
 *
 *	The message's fate as msg_end tells it: a copy is committed into
 *	new/ only when the message was accepted; when a plugin later in
 *	the chain rejects it at end of message, or the MTA refuses the
 *	modifications (the backend's apply fails: the core tempfails), the
 *	copy is withdrawn from tmp/ and nothing is archived.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "session.h"

static const char *
be_macro(void *bctx, const char *name)
{
	(void)bctx;
	return strcmp(name, "i") == 0 ? "4ABANDON1" : NULL;
}

static int apply_fails;

static int
be_apply(void *bctx, const struct eom_out *e)
{
	(void)bctx;
	(void)e;
	return apply_fails ? -1 : 0;
}

static struct backend be = { be_macro, NULL, 1, NULL, be_apply };

static char root[64];

/* Files in root/alice@corp.example/sub (0 when the directory is missing). */
static int
files_in(const char *sub)
{
	char path[256];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/alice@corp.example/%s", root, sub);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
rm_rf(const char *path)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fail_msg("cannot remove %s", path);
}

/* One message to the watched recipient, with a body of nchunks 64 KB
   chunks and more plugins after wiretap; returns the EOM verdict. */
static mm_verdict
one_message(const char *timeout, unsigned long long *timeouts, int nchunks,
    const char *more)
{
	char yaml[2048], path[] = "/tmp/mmabandon-XXXXXX";
	struct sockaddr_in sin;
	struct stage_out o;
	struct eom_out eom;
	struct session *s;
	struct conf *c;
	char *from[] = { (char *)"<bob@elsewhere.example>", NULL };
	char *rcpt[] = { (char *)"<alice@corp.example>", NULL };
	static unsigned char chunk[65535];
	int fd = mkstemp(path);
	mm_verdict v;

	assert_true(fd >= 0);
	snprintf(yaml, sizeof(yaml),
	    "plugin_dir: %s/.libs\n"
	    "store: %s/store\n"
	    "tmpdir: %s\n"
	    "plugins:\n"
	    "  audit: { module: wiretap, timeout: %s, options: { groups: [\n"
	    "      { name: hold, watch: [alice@corp.example], archive: %s } ] } }\n"
	    "%s",
	    BUILDDIR, root, root, timeout, root, more);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	c = conf_load(path, stderr);
	unlink(path);
	assert_non_null(c);
	s = session_new(c, &be, NULL);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	session_connect(s, "client.example", (struct sockaddr *)&sin, &o);
	assert_int_equal(o.verdict, MM_CONTINUE);
	session_helo(s, "client.example", &o);
	session_envfrom(s, from, &o);
	assert_int_equal(o.verdict, MM_CONTINUE);
	session_envrcpt(s, rcpt, &o);
	assert_int_equal(o.verdict, MM_CONTINUE);
	session_header(s, "Subject", "held", &o);
	session_eoh(s, &o);
	/* short lines: each costs the writer a line end to convert */
	for (size_t i = 0; i + 3 <= sizeof(chunk); i += 3)
		memcpy(chunk + i, "x\r\n", 3);
	for (int i = 0; i < nchunks; i++) {
		session_body(s, chunk, sizeof(chunk), &o);
		stage_out_free(&o);
	}
	session_eom(s, &o, &eom);
	v = o.verdict;
	stage_out_free(&o);
	eom_out_free(&eom);
	*timeouts = conf_instance(c, "audit")->stats->timeouts;
	/* waits for the abandoned hook, then runs its message destructor */
	session_free(s);
	conf_unref(c);
	return v;
}

static void
test_abandoned_eom_not_archived(void **state)
{
	unsigned long long timeouts;

	(void)state;
	assert_int_equal(one_message("100ms", &timeouts, 1024, ""), MM_TEMPFAIL);
	assert_int_equal(timeouts, 1);
	assert_int_equal(files_in("new"), 0);
	assert_int_equal(files_in("tmp"), 0);
}

static void
test_eom_in_time_archived(void **state)
{
	unsigned long long timeouts;

	(void)state;
	assert_int_equal(one_message("60s", &timeouts, 1024, ""), MM_CONTINUE);
	assert_int_equal(timeouts, 0);
	assert_int_equal(files_in("new"), 1);
	assert_int_equal(files_in("tmp"), 0);
}

#define LATER(opts) "  later: { module: " BUILDDIR "/tests/plugins/.libs/testplug.so, " \
	"options: { " opts " } }\n"

/* Accepted with another plugin after wiretap: archived. */
static void
test_accepted_archived(void **state)
{
	unsigned long long timeouts;

	(void)state;
	assert_int_equal(one_message("60s", &timeouts, 1, LATER("")), MM_CONTINUE);
	assert_int_equal(files_in("new"), 1);
	assert_int_equal(files_in("tmp"), 0);
}

/* Rejected at end of message by a plugin after wiretap: not archived. */
static void
test_rejected_later_not_archived(void **state)
{
	unsigned long long timeouts;

	(void)state;
	assert_int_equal(one_message("60s", &timeouts, 1,
	    LATER("verdicts: { eom: reject }")), MM_REJECT);
	assert_int_equal(files_in("new"), 0);
	assert_int_equal(files_in("tmp"), 0);
}

/* The MTA refused the modifications: tempfailed, not archived. */
static void
test_mta_refused_not_archived(void **state)
{
	unsigned long long timeouts;

	(void)state;
	apply_fails = 1;
	assert_int_equal(one_message("60s", &timeouts, 1, ""), MM_TEMPFAIL);
	apply_fails = 0;
	assert_int_equal(files_in("new"), 0);
	assert_int_equal(files_in("tmp"), 0);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/mmabandon-root-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	rm_rf(root);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_abandoned_eom_not_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eom_in_time_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_later_not_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mta_refused_not_archived, setup, teardown),
	};

	log_open(LOG_DEST_STDERR, MM_LOG_WARNING, "test_abandon");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
