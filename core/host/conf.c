/*
 * NAME
 *	conf - modmilterd's configuration: one generation of it
 * DESCRIPTION
 *	See conf.h. The core's own keys (listen, user, log, store,
 *	networks, ...) are read here; plugins and chains by conf_plugins.c.
 *	Keys are checked against what is asked for; cfg_check_unknown()
 *	reports the rest, so a typo never goes unseen.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfgtree.h"
#include "conf.h"
#include "conf_plugins.h"
#include "util.h"

const char *conf_default_plugin_dir = PLUGINDIR;

void
conf_parse_nets(const mm_opt *root, const char *key, struct mm_cidr **out, size_t *n,
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
	conf_parse_nets(nets && nets->type == MM_OPT_MAP ? nets : NULL, "internal",
	    &c->internal, &c->ninternal, def_internal);
	conf_parse_nets(nets && nets->type == MM_OPT_MAP ? nets : NULL, "trusted_relays",
	    &c->trusted, &c->ntrusted, NULL);

	plugins = cfg_get(root, "plugins");
	chains = cfg_get(root, "chains");
	if (!with_plugins) {
		cfg_mark_used(plugins);
		cfg_mark_used(chains);
		plugins = chains = NULL;
		goto done;
	}
	conf_plugins_parse(c, plugins, chains);
done:
	cfg_check_unknown(root, "key");

	conf_add_macro(c, MM_STAGE_CONNECT, "{daemon_name}");
	conf_add_macro(c, MM_STAGE_ENVFROM, "i");
	conf_add_macro(c, MM_STAGE_ENVFROM, "{auth_authen}");
	conf_add_macro(c, MM_STAGE_ENVRCPT, "i");
	conf_add_macro(c, MM_STAGE_EOH, "i");
	conf_add_macro(c, MM_STAGE_EOM, "i");

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
	conf_plugins_free(c);
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
