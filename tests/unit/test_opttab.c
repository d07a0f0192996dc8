#include "config.h"
/*
 * NAME
 *	test_opttab - options read through a plugin's table (SDK 1.3)
 * DESCRIPTION
 *	Reads YAML options through a table of every type with the core's
 *	reader (opttab_read(), what api->opt_table does) and proves: the
 *	defaults of absent keys; each type's values, ranges and normal
 *	forms (domains, addresses, networks); "map.key" entries read from
 *	a sub-map; every bad value reported as "FILE:LINE:COL: ... key"
 *	at its node, all of them in one pass, an entry's own message in
 *	place of the generic one; keys of the table count as known (an
 *	unknown one is still reported); a malformed table or a default
 *	that does not parse refused by opttab_check(); and that
 *	opttab_describe() prints every option with its type, range and
 *	default, as text and as a Markdown table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfgtree.h"
#include "opttab.h"

struct conf {
	char *name, *none;
	int flag, color;
	long long port;
	double ratio, wait, dns_timeout;
	size_t size;
	struct mm_strv words, domains, addrs, nets;
	long long dns_tries;
};

#define O(f)	offsetof(struct conf, f)
static const struct mm_option table[] = {
	{ "name", MM_OT_STRING, O(name), "anon", 0, 0, NULL, "a name", NULL },
	{ "none", MM_OT_STRING, O(none), NULL, 0, 0, NULL, "no default", NULL },
	{ "flag", MM_OT_BOOL, O(flag), "true", 0, 0, NULL, "a flag", NULL },
	{ "color", MM_OT_ENUM, O(color), "red", 0, 0,
	  MM_OPT_WORDS("red", "green", "blue"), "a color", NULL },
	{ "port", MM_OT_INT, O(port), "25", 1, 65535, NULL, "a port", NULL },
	{ "ratio", MM_OT_NUMBER, O(ratio), "0.5", 0, 1, NULL, "a ratio",
	  "ratio: a number from 0 to 1" },
	{ "wait", MM_OT_DURATION, O(wait), "1m", 1, 3600, NULL, "a wait", NULL },
	{ "size", MM_OT_SIZE, O(size), "64M", 1024, 1 << 30, NULL, "a size", NULL },
	{ "words", MM_OT_LIST, O(words), "a b c", 0, 0, NULL, "words | more", NULL },
	{ "domains", MM_OT_DOMAINS, O(domains), NULL, 0, 0, NULL, "domains", NULL },
	{ "addrs", MM_OT_ADDRESSES, O(addrs), NULL, 0, 0, NULL, "addresses", NULL },
	{ "nets", MM_OT_NETWORKS, O(nets), NULL, 0, 0, NULL, "networks", NULL },
	{ "dns.timeout", MM_OT_DURATION, O(dns_timeout), "5s", 1, 0, NULL, "dns", NULL },
	{ "dns.tries", MM_OT_INT, O(dns_tries), "2", 1, 5, NULL, "tries", NULL },
	{ "policy", MM_OT_HAND, 0, "see the text", 0, 0, NULL, "by hand", NULL },
	{ NULL }
};

static struct cfgtree *tree;
static struct conf conf;

static int
read_yaml(const char *yaml)
{
	if (tree) {
		opttab_free(table, &conf);
		cfgtree_free(tree);
	}
	memset(&conf, 0, sizeof(conf));
	tree = cfgtree_parse("t.yaml", yaml, strlen(yaml));
	assert_non_null(tree);
	assert_int_equal(tree->nerrors, 0);
	return opttab_read(cfg_get(tree->root, "options"), table, &conf);
}

static void
expect_error(const char *at, const char *msg)
{
	for (size_t i = 0; i < tree->nerrors; i++)
		if (strncmp(tree->errors[i], at, strlen(at)) == 0 &&
		    strstr(tree->errors[i], msg))
			return;
	for (size_t i = 0; i < tree->nerrors; i++)
		print_message("error: %s\n", tree->errors[i]);
	fail_msg("no error '%s...%s'", at, msg);
}

static int
teardown(void **state)
{
	(void)state;
	opttab_free(table, &conf);
	cfgtree_free(tree);
	tree = NULL;
	return 0;
}

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(opttab_check(table, (char[128]){ 0 }, 128), 0);
	assert_int_equal(read_yaml("options: ~\n"), 0);
	assert_string_equal(conf.name, "anon");
	assert_null(conf.none);
	assert_int_equal(conf.flag, 1);
	assert_int_equal(conf.color, 0);
	assert_int_equal(conf.port, 25);
	assert_true(conf.ratio == 0.5);
	assert_true(conf.wait == 60);
	assert_int_equal(conf.size, 64 << 20);
	assert_int_equal(conf.words.n, 3);
	assert_string_equal(conf.words.v[2], "c");
	assert_null(conf.words.v[3]);
	assert_int_equal(conf.domains.n, 0);
	assert_non_null(conf.domains.v);
	assert_null(conf.domains.v[0]);
	assert_true(conf.dns_timeout == 5);
	assert_int_equal(conf.dns_tries, 2);
}

static void
test_values(void **state)
{
	(void)state;
	assert_int_equal(read_yaml(
	    "options:\n"
	    "  name: bob\n"
	    "  none: here\n"
	    "  flag: off\n"
	    "  color: Blue\n"
	    "  port: 2525\n"
	    "  ratio: 0.9\n"
	    "  wait: 250ms\n"
	    "  size: 2K\n"
	    "  words: one\n"
	    "  domains: [Example.COM., .sub.example]\n"
	    "  addrs: [\"<@relay:Alice@Corp.Example.>\"]\n"
	    "  nets: [192.0.2.0/24, \"2001:db8::1\"]\n"
	    "  dns: { timeout: 2s, tries: 3 }\n"
	    "  policy: { anything: goes }\n"), -1);
	/* wait is below its minimum; everything else read */
	expect_error("t.yaml:8:9: ", "wait must be at least 1s");
	assert_int_equal(tree->nerrors, 1);
	assert_string_equal(conf.name, "bob");
	assert_string_equal(conf.none, "here");
	assert_int_equal(conf.flag, 0);
	assert_int_equal(conf.color, 2);
	assert_int_equal(conf.port, 2525);
	assert_true(conf.ratio == 0.9);
	assert_int_equal(conf.size, 2048);
	assert_int_equal(conf.words.n, 1);
	assert_string_equal(conf.words.v[0], "one");
	assert_string_equal(conf.domains.v[0], "example.com");
	assert_string_equal(conf.domains.v[1], ".sub.example");
	assert_string_equal(conf.addrs.v[0], "Alice@corp.example");
	assert_int_equal(conf.nets.n, 2);
	assert_true(conf.dns_timeout == 2);
	assert_int_equal(conf.dns_tries, 3);
}

