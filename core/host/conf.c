/*
 * NAME
 *	conf - modmilterd's configuration: one generation of it
 * DESCRIPTION
 *	See conf.h. Keys are checked against what this file asks for;
 *	cfg_check_unknown() reports the rest, so a typo never goes unseen.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfgtree.h"
#include "conf.h"
#include "loader.h"
#include "session.h"
#include "util.h"

const char *conf_default_plugin_dir = PLUGINDIR;

static void
parse_nets(const mm_opt *root, const char *key, struct mm_cidr **out, size_t *n,
    const char *const *defaults)
{
	const mm_opt *v = cfg_get(root, key);
	char err[256];

	*out = NULL;
	*n = 0;
	if (v == NULL) {
		size_t k = 0;
		while (defaults && defaults[k])
			k++;
		*out = xcalloc(k + 1, sizeof(**out));
		for (size_t i = 0; i < k; i++)
			if (cidr_parse(defaults[i], &(*out)[(*n)], err, sizeof(err)) == 0)
				(*n)++;
		return;
	}
	if (cfg_is_null(v))
		return;
	if (v->type != MM_OPT_LIST) {
		cfg_error(v, "'%s' must be a list of networks", key);
		return;
	}
	*out = xcalloc(v->n + 1, sizeof(**out));
	for (size_t i = 0; i < v->n; i++) {
		const mm_opt *it = v->items[i];
		if (it->type != MM_OPT_SCALAR)
			cfg_error(it, "'%s' entries must be networks like 10.0.0.0/8", key);
		else if (cidr_parse(it->scalar, &(*out)[*n], err, sizeof(err)) < 0)
			cfg_error(it, "%s", err);
		else
			(*n)++;
	}
}

static char *
dupopt(const mm_opt *map, const char *key, const char *def)
{
	const char *s;

	cfg_str(map, key, def, &s);
	return s ? xstrdup(s) : NULL;
}

/* socket_mode (octal, as chmod takes it) and socket_group: what the
   MTA needs to reach a unix socket, e.g. 0660 and postfix */
static void
parse_socket_perms(struct conf *c, const mm_opt *root)
{
	const mm_opt *m = cfg_get(root, "socket_mode");
	const char *s = NULL;
	char *end;
	long v;

	c->socket_mode = 0660;
	c->socket_group = dupopt(root, "socket_group", NULL);
	if (m && !cfg_is_null(m)) {
		cfg_str(root, "socket_mode", NULL, &s);
		v = s ? strtol(s, &end, 8) : -1;
		if (s == NULL || *s == 0 || *end || v < 0 || v > 0777)
			cfg_error(m, "socket_mode must be octal permissions such as 0660, "
			    "not '%s'", s ? s : "");
		else
			c->socket_mode = (int)v;
	}
	if ((m || c->socket_group) && strncmp(c->listen, "unix:", 5) != 0 &&
	    strncmp(c->listen, "local:", 6) != 0)
		cfg_error(m ? m : cfg_get(root, "socket_group"),
		    "socket_mode and socket_group apply to a unix socket; listen is %s",
		    c->listen);
}

static void
parse_metrics(struct conf *c, const mm_opt *root)
{
	const mm_opt *m = cfg_get(root, "metrics");

	if (m == NULL || cfg_is_null(m))
		return;
	if (m->type != MM_OPT_MAP) {
		cfg_error(m, "'metrics' must be a map: { listen: 127.0.0.1:9890 }");
		return;
	}
	c->metrics_listen = dupopt(m, "listen", "127.0.0.1:9890");
	if (strrchr(c->metrics_listen, ':') == NULL)
		cfg_error(cfg_get(m, "listen"), "metrics listen must be HOST:PORT "
		    "(e.g. 127.0.0.1:9890 or [::1]:9890), not '%s'", c->metrics_listen);
}

static void
parse_log(struct conf *c, const mm_opt *root)
{
	const mm_opt *v = cfg_get(root, "log");
	const char *to = "stderr", *level = "info", *file = NULL;

	c->log_dest = LOG_DEST_STDERR;
	c->log_level = MM_LOG_INFO;
	if (v == NULL || cfg_is_null(v))
		return;
	c->log_explicit = 1;
	if (v->type == MM_OPT_SCALAR)
		to = v->scalar;
	else if (v->type == MM_OPT_MAP) {
		cfg_str(v, "to", "stderr", &to);
		cfg_str(v, "level", "info", &level);
		cfg_str(v, "file", NULL, &file);
	} else {
		cfg_error(v, "'log' must be stderr, syslog, json or { to:, level: }");
		return;
	}
	if (strcmp(to, "stderr") == 0)
		c->log_dest = LOG_DEST_STDERR;
	else if (strcmp(to, "syslog") == 0)
		c->log_dest = LOG_DEST_SYSLOG;
	else if (strcmp(to, "json") == 0)
		c->log_dest = LOG_DEST_JSON;
	else
		cfg_error(v->type == MM_OPT_MAP ? cfg_get(v, "to") : v,
		    "log destination must be stderr, syslog or json, not '%s'", to);
	if (file && c->log_dest == LOG_DEST_SYSLOG)
		cfg_error(cfg_get(v, "file"), "'file' goes with to: stderr or json, not syslog");
	else if (file && file[0] != '/')
		cfg_error(cfg_get(v, "file"), "log file must be an absolute path, not '%s'", file);
	else if (file)
		c->log_file = xstrdup(file);
	if ((c->log_level = log_parse_level(level)) < 0) {
		cfg_error(cfg_get(v, "level"),
		    "log level must be error, warning, notice, info or debug");
		c->log_level = MM_LOG_INFO;
	}
}

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
static void
add_core_macro(struct conf *c, mm_stage st, const char *name)
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
			add_core_macro(c, r->stage, r->name);
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
			parse_nets(match, "client", &ch->nets, &ch->nnets, NULL);
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


