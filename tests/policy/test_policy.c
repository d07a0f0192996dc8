/*
 * NAME
 *	test_policy - unit tests of the policy plugin's checks and whitelist
 * DESCRIPTION
 *	Each check as a pure function: the dynamic PTR heuristic on the
 *	names of tests/policy/dynptr.txt (dynamic and mail servers'), the
 *	impossible PTR names, numeric HELO names, the zombie and forgery
 *	decision, the three strikes, address lists, auto-reply subjects,
 *	and Subject words through RFC 2047 and look-alike folding. The
 *	auto-whitelist is written to and read from a temporary LMDB store
 *	through the core's API table, as in the daemon: accepted
 *	recipients only, internal domains left out, renewal, expiry,
 *	removal.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "policy.h"
#include "api.h"
#include "store.h"

static const struct mm_api *api = &core_api;
static char storedir[] = "/tmp/test_policy.XXXXXX";

static void
test_dynptr_list(void **state)
{
	char path[512], line[512];
	FILE *f;
	int n = 0, wrong = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/policy/dynptr.txt", SRCDIR);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f)) {
		char want[8], host[256], addr[64];
		if (line[0] == '#' || sscanf(line, "%7s %255s %63s", want, host,
		    addr) != 3)
			continue;
		int dyn = policy_dynamic_ptr(host, addr);
		if (dyn != (strcmp(want, "dyn") == 0)) {
			print_error("%s %s: heuristic says %s\n", host, addr,
			    dyn ? "dynamic" : "not dynamic");
			wrong++;
		}
		n++;
	}
	fclose(f);
	assert_true(n >= 40);
	assert_int_equal(wrong, 0);
}

static void
test_no_ptr(void **state)
{
	(void)state;
	assert_true(policy_no_ptr("[192.0.2.1]"));
	assert_true(policy_no_ptr("unknown"));
	assert_true(policy_no_ptr(""));
	assert_true(policy_no_ptr(NULL));
	assert_false(policy_no_ptr("mail.example.com"));
}

static void
test_bad_ptr(void **state)
{
	(void)state;
	assert_true(policy_bad_ptr("localhost", "192.0.2.1"));
	assert_true(policy_bad_ptr("LOCALHOST.", "192.0.2.1"));
	assert_true(policy_bad_ptr("localhost", "2001:db8::1"));
	assert_true(policy_bad_ptr(".", "192.0.2.1"));
	assert_false(policy_bad_ptr("localhost", "127.0.0.1"));
	assert_false(policy_bad_ptr("localhost", "127.1.2.3"));
	assert_false(policy_bad_ptr("localhost", "::1"));
	assert_false(policy_bad_ptr("localhost.example.com", "192.0.2.1"));
	assert_false(policy_bad_ptr("mail.example.com", "192.0.2.1"));
}

static void
test_numeric_hello(void **state)
{
	(void)state;
	assert_true(policy_numeric_hello("192.0.2.1"));
	assert_true(policy_numeric_hello("192.0.2.1."));
	assert_true(policy_numeric_hello("2001:db8::1"));
	assert_true(policy_numeric_hello("IPv6:2001:db8::1"));
	assert_false(policy_numeric_hello("[192.0.2.1]"));
	assert_false(policy_numeric_hello("[IPv6:2001:db8::1]"));
	assert_false(policy_numeric_hello("mail.example.com"));
	assert_false(policy_numeric_hello("192-0-2-1.example.net"));
	assert_false(policy_numeric_hello("1234"));
	assert_false(policy_numeric_hello(""));
}

static void
test_sender_check(void **state)
{
	char *ours[] = { (char *)"corp.example", (char *)".corp.example", NULL };
	char *none[] = { NULL };

	(void)state;
	/* internal client: only our domains */
	assert_int_equal(policy_sender_check(api, ours, 1, 0, "corp.example", 0),
	    POLICY_SENDER_OK);
	assert_int_equal(policy_sender_check(api, ours, 1, 0, "Sales.Corp.Example", 0),
	    POLICY_SENDER_OK);
	assert_int_equal(policy_sender_check(api, ours, 1, 0, "gmail.example", 0),
	    POLICY_SENDER_ZOMBIE);
	assert_int_equal(policy_sender_check(api, ours, 1, 0, NULL, 0),
	    POLICY_SENDER_OK);			/* null sender */
	/* external client: not our domains, unless SPF passed */
	assert_int_equal(policy_sender_check(api, ours, 0, 0, "corp.example", 0),
	    POLICY_SENDER_FORGED);
	assert_int_equal(policy_sender_check(api, ours, 0, 0, "corp.example.", 0),
	    POLICY_SENDER_FORGED);
	assert_int_equal(policy_sender_check(api, ours, 0, 0, "corp.example", 1),
	    POLICY_SENDER_OK);
	assert_int_equal(policy_sender_check(api, ours, 0, 1, "corp.example", 0),
	    POLICY_SENDER_OK);			/* trusted relay */
	assert_int_equal(policy_sender_check(api, ours, 0, 0, "partner.example", 0),
	    POLICY_SENDER_OK);
	assert_int_equal(policy_sender_check(api, ours, 0, 0, "notcorp.example", 0),
	    POLICY_SENDER_OK);
	/* not configured: nothing */
	assert_int_equal(policy_sender_check(api, none, 1, 0, "gmail.example", 0),
	    POLICY_SENDER_OK);
	assert_int_equal(policy_sender_check(api, NULL, 0, 0, "corp.example", 0),
	    POLICY_SENDER_OK);
}

