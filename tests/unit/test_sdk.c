#include "config.h"
/*
 * NAME
 *	test_sdk - the SDK version rule, as the loader and the API apply it
 * DESCRIPTION
 *	The descriptor says which minor a plugin needs (MM_SDK_NEED):
 *	- sdkold (tests/plugins/sdkold.c), built with today's headers but
 *	  declaring 1.0, loads in a core that speaks 1.0
 *	  (loader_pretend_sdk_minor) and gets the 1.0 table, shorter, in
 *	  which MM_API_HAS says set_result is missing: it takes its
 *	  fallback; in today's core it uses set_result;
 *	- testplug (needs today's minor) is refused by a 1.0 core, and
 *	  sdkfuture (needs the next minor) by today's core, each with an
 *	  error naming the file, the version needed and the one spoken;
 *	- sdkshort's descriptor ends before msg_end (older headers): the
 *	  core never reads past its size, so never calls what lies there;
 *	- received_header_at shows the headers as received while
 *	  header_at shows them with an earlier plugin's changes (msgplug).
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
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "loader.h"
#include "log.h"
#include "session.h"

#define HEAD	"plugin_dir: " BUILDDIR "/tests/plugins/.libs\n" \
		"store: /tmp/modmilter-unit-store\n"

static struct backend be = { NULL, NULL, 1, NULL, NULL };
static struct conf *c;
static char *errs;

/* Load a configuration; NULL with errs set when refused. */
static struct conf *
load(const char *plugins)
{
	char path[] = "/tmp/mmsdk-XXXXXX", *yaml = xasprintf(HEAD "plugins:\n%s", plugins);
	int fd = mkstemp(path);
	size_t len;
	FILE *fp;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	free(yaml);
	free(errs);
	fp = open_memstream(&errs, &len);
	c = conf_load(path, fp);
	fclose(fp);
	unlink(path);
	return c;
}

static int
cleanup(void **state)
{
	(void)state;
	if (c)
		conf_unref(c);
	c = NULL;
	free(errs);
	errs = NULL;
	loader_pretend_sdk_minor(MM_SDK_MINOR);
	return 0;
}

/* A whole message; the value of the header name added at EOM (static). */
static const char *
run(const char *name)
{
	static char val[128];
	struct session *s = session_new(c, &be, NULL);
	struct stage_out o;
	struct eom_out e;
	struct sockaddr_in sin;
	char *from[] = { (char *)"<a@example.net>", NULL };
	char *rcpt[] = { (char *)"<u@example.com>", NULL };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	session_connect(s, "client.example.net", (struct sockaddr *)&sin, &o);
	stage_out_free(&o);
	session_envfrom(s, from, &o);
	stage_out_free(&o);
	session_envrcpt(s, rcpt, &o);
	stage_out_free(&o);
	session_header(s, "From", "<a@example.net>", &o);
	stage_out_free(&o);
	session_header(s, "To", "<u@example.com>", &o);
	stage_out_free(&o);
	session_header(s, "Subject", "hi", &o);
	stage_out_free(&o);
	session_eoh(s, &o);
	stage_out_free(&o);
	session_eom(s, &o, &e);
	assert_int_equal(o.verdict, MM_CONTINUE);
	stage_out_free(&o);
	*val = 0;
	for (size_t i = 0; i < e.nhdrops; i++)
		if (strcmp(e.hdrops[i].name, name) == 0)
			snprintf(val, sizeof(val), "%s", e.hdrops[i].value);
	eom_out_free(&e);
	session_free(s);
	return val;
}

static void
test_needs_1_0_loads_in_1_0_core(void **state)
{
	(void)state;
	assert_int_equal(loader_pretend_sdk_minor(0), 0);
	if (load("  old: { module: sdkold }\n") == NULL)
		fail_msg("refused:\n%s", errs);
	assert_string_equal(run("X-Sdk"), "1.0 short");
	assert_string_equal(run("X-Path"), "fallback");
}

static void
test_needs_1_0_in_today_core(void **state)
{
	char want[32];

	(void)state;
	if (load("  old: { module: sdkold }\n") == NULL)
		fail_msg("refused:\n%s", errs);
	snprintf(want, sizeof(want), "1.%d full", MM_SDK_MINOR);
	assert_string_equal(run("X-Sdk"), want);
	assert_string_equal(run("X-Path"), "set_result");
}

static void
test_today_refused_by_1_0_core(void **state)
{
	char want[64];

	(void)state;
	assert_int_equal(loader_pretend_sdk_minor(0), 0);
	assert_null(load("  t: { module: testplug }\n"));
	assert_non_null(strstr(errs, "testplug.so"));
	snprintf(want, sizeof(want), "needs SDK 1.%d;", MM_SDK_MINOR);
	assert_non_null(strstr(errs, want));
	assert_non_null(strstr(errs, "speaks SDK 1.0"));
}

static void
test_future_refused(void **state)
{
	char want[64];

	(void)state;
	assert_null(load("  f: { module: sdkfuture }\n"));
	assert_non_null(strstr(errs, "sdkfuture.so"));
	snprintf(want, sizeof(want), "needs SDK 1.%d;", MM_SDK_MINOR + 1);
	assert_non_null(strstr(errs, want));
	snprintf(want, sizeof(want), "speaks SDK 1.%d", MM_SDK_MINOR);
	assert_non_null(strstr(errs, want));
	/* a core cannot pretend to be newer than it is */
	assert_int_equal(loader_pretend_sdk_minor(MM_SDK_MINOR + 1), -1);
}

static void
test_short_descriptor(void **state)
{
	(void)state;
	if (load("  s: { module: sdkshort }\n  old: { module: sdkold }\n") == NULL)
		fail_msg("refused:\n%s", errs);
	assert_null(conf_instance(c, "s")->p->msg_end);
	/* the message ends; the abort()ing function is not called */
	assert_string_equal(run("X-Path"), "set_result");
}

/* The headers as received beside the working list (SDK 1.3). */
static void
test_received_headers(void **state)
{
	(void)state;
	if (load("  t: { module: testplug, options: { delete_header: Subject,\n"
	    "       insert_header: { name: X-Top, value: t } } }\n"
	    "  m: { module: msgplug }\n") == NULL)
		fail_msg("refused:\n%s", errs);
	assert_string_equal(run("X-Received-Names"), "From,To,Subject");
	assert_string_equal(run("X-Working-Names"), "X-Top,From,To");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_needs_1_0_loads_in_1_0_core, cleanup),
		cmocka_unit_test_teardown(test_needs_1_0_in_today_core, cleanup),
		cmocka_unit_test_teardown(test_today_refused_by_1_0_core, cleanup),
		cmocka_unit_test_teardown(test_future_refused, cleanup),
		cmocka_unit_test_teardown(test_short_descriptor, cleanup),
		cmocka_unit_test_teardown(test_received_headers, cleanup),
	};

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_sdk");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
