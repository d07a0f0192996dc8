/*
 * NAME
 *	options - the cbv plugin's options, checked when the configuration loads
 * SYNOPSIS
 *	#include "cbv_plugin.h"
 *
 *	if (cbv_options(cbv, api, options, &err) < 0) fail...
 * DESCRIPTION
 *	Reads every option of doc/plugins/cbv.md with its default, loads
 *	and checks the DSN templates, and lists our own addresses. A bad
 *	value is reported at its line and column through api->opt_error.
 *	The domain lists are kept in the core's normal form (lower case,
 *	no trailing dot); cbv_domain_in() says whether a domain is in a
 *	list, or a subdomain of an entry written ".example.com", compared
 *	as the core compares domains (api->domain_match).
 * DIAGNOSTICS
 *	cbv_options() returns -1 with the errors recorded (or *err set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cbv_plugin.h"

#ifndef CBV_TEMPLATEDIR
#define CBV_TEMPLATEDIR "/usr/local/share/modmilter/cbv"
#endif

static void
free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

/* A list of strings (a single scalar is a list of one); NULL-terminated. */
static int
str_list(const struct mm_api *api, const mm_opt *o, const char *key, char ***out)
{
	const mm_opt *v = api->opt_get(o, key);
	size_t n;

	*out = calloc(1, sizeof(char *));
	if (v == NULL || *out == NULL)
		return *out ? 0 : -1;
	if (api->opt_type(v) == MM_OPT_SCALAR) {
		free(*out);
		*out = calloc(2, sizeof(char *));
		(*out)[0] = strdup(api->opt_scalar(v));
		return 0;
	}
	if (api->opt_type(v) != MM_OPT_LIST) {
		api->opt_error(v, "%s must be a list", key);
		return -1;
	}
	n = api->opt_len(v);
	free(*out);
	*out = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; *out && i < n; i++) {
		const char *s = api->opt_scalar(api->opt_at(v, i));
		if (s == NULL || *s == 0) {
			api->opt_error(api->opt_at(v, i), "%s: item must be a string", key);
			return -1;
		}
		(*out)[i] = strdup(s);
	}
	return 0;
}

int
cbv_domain_in(const struct mm_api *api, char *const *list, const char *domain)
{
	for (size_t i = 0; list && list[i]; i++)
		if (api->domain_match(domain, list[i]))
			return 1;
	return 0;
}

/* A list of domains (".example.com": its subdomains), normalised as
   the core compares them. */