static void
test_strikes(void **state)
{
	struct policy_strikes s;
	const char *why;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_true(policy_strikes_pass(&s, &why));	/* SPF published */
	s.spf_none = 1;
	assert_false(policy_strikes_pass(&s, &why));
	assert_string_equal(why, "no PTR, HELO or SPF");
	s.guess_pass = 1;
	assert_true(policy_strikes_pass(&s, &why));
	assert_string_equal(why, "best guess pass");
	s.guess_pass = 0;
	s.helo_valid = 1;
	assert_true(policy_strikes_pass(&s, &why));
	s.helo_valid = 0;
	s.ptr_good = 1;
	assert_true(policy_strikes_pass(&s, &why));
	assert_string_equal(why, "good PTR");
}

static void
test_addr_in(void **state)
{
	char *list[] = { (char *)"alice@corp.example", (char *)"@partner.example",
	    (char *)".sub.example", NULL };

	(void)state;
	assert_true(policy_addr_in(api, list, "alice@corp.example"));
	assert_true(policy_addr_in(api, list, "Alice@Corp.Example"));
	assert_false(policy_addr_in(api, list, "bob@corp.example"));
	assert_true(policy_addr_in(api, list, "anyone@partner.example"));
	assert_false(policy_addr_in(api, list, "anyone@x.partner.example"));
	assert_true(policy_addr_in(api, list, "x@a.sub.example"));
	assert_false(policy_addr_in(api, list, "no-at-sign"));
	assert_false(policy_addr_in(api, NULL, "alice@corp.example"));
}

static void
test_autoreply(void **state)
{
	(void)state;
	assert_true(policy_autoreply_subject("read: budget"));
	assert_true(policy_autoreply_subject("autoreply: out of office"));
	assert_true(policy_autoreply_subject("re: autoreply: gone"));
	assert_true(policy_autoreply_subject("return receipt (displayed) - x"));
	assert_false(policy_autoreply_subject("re: read: this"));
	assert_false(policy_autoreply_subject("budget"));
}

/* folds a Subject and looks for a word of the list (folded as options are) */
static const char *
hit(const char *subject, const char *word)
{
	static char found[64];
	char *w = policy_fold(word, strlen(word)), *f = policy_fold_header(&core_api, subject);
	char *list[] = { w, NULL };
	const char *r;

	assert_non_null(w);
	assert_non_null(f);
	r = policy_word_in(list, f);
	snprintf(found, sizeof(found), "%s", r ? r : "");
	free(w);
	free(f);
	return r ? found : NULL;
}

