/*
 * NAME
 *	strikes - the three strikes of the policy plugin, with DNS
 * SYNOPSIS
 *	#include "plugin.h"
 *
 *	v = policy_strikes(p, ctx, m, from);
 * DESCRIPTION
 *	For a sender whose domain publishes no SPF (the spf plugin's facts;
 *	without them: unknown, so none), gathers what vouches for the
 *	client, cheapest first: the best guess, the HELO's own SPF, a good
 *	PTR (present, not dynamic, forward-confirmed: by the MTA, by
 *	Sendmail's {client_resolve}, or by DNS), and last the HELO's A or
 *	MX within /24 of the client (DNS). What the connection learnt is
 *	kept for its next messages. A sender that struck out is refused
 *	(reject_noptr: true) or flagged for the cbv plugin (fact
 *	spf.verify).
 * DIAGNOSTICS
 *	MM_REJECT with the reply set, MM_CONTINUE, MM_ERROR when memory or
 *	a fact failed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

/* Is the PTR name good: present, not dynamic, forward-confirmed? */
static int
ptr_good(struct policy *p, mm_ctx *ctx, struct conn *c)
{
	const char *res, *host;

	if (c->ptr_good >= 0)
		return c->ptr_good;
	if (c->noptr || c->dynamic)
		c->ptr_good = 0;
	else if (!p->c.confirm_ptr)
		c->ptr_good = 1;	/* the MTA confirmed it (Postfix does) */
	else if ((res = p->api->macro(ctx, "{client_resolve}")) != NULL)
		c->ptr_good = strcmp(res, "OK") == 0;
	else {
		host = p->api->client_host(ctx);
		c->ptr_good = policy_dns_addr_match(host, p->api->client_sockaddr(ctx),
		    32, 128, 0, p->c.dns_timeout) == 1;
	}
	return c->ptr_good;
}

/* The HELO name's A or MX within /24 of the client. */
static int
helo_in_dns(struct policy *p, mm_ctx *ctx, struct conn *c, const char *helo)
{
	if (c->helo_valid >= 0 && strcasecmp(c->helo_for, helo) == 0)
		return c->helo_valid;
	snprintf(c->helo_for, sizeof(c->helo_for), "%s", helo);
	c->helo_valid = !policy_numeric_hello(helo) && *helo != '[' &&
	    policy_dns_addr_match(helo, p->api->client_sockaddr(ctx), 24, 64, 1,
	    p->c.dns_timeout) == 1;
	return c->helo_valid;
}

int
policy_fact_is(const char *fact, const char *value)
{
	return fact != NULL && strcasecmp(fact, value) == 0;
}

/* The three strikes: CONTINUE, or REJECT. */
mm_verdict
policy_strikes(struct policy *p, mm_ctx *ctx, struct msg *m, const char *from)
{
	const struct mm_api *api = p->api;
	const char *res = api->fact_get(ctx, "spf.result");
	const char *guessed = api->fact_get(ctx, "spf.guessed");
	const char *helo = api->helo(ctx), *why;
	struct conn *c = policy_conn(p, ctx);
	struct policy_strikes s;

	if (c == NULL)
		return MM_ERROR;
	memset(&s, 0, sizeof(s));
	s.spf_none = res == NULL || policy_fact_is(res, "none") || policy_fact_is(guessed, "yes");
	if (s.spf_none) {
		s.guess_pass = policy_fact_is(guessed, "yes") && policy_fact_is(res, "pass");
		s.helo_valid = policy_fact_is(api->fact_get(ctx, "spf.helo_result"), "pass");
		if (!s.guess_pass && !s.helo_valid)
			s.ptr_good = ptr_good(p, ctx, c);
		if (!s.guess_pass && !s.helo_valid && !s.ptr_good && helo)
			s.helo_valid = helo_in_dns(p, ctx, c, helo);
	}
	if (policy_strikes_pass(&s, &why)) {
		api->log(ctx, MM_LOG_DEBUG, "three strikes: passes (%s)", why);
		return MM_CONTINUE;
	}
	if (p->c.reject_noptr)
		return policy_refuse(p, ctx, "strikes",
		    "You need a valid PTR, a valid HELO name or SPF: your mail "
		    "server has none of them (dynamic PTR names do not count)", why);
	if (*from) {
		if (api->fact_set(ctx, "spf.verify", "yes") < 0)
			return MM_ERROR;
		m->flagged = 1;
	}
	api->log(ctx, MM_LOG_NOTICE, "three strikes: %s: sender <%s> flagged for "
	    "verification", why, from);
	policy_count(p, ctx, "flagged");
	return MM_CONTINUE;
}
