/*
 * NAME
 *	conf_plugins - the plugin instances and chains of a configuration
 * DESCRIPTION
 *	See conf.h and conf_plugins.h. Each instance's module is loaded
 *	(loader.c), its SDK version and file checked, and its init() run
 *	with its options and the API table; options nobody read are
 *	reported. Chains name instances and what a connection or message
 *	must match to take them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cfgtree.h"
#include "conf.h"
#include "conf_plugins.h"
#include "loader.h"
#include "session.h"
#include "util.h"

static void
strv_from_opt(const mm_opt *map, const char *key, char ***out, size_t *n)
{
	const char **l;
	int k = cfg_strlist(map, key, &l);

	*out = NULL;
	*n = 0;
	if (k <= 0)
		return;
	*out = xcalloc((size_t)k + 1, sizeof(char *));
	for (int i = 0; i < k; i++)
		(*out)[i] = xstrdup(l[i]);
	*n = (size_t)k;
	free(l);
}

/* Add a macro to a stage's space-separated list, once. */
void
conf_add_macro(struct conf *c, mm_stage st, const char *name)
{
	char *old = c->macros[st];
	size_t n = strlen(name);

	for (const char *p = old; p && *p; ) {
		const char *e = strchr(p, ' ');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, name, n) == 0)
			return;
		p = e ? e + 1 : p + l;
	}
	c->macros[st] = old ? xasprintf("%s %s", old, name) : xstrdup(name);
	free(old);
}

static void
parse_instance(struct conf *c, const char *name, const mm_opt *def,
    const mm_opt *keynode)
{
	struct instance *in;
	const char *module, *mode, *onerr;
	const mm_opt *modnode, *opts;
	char err[1024], *ierr = NULL;
	struct module *m;
	size_t before;

	if (def->type != MM_OPT_MAP) {
		cfg_error(def, "plugin '%s' must be a map with at least 'module'", name);
		return;
	}
	for (size_t i = 0; i < c->ninst; i++)
		if (strcmp(c->inst[i]->name, name) == 0)
			return;	/* duplicate key already reported */
	cfg_str(def, "module", name, &module);
	modnode = cfg_get(def, "module");
	in = xcalloc(1, sizeof(*in));
	in->name = xstrdup(name);
	in->conf = c;
	cfg_str(def, "mode", "enforce", &mode);
	if (strcmp(mode, "monitor") == 0)
		in->monitor = 1;
	else if (strcmp(mode, "enforce") != 0)
		cfg_error(cfg_get(def, "mode"), "mode must be enforce or monitor, not '%s'", mode);
	cfg_str(def, "on_error", "tempfail", &onerr);
	if (strcmp(onerr, "tempfail") == 0)
		in->on_error = ONERR_TEMPFAIL;
	else if (strcmp(onerr, "continue") == 0)
		in->on_error = ONERR_CONTINUE;
	else if (strcmp(onerr, "reject") == 0)
		in->on_error = ONERR_REJECT;
	else
		cfg_error(cfg_get(def, "on_error"),
		    "on_error must be tempfail, continue or reject, not '%s'", onerr);
	cfg_duration(def, "timeout", 0, &in->timeout);
	opts = cfg_get(def, "options");
	if (opts && cfg_is_null(opts))
		opts = NULL;
	if (opts && opts->type != MM_OPT_MAP) {
		cfg_error(opts, "options of plugin '%s' must be a map", name);
		opts = NULL;
	}

	in->index = (int)c->ninst;
	c->inst = xrealloc(c->inst, (c->ninst + 1) * sizeof(*c->inst));
	c->inst[c->ninst++] = in;
	in->ictx = xcalloc(1, sizeof(*in->ictx));
	in->ictx->inst = in;

	if ((m = module_load(c->plugin_dir, module, err, sizeof(err))) == NULL) {
		cfg_error(modnode ? modnode : keynode, "plugin '%s': %s", name, err);
		cfg_mark_used(opts);	/* nobody can tell which options are known */
		return;
	}
	in->mod = m;
	in->p = m->desc;
	in->stats = metrics_instance(name, m->desc->name);
	in->actions = in->p->actions;
	in->flags = in->p->flags;
	before = def->tree->nerrors;
	if (in->p->init(in->ictx, api_table(), opts, &in->data, &ierr) != 0) {
		if (ierr || def->tree->nerrors == before)
			cfg_error(opts ? opts : keynode, "plugin '%s': %s", name,
			    ierr ? ierr : "initialisation failed");
		free(ierr);
		in->p = NULL;	/* init failed: no fini */
		cfg_mark_used(opts);
		return;
	}
	free(ierr);
	cfg_check_unknown(opts, "option");
	c->hooks |= (in->p->connect ? 1u << MM_STAGE_CONNECT : 0) |
	    (in->p->helo ? 1u << MM_STAGE_HELO : 0) |
	    (in->p->envfrom ? 1u << MM_STAGE_ENVFROM : 0) |
	    (in->p->envrcpt ? 1u << MM_STAGE_ENVRCPT : 0) |
	    (in->p->data ? 1u << MM_STAGE_DATA : 0) |
	    (in->p->header ? 1u << MM_STAGE_HEADER : 0) |
	    (in->p->eoh ? 1u << MM_STAGE_EOH : 0) |
	    (in->p->body ? 1u << MM_STAGE_BODY : 0) |
	    (in->p->eom ? 1u << MM_STAGE_EOM : 0) |
	    (in->p->unknown ? 1u << MM_STAGE_UNKNOWN : 0);
	c->actions |= in->actions;
	c->flags |= in->flags;
	if (in->monitor)
		c->any_monitor = 1;
	if (in->p->conn_open)
		c->any_conn_open = 1;
	for (const struct mm_macro_req *r = in->p->macros; r && r->name; r++) {
		switch (r->stage) {
		case MM_STAGE_CONNECT: case MM_STAGE_HELO: case MM_STAGE_ENVFROM:
		case MM_STAGE_ENVRCPT: case MM_STAGE_DATA: case MM_STAGE_EOH:
		case MM_STAGE_EOM:
			conf_add_macro(c, r->stage, r->name);
			break;
		default:
			cfg_error(keynode, "plugin '%s' asks for macro %s at a stage "
			    "where the MTA sends none (connect, helo, envfrom, envrcpt, "
			    "data, eoh, eom)", name, r->name);
		}
	}
}

