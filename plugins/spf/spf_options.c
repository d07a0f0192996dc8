/*
 * NAME
 *	spf_options - the spf plugin's configuration
 * SYNOPSIS
 *	See spf_options.h.
 * DESCRIPTION
 *	Every key is looked up here, so that the core reports any other
 *	key as unknown. Values are copied: the options tree is only valid
 *	during init.
 * DIAGNOSTICS
 *	See spf_options.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* A list of strings, each checked by ok() (NULL: anything), copied. */
static int
strings(const struct mm_api *api, const mm_opt *parent, const char *key,
    int (*ok)(const char *), const char *what, char ***out, size_t *n)
{
	const mm_opt *l = api->opt_get(parent, key);
	int bad = 0;

	*out = NULL;
	*n = 0;
	if (l == NULL)
		return 0;
	if (api->opt_type(l) != MM_OPT_LIST) {
		api->opt_error(l, "'%s' must be a list", key);
		return -1;
	}
	if ((*out = calloc(api->opt_len(l) + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < api->opt_len(l); i++) {
		const mm_opt *it = api->opt_at(l, i);
		const char *s = api->opt_scalar(it);
		if (s == NULL || (ok && !ok(s))) {
			api->opt_error(it, "'%s': not %s: '%s'", key, what, s ? s : "");
			bad = 1;
			continue;
		}
		if (((*out)[(*n)++] = lower_dup(s[0] == '@' ? s + 1 : s)) == NULL)
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
	char **nets;
	size_t n;
	int bad;

	bad = strings(api, skip, "clients", NULL, "", &nets, &n) < 0;
	if (n && (c->skip_clients = calloc(n, sizeof(*c->skip_clients))) == NULL)
		bad = 1;
	for (size_t i = 0; i < n; i++) {
		if (c->skip_clients && spf_net_parse(nets[i], &c->skip_clients[c->nskip_clients]) == 0)
			c->nskip_clients++;
		else {
			api->opt_error(api->opt_at(api->opt_get(skip, "clients"), i),
			    "skip.clients: not an address or CIDR: '%s'", nets[i]);
			bad = 1;
		}
		free(nets[i]);
	}
	free(nets);
	return bad ? -1 : 0;
}

static int
dns_options(const struct mm_api *api, const mm_opt *o, struct spf_conf *c)
{
	const mm_opt *d = api->opt_get(o, "dns");
	long long retries;

	if (d && api->opt_type(d) != MM_OPT_MAP) {
		api->opt_error(d, "dns must be a map (timeout, retries, cache)");
		return -1;
	}
	if (api->opt_duration(d, "timeout", 5, &c->dns_timeout) < 0 ||
	    api->opt_int(d, "retries", 1, 5, 2, &retries) < 0 ||
	    api->opt_bool(d, "cache", 1, &c->dns_cache) < 0)
		return -1;
	c->dns_retries = (int)retries;
	if (c->dns_timeout < 1) {
		api->opt_error(api->opt_get(d, "timeout"), "dns.timeout must be at least 1s");
		return -1;
	}
	return 0;
}

static int
texts(const struct mm_api *api, const mm_opt *o, struct spf_conf *c)
{
	const char *bg, *ex, *rc;
	struct spf_record rec;
	char why[200];
	int bad = 0;

	if (api->opt_str(o, "best_guess", DEFAULT_BEST_GUESS, &bg) < 0 ||
	    api->opt_str(o, "explanation", DEFAULT_EXPLANATION, &ex) < 0 ||
	    api->opt_str(o, "receiver", NULL, &rc) < 0)
		return -1;
	if (*bg && strcasecmp(bg, "false") != 0 && strcasecmp(bg, "no") != 0 &&
	    strcasecmp(bg, "off") != 0) {
		if (spf_record_parse(bg, &rec, why, sizeof(why)) < 0) {
			api->opt_error(api->opt_get(o, "best_guess"), "best_guess: %s", why);
			bad = 1;
		} else if ((c->best_guess = strdup(bg)) == NULL)
			bad = 1;
		spf_record_free(&rec);
	}
	if (spf_macro_check(ex, strlen(ex), SPF_MACRO_EXP, NULL) < 0) {
		api->opt_error(api->opt_get(o, "explanation"),
		    "explanation: invalid macro-string (RFC 7208 §7.1)");
		bad = 1;
	} else if ((c->explanation = strdup(ex)) == NULL)
		bad = 1;
	if (rc && (strpbrk(rc, " \t\r\n;\"()") || !*rc)) {
		api->opt_error(api->opt_get(o, "receiver"), "receiver must be a host name");
		bad = 1;
	} else if (rc && (c->receiver = strdup(rc)) == NULL)
		bad = 1;
	return bad ? -1 : 0;
}

int
spf_conf_load(const struct mm_api *api, const mm_opt *o, struct spf_conf *c)
{
	const mm_opt *skip;
	long long voids;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	spf_policy_init(&c->policy);
	bad |= table(api, api->opt_get(o, "policy"), "policy", &c->policy.mailfrom) < 0;
	bad |= table(api, api->opt_get(o, "helo_policy"), "helo_policy", &c->policy.helo) < 0;
	bad |= overrides(api, api->opt_get(o, "overrides"), &c->policy) < 0;
	bad |= texts(api, o, c) < 0;
	bad |= api->opt_bool(o, "received_spf", 1, &c->received_spf) < 0;
	bad |= api->opt_bool(o, "authentication_results", 1, &c->authres) < 0;
	if ((skip = api->opt_get(o, "skip")) && api->opt_type(skip) != MM_OPT_MAP) {
		api->opt_error(skip, "skip must be a map (clients, senders)");
		bad = 1;
	} else {
		bad |= skip_clients(api, skip, c) < 0;
		bad |= strings(api, skip, "senders", is_sender, "an address or domain",
		    &c->skip_senders, &c->nskip_senders) < 0;
	}
	bad |= strings(api, o, "trusted_forwarders", is_domain, "a domain name",
	    &c->forwarders, &c->nforwarders) < 0;
	bad |= api->opt_duration(o, "time_limit", 20, &c->time_limit) < 0;
	bad |= api->opt_int(o, "void_limit", 0, 100, 2, &voids) < 0;
	c->void_limit = (int)voids;
	bad |= dns_options(api, o, c) < 0;
	{
		const char *af;
		if (api->opt_str(o, "access_file", NULL, &af) < 0)
			bad = 1;
		else if (af != NULL && (*af != '/' ||
		    (c->access_file = strdup(af)) == NULL)) {
			api->opt_error(api->opt_get(o, "access_file"),
			    "access_file must be an absolute path");
			bad = 1;
		}
	}
	if (!bad && c->time_limit < 1) {
		api->opt_error(api->opt_get(o, "time_limit"), "time_limit must be at least 1s");
		bad = 1;
	}
	if (bad) {
		spf_conf_free(c);
		return -1;
	}
	return 0;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
spf_conf_free(struct spf_conf *c)
{
	spf_policy_free(&c->policy);
	free(c->best_guess);
	free(c->skip_clients);
	free_strv(c->skip_senders, c->nskip_senders);
	free_strv(c->forwarders, c->nforwarders);
	free(c->explanation);
	free(c->receiver);
	free(c->access_file);
	memset(c, 0, sizeof(*c));
}
