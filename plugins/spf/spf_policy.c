/*
 * NAME
 *	spf_policy - what to do with an SPF result
 * SYNOPSIS
 *	See spf_policy.h.
 * DESCRIPTION
 *	Overrides are few (a handful of domains an admin treats specially)
 *	and are searched linearly.
 * DIAGNOSTICS
 *	See spf_policy.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_policy.h"

static const char *const action_names[] = {
	"accept", "tag", "verify", "tempfail", "reject"
};

const char *
spf_action_name(enum spf_action a)
{
	return a >= SPF_ACT_ACCEPT && a <= SPF_ACT_REJECT ? action_names[a] : "accept";
}

int
spf_action_parse(const char *name)
{
	for (int i = SPF_ACT_ACCEPT; i <= SPF_ACT_REJECT; i++)
		if (strcasecmp(name, action_names[i]) == 0)
			return i;
	return -1;
}

int
spf_action_worse(enum spf_action a, enum spf_action b)
{
	return a > b;
}

void
spf_policy_table_clear(struct spf_policy_table *t)
{
	for (int i = 0; i < SPFR_COUNT; i++)
		t->act[i] = SPF_ACT_UNSET;
}

void
spf_policy_init(struct spf_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mailfrom.act[SPFR_PASS] = SPF_ACT_ACCEPT;
	p->mailfrom.act[SPFR_NEUTRAL] = SPF_ACT_ACCEPT;
	p->mailfrom.act[SPFR_NONE] = SPF_ACT_ACCEPT;
	p->mailfrom.act[SPFR_SOFTFAIL] = SPF_ACT_VERIFY;
	p->mailfrom.act[SPFR_FAIL] = SPF_ACT_REJECT;
	p->mailfrom.act[SPFR_PERMERROR] = SPF_ACT_REJECT;
	p->mailfrom.act[SPFR_TEMPERROR] = SPF_ACT_TEMPFAIL;
	for (int i = 0; i < SPFR_COUNT; i++)
		p->helo.act[i] = SPF_ACT_ACCEPT;
	p->helo.act[SPFR_FAIL] = SPF_ACT_REJECT;
}

int
spf_policy_override(struct spf_policy *p, const char *key,
    const struct spf_policy_table *t)
{
	struct spf_override *n;
	char *k;

	while (*key == '@')
		key++;		/* "@example.com" is the domain */
	if ((k = strdup(key)) == NULL)
		return -1;
	for (char *c = k; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if ((n = realloc(p->ov, (p->nov + 1) * sizeof(*n))) == NULL) {
		free(k);
		return -1;
	}
	p->ov = n;
	p->ov[p->nov].key = k;
	p->ov[p->nov].t = *t;
	p->nov++;
	return 0;
}

static int
override_for(const struct spf_policy *p, const char *key, spf_result r)
{
	if (key == NULL || *key == 0)
		return SPF_ACT_UNSET;
	for (size_t i = 0; i < p->nov; i++)
		if (strcasecmp(p->ov[i].key, key) == 0 &&
		    p->ov[i].t.act[r] != SPF_ACT_UNSET)
			return p->ov[i].t.act[r];
	return SPF_ACT_UNSET;
}

enum spf_action
spf_policy_mailfrom(const struct spf_policy *p, const char *sender,
    const char *domain, spf_result r)
{
	int a;

	if ((unsigned)r >= SPFR_COUNT)
		r = SPFR_TEMPERROR;
	if ((a = override_for(p, sender, r)) == SPF_ACT_UNSET &&
	    (a = override_for(p, domain, r)) == SPF_ACT_UNSET)
		a = p->mailfrom.act[r];
	return a == SPF_ACT_UNSET ? SPF_ACT_ACCEPT : (enum spf_action)a;
}

enum spf_action
spf_policy_helo(const struct spf_policy *p, spf_result r)
{
	if ((unsigned)r >= SPFR_COUNT)
		r = SPFR_TEMPERROR;
	return p->helo.act[r] == SPF_ACT_UNSET ? SPF_ACT_ACCEPT :
	    (enum spf_action)p->helo.act[r];
}

void
spf_policy_free(struct spf_policy *p)
{
	for (size_t i = 0; i < p->nov; i++)
		free(p->ov[i].key);
	free(p->ov);
	p->ov = NULL;
	p->nov = 0;
}