static void
test_words(void **state)
{
	char *f;

	(void)state;
	/* plain, any case */
	assert_non_null(hit("Cheap VIAGRA now", "viagra"));
	assert_null(hit("Cheap flights now", "viagra"));
	/* RFC 2047 B and Q, UTF-8 and Latin-1, split over two words */
	assert_non_null(hit("=?UTF-8?B?VsOtYWdyYQ==?= offer", "viagra"));
	assert_non_null(hit("=?ISO-8859-1?Q?V=EDagra?= offer", "viagra"));
	assert_non_null(hit("=?UTF-8?Q?Via?= =?UTF-8?Q?gra?=", "viagra"));
	assert_non_null(hit("=?utf-8?q?cheap_viagra?=", "viagra"));
	/* look-alikes: Cyrillic a and e, fullwidth, zero-width space, a
	   combining accent, mathematical bold */
	assert_non_null(hit("vi\xd0\xb0gra", "viagra"));
	assert_non_null(hit("FR\xd0\x95" "E money", "frëe"));
	assert_non_null(hit("\xef\xbd\x96\xef\xbd\x89\xef\xbd\x81gra", "viagra"));
	assert_non_null(hit("via\xe2\x80\x8bgra", "viagra"));
	assert_non_null(hit("via\xcc\x81gra", "viagra"));
	assert_non_null(hit("\xf0\x9d\x90\xaf\xf0\x9d\x90\xa2" "agra", "viagra"));
	/* encoded in a charset iconv knows: windows-1251 Cyrillic o */
	assert_non_null(hit("=?windows-1251?Q?p=EErn?=", "porn"));
	/* the words of the options fold too; blanks collapse */
	assert_non_null(hit("horse    COCK", "horse cock"));
	assert_non_null(hit("$$$ fast", "$$$"));
	assert_null(hit("=?UTF-8?B?broken", "viagra"));
	f = policy_fold_header(&core_api, "  Re:\t=?UTF-8?B?w4Bi?=  ");
	assert_string_equal(f, "re: ab");
	free(f);
}

static mm_store *
open_store(void)
{
	struct store_cfg cfg;
	char *err = NULL;
	mm_store *st;

	assert_int_equal(store_cfg_from_uri(storedir, &cfg, &err), 0);
	cfg.nosync = 1;
	if ((st = store_open(&cfg, POLICY_DB, &err)) == NULL)
		fail_msg("%s", err);
	store_cfg_free(&cfg);
	return st;
}

static void
test_whitelist(void **state)
{
	char *ours[] = { (char *)"corp.example", NULL };
	struct policy_rcpt r[] = {
		{ "<Bob@Partner.Example>", 1 },
		{ "carol@corp.example", 1 },		/* internal: left out */
		{ "dave@refused.example", 0 },		/* refused at RCPT */
		{ "not an address", 1 },
		{ "erin@other.example.", 1 },
	};
	mm_store *st = open_store();

	(void)state;
	assert_int_equal(policy_wl_learn(api, st, ours, r, 5, 1e9, 3600,
	    "alice@corp.example"), 2);
	assert_int_equal(policy_wl_has(api, st, "bob@partner.example"), 1);
	assert_int_equal(policy_wl_has(api, st, "BOB@partner.example."), 1);
	assert_int_equal(policy_wl_has(api, st, "erin@other.example"), 1);
	assert_int_equal(policy_wl_has(api, st, "carol@corp.example"), 0);
	assert_int_equal(policy_wl_has(api, st, "dave@refused.example"), 0);
	assert_int_equal(policy_wl_has(api, st, "nobody@partner.example"), 0);
	/* removal */
	assert_int_equal(policy_wl_del(api, st, "erin@other.example"), 0);
	assert_int_equal(policy_wl_has(api, st, "erin@other.example"), 0);
	/* expiry, and renewal by a later message */
	struct policy_rcpt f[] = { { "frank@short.example", 1 } };
	assert_int_equal(policy_wl_learn(api, st, ours, f, 1, 1e9, 1, "a@corp.example"), 1);
	assert_int_equal(policy_wl_has(api, st, "frank@short.example"), 1);
	usleep(2500 * 1000);	/* expiry is in whole seconds, rounded up */
	assert_int_equal(policy_wl_has(api, st, "frank@short.example"), 0);
	assert_int_equal(policy_wl_learn(api, st, ours, f, 1, 1e9, 3600, "a@corp.example"), 1);
	assert_int_equal(policy_wl_has(api, st, "frank@short.example"), 1);
	/* nothing to learn: no write, no error */
	assert_int_equal(policy_wl_learn(api, st, ours, r + 1, 1, 1e9, 3600, "x"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynptr_list),
		cmocka_unit_test(test_no_ptr),
		cmocka_unit_test(test_bad_ptr),
		cmocka_unit_test(test_numeric_hello),
		cmocka_unit_test(test_sender_check),
		cmocka_unit_test(test_strikes),
		cmocka_unit_test(test_addr_in),
		cmocka_unit_test(test_autoreply),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_whitelist),
	};
	char cmd[128];
	int r;

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_policy");
	if (mkdtemp(storedir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", storedir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
