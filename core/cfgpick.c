/*
 * NAME
 *	cfgpick - one plugin instance of the daemon's file, for a command
 * SYNOPSIS
 *	#include "cfgpick.h"
 *
 *	const char *name = NULL;
 *	const mm_opt *def = cfg_pick_instance("modmilter-srs", path,
 *	    cfg_get(root, "plugins"), "srs", want, "-i", &name);
 * DESCRIPTION
 *	The commands that work with a plugin's data (modmilter-dspam,
 *	modmilter-srs) read the options of its instance from the daemon's
 *	file, so that they do what the daemon does. cfg_pick_instance()
 *	finds that instance in the "plugins:" map: the one named want (it
 *	must use module, given as "module: NAME", a path to NAME.so, or no
 *	module and the instance named NAME), else the only instance of
 *	module; with several and none named the command cannot guess, and
 *	says which of its options names one.
 * DIAGNOSTICS
 *	NULL with *name NULL: the file has no such instance (not an error
 *	when none was named). NULL with *name set, or with want given: the
 *	instance cannot be chosen; the reason is printed on stderr, after
 *	"PROG: PATH: ".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfgpick.h"
#include "cfgtree.h"

/* Does the definition def of instance name use module? */
static int
uses(const char *name, const mm_opt *def, const char *module)
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
	return n == strlen(module) && strncmp(base, module, n) == 0;
}

const mm_opt *
cfg_pick_instance(const char *prog, const char *path, const mm_opt *plugins,
    const char *module, const char *want, const char *option, const char **name)
{
	const mm_opt *found = NULL;
	size_t i, n = 0;

	*name = NULL;
	for (i = 0; i < cfg_len(plugins) && cfg_type(plugins) == MM_OPT_MAP; i++) {
		const mm_opt *def;
		const char *k = cfg_key_at(plugins, i, &def);

		if (k == NULL)
			continue;
		if (want != NULL && strcmp(k, want) == 0) {
			if (!uses(k, def, module)) {
				fprintf(stderr, "%s: %s: plugin instance '%s' is not "
				    "a %s instance\n", prog, path, k, module);
				return NULL;
			}
			*name = k;
			return def;
		}
		if (want == NULL && uses(k, def, module)) {
			if (n++ > 0) {
				fprintf(stderr, "%s: %s: several %s instances ('%s', "
				    "'%s'): choose one with %s NAME\n", prog,
				    path, module, *name, k, option);
				return NULL;
			}
			*name = k;
			found = def;
		}
	}
	if (want != NULL)
		fprintf(stderr, "%s: %s: no plugin instance '%s'\n", prog, path, want);
	return found;
}