static void
parse_chain(struct conf *c, const mm_opt *def)
{
	struct chain *ch;
	const mm_opt *match, *plugins, *client;
	const char *name;

	if (def->type != MM_OPT_MAP) {
		cfg_error(def, "a chain must be a map with 'name' and 'plugins'");
		return;
	}
	c->chains = xrealloc(c->chains, (c->nchains + 1) * sizeof(*c->chains));
	ch = &c->chains[c->nchains++];
	memset(ch, 0, sizeof(*ch));
	ch->auth = -1;
	cfg_str(def, "name", NULL, &name);
	if (name == NULL) {
		cfg_error(def, "chain without a 'name'");
		name = "?";
	}
	ch->name = xstrdup(name);
	for (size_t i = 0; i + 1 < c->nchains; i++)
		if (strcmp(c->chains[i].name, name) == 0)
			cfg_error(cfg_get(def, "name"), "duplicate chain name '%s'", name);

	match = cfg_get(def, "match");
	if (match && !cfg_is_null(match) && match->type != MM_OPT_MAP)
		cfg_error(match, "'match' must be a map (client, auth, daemon, rcpt_domain)");
	else if (match) {
		client = cfg_get(match, "client");
		if (client && client->type == MM_OPT_SCALAR) {
			if (strcmp(client->scalar, "internal") == 0)
				ch->client = CM_INTERNAL;
			else if (strcmp(client->scalar, "external") == 0)
				ch->client = CM_EXTERNAL;
			else if (strcmp(client->scalar, "trusted_relay") == 0)
				ch->client = CM_TRUSTED;
			else {
				char err[256];
				ch->client = CM_CIDR;
				ch->nets = xcalloc(1, sizeof(*ch->nets));
				if (cidr_parse(client->scalar, ch->nets, err, sizeof(err)) < 0)
					cfg_error(client, "client must be internal, external, "
					    "trusted_relay or networks: %s", err);
				else
					ch->nnets = 1;
			}
		} else if (client && client->type == MM_OPT_LIST) {
			ch->client = CM_CIDR;
			conf_parse_nets(match, "client", &ch->nets, &ch->nnets, NULL);
		} else if (client)
			cfg_error(client, "client must be internal, external, trusted_relay "
			    "or a list of networks");
		if (cfg_get(match, "auth")) {
			int b;
			if (cfg_bool(match, "auth", 0, &b) == 0)
				ch->auth = b;
			c->auth_chains = 1;
		}
		strv_from_opt(match, "daemon", &ch->daemons, &ch->ndaemons);
		strv_from_opt(match, "rcpt_domain", &ch->rcpt_domains, &ch->nrcpt_domains);
		if (ch->nrcpt_domains)
			c->rcpt_chains = 1;
		for (size_t i = 0; i < ch->nrcpt_domains; i++) {
			/* kept normalised, as recipients' domains are compared */
			const char *why;
			char *d = domain_normalize(ch->rcpt_domains[i], &why);
			if (d == NULL) {
				cfg_error(cfg_get(match, "rcpt_domain"), "chain '%s': '%s' is "
				    "not a domain (%s; write .example.com for its subdomains)",
				    ch->name, ch->rcpt_domains[i], why);
				continue;
			}
			free(ch->rcpt_domains[i]);
			ch->rcpt_domains[i] = d;
		}
	}

	plugins = cfg_get(def, "plugins");
	if (plugins == NULL || cfg_is_null(plugins))
		return;
	if (plugins->type != MM_OPT_LIST) {
		cfg_error(plugins, "'plugins' must be a list of plugin instance names");
		return;
	}
	ch->plugins = xcalloc(plugins->n + 1, sizeof(*ch->plugins));
	for (size_t i = 0; i < plugins->n; i++) {
		const mm_opt *it = plugins->items[i];
		struct instance *in;
		if (it->type != MM_OPT_SCALAR) {
			cfg_error(it, "chain '%s': plugin entries must be names", ch->name);
			continue;
		}
		if ((in = conf_instance(c, it->scalar)) == NULL) {
			cfg_error(it, "chain '%s': no plugin instance named '%s' under "
			    "'plugins'", ch->name, it->scalar);
			continue;
		}
		for (size_t j = 0; j < ch->n; j++)
			if (ch->plugins[j] == in)
				cfg_error(it, "chain '%s' lists '%s' twice", ch->name, it->scalar);
		ch->plugins[ch->n++] = in;
		if (in->p) {
			ch->actions |= in->actions;
			ch->flags |= in->flags;
		}
	}
}

