#include "config.h"
/*
 * NAME
 *	test_conf - configuration errors at their FILE:LINE:COL, all of them
 * DESCRIPTION
 *	Writes YAML files under /tmp and loads them with conf_load(), the
 *	errors going to a memory stream. Proves that each of these is
 *	reported as exactly one "FILE:LINE:COL: message" line at the
 *	position of the offending node: a YAML syntax error, an unknown
 *	top-level key, a value of the wrong type, a bad network in
 *	networks.internal, a plugin module file that does not exist, a
 *	plugin built for another SDK major, a plugin whose init() fails
 *	(its message shown), an option the plugin never read, options
 *	read through a plugin's table (tabplug) and a table whose default
 *	does not parse (badtable, refused at load), a typed
 *	option of the wrong type, a bad mode, and a chain naming an
 *	instance that does not exist; that several errors in one file are
 *	all reported in one run; that nested aliases expanding to too
 *	many values are refused; that a plugin file writable by others or
 *	by its group, or in a directory writable by others or by its group,
 *	is refused;
 *	and that a valid file loads with the instances, chains, per
 *	instance settings and macro lists it describes.
 */
#include <fcntl.h>
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

#include "conf.h"
#include "log.h"

#define PLUGDIR	BUILDDIR "/tests/plugins/.libs"
#define HEAD	"plugin_dir: " PLUGDIR "\n" \
		"store: /tmp/modmilter-unit-store\n"

struct result {
	char path[64];
	const char *text;
	struct conf *c;
	char *errs;
	size_t nlines;
};

/* The result the running test holds; cleanup() frees it if an
   assertion jumps out of the test (results are static for that). */
static struct result *pending;

static void
load(struct result *r, const char *text)
{
	FILE *fp;
	size_t len, tl = strlen(text);
	int fd;

	memset(r, 0, sizeof(*r));
	r->text = text;
	strcpy(r->path, "/tmp/mmconf-XXXXXX");
	fd = mkstemp(r->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, tl), (ssize_t)tl);
	close(fd);
	fp = open_memstream(&r->errs, &len);
	assert_non_null(fp);
	r->c = conf_load(r->path, fp);
	fclose(fp);
	pending = r;
	for (const char *p = r->errs; *p; p++)
		if (*p == '\n')
			r->nlines++;
	unlink(r->path);
}

static void
done(struct result *r)
{
	if (r->c)
		conf_unref(r->c);
	free(r->errs);
	r->c = NULL;
	r->errs = NULL;
	pending = NULL;
}

/*
 * Line and column (1-based) of the nth (1-based) occurrence of needle,
 * searched after the common HEAD (which holds BUILDDIR, whatever it is).
 */
static void
pos_of(const char *text, const char *needle, int nth, int *line, int *col)
{
	const char *p = text, *hit = NULL;

	if (strncmp(text, HEAD, strlen(HEAD)) == 0)
		p += strlen(HEAD);

	for (int i = 0; i < nth; i++) {
		hit = strstr(p, needle);
		if (hit == NULL)
			fail_msg("'%s' (#%d) is not in the test's YAML", needle, nth);
		p = hit + 1;
	}
	*line = 1;
	*col = 1;
	for (p = text; p < hit; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/*
 * Some error line must read "PATH:LINE:COL: ...msg..." where LINE:COL is
 * where the nth occurrence of needle starts in the YAML.
 */
static void
expect_at(const struct result *r, const char *needle, int nth, const char *msg)
{
	char prefix[128];
	int line, col;
	const char *p = r->errs;

	pos_of(r->text, needle, nth, &line, &col);
	snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", r->path, line, col);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			char *l = strndup(p, ll);
			int ok = strstr(l + strlen(prefix), msg) != NULL;
			free(l);
			if (ok)
				return;
		}
		p = eol ? eol + 1 : NULL;
	}
	fail_msg("no error \"%s...%s...\" in:\n%s", prefix, msg, r->errs);
}