/* with_plugins 0: the core's own keys only; plugins and chains are
   left unread (the daemon needs the socket and user before it loads
   any plugin) */
static struct conf *
conf_parse(const char *path, FILE *errfp, int with_plugins)
{
	struct cfgtree *t = cfgtree_load(path);
	struct conf *c;
	const mm_opt *root = t->root, *plugins, *chains, *nets;
	static const char *const def_internal[] = { "127.0.0.0/8", "::1/128", NULL };

	c = xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->file = xstrdup(path);
	if (t->nerrors) {
		cfgtree_print_errors(t, errfp);
		cfgtree_free(t);
		conf_unref(c);
		return NULL;
	}
	if (root == NULL || root->type != MM_OPT_MAP) {
		cfgtree_error_at(t, root ? root->line : 1, root ? root->col : 1,
		    "the configuration must be a map of settings");
		cfgtree_print_errors(t, errfp);
		cfgtree_free(t);
		conf_unref(c);
		return NULL;
	}

	c->listen = dupopt(root, "listen", "inet:8890@127.0.0.1");
	c->user = dupopt(root, "user", NULL);
	c->group = dupopt(root, "group", NULL);
	c->pidfile = dupopt(root, "pidfile", NULL);
	c->authserv_id = dupopt(root, "authserv_id", NULL);
	if (c->authserv_id == NULL) {
		/* RFC 8601 §2.5: usually the host's name */
		char host[256];
		if (gethostname(host, sizeof(host)) == 0 && host[0]) {
			host[sizeof(host) - 1] = 0;
			c->authserv_id = xstrdup(host);
		}
	}
	c->plugin_dir = dupopt(root, "plugin_dir", conf_default_plugin_dir);
	c->stats_socket = dupopt(root, "stats_socket", NULL);
	parse_metrics(c, root);
	c->tmpdir = dupopt(root, "tmpdir", "/var/tmp");
	cfg_int(root, "message_memory_limit", 4096, 1LL << 32, 4 << 20, &c->memory_limit);
	cfg_duration(root, "shutdown_timeout", 30, &c->shutdown_timeout);
	parse_socket_perms(c, root);
	parse_log(c, root);
	store_cfg_parse(cfg_get(root, "store"), &c->store);
	if (c->authserv_id && (strpbrk(c->authserv_id, " \t;()\"\\") || !*c->authserv_id))
		cfg_error(cfg_get(root, "authserv_id"),
		    "authserv_id must be a host name without spaces, ';', '(' or quotes");

	nets = cfg_get(root, "networks");
	if (nets && !cfg_is_null(nets) && nets->type != MM_OPT_MAP)
		cfg_error(nets, "'networks' must be a map with internal and trusted_relays");
	parse_nets(nets && nets->type == MM_OPT_MAP ? nets : NULL, "internal",
	    &c->internal, &c->ninternal, def_internal);
	parse_nets(nets && nets->type == MM_OPT_MAP ? nets : NULL, "trusted_relays",
	    &c->trusted, &c->ntrusted, NULL);

	plugins = cfg_get(root, "plugins");
	chains = cfg_get(root, "chains");
	if (!with_plugins) {
		cfg_mark_used(plugins);
		cfg_mark_used(chains);
		plugins = chains = NULL;
		goto done;
	}
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
done:
	cfg_check_unknown(root, "key");

	add_core_macro(c, MM_STAGE_CONNECT, "{daemon_name}");
	add_core_macro(c, MM_STAGE_ENVFROM, "i");
	add_core_macro(c, MM_STAGE_ENVFROM, "{auth_authen}");
	add_core_macro(c, MM_STAGE_ENVRCPT, "i");
	add_core_macro(c, MM_STAGE_EOH, "i");
	add_core_macro(c, MM_STAGE_EOM, "i");

	if (t->nerrors) {
		cfgtree_print_errors(t, errfp);
		cfgtree_free(t);
		conf_unref(c);
		return NULL;
	}
	cfgtree_free(t);
	return c;
}

struct conf *
conf_load(const char *path, FILE *errfp)
{
	return conf_parse(path, errfp, 1);
}

struct conf *
conf_load_core(const char *path, FILE *errfp)
{
	return conf_parse(path, errfp, 0);
}

void
conf_ref(struct conf *c)
{
	__atomic_fetch_add(&c->refs, 1, __ATOMIC_ACQ_REL);
}

void
conf_unref(struct conf *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
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
	for (int i = 0; i < MM_STAGE_COUNT; i++)
		free(c->macros[i]);
	free(c->internal);
	free(c->trusted);
	free(c->file);
	free(c->listen);
	free(c->user);
	free(c->group);
	free(c->pidfile);
	free(c->authserv_id);
	free(c->plugin_dir);
	free(c->stats_socket);
	free(c->metrics_listen);
	free(c->tmpdir);
	free(c->log_file);
	free(c->socket_group);
	store_cfg_free(&c->store);
	free(c);
}
