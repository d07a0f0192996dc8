/*
 * NAME
 *	trust - whether a sender address is authenticated enough to be
 *	trusted by the dspam plugin
 * SYNOPSIS
 *	#include "plugin.h"
 *
 *	char why[160];
 *	int ok = sender_trusted(api, ctx, "alice@example.org", why, sizeof(why));
 * DESCRIPTION
 *	MAIL FROM and From: are whatever the client wrote. Before the
 *	plugin whitelists or trains by sender (innocent_senders, the From:
 *	history whitelist, honeypot exemptions), the sender must be
 *	vouched for by one of:
 *
 *	- the client: of class internal (networks.internal), or
 *	  SMTP-authenticated (the MTA checks who may use which sender);
 *	- SPF: the spf plugin's facts say spf.result is "pass", not a
 *	  best guess (spf.guessed "yes" is the receiver's guess, not the
 *	  domain's word), for spf.domain equal to the address's domain
 *	  (in the core's normal form: case and one trailing dot do not
 *	  matter; a pass for another domain, a parent or a subdomain says
 *	  nothing about this one).
 *
 *	A trusted relay (networks.trusted_relays) is not enough on its
 *	own: it passes on mail from anyone.
 * DIAGNOSTICS
 *	1 trusted, 0 not; either way why says so, for the log ("SPF pass
 *	for example.org", "external client, not authenticated, SPF
 *	softfail for example.org").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

int
sender_trusted(const struct mm_api *api, mm_ctx *ctx, const char *addr,
    char *why, size_t size)
{
	static const char untrusted[] = "external client, not authenticated";
	const char *user = api->auth_user(ctx), *at, *res, *dom, *guessed;

	if (api->client_class(ctx) == MM_CLIENT_INTERNAL) {
		snprintf(why, size, "internal client");
		return 1;
	}
	if (user != NULL && *user != '\0') {
		snprintf(why, size, "SMTP AUTH as %s", user);
		return 1;
	}
	at = addr != NULL ? strrchr(addr, '@') : NULL;
	res = api->fact_get(ctx, "spf.result");
	dom = api->fact_get(ctx, "spf.domain");
	guessed = api->fact_get(ctx, "spf.guessed");
	if (at == NULL || at[1] == '\0')
		snprintf(why, size, "%s, no domain in <%s>", untrusted,
		    addr ? addr : "");
	else if (res == NULL)
		snprintf(why, size, "%s, no SPF result", untrusted);
	else if (strcasecmp(res, "pass") != 0)
		snprintf(why, size, "%s, SPF %s for %s", untrusted, res,
		    dom ? dom : "?");
	else if (dom == NULL || !api->domain_match(at + 1, dom))
		snprintf(why, size, "%s, SPF pass is for %s, not %s", untrusted,
		    dom ? dom : "?", at + 1);
	else if (guessed != NULL && strcasecmp(guessed, "yes") == 0)
		snprintf(why, size, "%s, SPF pass for %s is only a best guess",
		    untrusted, dom);
	else {
		snprintf(why, size, "SPF pass for %s", dom);
		return 1;
	}
	return 0;
}