static int
domain_list(const struct mm_api *api, const mm_opt *o, const char *key,
    char ***out)
{
	const mm_opt *v = api->opt_get(o, key);

	if (str_list(api, o, key, out) < 0)
		return -1;
	for (size_t i = 0; (*out)[i]; i++) {
		const char *why;
		char *d = api->domain_normalize((*out)[i], &why);
		if (d == NULL) {
			api->opt_error(api->opt_type(v) == MM_OPT_LIST ?
			    api->opt_at(v, i) : v, "%s: '%s' is not a domain: %s", key,
			    (*out)[i], why);
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

/* Where to report about key: its value, or the options when defaulted. */
static const mm_opt *
node_of(const struct mm_api *api, const mm_opt *o, const char *key)
{
	const mm_opt *v = api->opt_get(o, key);

	return v ? v : o;
}

static int
printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return n > 0 && n <= max;
}

static int
duration(const struct mm_api *api, const mm_opt *o, const char *key, double def,
    double min, double *out)
{
	if (api->opt_duration(o, key, def, out) < 0)
		return -1;
	if (*out < min) {
		api->opt_error(api->opt_get(o, key), "%s must be at least %gs", key, min);
		return -1;
	}
	return 0;
}

static int
read_cache(struct cbv *c, const struct mm_api *api, const mm_opt *o)
{
	const mm_opt *m = api->opt_get(o, "cache");
	struct cbv_ttl *t = &c->ttl;

	if (m != NULL && api->opt_type(m) != MM_OPT_MAP) {
		api->opt_error(m, "cache must be a map");
		return -1;
	}
	if (duration(api, m, "positive", 31 * 86400, 60, &t->pos_expire) < 0 ||
	    duration(api, m, "positive_refresh", 7 * 86400, 60, &t->pos_refresh) < 0 ||
	    duration(api, m, "negative", 3 * 86400, 60, &t->neg_expire) < 0 ||
	    duration(api, m, "negative_refresh", 3 * 3600, 60, &t->neg_refresh) < 0 ||
	    duration(api, m, "defer", 10 * 60, 1, &t->defer_expire) < 0)
		return -1;
	if (t->pos_refresh > t->pos_expire || t->neg_refresh > t->neg_expire) {
		api->opt_error(m, "a refresh time must not exceed its expiry time");
		return -1;
	}
	return 0;
}

/* Who gets notices, how many, and how much of the original they quote. */
static int
read_dsn_limits(struct cbv *c, const struct mm_api *api, const mm_opt *o)
{
	const mm_opt *m = api->opt_get(o, "dsn_limit");
	long long hmax;
	const char *s;

	if (api->opt_str(o, "dsn_senders", "authenticated", &s) < 0)
		return -1;
	if (strcmp(s, "any") == 0)
		c->dsn_any_sender = 1;
	else if (strcmp(s, "authenticated") != 0) {
		api->opt_error(api->opt_get(o, "dsn_senders"),
		    "dsn_senders must be authenticated or any");
		return -1;
	}
	if (m != NULL && api->opt_type(m) != MM_OPT_MAP) {
		api->opt_error(m, "dsn_limit must be a map "
		    "{ total: N, per_domain: N, period: DURATION }");
		return -1;
	}
	if (api->opt_int(m, "total", 1, 1000000, 100, &c->caps.total) < 0 ||
	    api->opt_int(m, "per_domain", 1, 1000000, 5, &c->caps.per_domain) < 0 ||
	    duration(api, m, "period", 3600, 60, &c->caps.period) < 0 ||
	    api->opt_int(o, "dsn_headers_max", 0, 65536, 4096, &hmax) < 0)
		return -1;
	if (c->caps.period > 30 * 86400) {
		api->opt_error(node_of(api, m, "period"),
		    "period must be at most 30d");
		return -1;
	}
	if (c->caps.per_domain > c->caps.total) {
		api->opt_error(node_of(api, m, "per_domain"),
		    "per_domain (%lld) must not exceed total (%lld)",
		    c->caps.per_domain, c->caps.total);
		return -1;
	}
	c->headers_max = (size_t)hmax;
	return 0;
}

static int
read_templates(struct cbv *c, const struct mm_api *api, const mm_opt *o)
{
	const char *dir, *def;
	const mm_opt *m;
	char err[512];

	if (api->opt_str(o, "template_dir", CBV_TEMPLATEDIR, &dir) < 0 ||
	    api->opt_str(o, "template", NULL, &def) < 0)
		return -1;
	if (def && (c->deftpl = template_load(dir, def, err, sizeof(err))) == NULL) {
		api->opt_error(api->opt_get(o, "template"), "%s", err);
		return -1;
	}
	if ((m = api->opt_get(o, "templates")) != NULL) {
		if (api->opt_type(m) != MM_OPT_MAP) {
			api->opt_error(m, "templates must map an SPF result to a template");
			return -1;
		}
		c->ntmap = api->opt_len(m);
		if ((c->tmap = calloc(c->ntmap + 1, sizeof(*c->tmap))) == NULL)
			return -1;
		for (size_t i = 0; i < c->ntmap; i++) {
			const mm_opt *v;
			const char *k = api->opt_key_at(m, i, &v);
			const char *name = api->opt_scalar(v);
			c->tmap[i].result = strdup(k);
			if (name == NULL || (c->tmap[i].t = template_load(dir, name, err,
			    sizeof(err))) == NULL) {
				api->opt_error(v, "%s", name ? err : "a template name");
				return -1;
			}
		}
	}
	if (c->dsn && c->deftpl == NULL && c->ntmap == 0) {
		api->opt_error(api->opt_get(o, "action"),
		    "action dsn needs template or templates");
		return -1;
	}
	return 0;
}

/* allow_networks: special-purpose networks a test lab probes all the same */
static int
read_allow(struct cbv *c, const struct mm_api *api, const mm_opt *o)
{
	const mm_opt *v = api->opt_get(o, "allow_networks");
	size_t n;

	if (v == NULL)
		return 0;
	if (api->opt_type(v) != MM_OPT_LIST) {
		api->opt_error(v, "allow_networks must be a list of networks");
		return -1;
	}
	n = api->opt_len(v);
	for (size_t i = 0; i < n; i++) {
		const mm_opt *it = api->opt_at(v, i);
		const char *s = api->opt_scalar(it);
		if (s == NULL || own_allow(c->own, s) < 0) {
			api->opt_error(it, "allow_networks: '%s' is not a network "
			    "(address/prefix length, no host bits)", s ? s : "");
			return -1;
		}
	}
	return 0;
}

static int
read_own(struct cbv *c, const struct mm_api *api, const mm_opt *o, char **err)
{
	char **addrs = NULL, **names = NULL;
	int ifs, rc = -1;
	size_t n = 0;

	if (api->opt_bool(o, "own_interfaces", 1, &ifs) < 0 ||
	    str_list(api, o, "own_addresses", &addrs) < 0 ||
	    str_list(api, o, "own_names", &names) < 0)
		goto out;
	if ((c->own = own_new(ifs, err)) == NULL)
		goto out;
	for (size_t i = 0; addrs[i]; i++)
		if (own_add(c->own, addrs[i]) < 0) {
			api->opt_error(api->opt_get(o, "own_addresses"),
			    "'%s' is not an IP address", addrs[i]);
			goto out;
		}
	if (read_allow(c, api, o) < 0)
		goto out;
	while (names[n])
		n++;
	if ((c->own_names = calloc(n + 2, sizeof(char *))) == NULL)
		goto out;
	c->own_names[0] = strdup(c->helo_name);
	for (size_t i = 0; i < n; i++) {
		c->own_names[i + 1] = names[i];
		names[i] = NULL;
	}
	rc = 0;
out:
	free_list(addrs);
	free_list(names);
	return rc;
}

int
cbv_options(struct cbv *c, const struct mm_api *api, const mm_opt *o, char **err)
{
	const char *s;
	char host[256], buf[300];
	long long port, max_mx, max_conn, rate;
	double step, total, dnst, bmin, bmax;

	if (api->opt_str(o, "verify", "flagged", &s) < 0)
		return -1;
	if (strcmp(s, "always") == 0)
		c->always = 1;
	else if (strcmp(s, "flagged") != 0) {
		api->opt_error(api->opt_get(o, "verify"), "verify must be always or flagged");
		return -1;
	}
	if (api->opt_str(o, "action", "verify", &s) < 0)
		return -1;
	if (strcmp(s, "dsn") == 0)
		c->dsn = 1;
	else if (strcmp(s, "verify") != 0) {
		api->opt_error(api->opt_get(o, "action"), "action must be verify or dsn");
		return -1;
	}
	if (api->opt_str(o, "stage", "eom", &s) < 0)
		return -1;
	if (strcmp(s, "rcpt") == 0)
		c->stage = CBV_STAGE_RCPT;
	else if (strcmp(s, "eom") == 0)
		c->stage = CBV_STAGE_EOM;
	else {
		api->opt_error(api->opt_get(o, "stage"), "stage must be rcpt or eom");
		return -1;
	}
	if (c->dsn && c->stage != CBV_STAGE_EOM) {
		api->opt_error(api->opt_get(o, "stage"), "action dsn runs at eom only");
		return -1;
	}
	if (api->opt_str(o, "on_tempfail", "tempfail", &s) < 0)
		return -1;
	if (strcmp(s, "accept") == 0)
		c->temp_accept = 1;
	else if (strcmp(s, "tempfail") != 0) {
		api->opt_error(api->opt_get(o, "on_tempfail"),
		    "on_tempfail must be tempfail or accept");
		return -1;
	}
	if (domain_list(api, o, "domains", &c->domains) < 0 ||
	    domain_list(api, o, "skip_domains", &c->skip_domains) < 0 ||
	    domain_list(api, o, "local_domains", &c->local_domains) < 0)
		return -1;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	if (api->opt_str(o, "helo_name", host, &s) < 0)
		return -1;
	c->helo_name = strdup(s);
	snprintf(buf, sizeof(buf), "MAILER-DAEMON@%s", c->helo_name);
	if (api->opt_str(o, "dsn_from", buf, &s) < 0)
		return -1;
	c->dsn_from = strdup(s);
	if (api->opt_str(o, "probe_from", "", &s) < 0)
		return -1;
	if (strpbrk(s, "<> \r\n")) {
		api->opt_error(api->opt_get(o, "probe_from"),
		    "probe_from is a bare address (\"\" for the null sender)");
		return -1;
	}
	c->probe_from = strdup(s);
	if (api->opt_str(o, "db", "cbv", &s) < 0)
		return -1;
	c->db = strdup(s);
	if (strpbrk(c->helo_name, " \r\n<>") || !printable(c->helo_name, 255)) {
		api->opt_error(node_of(api, o, "helo_name"), "helo_name must be one "
		    "host name (printable ASCII, at most 255 characters)");
		return -1;
	}
	/* it goes into the notice's From: as it is, never encoded */
	if (!printable(c->dsn_from, 256)) {
		api->opt_error(node_of(api, o, "dsn_from"), "dsn_from must be one "
		    "line of printable ASCII, at most 256 characters");
		return -1;
	}

	if (api->opt_int(o, "port", 1, 65535, 25, &port) < 0 ||
	    api->opt_int(o, "max_mx", 1, 20, 3, &max_mx) < 0 ||
	    api->opt_int(o, "max_connections", 1, 50, 5, &max_conn) < 0 ||
	    api->opt_int(o, "rate", 1, 100000, 10, &rate) < 0 ||
	    duration(api, o, "step_timeout", 10, 0.1, &step) < 0 ||
	    duration(api, o, "probe_timeout", 25, 0.1, &total) < 0 ||
	    duration(api, o, "dns_timeout", 5, 1, &dnst) < 0 ||
	    duration(api, o, "backoff_min", 60, 1, &bmin) < 0 ||
	    duration(api, o, "backoff_max", 3600, 1, &bmax) < 0 ||
	    duration(api, o, "progress_interval", 5, 0.1, &c->progress_interval) < 0 ||
	    read_cache(c, api, o) < 0 || read_dsn_limits(c, api, o) < 0)
		return -1;
	c->pc.port = (int)port;
	c->pc.max_mx = (int)max_mx;
	c->pc.max_addrs = (int)max_conn;
	c->pc.total_timeout = total;
	c->pc.dns.timeout = dnst;
	c->pc.dns.tries = 2;
	c->pc.d.helo_name = c->helo_name;
	c->pc.d.probe_from = c->probe_from;
	c->pc.d.step_timeout = step;
	if ((c->rl = rl_new((double)rate, bmin, bmax)) == NULL)
		return -1;
	if (read_own(c, api, o, err) < 0)
		return -1;
	c->pc.own = c->own;
	c->pc.d.own_names = c->own_names;
	return read_templates(c, api, o);
}

void
cbv_options_free(struct cbv *c)
{
	free_list(c->domains);
	free_list(c->skip_domains);
	free_list(c->local_domains);
	free_list(c->own_names);
	template_free(c->deftpl);
	for (size_t i = 0; c->tmap && i < c->ntmap; i++) {
		free(c->tmap[i].result);
		template_free(c->tmap[i].t);
	}
	free(c->tmap);
	free(c->helo_name);
	free(c->dsn_from);
	free(c->probe_from);
	free(c->db);
	own_free(c->own);
	rl_free(c->rl);
}
