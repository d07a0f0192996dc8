/*
 * NAME
 *	spf_policy - what to do with an SPF result
 * SYNOPSIS
 *	#include "spf_policy.h"
 *
 *	struct spf_policy p;
 *	spf_policy_init(&p);
 *	spf_policy_override(&p, "aol.com", &table);
 *	act = spf_policy_mailfrom(&p, "user@aol.com", "aol.com", SPFR_NEUTRAL);
 *	act = spf_policy_helo(&p, SPFR_FAIL);
 *	spf_policy_free(&p);
 * DESCRIPTION
 *	An action per result for the MAIL FROM identity (policy), one for
 *	the HELO identity (helo_policy) and per-sender and per-domain
 *	overrides of the MAIL FROM table.
 *
 *	spf_policy_init() sets the defaults: pass, neutral, none: accept;
 *	softfail: verify; fail, permerror: reject; temperror: tempfail;
 *	for HELO, fail: reject and everything else accept.
 *
 *	spf_policy_mailfrom() looks for an override whose key is the
 *	whole sender address, then one whose key is the sender's domain
 *	(case-insensitively, exact), and takes the first that sets an
 *	action for the result; otherwise the policy table decides.
 *
 *	Actions, in increasing severity: accept, tag, verify, tempfail,
 *	reject (spf_action_worse() compares).
 * DIAGNOSTICS
 *	spf_policy_override() returns -1 when out of memory;
 *	spf_action_parse() returns -1 for an unknown name.
 */
#ifndef MM_SPF_POLICY_H
#define MM_SPF_POLICY_H

#include <stddef.h>

#include "spf_eval.h"

enum spf_action {
	SPF_ACT_UNSET = -1,
	SPF_ACT_ACCEPT = 0,
	SPF_ACT_TAG,
	SPF_ACT_VERIFY,
	SPF_ACT_TEMPFAIL,
	SPF_ACT_REJECT
};

struct spf_policy_table {
	signed char act[SPFR_COUNT];	/* enum spf_action */
};

struct spf_override {
	char *key;			/* address or domain, lower case */
	struct spf_policy_table t;
};

struct spf_policy {
	struct spf_policy_table mailfrom;
	struct spf_policy_table helo;
	struct spf_override *ov;
	size_t nov;
};

const char *spf_action_name(enum spf_action a);
int spf_action_parse(const char *name);
int spf_action_worse(enum spf_action a, enum spf_action b);

void spf_policy_init(struct spf_policy *p);
void spf_policy_table_clear(struct spf_policy_table *t);
int spf_policy_override(struct spf_policy *p, const char *key,
    const struct spf_policy_table *t);
enum spf_action spf_policy_mailfrom(const struct spf_policy *p,
    const char *sender, const char *domain, spf_result r);
enum spf_action spf_policy_helo(const struct spf_policy *p, spf_result r);
void spf_policy_free(struct spf_policy *p);

#endif