static void
expect_count(const struct result *r, size_t n)
{
	if (r->nlines != n)
		fail_msg("%zu error lines, expected %zu:\n%s", r->nlines, n, r->errs);
}

static void
expect_failed(const struct result *r, size_t nerrors)
{
	if (r->c != NULL)
		fail_msg("the configuration was accepted (%zu error lines)", r->nlines);
	expect_count(r, nerrors);
}

static int
has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);

	if (list == NULL)
		return 0;
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, " ");
		if (l == tl && strncmp(p, tok, tl) == 0)
			return 1;
		p += l;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* --- errors, one at a time --- */

static void
test_yaml_syntax(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "listen: inet:8890@127.0.0.1\n"
	    "  bad: indent\n"
	    "authserv_id: mx.example.com\n");
	expect_failed(&r, 1);
	/* libyaml places it at the ':' of line 4 */
	expect_at(&r, ": indent", 1, "YAML syntax error");
	done(&r);

	load(&r, HEAD
	    "plugins: { t1: [1, 2 }\n");
	expect_failed(&r, 1);
	expect_at(&r, "}", 1, "YAML syntax error");
	done(&r);
}

static void
test_unknown_key(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "lisen: inet:8890@127.0.0.1\n"
	    "authserv_id: mx.example.com\n");
	expect_failed(&r, 1);
	expect_at(&r, "lisen", 1, "unknown key 'lisen'");
	done(&r);

	/* a misspelt key inside a plugin instance and inside a chain */
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, mdoe: monitor }\n"
	    "chains:\n"
	    "  - name: c1\n"
	    "    plugins: [t1]\n"
	    "    mach: { client: internal }\n");
	expect_failed(&r, 2);
	expect_at(&r, "mdoe", 1, "unknown key 'mdoe'");
	expect_at(&r, "mach", 1, "unknown key 'mach'");
	done(&r);
}

static void
test_wrong_type(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "message_memory_limit: lots\n");
	expect_failed(&r, 1);
	expect_at(&r, "lots", 1, "'message_memory_limit' must be an integer");
	done(&r);

	load(&r, HEAD
	    "listen: [a, b]\n");
	expect_failed(&r, 1);
	expect_at(&r, "[a, b]", 1, "'listen' must be a string");
	done(&r);

	load(&r, HEAD
	    "message_memory_limit: 12\n");
	expect_failed(&r, 1);
	expect_at(&r, "12", 1, "'message_memory_limit' must be between");
	done(&r);
}

static void
test_bad_cidr(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "networks:\n"
	    "  internal: [127.0.0.0/8, 10.1.0.0/8]\n"
	    "  trusted_relays: []\n");
	expect_failed(&r, 1);
	expect_at(&r, "10.1.0.0/8", 1, "host bits");
	done(&r);

	load(&r, HEAD
	    "networks:\n"
	    "  internal:\n"
	    "    - 127.0.0.0/8\n"
	    "    - not-a-network\n");
	expect_failed(&r, 1);
	expect_at(&r, "not-a-network", 1, "not-a-network");
	done(&r);
}

static void
test_bad_store(void **state)
{
	static struct result r;

	(void)state;
	load(&r, "plugin_dir: " PLUGDIR "\n"
	    "store:\n"
	    "  backend: redis\n"
	    "  port: 99999\n"
	    "  timeout: soon\n");
	expect_failed(&r, 2);
	expect_at(&r, "99999", 1, "port");
	expect_at(&r, "soon", 1, "timeout");
	done(&r);

	load(&r, "plugin_dir: " PLUGDIR "\n"
	    "store:\n"
	    "  backend: memcached\n");
	expect_failed(&r, 1);
	expect_at(&r, "memcached", 1, "lmdb or redis");
	done(&r);
}

