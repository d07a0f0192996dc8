/*
 * NAME
 *	toolhost - the daemon's configuration and store, offline, for tools
 * SYNOPSIS
 *	#include <modmilter/host.h>
 * DESCRIPTION
 *	See modmilter/host.h. The YAML file is read with cfgtree, as the
 *	daemon reads it, but only "store:" and the one instance a tool
 *	asks for are looked at: no module is loaded and no init() runs
 *	(conf_load() would start every plugin of the file to reach one
 *	instance's options). Options are read with the daemon's own
 *	readers (opttab.c, the API table of api.c).
 * DIAGNOSTICS
 *	On stderr, "PROG: ..." or "FILE:LINE:COL: message".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/host.h>

#include "cfgtree.h"
#include "log.h"
#include "opttab.h"
#include "store.h"
#include "util.h"

extern const struct mm_api core_api;

struct mm_host {
	char *prog;
	char *file;			/* NULL: a store only */
	struct cfgtree *t;
	struct store_cfg store;
};

static mm_host *
host_new(const char *prog)
{
	mm_host *h = xcalloc(1, sizeof(*h));

	h->prog = xstrdup(prog);
	log_open(LOG_DEST_STDERR, MM_LOG_WARNING, prog);
	return h;
}

mm_host *
mm_host_open(const char *prog, const char *path)
{
	mm_host *h = host_new(prog);
	const mm_opt *root;

	h->file = xstrdup(path);
	if ((h->t = cfgtree_load(path)) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		store_cfg_parse(NULL, &h->store);
		mm_host_close(h);
		return NULL;
	}
	root = h->t->root;
	store_cfg_parse(root ? cfg_get(root, "store") : NULL, &h->store);
	if (h->t->nerrors == 0 && root != NULL && root->type != MM_OPT_MAP)
		cfg_error(root, "the configuration must be a map of settings");
	else if (h->t->nerrors == 0 && root != NULL && cfg_get(root, "plugins") &&
	    !cfg_is_null(cfg_get(root, "plugins")) &&
	    cfg_get(root, "plugins")->type != MM_OPT_MAP)
		cfg_error(cfg_get(root, "plugins"), "'plugins' must be a map of "
		    "instance name to settings");
	if (h->t->nerrors > 0) {
		cfgtree_print_errors(h->t, stderr);
		mm_host_close(h);
		return NULL;
	}
	return h;
}

mm_host *
mm_host_open_store(const char *prog, const char *uri)
{
	mm_host *h = host_new(prog);
	char *err = NULL;

	if (uri == NULL) {
		store_cfg_parse(NULL, &h->store);	/* the daemon's default */
		return h;
	}
	if (store_cfg_from_uri(uri, &h->store, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err ? err : "bad store");
		free(err);
		free(h->prog);
		free(h);
		return NULL;
	}
	return h;
}

void
mm_host_close(mm_host *h)
{
	if (h == NULL)
		return;
	store_cfg_free(&h->store);
	if (h->t)
		cfgtree_free(h->t);
	free(h->file);
	free(h->prog);
	free(h);
}

const struct mm_api *
mm_host_api(const mm_host *h)
{
	(void)h;
	return &core_api;
}

/* module: NAME, a path to NAME.so, or no module: an instance named NAME */
static int
is_module(const char *module, const char *name, const mm_opt *def)
{
	const char *m = name, *base;

	if (cfg_type(def) != MM_OPT_MAP)
		return 0;
	if (cfg_get(def, "module") != NULL &&
	    (m = cfg_scalar(cfg_get(def, "module"))) == NULL)
		return 0;
	base = strrchr(m, '/') ? strrchr(m, '/') + 1 : m;
	return strcspn(base, ".") == strlen(module) &&
	    strncmp(base, module, strlen(module)) == 0;
}

static const mm_opt *
plugins_of(const mm_host *h)
{
	const mm_opt *p = h->t && h->t->root ? cfg_get(h->t->root, "plugins") : NULL;

	return p && p->type == MM_OPT_MAP ? p : NULL;
}

