/*
 * NAME
 *	test_wiretap - the wiretap plugin's address, matching and Maildir modules
 * DESCRIPTION
 *	Proves, on the plugin's own sources (no core, no mocks):
 *	- address keys: made from the core's normal form (a trailing dot,
 *	  a source route, needless quotes and an upper-case domain hide
 *	  nobody, in keys and in matching), domain always case-folded, the
 *	  local part only when asked, extensions cut at the first
 *	  delimiter but never at the first character nor inside quotes;
 *	  a malformed envelope address matches nothing;
 *	- configured addresses: a domain is required, "@domain" only where
 *	  allowed, no white space or angle brackets;
 *	- Maildir directory names: nothing can climb out ("/", "..", a
 *	  leading dot), "%" and "~" are escaped so names cannot collide,
 *	  long addresses are cut with a hash;
 *	- matching: outgoing only from our side (a forged sender is
 *	  recorded as such), incoming per watched recipient, directions
 *	  honoured, hits unique, smart aliases with and without a domain
 *	  wildcard, and case rules;
 *	- Maildir delivery: the file is invisible in new/ until committed,
 *	  complete after, tmp/ empty; withdraw leaves nothing; a missing
 *	  root, a root that is a file and an unwritable Maildir fail with
 *	  a message and leave nothing; names stay unique under threads.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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

#include "addr.h"
#include "maildir.h"
#include "wiretap.h"

static void
api_free(void *p)
{
	free(p);
}

/* The part of the API table the address modules use: the core's own
   address parser (sdk/lib/addr.c), linked in. */
static const struct mm_api api = {
	.size = sizeof(struct mm_api),
	.free = api_free,
	.addr_normalize = addr_normalize,
	.domain_normalize = domain_normalize,
	.domain_match = domain_match,
};

static void
key_is(const char *addr, int cs, const char *delim, const char *want)
{
	const char *why;
	char *k = wt_addr_key(&api, addr, cs, delim, &why);

	if (k == NULL)
		fail_msg("'%s' refused: %s", addr, why ? why : "out of memory");
	assert_string_equal(k, want);
	free(k);
}

static void
pattern_is(const char *s, const char *want)
{
	const char *why;
	char *k = wt_pattern_key(&api, s, 0, "+", &why);

	if (k == NULL)
		fail_msg("'%s' refused: %s", s, why ? why : "out of memory");
	assert_string_equal(k, want);
	free(k);
}

static void
test_keys(void **state)
{
	(void)state;
	key_is("Alice@Corp.Example", 0, "", "alice@corp.example");
	key_is("Alice@Corp.Example", 1, "", "Alice@corp.example");
	key_is("alice+tag@corp.example", 0, "+", "alice@corp.example");
	key_is("alice-x+y@corp.example", 0, "+-", "alice@corp.example");
	key_is("+alice@corp.example", 0, "+", "+alice@corp.example");
	key_is("alice+tag@corp.example", 0, "", "alice+tag@corp.example");
	pattern_is("@Subsidiary.Example", "@subsidiary.example");
	key_is("postmaster", 0, "", "postmaster");
	key_is("\"a@b\"@Corp.Example", 0, "", "\"a@b\"@corp.example");
	/* the forms that used to pass for another mailbox */
	key_is("alice@corp.example.", 0, "+", "alice@corp.example");
	key_is("<@relay.example:alice@corp.example>", 0, "+", "alice@corp.example");
	key_is("\"alice\"@corp.example", 0, "+", "alice@corp.example");
	key_is("\"Alice+x\"@CORP.EXAMPLE.", 1, "+", "Alice@corp.example");
	/* quoting that matters: no extension cut inside the quotes */
	key_is("\"a+b c\"@x.example", 0, "+", "\"a+b c\"@x.example");
	pattern_is("@Subsidiary.Example.", "@subsidiary.example");
	pattern_is("Alice+x@Corp.Example.", "alice@corp.example");
	pattern_is("@relay:alice@corp.example", "alice@corp.example");
}

static void
test_check(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(wt_addr_check("alice@corp.example", 0, &why), 0);
	assert_int_equal(wt_addr_check("@corp.example", 1, &why), 0);
	assert_int_equal(wt_addr_check("@corp.example", 0, &why), -1);
	assert_int_equal(wt_addr_check("alice", 1, &why), -1);
	assert_int_equal(wt_addr_check("alice@", 1, &why), -1);
	assert_int_equal(wt_addr_check("al ice@corp.example", 1, &why), -1);
	assert_int_equal(wt_addr_check("<alice@corp.example>", 1, &why), -1);
	assert_int_equal(wt_addr_check("a@b, c@d", 1, &why), -1);
	assert_non_null(why);
}

