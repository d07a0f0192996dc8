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
 *	Reads the options of a policy instance (doc/plugins/policy.md has
 *	every key, its meaning in bms.py and its default). Every check is
 *	off unless configured. Domains are normalised as the core compares
 *	them (a leading "*." or "." means the subdomains); addresses of
 *	whitelist_senders, dspam_exempt and dspam_whitelist are
 *	"user@domain" or "@domain"; Subject words are folded (words.c).
 * DIAGNOSTICS
 *	-1 after recording each problem at its node (file:line:col, key).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

static void
free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static const mm_opt *
item_node(const struct mm_api *api, const mm_opt *v, size_t i)
{
	return api->opt_type(v) == MM_OPT_LIST ? api->opt_at(v, i) : v;
}

/* A list of strings (a scalar is a list of one), NULL-terminated. */
static int
str_list(const struct mm_api *api, const mm_opt *o, const char *key,
    char ***out)
{
	const mm_opt *v = api->opt_get(o, key);
	size_t n;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (api->opt_type(v) == MM_OPT_SCALAR)
		n = 1;
	else if (api->opt_type(v) == MM_OPT_LIST)
		n = api->opt_len(v);
	else {
		api->opt_error(v, "%s must be a list", key);
		return -1;
	}
	if ((*out = calloc(n + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *s = api->opt_scalar(item_node(api, v, i));
		if (s == NULL || *s == '\0') {
			api->opt_error(item_node(api, v, i), "%s: item must be a string",
			    key);
			return -1;
		}
		if (((*out)[i] = strdup(s)) == NULL)
			return -1;
	}
	return 0;
}

static int
domain_list(const struct mm_api *api, const mm_opt *o, const char *key,
    char ***out)
{
	const mm_opt *v = api->opt_get(o, key);

	if (str_list(api, o, key, out) < 0)
		return -1;
	for (size_t i = 0; *out && (*out)[i]; i++) {
		const char *why, *s = (*out)[i];
		char *d;

		if (s[0] == '*' && s[1] == '.')	/* bms.py's glob "*.example.com" */
			s++;
		if ((d = api->domain_normalize(s, &why)) == NULL) {
			api->opt_error(item_node(api, v, i), "%s: '%s' is not a domain: %s",
			    key, (*out)[i], why);
			return -1;
		}
		free((*out)[i]);
		(*out)[i] = strdup(d);
		api->free(d);
		if ((*out)[i] == NULL)
			return -1;
	}
	return 0;
}

/* "user@domain" (normalised, lower case) or "@domain" */
static int
addr_list(const struct mm_api *api, const mm_opt *o, const char *key,
    char ***out)
{
	const mm_opt *v = api->opt_get(o, key);

	if (str_list(api, o, key, out) < 0)
		return -1;
	for (size_t i = 0; *out && (*out)[i]; i++) {
		const char *why = "no domain", *s = (*out)[i];
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
			api->opt_error(item_node(api, v, i), "%s: '%s' is not an "
			    "address or @domain: %s", key, s, why);
			return -1;
		}
		for (char *p = d; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		free((*out)[i]);
		(*out)[i] = d;
	}
	return 0;
}

static int
word_list(const struct mm_api *api, const mm_opt *o, const char *key,
    char ***out)
{
	if (str_list(api, o, key, out) < 0)
		return -1;
	for (size_t i = 0; *out && (*out)[i]; i++) {
		char *f = policy_fold((*out)[i], strlen((*out)[i]));
		if (f == NULL)
			return -1;
		free((*out)[i]);
		(*out)[i] = f;
	}
	return 0;
}

int
policy_conf_load(const struct mm_api *api, const mm_opt *o,
    struct policy_conf *c)
{
	const char *db;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	c->auto_whitelist_ttl = 60 * 86400.0;
	c->dns_timeout = 5;
	if (api->opt_bool(o, "reject_bad_ptr", 0, &c->reject_bad_ptr) < 0 ||
	    api->opt_bool(o, "reject_numeric_hello", 0, &c->reject_numeric_hello) < 0 ||
	    api->opt_bool(o, "require_hello", 0, &c->require_hello) < 0 ||
	    api->opt_bool(o, "confirm_ptr", 1, &c->confirm_ptr) < 0 ||
	    api->opt_bool(o, "supply_sender", 0, &c->supply_sender) < 0 ||
	    api->opt_duration(o, "dns_timeout", 5, &c->dns_timeout) < 0 ||
	    api->opt_duration(o, "auto_whitelist_ttl", 60 * 86400.0,
	    &c->auto_whitelist_ttl) < 0 ||
	    api->opt_str(o, "db", POLICY_DB, &db) < 0)
		bad = 1;
	if (api->opt_get(o, "reject_noptr") != NULL) {
		c->three_strikes = 1;
		if (api->opt_bool(o, "reject_noptr", 0, &c->reject_noptr) < 0)
			bad = 1;
	}
	if (domain_list(api, o, "hello_blacklist", &c->hello_blacklist) < 0 ||
	    domain_list(api, o, "internal_domains", &c->internal_domains) < 0 ||
	    word_list(api, o, "porn_words", &c->porn_words) < 0 ||
	    word_list(api, o, "spam_words", &c->spam_words) < 0 ||
	    addr_list(api, o, "whitelist_senders", &c->whitelist_senders) < 0 ||
	    addr_list(api, o, "dspam_exempt", &c->dspam_exempt) < 0 ||
	    addr_list(api, o, "dspam_whitelist", &c->dspam_whitelist) < 0)
		bad = 1;
	if (api->opt_bool(o, "auto_whitelist", c->whitelist_senders != NULL,
	    &c->auto_whitelist) < 0)
		bad = 1;
	if (!bad && c->auto_whitelist_ttl <= 0) {
		api->opt_error(api->opt_get(o, "auto_whitelist_ttl"),
		    "auto_whitelist_ttl must be positive");
		bad = 1;
	}
	if (!bad && (c->db = strdup(db)) == NULL)
		bad = 1;
	if (bad) {
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
