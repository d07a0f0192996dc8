/*
 * NAME
 *	spf_options - the spf plugin's configuration
 * SYNOPSIS
 *	See spf_options.h.
 * DESCRIPTION
 *	The scalar and list options are in spf_option_table, which the
 *	core reads (and prints: modmilterd --describe spf); the policy
 *	maps are read here, and what the table read is checked further
 *	(SPF record syntax, macro-strings, CIDRs, domains). Values are
 *	copied: the options tree is only valid during init.
 * DIAGNOSTICS
 *	See spf_options.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <modmilter/alloc.h>

#include "spf_macro.h"
#include "spf_options.h"
#include "spf_record.h"

#define DEFAULT_BEST_GUESS	"v=spf1 a/24 mx/24 ptr"
#define DEFAULT_EXPLANATION	"%{i} is not allowed to send mail for %{o}"

static char *
lower_dup(const char *s)
{
	char *r = strdup(s);

	if (r)
		for (char *p = r; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return r;
}

/* result: action, ... into t */
static int
table(const struct mm_api *api, const mm_opt *map, const char *what,
    struct spf_policy_table *t)
{
	int bad = 0;

	if (map == NULL)
		return 0;
	if (api->opt_type(map) != MM_OPT_MAP) {
		api->opt_error(map, "%s must be a map of SPF result to action", what);
		return -1;
	}
	for (size_t i = 0; i < api->opt_len(map); i++) {
		const mm_opt *v;
		const char *k = api->opt_key_at(map, i, &v), *a = api->opt_scalar(v);
		int r = k ? spf_result_parse(k) : -1, act = a ? spf_action_parse(a) : -1;

		if (r < 0) {
			api->opt_error(v, "%s: unknown SPF result '%s' (none, neutral, pass, "
			    "fail, softfail, temperror, permerror)", what, k ? k : "");
			bad = 1;
		} else if (act < 0) {
			api->opt_error(v, "%s: unknown action '%s' for %s (accept, tag, "
			    "verify, tempfail, reject)", what, a ? a : "", k);
			bad = 1;
		} else
			t->act[r] = (signed char)act;
	}
	return bad ? -1 : 0;
}