static void
dir_is(const char *key, const char *want)
{
	char buf[256];

	assert_int_equal(wt_dirname(key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_dirname(void **state)
{
	char buf[256], buf2[256], longkey[400];

	(void)state;
	dir_is("alice@corp.example", "alice@corp.example");
	dir_is("../../etc@x", "%2E.%2F..%2Fetc@x");
	dir_is(".hidden@x", "%2Ehidden@x");
	dir_is("a/b@x", "a%2Fb@x");
	dir_is("50%@x", "50%25@x");
	dir_is("a~b@x", "a%7Eb@x");
	dir_is("\"a b\"@x", "%22a%20b%22@x");
	memset(longkey, 'a', 300);
	strcpy(longkey + 300, "@x");
	assert_int_equal(wt_dirname(longkey, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) <= 200);
	assert_non_null(strchr(buf, '~'));
	longkey[10] = 'b';
	assert_int_equal(wt_dirname(longkey, buf2, sizeof(buf2)), 0);
	assert_string_not_equal(buf, buf2);	/* the hash tells them apart */
	assert_int_equal(wt_dirname("", buf, sizeof(buf)), -1);
	assert_int_equal(wt_dirname("a@x", buf, 10), -1);
}

/* A configuration built by hand: what options.c would produce. */
static char *w_hold[] = { "alice@corp.example", "@subsidiary.example" };
static char *w_gag[] = { "bigmouth@corp.example" };
static char *w_in[] = { "bob@corp.example" };
static char *c_mon[] = { "monitor@corp.example" };
static char *c_spy[] = { "spy@corp.example" };
static char *d_cust[] = { "copycust@corp.example" };

static struct wt_group groups[] = {
	{ "legal-hold", w_hold, 2, WT_OUT | WT_IN, c_mon, 1, 1, 0, NULL, 0 },
	{ "gag", w_gag, 1, WT_OUT, c_spy, 1, 1, 1, NULL, 0 },
	{ "in-only", w_in, 1, WT_IN, c_mon, 1, 1, 0, NULL, 0 },
};
static struct wt_alias aliases[] = {
	{ "client@clientcorp.example", "sue@corp.example", d_cust, 1 },
	{ "@partner.example", "sue@corp.example", d_cust, 1 },
};
static struct wt_conf conf = {
	&api, groups, 3, aliases, 2, 0, "+", 0600, "test"
};

static struct wt_plan
plan_of(const char *from, int our_side, const char *const *rcpts, size_t n)
{
	struct wt_plan p;

	assert_int_equal(wt_plan_make(&conf, from, our_side, rcpts, n, &p), 0);
	return p;
}

static void
test_malformed_envelope(void **state)
{
	const char *why;
	const char *r[] = { "alice@corp.example..", "bob@corp.example" };
	struct wt_plan p;

	(void)state;
	assert_null(wt_addr_key(&api, "alice@", 0, "", &why));
	assert_non_null(why);
	assert_null(wt_pattern_key(&api, "@.corp.example", 0, "", &why));
	assert_non_null(why);
	/* a malformed address matches nothing; the others still do */
	assert_int_equal(wt_plan_make(&conf, "x@", 0, r, 2, &p), 0);
	assert_int_equal(p.nhits, 1);
	assert_string_equal(p.hits[0].key, "bob@corp.example");
	wt_plan_free(&p);
}

/* The forms that hid a watched address or a smart alias: a trailing
   dot, a source route, quotes, an upper-case domain. */
static void
test_plan_forms(void **state)
{
	static const char *const froms[] = { "alice@corp.example.",
	    "<@relay.example:alice@corp.example>", "\"alice\"@corp.example",
	    "alice@CORP.EXAMPLE", NULL };
	static const char *const rcpts[] = { "<bob@corp.example.>",
	    "<@relay.example:bob@corp.example>", "<\"bob\"@corp.example>",
	    "<bob@CORP.EXAMPLE>", NULL };
	static const char *const sues[] = { "<sue@corp.example.>",
	    "<@relay.example:sue@corp.example>", "<\"sue\"@corp.example>",
	    "<sue@CORP.EXAMPLE>", NULL };
	static const char *const clients[] = { "client@clientcorp.example.",
	    "<@relay.example:client@clientcorp.example>",
	    "\"client\"@clientcorp.example", "client@CLIENTCORP.EXAMPLE", NULL };
	const char *none[] = { "carol@example.net" };
	struct wt_plan p;

	(void)state;
	for (size_t i = 0; froms[i]; i++) {
		p = plan_of(froms[i], 1, none, 1);
		assert_int_equal(p.nhits, 1);
		assert_int_equal(p.hits[0].dir, WT_OUT);
		assert_string_equal(p.hits[0].key, "alice@corp.example");
		wt_plan_free(&p);

		p = plan_of("someone@example.net", 0, &rcpts[i], 1);
		assert_int_equal(p.nhits, 1);
		assert_int_equal(p.hits[0].group, 2);
		assert_string_equal(p.hits[0].key, "bob@corp.example");
		assert_string_equal(p.hits[0].addr, rcpts[i]);
		wt_plan_free(&p);

		p = plan_of(clients[i], 0, &sues[i], 1);
		assert_int_equal(p.nahits, 1);
		assert_string_equal(p.ahits[0].rcpt, sues[i]);
		wt_plan_free(&p);
	}
}

static void
test_outgoing_needs_our_side(void **state)
{
	const char *r[] = { "carol@example.net" };
	struct wt_plan p;

	(void)state;
	p = plan_of("Alice+x@CORP.example", 1, r, 1);
	assert_int_equal(p.nhits, 1);
	assert_int_equal(p.hits[0].group, 0);
	assert_int_equal(p.hits[0].dir, WT_OUT);
	assert_string_equal(p.hits[0].key, "alice@corp.example");
	assert_true(wt_plan_acts(&p));
	wt_plan_free(&p);

	/* the same sender from outside: forged, nothing to do */
	p = plan_of("alice@corp.example", 0, r, 1);
	assert_int_equal(p.nhits, 1);
	assert_int_equal(p.hits[0].dir, WT_FORGED);
	assert_false(wt_plan_acts(&p));
	wt_plan_free(&p);
}

static void
test_incoming_and_directions(void **state)
{
	const char *r[] = { "x@Subsidiary.Example", "bob@corp.example",
		"bigmouth@corp.example", "y@subsidiary.example", "x@subsidiary.example" };
	struct wt_plan p;

	(void)state;
	p = plan_of("someone@example.net", 0, r, 5);
	/* legal-hold: x@ and y@ (x@ once); gag is outgoing only: no hit
	   for bigmouth as a recipient; in-only: bob */
	assert_int_equal(p.nhits, 3);
	assert_int_equal(p.hits[0].group, 0);
	assert_string_equal(p.hits[0].key, "x@subsidiary.example");
	assert_string_equal(p.hits[0].addr, "x@Subsidiary.Example");
	assert_int_equal(p.hits[1].group, 0);
	assert_string_equal(p.hits[1].key, "y@subsidiary.example");
	assert_int_equal(p.hits[2].group, 2);
	assert_int_equal(p.hits[2].dir, WT_IN);
	wt_plan_free(&p);

	/* in-only does not match bob as a sender */
	p = plan_of("bob@corp.example", 1, r + 2, 1);
	assert_int_equal(p.nhits, 0);
	assert_false(wt_plan_acts(&p));
	wt_plan_free(&p);
}

static void
test_nothing_and_null_sender(void **state)
{
	const char *r[] = { "carol@example.net", "dave@example.org" };
	struct wt_plan p;

	(void)state;
	p = plan_of("", 1, r, 2);
	assert_int_equal(p.nhits + p.nahits, 0);
	wt_plan_free(&p);
	p = plan_of("eve@example.com", 1, r, 2);
	assert_false(wt_plan_acts(&p));
	wt_plan_free(&p);
}

static void
test_smart_alias(void **state)
{
	const char *r[] = { "Sue@Corp.Example", "tom@corp.example" };
	struct wt_plan p;

	(void)state;
	p = plan_of("CLIENT@clientcorp.example", 0, r, 2);
	assert_int_equal(p.nahits, 1);
	assert_int_equal(p.ahits[0].alias, 0);
	assert_string_equal(p.ahits[0].rcpt, "Sue@Corp.Example");
	wt_plan_free(&p);

	p = plan_of("anyone@Partner.Example", 0, r, 2);
	assert_int_equal(p.nahits, 1);
	assert_int_equal(p.ahits[0].alias, 1);
	wt_plan_free(&p);

	p = plan_of("other@clientcorp.example", 0, r, 2);
	assert_int_equal(p.nahits, 0);
	wt_plan_free(&p);

	/* case-sensitive local parts: "CLIENT" is somebody else */
	conf.case_sensitive_local = 1;
	p = plan_of("CLIENT@clientcorp.example", 0, r + 1, 1);
	assert_int_equal(p.nahits, 0);
	wt_plan_free(&p);
	conf.case_sensitive_local = 0;
}

static char tmpl[] = "/tmp/test_wiretap.XXXXXX";
static char *root;

static int
count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	umask(022);
	root = mkdtemp(tmpl);
	return root ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", root, root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_maildir_commit(void **state)
{
	struct md_file f;
	char err[512], path[4096], dir[4096], buf[64];
	FILE *fp;
	struct stat st;

	(void)state;
	assert_int_equal(md_create(&f, root, "alice@corp.example", "host", 0600,
	    err, sizeof(err)), 0);
	assert_int_equal(md_write(&f, "Subject: x\n\nbody\n", 17, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/alice@corp.example/new", root);
	assert_int_equal(count(dir), 0);
	assert_int_equal(md_finish(&f, err, sizeof(err)), 0);
	assert_int_equal(count(dir), 0);	/* complete, but not yet visible */
	assert_int_equal(md_commit(&f, err, sizeof(err)), 0);
	assert_int_equal(count(dir), 1);
	snprintf(dir, sizeof(dir), "%s/alice@corp.example/tmp", root);
	assert_int_equal(count(dir), 0);
	md_path(&f, "new", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fread(buf, 1, sizeof(buf), fp), 17);
	fclose(fp);
	assert_non_null(strstr(f.name, ".host"));
	md_release(&f);
	assert_int_equal(stat(path, &st), 0);	/* release keeps the file */
	snprintf(dir, sizeof(dir), "%s/alice@corp.example/cur", root);
	assert_int_equal(count(dir), 0);
}

static void
test_maildir_withdraw(void **state)
{
	struct md_file f;
	char err[512], dir[4096];

	(void)state;
	assert_int_equal(md_create(&f, root, "bob@x", "host", 0600, err,
	    sizeof(err)), 0);
	assert_int_equal(md_write(&f, "x", 1, err, sizeof(err)), 0);
	assert_int_equal(md_finish(&f, err, sizeof(err)), 0);
	md_withdraw(&f);
	snprintf(dir, sizeof(dir), "%s/bob@x/tmp", root);
	assert_int_equal(count(dir), 0);
	snprintf(dir, sizeof(dir), "%s/bob@x/new", root);
	assert_int_equal(count(dir), 0);
	md_withdraw(&f);	/* twice is harmless */
}

static void
test_maildir_failures(void **state)
{
	struct md_file f;
	char err[512], path[4096];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", root);
	assert_int_equal(md_create(&f, path, "a@x", "h", 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	snprintf(path, sizeof(path), "%s/plainfile", root);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(md_create(&f, path, "a@x", "h", 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "plainfile"));
	assert_int_equal(md_write(&f, "x", 1, err, sizeof(err)), -1);
	if (geteuid() != 0) {
		/* an unwritable Maildir (root ignores permissions) */
		snprintf(path, sizeof(path), "%s/ro", root);
		assert_int_equal(mkdir(path, 0500), 0);
		assert_int_equal(md_create(&f, path, "a@x", "h", 0600, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "Permission denied"));
	}
}

#define NTHREADS 4
#define PERTHREAD 50

static void *
deliver(void *arg)
{
	char err[512];

	(void)arg;
	for (int i = 0; i < PERTHREAD; i++) {
		struct md_file f;
		if (md_create(&f, root, "many@x", "h", 0600, err, sizeof(err)) < 0 ||
		    md_write(&f, "x\n", 2, err, sizeof(err)) < 0 ||
		    md_finish(&f, err, sizeof(err)) < 0 ||
		    md_commit(&f, err, sizeof(err)) < 0)
			return (void *)1;
		md_release(&f);
	}
	return NULL;
}

static void
test_maildir_threads(void **state)
{
	pthread_t t[NTHREADS];
	char dir[4096];
	void *r;

	(void)state;
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, deliver, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	snprintf(dir, sizeof(dir), "%s/many@x/new", root);
	assert_int_equal(count(dir), NTHREADS * PERTHREAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_malformed_envelope),
		cmocka_unit_test(test_plan_forms),
		cmocka_unit_test(test_outgoing_needs_our_side),
		cmocka_unit_test(test_incoming_and_directions),
		cmocka_unit_test(test_nothing_and_null_sender),
		cmocka_unit_test(test_smart_alias),
		cmocka_unit_test(test_maildir_commit),
		cmocka_unit_test(test_maildir_withdraw),
		cmocka_unit_test(test_maildir_failures),
		cmocka_unit_test(test_maildir_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