static void
test_module_absent(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: nosuchplugin, options: { a: 1, b: 2 } }\n");
	/* one error: the options of a module that did not load are not
	   also reported as unknown */
	expect_failed(&r, 1);
	expect_at(&r, "nosuchplugin", 1, "plugin 't1'");
	expect_at(&r, "nosuchplugin", 1, PLUGDIR "/nosuchplugin.so");
	expect_at(&r, "nosuchplugin", 1, "No such file");
	done(&r);

	/* no module key: the instance name is the module name */
	load(&r, HEAD
	    "plugins:\n"
	    "  spf: { mode: enforce }\n");
	expect_failed(&r, 1);
	expect_at(&r, "spf", 1, "spf.so");
	done(&r);
}

static void
test_wrong_sdk(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  old: { module: badabi }\n");
	expect_failed(&r, 1);
	expect_at(&r, "badabi", 1, "plugin 'old'");
	expect_at(&r, "badabi", 1, "SDK 2.0");
	expect_at(&r, "badabi", 1, "built for SDK 2.0");
	expect_at(&r, "badabi", 1, "major versions must match");
	done(&r);
}

/* options read through the plugin's table (tabplug.so), and a table
   whose default does not parse (badtable.so) refused at load */
static void
test_option_table(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: tabplug, options: { level: 12 } }\n"
	    "  t2: { module: tabplug, options: { level: 3, tagg: x } }\n"
	    "  t3: { module: badtable }\n");
	expect_failed(&r, 3);
	expect_at(&r, "12", 1, "'level' must be between 1 and 9");
	expect_at(&r, "tagg", 1, "unknown option 'tagg'");
	expect_at(&r, "badtable", 1, "plugin 't3': malformed option table: "
	    "default of level: 'level' must be an integer, not 'eleven'");
	done(&r);
}

static void
test_init_failure(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  good: { module: testplug }\n"
	    "  t1: { module: testplug, options: { fail_init: \"boom\" } }\n");
	expect_failed(&r, 1);
	/* reported at the options of the failing instance */
	expect_at(&r, "{ fail_init", 1, "plugin 't1': boom");
	done(&r);
}

static void
test_unknown_option(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { nosuch: 1 } }\n");
	expect_failed(&r, 1);
	expect_at(&r, "nosuch", 1, "unknown option 'nosuch'");
	done(&r);

	/* block style, next to options the plugin does read */
	load(&r, HEAD
	    "plugins:\n"
	    "  t1:\n"
	    "    module: testplug\n"
	    "    options:\n"
	    "      trace: X-Trace\n"
	    "      verdicts: { envfrom: reject }\n"
	    "      tarce: X-Typo\n");
	expect_failed(&r, 1);
	expect_at(&r, "tarce", 1, "unknown option 'tarce'");
	done(&r);
}

static void
test_option_type(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { sleep: forever } }\n");
	expect_failed(&r, 1);
	expect_at(&r, "forever", 1, "'sleep' must be a duration");
	done(&r);

	/* a plugin's own opt_error() */
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, options: { verdicts: { envfrom: maybe } } }\n");
	expect_failed(&r, 1);
	expect_at(&r, "maybe", 1, "bad stage/verdict envfrom");
	done(&r);
}

static void
test_instance_core_keys(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug, mode: enforcing, on_error: ignore, timeout: soon }\n");
	expect_failed(&r, 3);
	expect_at(&r, "enforcing", 1, "mode must be enforce or monitor");
	expect_at(&r, "ignore", 1, "on_error must be tempfail, continue or reject");
	expect_at(&r, "soon", 1, "'timeout' must be a duration");
	done(&r);
}

static void
test_bad_rcpt_domain(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug }\n"
	    "chains:\n"
	    "  - name: lists\n"
	    "    match: { rcpt_domain: [\"*.example.org\", \"@example.com\", good.example] }\n"
	    "    plugins: [t1]\n");
	expect_failed(&r, 2);
	expect_at(&r, "[\"*.example.org", 1, "'*.example.org' is not a domain");
	expect_at(&r, "[\"*.example.org", 1, "'@example.com' is not a domain");
	done(&r);
}

