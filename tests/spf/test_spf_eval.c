#include "config.h"
/*
 * NAME
 *	test_spf_eval - failure paths, macros and concurrency of the evaluator
 * DESCRIPTION
 *	With DNS answered by the zonedns layer (test zone data), proves
 *	that: an error raised inside libspf2 during a check (its error
 *	handler, which would abort the process) ends that check with a
 *	temperror naming the error, and the next check works; the time
 *	limit ends a check with a temperror at the next DNS query; a DNS
 *	outage gives temperror even where "+all" would follow; the
 *	explanation keeps its spaces (libspf2's own expansion loses
 *	them); the void lookup limit is configurable; the macro examples
 *	of RFC 7208 §7.4 expand as written there; and eight threads
 *	checking at once through one libspf2 cache get the right results
 *	while the layer below sees each name about once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "spf_eval.h"
#include "spf_guard.h"
#include "spf_macro.h"
#include "zonedns.h"
#include <spf2/spf_dns_cache.h>

static SPF_dns_server_t *zone;

static struct spf_check *
run(const char *ip, const char *sender, double limit, int voids)
{
	struct spf_env env;
	struct spf_request rq;

	memset(&env, 0, sizeof(env));
	env.dns = zone;
	env.deadline = mm_clock_mono() + limit;
	env.void_limit = voids;
	env.default_exp = "DEFAULT";
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(spf_ip_parse(ip, &rq.ip), 0);
	rq.sender = sender;
	rq.domain = strrchr(sender, '@') + 1;
	rq.helo = "mail.example.net";
	return spf_check_run(&env, &rq);
}

static int
setup(void **state)
{
	(void)state;
	spf_guard_install();
	zone = zonedns_new();
	zonedns_add(zone, "example.org", ns_t_txt, "v=spf1 a:mail.example.org -all", 0);
	zonedns_add(zone, "mail.example.org", ns_t_a, "192.0.2.10", 0);
	zonedns_add(zone, "down.example.org", ns_t_txt, "v=spf1 include:dead.example.org +all", 0);
	zonedns_add_timeout(zone, "dead.example.org");
	zonedns_add(zone, "exp.example.org", ns_t_txt,
	    "v=spf1 -all exp=why.example.org", 0);
	zonedns_add(zone, "why.example.org", ns_t_txt,
	    "Mail  from %{o}%_via %{i}  is not  accepted", 0);
	zonedns_add(zone, "voids.example.org", ns_t_txt,
	    "v=spf1 a:n1.example.org a:n2.example.org a:n3.example.org ?all", 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	SPF_dns_free(zone);
	zone = NULL;
	return 0;
}

static void
raise_error(const char *name)
{
	if (strcmp(name, "mail.example.org") == 0)
		SPF_errorx(__FILE__, __LINE__, "%s", "simulated library failure");
}

static void
test_library_error(void **state)
{
	struct spf_check *c;

	(void)state;
	zonedns_set_hook(zone, raise_error);
	c = run("192.0.2.10", "a@example.org", 20, 0);
	zonedns_set_hook(zone, NULL);
	assert_int_equal(spf_check_result(c), SPFR_TEMPERROR);
	assert_string_equal(spf_check_problem(c), "libspf2: simulated library failure");
	spf_check_free(c);

	c = run("192.0.2.10", "a@example.org", 20, 0);
	assert_int_equal(spf_check_result(c), SPFR_PASS);
	spf_check_free(c);
}

static void
slow_txt(const char *name)
{
	struct timespec ts = { 1, 200000000 };

	if (strcmp(name, "example.org") == 0)
		nanosleep(&ts, NULL);
}

static void
test_time_limit(void **state)
{
	struct spf_check *c;

	(void)state;
	zonedns_set_hook(zone, slow_txt);
	c = run("192.0.2.10", "a@example.org", 1, 0);
	zonedns_set_hook(zone, NULL);
	assert_int_equal(spf_check_result(c), SPFR_TEMPERROR);
	assert_non_null(strstr(spf_check_problem(c), "time limit exceeded"));
	spf_check_free(c);
}

static void
test_outage(void **state)
{
	struct spf_check *c;

	(void)state;
	c = run("192.0.2.10", "a@down.example.org", 20, 0);
	assert_int_equal(spf_check_result(c), SPFR_TEMPERROR);
	assert_string_equal(spf_check_problem(c), "DNS failure looking up dead.example.org TXT");
	assert_null(spf_check_explanation(c));
	spf_check_free(c);
}

static void
test_explanation_spaces(void **state)
{
	struct spf_check *c;

	(void)state;
	c = run("192.0.2.99", "a@exp.example.org", 20, 0);
	assert_int_equal(spf_check_result(c), SPFR_FAIL);
	assert_string_equal(spf_check_mechanism(c), "-all");
	assert_string_equal(spf_check_explanation(c),
	    "Mail  from exp.example.org via 192.0.2.99  is not  accepted");
	spf_check_free(c);
}

static void
test_void_limit(void **state)
{
	struct spf_check *c;

	(void)state;
	c = run("192.0.2.10", "a@voids.example.org", 20, 0);
	assert_int_equal(spf_check_result(c), SPFR_PERMERROR);
	assert_non_null(strstr(spf_check_problem(c), "more than 2 void lookups"));
	spf_check_free(c);
	c = run("192.0.2.10", "a@voids.example.org", 20, 3);
	assert_int_equal(spf_check_result(c), SPFR_NEUTRAL);
	spf_check_free(c);
	c = run("192.0.2.10", "a@voids.example.org", 20, -1);
	assert_int_equal(spf_check_result(c), SPFR_NEUTRAL);
	spf_check_free(c);
}

static const char *
no_ptr(void *arg)
{
	(void)arg;
	return NULL;
}

static void
expand(const struct spf_macro_vars *v, const char *in, const char *want)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;

	assert_int_equal(spf_macro_check(in, strlen(in), SPF_MACRO_EXP, NULL), 0);
	assert_int_equal(spf_macro_expand(in, strlen(in), SPF_MACRO_EXP, v, &b), 0);
	assert_string_equal(mm_buf_str(&b), want);
	mm_buf_free(&b);
}

/* RFC 7208 §7.4 */
static void
test_macros(void **state)
{
	struct spf_macro_vars v;
	int ends;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.s = "strong-bad@email.example.com";
	v.l = "strong-bad";
	v.o = "email.example.com";
	v.d = "email.example.com";
	v.i = "192.0.2.3";
	v.c = "192.0.2.3";
	v.v = "in-addr";
	v.h = "mx.example.org";
	v.p = no_ptr;
	expand(&v, "%{s}", "strong-bad@email.example.com");
	expand(&v, "%{o}", "email.example.com");
	expand(&v, "%{d}", "email.example.com");
	expand(&v, "%{d4}", "email.example.com");
	expand(&v, "%{d3}", "email.example.com");
	expand(&v, "%{d2}", "example.com");
	expand(&v, "%{d1}", "com");
	expand(&v, "%{dr}", "com.example.email");
	expand(&v, "%{d2r}", "example.email");
	expand(&v, "%{l}", "strong-bad");
	expand(&v, "%{l-}", "strong.bad");
	expand(&v, "%{lr}", "strong-bad");
	expand(&v, "%{lr-}", "bad.strong");
	expand(&v, "%{l1r-}", "strong");
	expand(&v, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com");
	expand(&v, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
	expand(&v, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expand(&v, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expand(&v, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net");
	expand(&v, "%{p}", "unknown");
	expand(&v, "%{S}%%%_%-", "strong-bad%40email.example.com% %20");

	assert_int_equal(spf_macro_check("%{d0}", 5, 0, NULL), -1);
	assert_int_equal(spf_macro_check("%{c}", 4, 0, NULL), -1);
	assert_int_equal(spf_macro_check("%{c}", 4, SPF_MACRO_EXP, NULL), 0);
	assert_int_equal(spf_macro_check("a %{d}", 6, 0, NULL), -1);
	assert_int_equal(spf_macro_check("foo%", 4, 0, NULL), -1);
	assert_int_equal(spf_macro_check("x.%{d}", 6, 0, &ends), 0);
	assert_true(ends);
	assert_int_equal(spf_macro_check("%{d}.com", 8, 0, &ends), 0);
	assert_false(ends);
}

/* Read-only zone data served from many threads through the cache. */
static SPF_dns_server_t *cached;

static void *
worker(void *arg)
{
	struct spf_env env;
	struct spf_request rq;
	long bad = 0;

	(void)arg;
	memset(&env, 0, sizeof(env));
	env.dns = cached;
	env.default_exp = "DEFAULT";
	memset(&rq, 0, sizeof(rq));
	rq.helo = "mail.example.net";
	for (int i = 0; i < 300; i++) {
		struct spf_check *c;
		int pass = i % 2 == 0;

		env.deadline = mm_clock_mono() + 20;
		spf_ip_parse(pass ? "192.0.2.10" : "192.0.2.11", &rq.ip);
		rq.sender = i % 3 ? "a@example.org" : "b@exp.example.org";
		rq.domain = strrchr(rq.sender, '@') + 1;
		c = spf_check_run(&env, &rq);
		if (c == NULL)
			bad++;
		else if (spf_check_result(c) != (pass && i % 3 ? SPFR_PASS : SPFR_FAIL))
			bad++;
		else if (spf_check_result(c) == SPFR_FAIL && i % 3 == 0 &&
		    strncmp(spf_check_explanation(c), "Mail  from", 10) != 0)
			bad++;
		spf_check_free(c);
	}
	return (void *)bad;
}

static void
test_threads(void **state)
{
	pthread_t t[8];
	long bad = 0;
	int before = zonedns_queries(zone);

	(void)state;
	cached = SPF_dns_cache_new(zone, "test-cache", 0, 10);
	assert_non_null(cached);
	SPF_dns_cache_set_ttl(cached, 60, 60, 60, 60);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	assert_int_equal(bad, 0);
	/* 2,400 checks, a handful of names: the cache answers nearly all */
	assert_true(zonedns_queries(zone) - before < 40);
	/* free the cache layer only; the zone below is freed in teardown */
	cached->layer_below = NULL;
	SPF_dns_free(cached);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_error),
		cmocka_unit_test(test_time_limit),
		cmocka_unit_test(test_outage),
		cmocka_unit_test(test_explanation_spaces),
		cmocka_unit_test(test_void_limit),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