struct instance *
conf_instance(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->ninst; i++)
		if (strcmp(c->inst[i]->name, name) == 0)
			return c->inst[i];
	return NULL;
}

/* plugins: the "plugins:" map (NULL: none); chains: the "chains:" list
   (NULL: one chain of every instance, in file order) */
void
conf_plugins_parse(struct conf *c, const mm_opt *plugins, const mm_opt *chains)
{
	if (plugins && plugins->type == MM_OPT_MAP) {
		for (size_t i = 0; i < plugins->n; i++) {
			const mm_opt *def;
			const char *name = cfg_key_at(plugins, i, &def);
			parse_instance(c, name, def, plugins->keys[i]);
		}
	} else if (plugins && !cfg_is_null(plugins))
		cfg_error(plugins, "'plugins' must be a map of instance name to settings");

	if (chains && chains->type == MM_OPT_LIST) {
		if (chains->n == 0)
			cfg_error(chains, "'chains' is empty: no mail would be filtered "
			    "(leave it out for one chain of every plugin)");
		for (size_t i = 0; i < chains->n; i++)
			parse_chain(c, chains->items[i]);
	} else if (chains && !cfg_is_null(chains))
		cfg_error(chains, "'chains' must be a list");
	else {
		/* no chains: one chain of every instance, in file order */
		c->chains = xcalloc(1, sizeof(*c->chains));
		c->nchains = 1;
		c->chains[0].name = xstrdup("default");
		c->chains[0].auth = -1;
		c->chains[0].plugins = xcalloc(c->ninst + 1, sizeof(struct instance *));
		for (size_t i = 0; i < c->ninst; i++) {
			c->chains[0].plugins[c->chains[0].n++] = c->inst[i];
			if (c->inst[i]->p) {
				c->chains[0].actions |= c->inst[i]->actions;
				c->chains[0].flags |= c->inst[i]->flags;
			}
		}
	}
}

void
conf_plugins_free(struct conf *c)
{
	for (size_t i = 0; i < c->ninst; i++) {
		struct instance *in = c->inst[i];
		if (in->p && in->p->fini)
			in->p->fini(in->data);
		module_unload(in->mod);
		metrics_instance_release(in->stats);
		free(in->ictx);
		free(in->name);
		free(in);
	}
	free(c->inst);
	for (size_t i = 0; i < c->nchains; i++) {
		struct chain *ch = &c->chains[i];
		free(ch->name);
		free(ch->nets);
		for (size_t j = 0; j < ch->ndaemons; j++)
			free(ch->daemons[j]);
		free(ch->daemons);
		for (size_t j = 0; j < ch->nrcpt_domains; j++)
			free(ch->rcpt_domains[j]);
		free(ch->rcpt_domains);
		free(ch->plugins);
	}
	free(c->chains);
}