static void
test_empty_chains(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug }\n"
	    "chains: []\n");
	expect_failed(&r, 1);
	expect_at(&r, "[]", 1, "'chains' is empty");
	done(&r);
}

static void
test_chain_unknown_instance(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  t1: { module: testplug }\n"
	    "chains:\n"
	    "  - name: main\n"
	    "    plugins: [t1, ghost]\n");
	expect_failed(&r, 1);
	expect_at(&r, "ghost", 1, "chain 'main'");
	expect_at(&r, "ghost", 1, "'ghost'");
	done(&r);
}

static void
test_unreadable_file(void **state)
{
	char *errs;
	size_t len;
	FILE *fp = open_memstream(&errs, &len);
	struct conf *c;

	(void)state;
	c = conf_load("/nonexistent/modmilter.yaml", fp);
	fclose(fp);
	assert_null(c);
	assert_non_null(strstr(errs, "/nonexistent/modmilter.yaml"));
	assert_non_null(strstr(errs, "No such file"));
	free(errs);
}

/* --- all together --- */

static void
test_many_errors(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "lisen: inet:8890@127.0.0.1\n"
	    "message_memory_limit: lots\n"
	    "networks:\n"
	    "  internal: [127.0.0.0/8, 10.1.0.0/8]\n"
	    "plugins:\n"
	    "  t1: { module: testplug, options: { nosuch: 1 } }\n"
	    "  t2: { module: nothere }\n"
	    "  t3: { module: testplug, options: { fail_init: \"kaboom\" } }\n"
	    "  t4: { module: badabi }\n"
	    "  t5: { module: testplug, mode: sometimes }\n"
	    "chains:\n"
	    "  - name: main\n"
	    "    plugins: [t1, ghost]\n");
	expect_failed(&r, 9);
	expect_at(&r, "lisen", 1, "unknown key 'lisen'");
	expect_at(&r, "lots", 1, "must be an integer");
	expect_at(&r, "10.1.0.0/8", 1, "host bits");
	expect_at(&r, "nosuch", 1, "unknown option 'nosuch'");
	expect_at(&r, "nothere", 1, "plugin 't2'");
	expect_at(&r, "{ fail_init", 1, "kaboom");
	expect_at(&r, "badabi", 1, "SDK");
	expect_at(&r, "sometimes", 1, "mode must be");
	expect_at(&r, "ghost", 1, "no plugin instance named 'ghost'");
	done(&r);
}

/* Aliases nested nine deep stand for a billion values: refused with one
   error, without exhausting memory (on reload that ended the daemon). */
static void
test_alias_bomb(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
	expect_failed(&r, 1);
	if (strstr(r.errs, "more than 200000 values") == NULL)
		fail_msg("unexpected error: %s", r.errs);
	done(&r);

	/* an alias used inside its own anchor: a tree deeper than 64 with
	   tens of thousands of leaves too deep, reported once (each used
	   to be an error line: 72,000 of them) */
	load(&r, HEAD
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "h: &h [*c, *h, *h, *h, *h, *h, *h]\n");
	assert_null(r.c);
	{
		size_t deep = 0;
		for (const char *p = r.errs; (p = strstr(p, "nesting too deep")) != NULL; p++)
			deep++;
		if (deep != 1)
			fail_msg("'nesting too deep' %zu times", deep);
	}
	done(&r);

	/* the same aliases, used a few times, load */
	load(&r, HEAD
	    "networks: { internal: &n [127.0.0.0/8], trusted_relays: *n }\n");
	assert_non_null(r.c);
	assert_int_equal(r.c->ntrusted, 1);
	done(&r);
}

/* --- what loads --- */

