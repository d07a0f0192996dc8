#include "config.h"
/*
 * NAME
 *	test_spf_policy - SPF policy tables, overrides and the plugin's options
 * DESCRIPTION
 *	Proves that the default policy is the one documented (softfail:
 *	verify, fail and permerror: reject, temperror: tempfail, the rest
 *	accept; HELO: fail rejects), that an override for a whole sender
 *	address beats one for its domain, which beats the policy, that an
 *	override only changes the results it names, that keys compare
 *	without regard to case and "@domain" means the domain; and that
 *	the options of an spf instance, read through the core's own
 *	configuration tree and API table, give these tables, and that
 *	each bad value (unknown result, unknown action, bad CIDR, bad
 *	best_guess record, bad explanation macro, bad forwarder domain)
 *	is reported at its line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api.h"
#include "cfgtree.h"
#include "session.h"
#include "spf_options.h"
#include "spf_policy.h"

static struct cfgtree *tree;

static void
test_defaults(void **state)
{
	struct spf_policy p;

	(void)state;
	spf_policy_init(&p);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_PASS), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_NEUTRAL), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_NONE), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_SOFTFAIL), SPF_ACT_VERIFY);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_FAIL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_PERMERROR), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_mailfrom(&p, "a@x.example", "x.example", SPFR_TEMPERROR), SPF_ACT_TEMPFAIL);
	assert_int_equal(spf_policy_helo(&p, SPFR_FAIL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_helo(&p, SPFR_SOFTFAIL), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_helo(&p, SPFR_TEMPERROR), SPF_ACT_ACCEPT);
	spf_policy_free(&p);
}

static void
test_overrides(void **state)
{
	struct spf_policy p;
	struct spf_policy_table dom, addr;

	(void)state;
	spf_policy_init(&p);
	spf_policy_table_clear(&dom);
	dom.act[SPFR_NEUTRAL] = SPF_ACT_REJECT;
	dom.act[SPFR_SOFTFAIL] = SPF_ACT_REJECT;
	assert_int_equal(spf_policy_override(&p, "AOL.com", &dom), 0);
	spf_policy_table_clear(&addr);
	addr.act[SPFR_NEUTRAL] = SPF_ACT_TAG;
	assert_int_equal(spf_policy_override(&p, "newsletter@aol.com", &addr), 0);
	spf_policy_table_clear(&dom);
	dom.act[SPFR_FAIL] = SPF_ACT_TEMPFAIL;
	assert_int_equal(spf_policy_override(&p, "@legacy.example", &dom), 0);

	/* the domain's override */
	assert_int_equal(spf_policy_mailfrom(&p, "someone@aol.com", "aol.com", SPFR_NEUTRAL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_mailfrom(&p, "someone@Aol.COM", "Aol.COM", SPFR_SOFTFAIL), SPF_ACT_REJECT);
	/* results the override does not name keep the policy */
	assert_int_equal(spf_policy_mailfrom(&p, "someone@aol.com", "aol.com", SPFR_PASS), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_mailfrom(&p, "someone@aol.com", "aol.com", SPFR_FAIL), SPF_ACT_REJECT);
	/* the address beats the domain, for the results it names */
	assert_int_equal(spf_policy_mailfrom(&p, "Newsletter@aol.com", "aol.com", SPFR_NEUTRAL), SPF_ACT_TAG);
	assert_int_equal(spf_policy_mailfrom(&p, "newsletter@aol.com", "aol.com", SPFR_SOFTFAIL), SPF_ACT_REJECT);
	/* "@domain" is the domain; subdomains are not covered */
	assert_int_equal(spf_policy_mailfrom(&p, "x@legacy.example", "legacy.example", SPFR_FAIL), SPF_ACT_TEMPFAIL);
	assert_int_equal(spf_policy_mailfrom(&p, "x@mx.legacy.example", "mx.legacy.example", SPFR_FAIL), SPF_ACT_REJECT);
	/* other domains are untouched */
	assert_int_equal(spf_policy_mailfrom(&p, "a@example.net", "example.net", SPFR_NEUTRAL), SPF_ACT_ACCEPT);
	spf_policy_free(&p);
}

static void
test_actions(void **state)
{
	(void)state;
	assert_int_equal(spf_action_parse("Reject"), SPF_ACT_REJECT);
	assert_int_equal(spf_action_parse("verify"), SPF_ACT_VERIFY);
	assert_int_equal(spf_action_parse("drop"), -1);
	assert_true(spf_action_worse(SPF_ACT_REJECT, SPF_ACT_TEMPFAIL));
	assert_true(spf_action_worse(SPF_ACT_TEMPFAIL, SPF_ACT_VERIFY));
	assert_true(spf_action_worse(SPF_ACT_VERIFY, SPF_ACT_TAG));
	assert_true(spf_action_worse(SPF_ACT_TAG, SPF_ACT_ACCEPT));
	assert_false(spf_action_worse(SPF_ACT_ACCEPT, SPF_ACT_ACCEPT));
	assert_int_equal(spf_result_parse("PermError"), SPFR_PERMERROR);
	assert_int_equal(spf_result_parse("unknown"), -1);
}

