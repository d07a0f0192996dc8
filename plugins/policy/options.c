/*
 * NAME
 *	options - the policy plugin's configuration
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	struct policy_conf c;
 *	if (policy_conf_load(api, options, &c) < 0) ... errors recorded
 *	policy_conf_free(&c);
 * DESCRIPTION
 *	The core reads the options of policy_option_table (modmilterd
 *	--describe policy prints it; the table of doc/plugins/policy.md
 *	is generated from it) with their defaults; this makes them what
 *	the checks compare. Every check is off unless configured. Domains
 *	are normalised as the core compares them (a leading "*." or "."
 *	means the subdomains); addresses of whitelist_senders,
 *	dspam_exempt and dspam_whitelist are "user@domain" or "@domain";
 *	Subject words are folded (words.c).
 * DIAGNOSTICS
 *	-1 after recording each problem at its node (file:line:col, key).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

/* what the option table reads; policy_conf_load() makes a policy_conf */
struct policy_opts {
	int reject_bad_ptr, reject_numeric_hello, require_hello, confirm_ptr;
	int supply_sender, reject_noptr, auto_whitelist;
	double dns_timeout, auto_whitelist_ttl;
	struct mm_strv hello_blacklist, internal_domains, porn_words, spam_words;
	struct mm_strv whitelist_senders, dspam_exempt, dspam_whitelist;
	char *db;
};

#define O(f)	offsetof(struct policy_opts, f)
#define BOOL(key, f, def, doc) \
	{ key, MM_OT_BOOL, O(f), def, 0, 0, NULL, doc, NULL }
#define LIST(key, f, doc) \
	{ key, MM_OT_LIST, O(f), NULL, 0, 0, NULL, doc, NULL }

/*
 * The options the core reads (modmilterd --describe policy; the table
 * of doc/plugins/policy.md is generated from it). The lists are plain
 * strings to the table: their domains may be globs ("*.example.com")
 * and their addresses "@domain", which this file normalises.
 */
const struct mm_option policy_option_table[] = {
	BOOL("reject_bad_ptr", reject_bad_ptr, "false", "refuse a client whose "
	    "PTR is `localhost` but whose address is not loopback, or whose PTR "
	    "is `.`"),
	BOOL("reject_numeric_hello", reject_numeric_hello, "false", "refuse a "
	    "HELO that is an IPv4 or IPv6 address without the brackets of an "
	    "address literal"),
	BOOL("require_hello", require_hello, "false", "refuse MAIL FROM before "
	    "HELO"),
	LIST("hello_blacklist", hello_blacklist, "our own names and domains "
	    "(`.example.com` or `*.example.com`: its subdomains): an external "
	    "client giving one as HELO is refused (\"spam from self\")"),
	LIST("internal_domains", internal_domains, "our mail domains "
	    "(`.example.com` or `*.example.com`: its subdomains): an internal "
	    "client using another MAIL FROM is a zombie, an external one (not a "
	    "trusted relay) using one of them a forgery unless SPF passed for it"),
	BOOL("reject_noptr", reject_noptr, NULL, "the three strikes (below): "
	    "`true` refuses, `false` flags the sender for callback verification; "
	    "none: no three strikes"),
	BOOL("confirm_ptr", confirm_ptr, "true", "forward-confirm the client's "
	    "PTR name in DNS for the three strikes; `false` trusts the MTA's name "
	    "(Postfix hands over only names it verified)"),
	{ "dns_timeout", MM_OT_DURATION, O(dns_timeout), "5s", 0, 0, NULL,
	  "per DNS query of the three strikes (one retry)", NULL },
	LIST("porn_words", porn_words, "Subject words, refused at end of headers "
	    "as porn (below)"),
	LIST("spam_words", spam_words, "the same, refused as spam"),
	BOOL("supply_sender", supply_sender, "false", "add `Sender: <MAIL FROM>` "
	    "when the From: domain differs from the MAIL FROM domain and there "
	    "is no Sender:"),
	LIST("whitelist_senders", whitelist_senders, "addresses or `@domains` "
	    "whose delivered mail (internal or authenticated clients only) "
	    "whitelists its recipients"),
	BOOL("auto_whitelist", auto_whitelist, NULL, "look senders up in the "
	    "auto-whitelist (none: `true` with `whitelist_senders`); set it on the "
	    "hosts that only receive when another host learns into a shared Redis "
	    "store"),
	{ "auto_whitelist_ttl", MM_OT_DURATION, O(auto_whitelist_ttl), "60d", 0, 0,
	  NULL, "how long an entry lives after the last message that renewed it",
	  NULL },
	LIST("dspam_exempt", dspam_exempt, "recipients (addresses or `@domains`) "
	    "whose mail dspam does not screen"),
	LIST("dspam_whitelist", dspam_whitelist, "senders (addresses or "
	    "`@domains`) whose mail dspam does not scan"),
	{ "db", MM_OT_STRING, O(db), POLICY_DB, 0, 0, NULL, "database of the "
	  "auto-whitelist in the core's store", NULL },
	{ NULL }
};

static void
free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

/* Item i of a list option (or the one scalar). */
static const mm_opt *
item_node(const struct mm_api *api, const mm_opt *o, const char *key, size_t i)
{
	const mm_opt *v = api->opt_get(o, key);

	return api->opt_type(v) == MM_OPT_LIST ? api->opt_at(v, i) : v;
}