static void
test_valid(void **state)
{
	static struct result r;
	struct conf *c;
	struct instance *t1, *t2, *hello;

	(void)state;
	load(&r, HEAD
	    "listen: inet:9999@127.0.0.1\n"
	    "authserv_id: mx.example.com\n"
	    "networks: { internal: [127.0.0.0/8, 10.0.0.0/8], trusted_relays: [192.0.2.0/24] }\n"
	    "plugins:\n"
	    "  t1: { module: testplug, mode: monitor, on_error: continue, timeout: 250ms,\n"
	    "        options: { trace: X-Trace, verdicts: { envfrom: reject } } }\n"
	    "  t2: { module: testplug, on_error: reject }\n"
	    "  hello: { module: " BUILDDIR "/.libs/hello.so, options: { greeting: hi } }\n"
	    "chains:\n"
	    "  - name: outbound\n"
	    "    match: { client: internal }\n"
	    "    plugins: [t1]\n"
	    "  - name: inbound\n"
	    "    plugins: [t1, t2, hello]\n");
	if (r.c == NULL)
		fail_msg("valid configuration refused:\n%s", r.errs);
	expect_count(&r, 0);
	c = r.c;
	assert_string_equal(c->listen, "inet:9999@127.0.0.1");
	assert_string_equal(c->authserv_id, "mx.example.com");
	assert_string_equal(c->plugin_dir, PLUGDIR);
	assert_string_equal(c->store.path, "/tmp/modmilter-unit-store");
	assert_int_equal(c->ninternal, 2);
	assert_int_equal(c->ntrusted, 1);

	assert_int_equal(c->ninst, 3);
	t1 = conf_instance(c, "t1");
	t2 = conf_instance(c, "t2");
	hello = conf_instance(c, "hello");
	assert_non_null(t1);
	assert_non_null(t2);
	assert_non_null(hello);
	assert_null(conf_instance(c, "t3"));
	assert_ptr_equal(c->inst[0], t1);
	assert_ptr_equal(c->inst[2], hello);
	assert_int_equal(t1->index, 0);
	assert_int_equal(hello->index, 2);
	assert_true(t1->monitor);
	assert_int_equal(t1->on_error, ONERR_CONTINUE);
	assert_true(t1->timeout > 0.2499 && t1->timeout < 0.2501);
	assert_false(t2->monitor);
	assert_int_equal(t2->on_error, ONERR_REJECT);
	assert_true(t2->timeout == 0);
	assert_string_equal(t1->p->name, "testplug");
	assert_string_equal(hello->p->name, "hello");
	assert_non_null(t1->data);
	assert_true(c->any_monitor);

	assert_int_equal(c->nchains, 2);
	assert_string_equal(c->chains[0].name, "outbound");
	assert_int_equal(c->chains[0].client, CM_INTERNAL);
	assert_int_equal(c->chains[0].n, 1);
	assert_ptr_equal(c->chains[0].plugins[0], t1);
	assert_string_equal(c->chains[1].name, "inbound");
	assert_int_equal(c->chains[1].client, CM_ANY);
	assert_int_equal(c->chains[1].auth, -1);
	assert_int_equal(c->chains[1].n, 3);
	assert_ptr_equal(c->chains[1].plugins[0], t1);
	assert_ptr_equal(c->chains[1].plugins[1], t2);
	assert_ptr_equal(c->chains[1].plugins[2], hello);
	assert_true(c->chains[1].actions & MM_ACT_CHGHDRS);
	assert_int_equal(c->chains[0].actions, t1->p->actions);
	assert_false(c->rcpt_chains);
	assert_false(c->auth_chains);

	assert_true(c->hooks & (1u << MM_STAGE_ENVFROM));
	assert_true(c->hooks & (1u << MM_STAGE_EOM));
	assert_false(c->hooks & (1u << MM_STAGE_UNKNOWN));
	assert_true(c->actions & MM_ACT_ADDHDRS);
	assert_true(c->actions & MM_ACT_AUTHRES);

	/* the core's own macros */
	if (!has_token(c->macros[MM_STAGE_CONNECT], "{daemon_name}"))
		fail_msg("connect macros '%s'", c->macros[MM_STAGE_CONNECT]);
	if (!has_token(c->macros[MM_STAGE_ENVFROM], "i") ||
	    !has_token(c->macros[MM_STAGE_ENVFROM], "{auth_authen}"))
		fail_msg("envfrom macros '%s'", c->macros[MM_STAGE_ENVFROM]);
	assert_true(has_token(c->macros[MM_STAGE_ENVRCPT], "i"));
	assert_true(has_token(c->macros[MM_STAGE_EOM], "i"));

	/* a generation is reference counted */
	conf_ref(c);
	assert_int_equal(c->refs, 2);
	conf_unref(c);
	assert_int_equal(c->refs, 1);
	done(&r);
}

