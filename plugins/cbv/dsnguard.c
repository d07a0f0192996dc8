/*
 * NAME
 *	dsnguard - whether a notice may go out: a genuine sender, within the caps
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct dsn_sender s = { .domain = "example.net", .spf_result = "pass",
 *		.spf_domain = "example.net", .internal = 0, .auth = 0 };
 *	if (!dsn_sender_ok(&s, why, sizeof(why))) refuse...
 *	struct dsn_caps caps = { .total = 100, .per_domain = 10, .period = 3600 };
 *	switch (dsn_caps_admit(kv, &caps, "example.net", now, why, sizeof(why))) ...
 * DESCRIPTION
 *	A notice goes to the MAIL FROM address, which anyone can forge: a
 *	server that sends notices freely reflects mail at whoever the
 *	forger names (backscatter). Two guards:
 *
 *	dsn_sender_ok() accepts a sender that is authenticated: SPF pass
 *	for the MAIL FROM address's own domain (spf.result and spf.domain,
 *	published by the spf plugin), or a client that is internal or
 *	authenticated with SMTP AUTH.
 *
 *	dsn_caps_admit() counts notices per period (fixed windows of
 *	period seconds) in the store's counter records: one for all
 *	notices ("n:WINDOW") and one per recipient domain
 *	("n:WINDOW:DOMAIN"), both incremented in one atomic batch, so every
 *	process and host sharing the store counts against the same caps.
 *	A notice that would pass a cap is not counted (the increments are
 *	taken back); the records expire one period after their last use.
 *	When the counts cannot be kept, no notice is sent: a reflector that
 *	cannot count must not send.
 * DIAGNOSTICS
 *	dsn_sender_ok() returns 1, or 0 with the reason in why.
 *	dsn_caps_admit() returns 1 to send, 0 over a cap, -1 when the store
 *	failed; why says which cap or that the store failed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cbv.h"

int
dsn_sender_ok(const struct dsn_sender *s, char *why, size_t len)
{
	if (s->internal || s->auth)
		return 1;
	if (s->spf_result && strcasecmp(s->spf_result, "pass") == 0 &&
	    s->spf_domain && s->domain && strcasecmp(s->spf_domain, s->domain) == 0)
		return 1;
	if (s->spf_result && strcasecmp(s->spf_result, "pass") == 0)
		snprintf(why, len, "sender not authenticated: SPF pass is for %s, "
		    "not %s", s->spf_domain ? s->spf_domain : "another domain",
		    s->domain ? s->domain : "the sender's domain");
	else
		snprintf(why, len, "sender not authenticated: SPF %s, external "
		    "client without SMTP AUTH", s->spf_result ? s->spf_result :
		    "not checked");
	return 0;
}

int
dsn_caps_admit(const struct cbv_kv *kv, const struct dsn_caps *caps,
    const char *domain, double now, char *why, size_t len)
{
	char gkey[64], dkey[64 + 256], dom[256];
	char *keys[2] = { gkey, dkey };
	long long window = (long long)(now / caps->period), n[2], undo[2];
	size_t i;

	for (i = 0; domain[i] && i + 1 < sizeof(dom); i++)
		dom[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ?
		    domain[i] - 'A' + 'a' : domain[i]);
	dom[i] = 0;
	snprintf(gkey, sizeof(gkey), "n:%lld", window);
	snprintf(dkey, sizeof(dkey), "n:%lld:%s", window, dom);
	if (kv->add(kv->arg, keys, 2, 1, caps->period, n) < 0) {
		snprintf(why, len, "the notice counts are unavailable (store)");
		return -1;
	}
	if (n[0] <= caps->total && n[1] <= caps->per_domain)
		return 1;
	/* not sent, so not counted: a flood at one domain must not use up
	   the notices of all the others */
	(void)kv->add(kv->arg, keys, 2, -1, caps->period, undo);
	if (n[1] > caps->per_domain)
		snprintf(why, len, "%lld notices to %s within %.0fs "
		    "(dsn_limit per_domain)", caps->per_domain, dom, caps->period);
	else
		snprintf(why, len, "%lld notices within %.0fs (dsn_limit total)",
		    caps->total, caps->period);
	return 0;
}