/* Load "options:" from YAML text the way modmilterd reads an instance. */
static int
load(const char *yaml, struct spf_conf *c)
{
	if (tree)
		cfgtree_free(tree);
	tree = cfgtree_parse("test.yaml", yaml, strlen(yaml));
	assert_non_null(tree);
	assert_int_equal(tree->nerrors, 0);
	return spf_conf_load(&core_api, cfg_get(tree->root, "options"), c);
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

static void
test_options(void **state)
{
	struct spf_conf c;

	(void)state;
	assert_int_equal(load(
	    "options:\n"
	    "  policy: { softfail: reject, neutral: tag }\n"
	    "  helo_policy: { fail: accept, softfail: tempfail }\n"
	    "  overrides: { \"aol.com\": { neutral: reject, softfail: reject } }\n"
	    "  best_guess: \"v=spf1 mx -all\"\n"
	    "  received_spf: false\n"
	    "  skip: { clients: [192.0.2.0/24, \"2001:db8::1\"], senders: [\"@lists.example\", boss@example.org] }\n"
	    "  trusted_forwarders: [pobox.com]\n"
	    "  time_limit: 5s\n"
	    "  void_limit: 3\n"
	    "  dns: { timeout: 2s, retries: 1, cache: false }\n", &c), 0);
	assert_int_equal(spf_policy_mailfrom(&c.policy, "a@b.example", "b.example", SPFR_SOFTFAIL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_mailfrom(&c.policy, "a@b.example", "b.example", SPFR_NEUTRAL), SPF_ACT_TAG);
	assert_int_equal(spf_policy_mailfrom(&c.policy, "a@b.example", "b.example", SPFR_FAIL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_mailfrom(&c.policy, "a@aol.com", "aol.com", SPFR_NEUTRAL), SPF_ACT_REJECT);
	assert_int_equal(spf_policy_helo(&c.policy, SPFR_FAIL), SPF_ACT_ACCEPT);
	assert_int_equal(spf_policy_helo(&c.policy, SPFR_SOFTFAIL), SPF_ACT_TEMPFAIL);
	assert_string_equal(c.best_guess, "v=spf1 mx -all");
	assert_false(c.received_spf);
	assert_true(c.authres);
	assert_int_equal(c.nskip_clients, 2);
	assert_int_equal(c.skip_clients[0].bits, 24);
	assert_int_equal(c.skip_clients[1].bits, 128);
	assert_int_equal(c.nskip_senders, 2);
	assert_string_equal(c.skip_senders[0], "lists.example");
	assert_string_equal(c.forwarders[0], "pobox.com");
	assert_true(c.time_limit == 5);
	assert_int_equal(c.void_limit, 3);
	assert_true(c.dns_timeout == 2);
	assert_false(c.dns_cache);
	spf_conf_free(&c);

	/* no options at all: the defaults of doc/plugins/spf.md */
	assert_int_equal(spf_conf_load(&core_api, NULL, &c), 0);
	assert_string_equal(c.best_guess, "v=spf1 a/24 mx/24 ptr");
	assert_true(c.received_spf && c.authres && c.dns_cache);
	assert_true(c.time_limit == 20);
	assert_int_equal(c.void_limit, 2);
	assert_int_equal(spf_policy_mailfrom(&c.policy, "a@b.example", "b.example", SPFR_SOFTFAIL), SPF_ACT_VERIFY);
	spf_conf_free(&c);
}

static void
test_option_errors(void **state)
{
	struct spf_conf c;

	(void)state;
	assert_int_equal(load(
	    "options:\n"
	    "  policy: { softfial: reject, fail: bounce }\n"
	    "  overrides: { \"aol.com\": { neutral: maybe } }\n"
	    "  best_guess: \"v=spf1 a:foo-bar -all\"\n"
	    "  explanation: \"see %{x}\"\n"
	    "  skip: { clients: [192.0.2.0/33] }\n"
	    "  trusted_forwarders: [localhost]\n", &c), -1);
	expect_error("test.yaml:2:", "unknown SPF result 'softfial'");
	expect_error("test.yaml:2:", "unknown action 'bounce' for fail");
	expect_error("test.yaml:3:", "unknown action 'maybe'");
	expect_error("test.yaml:4:15: ", "best_guess: invalid domain-spec");
	expect_error("test.yaml:5:16: ", "explanation: invalid macro-string");
	expect_error("test.yaml:6:", "not an address or CIDR: '192.0.2.0/33'");
	expect_error("test.yaml:7:", "not a domain name: 'localhost'");
	assert_null(c.best_guess);

	assert_int_equal(load("options:\n  time_limit: 0s\n", &c), -1);
	expect_error("test.yaml:2:15: ", "time_limit must be at least 1s");
}

static int
teardown(void **state)
{
	(void)state;
	if (tree)
		cfgtree_free(tree);
	tree = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_actions),
		cmocka_unit_test_teardown(test_options, teardown),
		cmocka_unit_test_teardown(test_option_errors, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
