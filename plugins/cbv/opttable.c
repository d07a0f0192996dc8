/*
 * NAME
 *	opttable - the cbv plugin's options, as a table
 * SYNOPSIS
 *	#include "cbv_opts.h"
 *
 *	api->opt_table(options, cbv_option_table, &opts);
 * DESCRIPTION
 *	Every option of the cbv plugin but templates (a map, read by
 *	options.c): its type, range, default and one line of
 *	documentation. modmilterd --describe cbv prints it and the table
 *	of doc/plugins/cbv.md is generated from it; modmilter-cbv reads
 *	the instance's db with it.
 */
#include <stddef.h>

#include "cbv_opts.h"

#define O(f)	offsetof(struct cbv_opts, f)
#define DUR(key, f, def, min, doc) \
	{ key, MM_OT_DURATION, O(f), def, min, 0, NULL, doc, NULL }
#define INT(key, f, def, min, max, doc) \
	{ key, MM_OT_INT, O(f), def, min, max, NULL, doc, NULL }
#define LIST(key, type, f, doc) \
	{ key, type, O(f), NULL, 0, 0, NULL, doc, NULL }
#define ENUM(key, f, words, doc) \
	{ key, MM_OT_ENUM, O(f), words[0], 0, 0, words, doc, NULL }

static const char *const verify_w[] = { "flagged", "always", NULL };
static const char *const action_w[] = { "verify", "dsn", NULL };
static const char *const stage_w[] = { "eom", "rcpt", NULL };
static const char *const tempfail_w[] = { "tempfail", "accept", NULL };
static const char *const senders_w[] = { "authenticated", "any", NULL };

/*
 * The options the core reads (modmilterd --describe cbv; the table of
 * doc/plugins/cbv.md is generated from it). templates, a map of SPF
 * result to template, is read here.
 */
const struct mm_option cbv_option_table[] = {
	ENUM("verify", verify, verify_w, "`flagged`: senders another plugin "
	    "flagged (fact `spf.verify`); `always`: every sender"),
	LIST("domains", MM_OT_DOMAINS, domains, "always verify these sender domains "
	    "(`.example.net`: its subdomains)"),
	LIST("skip_domains", MM_OT_DOMAINS, skip_domains, "never verify these"),
	LIST("local_domains", MM_OT_DOMAINS, local_domains, "our own domains: "
	    "never probed"),
	ENUM("action", action, action_w, "`verify`: probe the sender's MX; "
	    "`dsn`: send a notice instead"),
	ENUM("stage", stage, stage_w, "when to verify: `eom`, or `rcpt` "
	    "(verify only)"),
	{ "template", MM_OT_STRING, O(template), NULL, 0, 0, NULL,
	  "dsn: the default template's name", NULL },
	{ "templates", MM_OT_HAND, 0, NULL, 0, 0, NULL, "dsn: templates by "
	  "`spf.result`: `{ softfail: softfail, none: strike3, ... }`", NULL },
	{ "template_dir", MM_OT_STRING, O(template_dir), NULL, 0, 0, NULL,
	  "where templates are; none: the installed ones ($(pkgdatadir)/cbv)", NULL },
	{ "helo_name", MM_OT_STRING, O(helo_name), NULL, 0, 0, NULL, "our EHLO "
	  "name, also a name that means \"us\"; none: the host's name", NULL },
	LIST("own_names", MM_OT_LIST, own_names, "more names that mean \"us\" in "
	    "a banner or EHLO reply"),
	{ "own_interfaces", MM_OT_BOOL, O(own_interfaces), "true", 0, 0, NULL,
	  "refuse to probe the addresses of our interfaces", NULL },
	LIST("own_addresses", MM_OT_LIST, own_addresses, "more addresses of ours"),
	LIST("allow_networks", MM_OT_NETWORKS, allow_networks, "special-purpose "
	    "networks probed all the same (test labs: `[192.0.2.0/24]`); never our "
	    "own addresses"),
	{ "probe_from", MM_OT_STRING, O(probe_from), "", 0, 0, NULL,
	  "MAIL FROM of probes and notices (`\"\"` is `<>`)", NULL },
	{ "dsn_from", MM_OT_STRING, O(dsn_from), NULL, 0, 0, NULL,
	  "From: of notices; none: `MAILER-DAEMON@` the `helo_name`", NULL },
	ENUM("on_tempfail", on_tempfail, tempfail_w, "a probe that could not "
	    "tell: `tempfail` the message or `accept` it"),
	DUR("step_timeout", step, "10s", 0.1, "each read, write or connect"),
	DUR("probe_timeout", total, "25s", 0.1, "the whole probe, all MX"),
	DUR("dns_timeout", dnst, "5s", 1, "per DNS query (2 tries)"),
	INT("max_mx", max_mx, "3", 1, 20, "MX hosts tried"),
	INT("max_connections", max_connections, "5", 1, 50, "addresses tried"),
	INT("port", port, "25", 1, 65535, "the port probed (for test labs)"),
	INT("rate", rate, "10", 1, 100000, "probes per minute per domain"),
	DUR("backoff_min", bmin, "1m", 1, "a domain's first back-off after "
	    "failed probes"),
	DUR("backoff_max", bmax, "1h", 1, "its longest back-off"),
	DUR("progress_interval", progress, "5s", 0.1, "how often the MTA is asked "
	    "for more time during a probe"),
	ENUM("dsn_senders", dsn_senders, senders_w, "dsn: `authenticated` (SPF "
	    "pass for the sender's domain, internal or SMTP AUTH client) or `any`"),
	INT("dsn_limit.total", caps.total, "100", 1, 1000000, "dsn: notices per "
	    "period, shared through the store"),
	INT("dsn_limit.per_domain", caps.per_domain, "5", 1, 1000000, "dsn: notices "
	    "per period to one domain; at most `total`"),
	{ "dsn_limit.period", MM_OT_DURATION, O(caps.period), "1h", 60, 30 * 86400.0,
	  NULL, "dsn: the period", NULL },
	INT("dsn_headers_max", headers_max, "4096", 0, 65536, "dsn: bytes of the "
	    "original's headers quoted"),
	{ "db", MM_OT_STRING, O(db), "cbv", 0, 0, NULL, "the store's database",
	  NULL },
	DUR("cache.positive", ttl.pos_expire, "31d", 60, "how long a verified "
	    "sender is kept"),
	DUR("cache.positive_refresh", ttl.pos_refresh, "7d", 60, "after this, a "
	    "verified sender is probed again in the background; at most "
	    "`positive`"),
	DUR("cache.negative", ttl.neg_expire, "3d", 60, "how long a refused "
	    "sender is kept"),
	DUR("cache.negative_refresh", ttl.neg_refresh, "3h", 60, "after this, a "
	    "refused sender is probed again; at most `negative`"),
	DUR("cache.defer", ttl.defer_expire, "10m", 1, "how long a probe that "
	    "could not tell is kept"),
	{ NULL }
};