static void
test_default_chain(void **state)
{
	static struct result r;

	(void)state;
	load(&r, HEAD
	    "plugins:\n"
	    "  b: { module: testplug }\n"
	    "  a: { module: testplug }\n");
	if (r.c == NULL)
		fail_msg("refused:\n%s", r.errs);
	assert_int_equal(r.c->nchains, 1);
	assert_int_equal(r.c->chains[0].n, 2);
	assert_string_equal(r.c->chains[0].plugins[0]->name, "b");
	assert_string_equal(r.c->chains[0].plugins[1]->name, "a");
	assert_int_equal(r.c->chains[0].auth, -1);
	assert_int_equal(r.c->chains[0].client, CM_ANY);
	done(&r);

	/* matches */
	load(&r, HEAD
	    "plugins:\n"
	    "  a: { module: testplug }\n"
	    "chains:\n"
	    "  - { name: authd, match: { auth: true }, plugins: [a] }\n"
	    "  - { name: rcpt, match: { rcpt_domain: [example.org, .example.net] }, plugins: [a] }\n"
	    "  - { name: nets, match: { client: [192.0.2.0/24, \"2001:db8::/32\"] }, plugins: [a] }\n"
	    "  - { name: d, match: { daemon: MTA-v4 }, plugins: [a] }\n");
	if (r.c == NULL)
		fail_msg("refused:\n%s", r.errs);
	assert_int_equal(r.c->nchains, 4);
	assert_int_equal(r.c->chains[0].auth, 1);
	assert_true(r.c->auth_chains);
	assert_int_equal(r.c->chains[1].nrcpt_domains, 2);
	assert_string_equal(r.c->chains[1].rcpt_domains[1], ".example.net");
	assert_true(r.c->rcpt_chains);
	assert_int_equal(r.c->chains[2].client, CM_CIDR);
	assert_int_equal(r.c->chains[2].nnets, 2);
	assert_int_equal(r.c->chains[3].ndaemons, 1);
	assert_string_equal(r.c->chains[3].daemons[0], "MTA-v4");
	done(&r);
}

/* --- plugin file safety --- */

static char tmpdir[64];
static char plugpath[128];