int
mm_host_instance(mm_host *h, const char *module, const char *want,
    const char *how, const char **name)
{
	const mm_opt *plugins = plugins_of(h);
	size_t n = 0;

	*name = NULL;
	for (size_t i = 0; plugins && i < plugins->n; i++) {
		const mm_opt *def;
		const char *k = cfg_key_at(plugins, i, &def);

		if (k == NULL)
			continue;
		if (want != NULL && strcmp(k, want) == 0) {
			if (!is_module(module, k, def)) {
				fprintf(stderr, "%s: %s: plugin instance '%s' is not a %s "
				    "instance\n", h->prog, h->file, k, module);
				return -1;
			}
			*name = k;
			return 1;
		}
		if (want == NULL && is_module(module, k, def)) {
			if (n++ > 0) {
				fprintf(stderr, "%s: %s: several %s instances ('%s', '%s'): "
				    "choose one with %s\n", h->prog, h->file, module, *name,
				    k, how);
				*name = NULL;
				return -1;
			}
			*name = k;
		}
	}
	if (want != NULL) {
		fprintf(stderr, "%s: %s: no plugin instance '%s'\n", h->prog,
		    h->file ? h->file : "(no configuration)", want);
		return -1;
	}
	return *name != NULL;
}

/* The instance's options node (NULL: none given); -1 when not a map. */
static int
options_of(mm_host *h, const char *name, const mm_opt **opts,
    const mm_opt **def)
{
	const mm_opt *plugins = plugins_of(h);

	*opts = NULL;
	*def = plugins ? cfg_get(plugins, name) : NULL;
	if (*def == NULL) {
		fprintf(stderr, "%s: %s: no plugin instance '%s'\n", h->prog,
		    h->file ? h->file : "(no configuration)", name);
		return -1;
	}
	*opts = cfg_get(*def, "options");
	if (*opts != NULL && cfg_is_null(*opts))
		*opts = NULL;
	if (*opts != NULL && (*opts)->type != MM_OPT_MAP) {
		cfg_error(*opts, "options of plugin '%s' must be a map", name);
		return -1;
	}
	return 0;
}

/* Errors recorded in the tree: printed (and forgotten), -1. */
static int
report(mm_host *h)
{
	if (h->t->nerrors == 0)
		return 0;
	cfgtree_print_errors(h->t, stderr);
	for (size_t i = 0; i < h->t->nerrors; i++)
		free(h->t->errors[i]);
	h->t->nerrors = 0;
	return -1;
}

int
mm_host_table(mm_host *h, const char *name, const struct mm_option *table,
    void *conf)
{
	const mm_opt *opts, *def;
	char err[512];

	if (opttab_check(table, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: malformed option table: %s\n", h->prog, err);
		return -1;
	}
	if (options_of(h, name, &opts, &def) < 0) {
		report(h);
		return -1;
	}
	opttab_read(opts, table, conf);
	return report(h);
}

int
mm_host_options(mm_host *h, const char *name,
    int (*read)(const struct mm_api *api, const mm_opt *options, void *arg,
    char **err), void *arg)
{
	const mm_opt *opts, *def;
	char *err = NULL;

	if (options_of(h, name, &opts, &def) < 0) {
		report(h);
		return -1;
	}
	if (read(&core_api, opts, arg, &err) == 0)
		cfg_check_unknown(opts, "option");
	else if (err != NULL || h->t->nerrors == 0)
		cfg_error(opts ? opts : def, "plugin '%s': %s", name,
		    err ? err : "bad options");
	free(err);
	return report(h);
}

mm_store *
mm_host_store(mm_host *h, const char *db, const struct mm_host_store_opts *o,
    char **err)
{
	if (o != NULL) {
		if (o->map_size > 0)
			h->store.map_size = o->map_size;
		h->store.nosync = o->nosync;
		if (h->store.timeout < o->min_timeout)
			h->store.timeout = o->min_timeout;
	}
	return store_open(&h->store, db, err);
}

int
mm_host_store_sync(mm_store *st)
{
	return store_sync(st);
}
