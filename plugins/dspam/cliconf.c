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

#include "cfgpick.h"
#include "cfgtree.h"
#include "cliconf.h"

/* the core's API table (core/api.c): the option readers the daemon
   hands the plugin */
extern const struct mm_api core_api;

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
	    (def = cfg_pick_instance("modmilter-dspam", path, plugins, "dspam",
	    instance, "--instance", &name)) == NULL &&
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