static int
overrides(const struct mm_api *api, const mm_opt *map, struct spf_policy *p)
{
	int bad = 0;

	if (map == NULL)
		return 0;
	if (api->opt_type(map) != MM_OPT_MAP) {
		api->opt_error(map, "overrides must be a map of sender or domain to "
		    "{ result: action }");
		return -1;
	}
	for (size_t i = 0; i < api->opt_len(map); i++) {
		const mm_opt *v;
		const char *k = api->opt_key_at(map, i, &v);
		struct spf_policy_table t;

		spf_policy_table_clear(&t);
		if (k == NULL || *k == 0) {
			api->opt_error(v, "overrides: empty sender or domain");
			bad = 1;
		} else if (table(api, v, k, &t) < 0)
			bad = 1;
		else if (spf_policy_override(p, k, &t) < 0) {
			api->opt_error(v, "out of memory");
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/*
 * The options the core reads (modmilterd --describe spf; the table of
 * doc/plugins/spf.md is generated from it). The policies and overrides
 * are maps of results and senders: read here with the opt_* calls.
 */
const struct mm_option spf_option_table[] = {
	{ "policy", MM_OT_HAND, 0, "see the results table", 0, 0, NULL,
	  "action per result of the MAIL FROM identity: `{ result: action, ... }`; "
	  "results not named keep their default", NULL },
	{ "helo_policy", MM_OT_HAND, 0, "`{ fail: reject }` (the rest accept)", 0, 0,
	  NULL, "action per result of the HELO identity; consulted only when the "
	  "MAIL FROM result is not `pass`", NULL },
	{ "overrides", MM_OT_HAND, 0, NULL, 0, 0, NULL,
	  "`{ \"sender or domain\": { result: action } }`: a key with `@` is a whole "
	  "sender address, otherwise (or `@domain`) the sender's domain, compared "
	  "exactly and case-insensitively; an address key wins over its domain, and "
	  "an override only changes the results it names", NULL },
	{ "best_guess", MM_OT_STRING, offsetof(struct spf_conf, best_guess),
	  DEFAULT_BEST_GUESS, 0, 0, NULL, "record evaluated for a sender domain "
	  "that publishes none; `\"\"` or `false` turns it off (below)", NULL },
	{ "received_spf", MM_OT_BOOL, offsetof(struct spf_conf, received_spf),
	  "true", 0, 0, NULL, "insert a `Received-SPF:` header at the top", NULL },
	{ "authentication_results", MM_OT_BOOL, offsetof(struct spf_conf, authres),
	  "true", 0, 0, NULL, "contribute `spf=...` to the core's "
	  "`Authentication-Results:` (needs `authserv_id`)", NULL },
	{ "skip.clients", MM_OT_LIST, offsetof(struct spf_conf, opt_clients), NULL,
	  0, 0, NULL, "addresses or CIDRs (`192.0.2.0/24`, `2001:db8::/32`) that "
	  "are not checked", NULL },
	{ "skip.senders", MM_OT_LIST, offsetof(struct spf_conf, opt_senders), NULL,
	  0, 0, NULL, "senders (`user@domain`) or domains (`domain`, `@domain`) "
	  "that are not checked", NULL },
	{ "trusted_forwarders", MM_OT_LIST, offsetof(struct spf_conf, opt_forwarders),
	  NULL, 0, 0, NULL, "domains; a client that passes SPF for one of them (as "
	  "`postmaster@domain`) is not checked further", NULL },
	{ "explanation", MM_OT_STRING, offsetof(struct spf_conf, explanation),
	  DEFAULT_EXPLANATION, 0, 0, NULL, "explanation for a fail when the domain "
	  "gives none (`exp=`); RFC 7208 macros", NULL },
	{ "receiver", MM_OT_STRING, offsetof(struct spf_conf, receiver), NULL, 0, 0,
	  NULL, "this host's name in Received-SPF and `%{r}`; none: the MTA's "
	  "macro `j`", NULL },
	{ "time_limit", MM_OT_DURATION, offsetof(struct spf_conf, time_limit), "20s",
	  1, 0, NULL, "time for all SPF work of one message (HELO, MAIL FROM, best "
	  "guess); past it the result is `temperror` (RFC 7208 §4.6.4 asks for at "
	  "least 20 s)", NULL },
	{ "void_limit", MM_OT_INT, offsetof(struct spf_conf, void_limit), "2", 0, 100,
	  NULL, "DNS queries of one check that may find no name or no data "
	  "(RFC 7208 §4.6.4); `0`: no limit", NULL },
	{ "dns.timeout", MM_OT_DURATION, offsetof(struct spf_conf, dns_timeout), "5s",
	  1, 0, NULL, "time one DNS server gets for one query (shortened to fit "
	  "what is left of `time_limit`)", NULL },
	{ "dns.retries", MM_OT_INT, offsetof(struct spf_conf, dns_retries), "2", 1, 5,
	  NULL, "rounds over the resolvers of `/etc/resolv.conf`", NULL },
	{ "dns.cache", MM_OT_BOOL, offsetof(struct spf_conf, dns_cache), "true", 0, 0,
	  NULL, "keep answers for their TTL in libspf2's DNS cache", NULL },
	{ "access_file", MM_OT_STRING, offsetof(struct spf_conf, access_file), NULL,
	  0, 0, NULL, "absolute path of a Sendmail-style access map whose "
	  "`SPF-<Result>:` entries override `policy` per sender or domain "
	  "(`OK`, `CBV`, `REJECT`, `DSN`); reread when it changes", NULL },
	{ NULL }
};

/* The items of list key that ok() takes (NULL: any), lower case, a
   leading '@' dropped. */
static int
strings(const struct mm_api *api, const mm_opt *parent, const char *key,
    const struct mm_strv *in, int (*ok)(const char *), const char *what,
    char ***out, size_t *n)
{
	const mm_opt *l = api->opt_get(parent, key);
	int bad = 0;

	*out = calloc(in->n + 1, sizeof(char *));
	*n = 0;
	if (*out == NULL)
		return -1;
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->v[i];
		if (ok && !ok(s)) {
			api->opt_error(api->opt_type(l) == MM_OPT_LIST ? api->opt_at(l, i) : l,
			    "'%s': not %s: '%s'", key, what, s);
			bad = 1;
		} else if (((*out)[(*n)++] = lower_dup(s[0] == '@' ? s + 1 : s)) == NULL)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int
is_domain(const char *s)
{
	return spf_domain_valid(s, 1);
}

static int
is_sender(const char *s)
{
	const char *at = strrchr(s, '@');

	return spf_domain_valid(at ? at + 1 : s, 1);
}

static int
skip_clients(const struct mm_api *api, const mm_opt *skip, struct spf_conf *c)
{
	const mm_opt *l = api->opt_get(skip, "clients");
	size_t n = c->opt_clients.n;

	if (n && (c->skip_clients = calloc(n, sizeof(*c->skip_clients))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (spf_net_parse(c->opt_clients.v[i],
		    &c->skip_clients[c->nskip_clients]) == 0)
			c->nskip_clients++;
		else {
			api->opt_error(api->opt_type(l) == MM_OPT_LIST ? api->opt_at(l, i) : l,
			    "skip.clients: not an address or CIDR: '%s'", c->opt_clients.v[i]);
			return -1;
		}
	return 0;
}

/* best_guess, explanation and receiver, as the table read them */
static int
texts(const struct mm_api *api, const mm_opt *o, struct spf_conf *c)
{
	const char *bg = c->best_guess;
	struct spf_record rec;
	char why[200];
	int bad = 0;

	if (!*bg || strcasecmp(bg, "false") == 0 || strcasecmp(bg, "no") == 0 ||
	    strcasecmp(bg, "off") == 0) {
		free(c->best_guess);
		c->best_guess = NULL;
	} else {
		if (spf_record_parse(bg, &rec, why, sizeof(why)) < 0) {
			api->opt_error(api->opt_get(o, "best_guess"), "best_guess: %s", why);
			bad = 1;
		}
		spf_record_free(&rec);
	}
	if (spf_macro_check(c->explanation, strlen(c->explanation), SPF_MACRO_EXP,
	    NULL) < 0) {
		api->opt_error(api->opt_get(o, "explanation"),
		    "explanation: invalid macro-string (RFC 7208 §7.1)");
		bad = 1;
	}
	if (c->receiver && (strpbrk(c->receiver, " \t\r\n;\"()") || !*c->receiver)) {
		api->opt_error(api->opt_get(o, "receiver"), "receiver must be a host name");
		bad = 1;
	}
	return bad ? -1 : 0;
}

int
spf_conf_load(const struct mm_api *api, const mm_opt *o, struct spf_conf *c)
{
	const mm_opt *skip;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	c->api = api;
	spf_policy_init(&c->policy);
	if (!MM_API_HAS(api, opt_table)) {
		api->opt_error(o, "spf needs a modmilterd that reads options by table");
		return -1;
	}
	if (api->opt_table(o, spf_option_table, c) < 0) {
		spf_conf_free(c);
		return -1;
	}
	bad |= table(api, api->opt_get(o, "policy"), "policy", &c->policy.mailfrom) < 0;
	bad |= table(api, api->opt_get(o, "helo_policy"), "helo_policy", &c->policy.helo) < 0;
	bad |= overrides(api, api->opt_get(o, "overrides"), &c->policy) < 0;
	bad |= texts(api, o, c) < 0;
	skip = api->opt_get(o, "skip");
	bad |= skip_clients(api, skip, c) < 0;
	bad |= strings(api, skip, "senders", &c->opt_senders, is_sender,
	    "an address or domain", &c->skip_senders, &c->nskip_senders) < 0;
	bad |= strings(api, o, "trusted_forwarders", &c->opt_forwarders, is_domain,
	    "a domain name", &c->forwarders, &c->nforwarders) < 0;
	if (c->access_file != NULL && *c->access_file != '/') {
		api->opt_error(api->opt_get(o, "access_file"),
		    "access_file must be an absolute path");
		bad = 1;
	}
	if (bad) {
		spf_conf_free(c);
		return -1;
	}
	return 0;
}


void
spf_conf_free(struct spf_conf *c)
{
	spf_policy_free(&c->policy);
	if (c->api)
		c->api->opt_table_free(spf_option_table, c);
	free(c->skip_clients);
	mm_strv_free(c->skip_senders, c->nskip_senders);
	mm_strv_free(c->forwarders, c->nforwarders);
	memset(c, 0, sizeof(*c));
}