static void
test_errors(void **state)
{
	(void)state;
	assert_int_equal(read_yaml(
	    "options:\n"
	    "  name: [a, b]\n"
	    "  flag: maybe\n"
	    "  color: mauve\n"
	    "  port: 0\n"
	    "  ratio: 2\n"
	    "  wait: 2d\n"
	    "  size: 12Q\n"
	    "  words: { a: b }\n"
	    "  domains: [\"example..com\"]\n"
	    "  addrs: [\"a b@c\"]\n"
	    "  nets: [192.0.2.1/24]\n"
	    "  dns: 5s\n"), -1);
	expect_error("t.yaml:2:9: ", "'name' must be a string, not a list");
	expect_error("t.yaml:3:9: ", "'flag' must be true or false");
	expect_error("t.yaml:4:10: ", "color must be red, green or blue, not 'mauve'");
	expect_error("t.yaml:5:9: ", "'port' must be between 1 and 65535");
	expect_error("t.yaml:6:10: ", "ratio: a number from 0 to 1");	/* its own */
	expect_error("t.yaml:7:9: ", "wait must be at most 1h");
	expect_error("t.yaml:8:9: ", "'size' must be a size between 1K and 1G");
	expect_error("t.yaml:9:10: ", "'words' must be a list");
	expect_error("t.yaml:10:13: ", "domains: 'example..com' is not a domain");
	expect_error("t.yaml:11:11: ", "addrs: 'a b@c'");
	expect_error("t.yaml:12:10: ", "nets: '192.0.2.1/24' is not a network");
	expect_error("t.yaml:13:8: ", "'dns' must be a map (timeout, tries)");
	assert_int_equal(tree->nerrors, 12);	/* the sub-map once */
	/* a bad value leaves the default */
	assert_int_equal(conf.port, 25);
	assert_string_equal(conf.name, "anon");
}

static void
test_unknown(void **state)
{
	(void)state;
	assert_int_equal(read_yaml("options:\n  name: x\n  nmae: y\n"
	    "  dns: { timeout: 3s, retries: 2 }\n  policy: z\n"), 0);
	cfg_check_unknown(cfg_get(tree->root, "options"), "option");
	expect_error("t.yaml:3:3: ", "unknown option 'nmae'");
	expect_error("t.yaml:4:23: ", "unknown option 'retries'");
	/* policy is the plugin's to read: it did not, so unknown too */
	expect_error("t.yaml:5:3: ", "unknown option 'policy'");
	assert_int_equal(tree->nerrors, 3);
}

