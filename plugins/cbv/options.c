/*
 * NAME
 *	options - the cbv plugin's options, checked when the configuration loads
 * SYNOPSIS
 *	#include "cbv_plugin.h"
 *
 *	if (cbv_options(cbv, api, options, &err) < 0) fail...
 * DESCRIPTION
 *	The core reads the options of cbv_option_table (modmilterd
 *	--describe cbv prints it; doc/plugins/cbv.md carries it) with
 *	their defaults; this checks what a table cannot say, loads and
 *	checks the DSN templates, and lists our own addresses. A bad
 *	value is reported at its line and column through api->opt_error.
 *	The domain lists are kept in the core's normal form (lower case,
 *	no trailing dot); cbv_domain_in() says whether a domain is in a
 *	list, or a subdomain of an entry written ".example.com", compared
 *	as the core compares domains (api->domain_match).
 * DIAGNOSTICS
 *	cbv_options() returns -1 with the errors recorded (or *err set).
 */
#define _GNU_SOURCE	/* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cbv_plugin.h"
#include "cbv_opts.h"

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

int
cbv_domain_in(const struct mm_api *api, char *const *list, const char *domain)
{
	for (size_t i = 0; list && list[i]; i++)
		if (api->domain_match(domain, list[i]))
			return 1;
	return 0;
}

/* Where to report about key: its value, or the options when defaulted. */
static const mm_opt *
node_of(const struct mm_api *api, const mm_opt *o, const char *key)
{
	const mm_opt *v = api->opt_get(o, key);

	return v ? v : o;
}

/* Item i of a list option (or the one scalar). */
static const mm_opt *
item_of(const struct mm_api *api, const mm_opt *o, const char *key, size_t i)
{
	const mm_opt *v = node_of(api, o, key);

	return api->opt_type(v) == MM_OPT_LIST ? api->opt_at(v, i) : v;
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

/* a list the table read, taken over as a NULL-terminated array */
static char **
take(struct mm_strv *l)
{
	char **v = l->v ? l->v : calloc(1, sizeof(char *));

	l->v = NULL;
	l->n = 0;
	return v;
}

static int
read_templates(struct cbv *c, const struct mm_api *api, const mm_opt *o,
    const char *dir, const char *def)
{
	const mm_opt *m;
	char err[512];

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

static int
read_own(struct cbv *c, const struct mm_api *api, const mm_opt *o,
    struct cbv_opts *v, char **err)
{
	if ((c->own = own_new(v->own_interfaces, err)) == NULL)
		return -1;
	for (size_t i = 0; i < v->own_addresses.n; i++)
		if (own_add(c->own, v->own_addresses.v[i]) < 0) {
			api->opt_error(item_of(api, o, "own_addresses", i),
			    "'%s' is not an IP address", v->own_addresses.v[i]);
			return -1;
		}
	for (size_t i = 0; i < v->allow_networks.n; i++)
		if (own_allow(c->own, v->allow_networks.v[i]) < 0) {
			api->opt_error(item_of(api, o, "allow_networks", i),
			    "allow_networks: '%s' is not a network (address/prefix "
			    "length, no host bits)", v->allow_networks.v[i]);
			return -1;
		}
	if ((c->own_names = calloc(v->own_names.n + 2, sizeof(char *))) == NULL)
		return -1;
	c->own_names[0] = strdup(c->helo_name);
	for (size_t i = 0; i < v->own_names.n; i++) {
		c->own_names[i + 1] = v->own_names.v[i];
		v->own_names.v[i] = NULL;
	}
	v->own_names.n = 0;
	return 0;
}

static int
check_values(struct cbv *c, const struct mm_api *api, const mm_opt *o,
    const struct cbv_opts *v)
{
	if (c->dsn && c->stage != CBV_STAGE_EOM) {
		api->opt_error(api->opt_get(o, "stage"), "action dsn runs at eom only");
		return -1;
	}
	if (strpbrk(c->probe_from, "<> \r\n")) {
		api->opt_error(api->opt_get(o, "probe_from"),
		    "probe_from is a bare address (\"\" for the null sender)");
		return -1;
	}
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
	if (v->ttl.pos_refresh > v->ttl.pos_expire ||
	    v->ttl.neg_refresh > v->ttl.neg_expire) {
		api->opt_error(node_of(api, o, "cache"),
		    "a refresh time must not exceed its expiry time");
		return -1;
	}
	if (v->caps.per_domain > v->caps.total) {
		const mm_opt *m = api->opt_get(o, "dsn_limit");
		api->opt_error(m ? node_of(api, m, "per_domain") : o,
		    "per_domain (%lld) must not exceed total (%lld)",
		    v->caps.per_domain, v->caps.total);
		return -1;
	}
	return 0;
}

int
cbv_options(struct cbv *c, const struct mm_api *api, const mm_opt *o, char **err)
{
	struct cbv_opts v;
	char host[256];
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (!MM_API_HAS(api, opt_table)) {
		*err = strdup("cbv needs a modmilterd that reads options by table");
		return -1;
	}
	if (api->opt_table(o, cbv_option_table, &v) < 0)
		goto out;
	c->always = v.verify == 1;
	c->dsn = v.action == 1;
	c->stage = v.stage == 1 ? CBV_STAGE_RCPT : CBV_STAGE_EOM;
	c->temp_accept = v.on_tempfail == 1;
	c->dsn_any_sender = v.dsn_senders == 1;
	c->domains = take(&v.domains);
	c->skip_domains = take(&v.skip_domains);
	c->local_domains = take(&v.local_domains);
	if (v.helo_name == NULL) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
		v.helo_name = strdup(host);
	}
	c->helo_name = v.helo_name;
	v.helo_name = NULL;
	if (v.dsn_from == NULL && asprintf(&v.dsn_from, "MAILER-DAEMON@%s",
	    c->helo_name) < 0)
		v.dsn_from = NULL;
	c->dsn_from = v.dsn_from;
	c->probe_from = v.probe_from;
	c->db = v.db;
	v.dsn_from = v.probe_from = v.db = NULL;
	if (c->helo_name == NULL || c->dsn_from == NULL || c->probe_from == NULL ||
	    c->db == NULL || check_values(c, api, o, &v) < 0)
		goto out;
	c->ttl = v.ttl;
	c->caps = v.caps;
	c->headers_max = (size_t)v.headers_max;
	c->progress_interval = v.progress;
	c->pc.port = (int)v.port;
	c->pc.max_mx = (int)v.max_mx;
	c->pc.max_addrs = (int)v.max_connections;
	c->pc.total_timeout = v.total;
	c->pc.dns.timeout = v.dnst;
	c->pc.dns.tries = 2;
	c->pc.d.helo_name = c->helo_name;
	c->pc.d.probe_from = c->probe_from;
	c->pc.d.step_timeout = v.step;
	if ((c->rl = rl_new((double)v.rate, v.bmin, v.bmax)) == NULL ||
	    read_own(c, api, o, &v, err) < 0)
		goto out;
	c->pc.own = c->own;
	c->pc.d.own_names = c->own_names;
	rc = read_templates(c, api, o, v.template_dir ? v.template_dir :
	    CBV_TEMPLATEDIR, v.template);
out:
	api->opt_table_free(cbv_option_table, &v);
	return rc;
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