static void
copy_testplug(void)
{
	int in, out;
	char buf[65536];
	ssize_t n;

	strcpy(tmpdir, "/tmp/mmplug-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(plugpath, sizeof(plugpath), "%s/testplug.so", tmpdir);
	in = open(PLUGDIR "/testplug.so", O_RDONLY);
	assert_true(in >= 0);
	out = open(plugpath, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void
remove_testplug(void)
{
	chmod(tmpdir, 0700);
	unlink(plugpath);
	rmdir(tmpdir);
	plugpath[0] = tmpdir[0] = 0;
}

static int
cleanup(void **state)
{
	(void)state;
	if (pending)
		done(pending);
	if (plugpath[0])
		remove_testplug();
	return 0;
}

static void
load_copy(struct result *r, char *yaml, size_t size)
{
	snprintf(yaml, size, HEAD
	    "plugins:\n"
	    "  t1: { module: %s }\n", plugpath);
	load(r, yaml);
}

static void
test_world_writable_plugin(void **state)
{
	static struct result r;
	char yaml[1024];

	(void)state;
	copy_testplug();

	assert_int_equal(chmod(plugpath, 0666), 0);
	load_copy(&r, yaml, sizeof(yaml));
	expect_failed(&r, 1);
	expect_at(&r, plugpath, 1, "writable by others");
	expect_at(&r, plugpath, 1, "plugin 't1'");
	done(&r);

	assert_int_equal(chmod(plugpath, 0664), 0);
	load_copy(&r, yaml, sizeof(yaml));
	expect_failed(&r, 1);
	expect_at(&r, plugpath, 1, "writable by its group");
	done(&r);

	/* the same file, safe again, loads: the mode was the reason */
	assert_int_equal(chmod(plugpath, 0644), 0);
	load_copy(&r, yaml, sizeof(yaml));
	if (r.c == NULL)
		fail_msg("safe copy refused:\n%s", r.errs);
	assert_int_equal(r.c->ninst, 1);
	done(&r);

	/* a directory anyone may write into (without the sticky bit) */
	assert_int_equal(chmod(tmpdir, 0777), 0);
	load_copy(&r, yaml, sizeof(yaml));
	expect_failed(&r, 1);
	expect_at(&r, plugpath, 1, "writable by others");
	expect_at(&r, plugpath, 1, tmpdir);
	done(&r);
	assert_int_equal(chmod(tmpdir, 0700), 0);

	remove_testplug();
}

/* loader.h: "neither it nor its directory may be writable by group or
   others" -- the directory half, for the group. */
static void
test_group_writable_plugin_dir(void **state)
{
	static struct result r;
	char yaml[1024];

	(void)state;
	copy_testplug();
	assert_int_equal(chmod(plugpath, 0644), 0);
	assert_int_equal(chmod(tmpdir, 0770), 0);
	load_copy(&r, yaml, sizeof(yaml));
	expect_failed(&r, 1);
	expect_at(&r, plugpath, 1, "writable by its group");
	expect_at(&r, plugpath, 1, tmpdir);
	done(&r);
	remove_testplug();	/* cleanup() does it if an assertion failed */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_yaml_syntax, cleanup),
		cmocka_unit_test_teardown(test_unknown_key, cleanup),
		cmocka_unit_test_teardown(test_alias_bomb, cleanup),
		cmocka_unit_test_teardown(test_wrong_type, cleanup),
		cmocka_unit_test_teardown(test_bad_cidr, cleanup),
		cmocka_unit_test_teardown(test_bad_store, cleanup),
		cmocka_unit_test_teardown(test_module_absent, cleanup),
		cmocka_unit_test_teardown(test_wrong_sdk, cleanup),
		cmocka_unit_test_teardown(test_init_failure, cleanup),
		cmocka_unit_test_teardown(test_option_table, cleanup),
		cmocka_unit_test_teardown(test_unknown_option, cleanup),
		cmocka_unit_test_teardown(test_option_type, cleanup),
		cmocka_unit_test_teardown(test_instance_core_keys, cleanup),
		cmocka_unit_test_teardown(test_chain_unknown_instance, cleanup),
		cmocka_unit_test_teardown(test_bad_rcpt_domain, cleanup),
		cmocka_unit_test_teardown(test_empty_chains, cleanup),
		cmocka_unit_test_teardown(test_unreadable_file, cleanup),
		cmocka_unit_test_teardown(test_many_errors, cleanup),
		cmocka_unit_test_teardown(test_valid, cleanup),
		cmocka_unit_test_teardown(test_default_chain, cleanup),
		cmocka_unit_test_teardown(test_world_writable_plugin, cleanup),
		cmocka_unit_test_teardown(test_group_writable_plugin_dir, cleanup),
	};

	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_conf");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