static void
test_check(void **state)
{
	char err[256];
	static const struct mm_option twice[] = {
		{ "a", MM_OT_BOOL, 0, NULL, 0, 0, NULL, NULL, NULL },
		{ "a", MM_OT_BOOL, 0, NULL, 0, 0, NULL, NULL, NULL },
		{ NULL }
	};
	static const struct mm_option bad_default[] = {
		{ "n", MM_OT_INT, 0, "many", 0, 10, NULL, NULL, NULL },
		{ NULL }
	};
	static const struct mm_option no_words[] = {
		{ "e", MM_OT_ENUM, 0, NULL, 0, 0, NULL, NULL, NULL },
		{ NULL }
	};
	static const struct mm_option bad_type[] = {
		{ "t", (mm_option_type)99, 0, NULL, 0, 0, NULL, NULL, NULL },
		{ NULL }
	};
	static const struct mm_option bad_name[] = {
		{ "Big Name", MM_OT_BOOL, 0, NULL, 0, 0, NULL, NULL, NULL },
		{ NULL }
	};

	(void)state;
	assert_int_equal(opttab_check(NULL, err, sizeof(err)), 0);
	assert_int_equal(opttab_check(twice, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "listed twice"));
	assert_int_equal(opttab_check(bad_default, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "default of n: 'n' must be an integer"));
	assert_int_equal(opttab_check(no_words, err, sizeof(err)), -1);
	assert_int_equal(opttab_check(bad_type, err, sizeof(err)), -1);
	assert_int_equal(opttab_check(bad_name, err, sizeof(err)), -1);
}

/*
 * A scalar entry without a default leaves its field alone when the key
 * is absent (or null): the plugin's own "not given" value stays (policy's
 * reject_noptr, srs's hashmin).
 */
struct unset {
	int flag, word;
	long long n;
	double d;
};
static const struct mm_option unset_table[] = {
	{ "flag", MM_OT_BOOL, offsetof(struct unset, flag), NULL, 0, 0, NULL, "", NULL },
	{ "word", MM_OT_ENUM, offsetof(struct unset, word), NULL, 0, 0,
	  MM_OPT_WORDS("a", "b"), "", NULL },
	{ "n", MM_OT_INT, offsetof(struct unset, n), NULL, 1, 9, NULL, "", NULL },
	{ "d", MM_OT_DURATION, offsetof(struct unset, d), NULL, 0, 0, NULL, "", NULL },
	{ NULL }
};

static void
test_no_default(void **state)
{
	static const char *const yaml[] = { "options: { n: ~ }\n",
	    "options: { flag: false, word: b, n: 3, d: 2s }\n" };

	(void)state;
	assert_int_equal(opttab_check(unset_table, (char[128]){ 0 }, 128), 0);
	for (int i = 0; i < 2; i++) {
		struct cfgtree *t = cfgtree_parse("u.yaml", yaml[i], strlen(yaml[i]));
		struct unset u = { -1, -1, -1, -1 };

		assert_non_null(t);
		assert_int_equal(opttab_read(cfg_get(t->root, "options"), unset_table,
		    &u), 0);
		assert_int_equal(u.flag, i ? 0 : -1);
		assert_int_equal(u.word, i ? 1 : -1);
		assert_int_equal(u.n, i ? 3 : -1);
		assert_true(u.d == (i ? 2 : -1));
		opttab_free(unset_table, &u);
		cfgtree_free(t);
	}
}

static void
test_describe(void **state)
{
	static const struct mm_plugin p = {
		.sdk_major = MM_SDK_MAJOR, .sdk_minor = MM_SDK_MINOR,
		.size = sizeof(struct mm_plugin), .name = "t", .version = "1.0",
		.description = "a test", .options = table,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	fp = open_memstream(&buf, &len);
	opttab_describe(fp, &p, 0);
	fclose(fp);
	assert_non_null(strstr(buf, "t 1.0 (SDK 1.3): a test\n"));
	assert_non_null(strstr(buf, "  port\n      integer from 1 to 65535; default: 25\n"
	    "      a port\n"));
	assert_non_null(strstr(buf, "duration, at least 1s, at most 1h; default: 1m"));
	assert_non_null(strstr(buf, "one of red, green, blue; default: red"));
	free(buf);
	fp = open_memstream(&buf, &len);
	opttab_describe(fp, &p, 1);
	fclose(fp);
	assert_non_null(strstr(buf, "| option | type | default | meaning |\n"
	    "|---|---|---|---|\n| `name` | string | `anon` | a name |\n"));
	assert_non_null(strstr(buf, "| `none` | string | none | no default |\n"));
	assert_non_null(strstr(buf, "| `size` | size from 1K to 1G | `64M` |"));
	assert_non_null(strstr(buf, "| `words` | list of strings | `a b c` | words \\| more |"));
	assert_non_null(strstr(buf, "| `color` | one of `red`, `green`, `blue` | `red` |"));
	assert_non_null(strstr(buf, "| `policy` | map or list (see the text) | see the text |"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_values, teardown),
		cmocka_unit_test_teardown(test_errors, teardown),
		cmocka_unit_test_teardown(test_unknown, teardown),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_no_default),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