/* a list the table read, taken over as a NULL-terminated array */
static char **
take(struct mm_strv *l)
{
	char **v = l->v;

	l->v = NULL;
	l->n = 0;
	return v;
}

/* The list of key, NULL when it is empty (the check is off). */
static char **
list_of(struct mm_strv *l)
{
	if (l->n == 0)
		return NULL;
	return take(l);
}

/* domains ("*.example.com", bms.py's glob, is ".example.com") */
static int
domains(const struct mm_api *api, const mm_opt *o, const char *key,
    char **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		const char *why, *s = list[i];
		char *d;

		if (s[0] == '*' && s[1] == '.')
			s++;
		if ((d = api->domain_normalize(s, &why)) == NULL) {
			api->opt_error(item_node(api, o, key, i), "%s: '%s' is not a "
			    "domain: %s", key, list[i], why);
			return -1;
		}
		free(list[i]);
		list[i] = strdup(d);
		api->free(d);
		if (list[i] == NULL)
			return -1;
	}
	return 0;
}

/* "user@domain" (normalised, lower case) or "@domain" */
static int
addresses(const struct mm_api *api, const mm_opt *o, const char *key,
    char **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		const char *why = "no domain", *s = list[i];
		char *d = NULL, *n;

		if (strchr(s, '@') == NULL || s[0] == '@') {
			d = api->domain_normalize(s[0] == '@' ? s + 1 : s, &why);
			if (d && (n = malloc(strlen(d) + 2)) != NULL) {
				n[0] = '@';
				strcpy(n + 1, d);
				api->free(d);
				d = n;
			} else if (d) {
				api->free(d);
				return -1;
			}
		} else if ((n = api->addr_normalize(s, &why)) != NULL) {
			d = strdup(n);
			api->free(n);
		}
		if (d == NULL) {
			api->opt_error(item_node(api, o, key, i), "%s: '%s' is not an "
			    "address or @domain: %s", key, s, why);
			return -1;
		}
		for (char *p = d; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		free(list[i]);
		list[i] = d;
	}
	return 0;
}

static int
words(char **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		char *f = policy_fold(list[i], strlen(list[i]));
		if (f == NULL)
			return -1;
		free(list[i]);
		list[i] = f;
	}
	return 0;
}

/* The table's values into c, normalised and checked. */
static int
conf_from(const struct mm_api *api, const mm_opt *o, struct policy_opts *v,
    struct policy_conf *c)
{
	c->reject_bad_ptr = v->reject_bad_ptr;
	c->reject_numeric_hello = v->reject_numeric_hello;
	c->require_hello = v->require_hello;
	c->three_strikes = v->reject_noptr >= 0;	/* given */
	c->reject_noptr = v->reject_noptr > 0;
	c->confirm_ptr = v->confirm_ptr;
	c->dns_timeout = v->dns_timeout;
	c->supply_sender = v->supply_sender;
	c->auto_whitelist_ttl = v->auto_whitelist_ttl;
	c->hello_blacklist = list_of(&v->hello_blacklist);
	c->internal_domains = list_of(&v->internal_domains);
	c->porn_words = list_of(&v->porn_words);
	c->spam_words = list_of(&v->spam_words);
	c->whitelist_senders = list_of(&v->whitelist_senders);
	c->dspam_exempt = list_of(&v->dspam_exempt);
	c->dspam_whitelist = list_of(&v->dspam_whitelist);
	c->auto_whitelist = v->auto_whitelist >= 0 ? v->auto_whitelist :
	    c->whitelist_senders != NULL;
	c->db = v->db;
	v->db = NULL;
	if (domains(api, o, "hello_blacklist", c->hello_blacklist) < 0 ||
	    domains(api, o, "internal_domains", c->internal_domains) < 0 ||
	    words(c->porn_words) < 0 || words(c->spam_words) < 0 ||
	    addresses(api, o, "whitelist_senders", c->whitelist_senders) < 0 ||
	    addresses(api, o, "dspam_exempt", c->dspam_exempt) < 0 ||
	    addresses(api, o, "dspam_whitelist", c->dspam_whitelist) < 0)
		return -1;
	if (c->auto_whitelist_ttl <= 0) {
		api->opt_error(api->opt_get(o, "auto_whitelist_ttl"),
		    "auto_whitelist_ttl must be positive");
		return -1;
	}
	return c->db != NULL ? 0 : -1;
}

int
policy_conf_load(const struct mm_api *api, const mm_opt *o,
    struct policy_conf *c)
{
	struct policy_opts v;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!MM_API_HAS(api, opt_table)) {
		api->log(NULL, MM_LOG_ERR, "policy needs a modmilterd that reads "
		    "options by table");
		return -1;
	}
	memset(&v, 0, sizeof(v));
	v.reject_noptr = v.auto_whitelist = -1;	/* none: not given */
	rc = api->opt_table(o, policy_option_table, &v);
	if (rc == 0)
		rc = conf_from(api, o, &v, c);
	api->opt_table_free(policy_option_table, &v);
	if (rc < 0) {
		policy_conf_free(c);
		return -1;
	}
	return 0;
}

void
policy_conf_free(struct policy_conf *c)
{
	free_list(c->hello_blacklist);
	free_list(c->internal_domains);
	free_list(c->porn_words);
	free_list(c->spam_words);
	free_list(c->whitelist_senders);
	free_list(c->dspam_exempt);
	free_list(c->dspam_whitelist);
	free(c->db);
	memset(c, 0, sizeof(*c));
}
