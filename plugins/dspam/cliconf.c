/*
 * NAME
 *	cliconf - the daemon's configuration as modmilter-dspam reads it
 * SYNOPSIS
 *	#include "cliconf.h"
 *
 *	struct store_cfg store;
 *	struct dspam_inst *inst;
 *	if (cliconf_load("/etc/modmilter.yaml", NULL, &store, &inst) < 0) ...
 * DESCRIPTION
 *	Training by hand must count tokens the way the daemon will look
 *	them up: the same store and database, tokenizer, algorithm,
 *	thresholds, training mode and dictionary. So the command reads
 *	the daemon's file: its "store:", and the "options:" of one dspam
 *	instance, checked by the plugin's own option parser (options.c),
 *	with the same errors and unknown-option checks as modmilterd -t.
 *
 *	The instance is the one named (it must use module dspam), else the
 *	only dspam instance of the file; with several and none named the
 *	command cannot guess. A file without a dspam instance gives the
 *	store only.
 *
 *	The core's configuration loader would load every plugin and run
 *	each init() (opening sockets, reading keys, starting threads) to
 *	reach one instance's options; this reads the YAML with the core's
 *	cfgtree instead and touches nothing but "store:" and the one
 *	instance.
 * DIAGNOSTICS
 *	Errors in the file as "FILE:LINE:COL: message", the instance
 *	problems as one line; see cliconf.h for the return values.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"
#include "cliconf.h"

/* the core's API table (core/host/api.c): the option readers the daemon
   hands the plugin */
extern const struct mm_api core_api;

/* module: dspam, a path to dspam.so, or no module: an instance named dspam */
static int
is_dspam(const char *name, const mm_opt *def)
{
	const char *m = name, *base;
	size_t n;

	if (cfg_type(def) != MM_OPT_MAP)
		return 0;
	if (cfg_get(def, "module") != NULL &&
	    (m = cfg_scalar(cfg_get(def, "module"))) == NULL)
		return 0;
	base = strrchr(m, '/') ? strrchr(m, '/') + 1 : m;
	n = strcspn(base, ".");
	return n == 5 && strncmp(base, "dspam", 5) == 0;
}

/* the instance's definition, or NULL (printed why) */
static const mm_opt *
pick_instance(const char *path, const mm_opt *plugins, const char *want,
    const char **name)
{
	const mm_opt *found = NULL;
	size_t i, n = 0;

	for (i = 0; i < cfg_len(plugins) && cfg_type(plugins) == MM_OPT_MAP; i++) {
		const mm_opt *def;
		const char *k = cfg_key_at(plugins, i, &def);

		if (k == NULL)
			continue;
		if (want != NULL && strcmp(k, want) == 0) {
			if (!is_dspam(k, def)) {
				fprintf(stderr, "modmilter-dspam: %s: plugin instance "
				    "'%s' is not a dspam instance\n", path, k);
				return NULL;
			}
			*name = k;
			return def;
		}
		if (want == NULL && is_dspam(k, def)) {
			if (n++ > 0) {
				fprintf(stderr, "modmilter-dspam: %s: several dspam "
				    "instances ('%s', '%s'): choose one with "
				    "--instance NAME\n", path, *name, k);
				return NULL;
			}
			*name = k;
			found = def;
		}
	}
	if (want != NULL)
		fprintf(stderr, "modmilter-dspam: %s: no plugin instance '%s'\n",
		    path, want);
	return found;
}

int
cliconf_load(const char *path, const char *instance,
    struct store_cfg *store, struct dspam_inst **inst)
{
	struct cfgtree *t = cfgtree_load(path);
	const mm_opt *def = NULL, *opts, *plugins;
	const char *name = NULL;
	char *err = NULL;
	int rc = 0;

	*inst = NULL;
	if (t == NULL) {
		fprintf(stderr, "modmilter-dspam: %s: %s\n", path, strerror(errno));
		store_cfg_parse(NULL, store);
		return -1;
	}
	store_cfg_parse(t->root ? cfg_get(t->root, "store") : NULL, store);
	plugins = t->root ? cfg_get(t->root, "plugins") : NULL;
	if (t->nerrors == 0 && plugins != NULL &&
	    (def = pick_instance(path, plugins, instance, &name)) == NULL &&
	    (instance != NULL || name != NULL))
		rc = -2;
	else if (t->nerrors == 0 && plugins == NULL && instance != NULL) {
		fprintf(stderr, "modmilter-dspam: %s: no plugin instance '%s'\n",
		    path, instance);
		rc = -2;
	}
	if (rc == 0 && def != NULL) {
		opts = cfg_get(def, "options");
		if (opts != NULL && cfg_is_null(opts))
			opts = NULL;
		if (opts != NULL && cfg_type(opts) != MM_OPT_MAP)
			cfg_error(opts, "options of plugin '%s' must be a map", name);
		else if ((*inst = dspam_options(&core_api, opts, &err)) != NULL)
			cfg_check_unknown(opts, "option");
		else if (err != NULL)
			cfg_error(opts ? opts : def, "plugin '%s': %s", name, err);
		free(err);
	}
	if (t->nerrors > 0) {
		cfgtree_print_errors(t, stderr);
		dspam_inst_free(*inst);
		*inst = NULL;
		rc = -1;
	}
	cfgtree_free(t);
	return rc;
}
