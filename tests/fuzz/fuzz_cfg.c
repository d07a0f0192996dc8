/*
 * NAME
 *	fuzz_cfg - libFuzzer target for the configuration file
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] cfg
 * DESCRIPTION
 *	Each input is a configuration file. It goes through cfgtree
 *	(libyaml's loader, the copy into position-carrying nodes, the
 *	duplicate-key and nesting checks), then through every typed getter
 *	(string, integer, boolean, duration, list) on every key of every
 *	map whatever its name, then through conf_load(): the daemon's own
 *	validation of listen, log, store, networks, plugins and chains,
 *	with the unknown-key report at the end.
 *
 *	No plugin is loaded: module_load() here refuses every module, as
 *	when a plugin file is missing, so that a fuzzed plugin_dir or
 *	module name never makes the fuzzer dlopen a file from the disk.
 *	conf_load() then takes its "plugin failed to load" path and still
 *	checks every chain against the instance names. Each plugin's
 *	options have parsers of their own, not fuzzed here.
 * DIAGNOSTICS
 *	A sanitizer report or a crash; configuration errors are expected
 *	and go to /dev/null.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api.h"
#include "cfgtree.h"
#include "conf.h"
#include "loader.h"
#include "session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* conf_load() hands this to each plugin's init(); no init() ever runs
   here, because no module loads */
const struct mm_api core_api = { 0 };

const struct mm_api *
api_table(void)
{
	return &core_api;
}

struct module *
module_load(const char *dir, const char *name, char *err, size_t errlen)
{
	(void)dir;
	snprintf(err, errlen, "module '%s': plugins are not loaded under the fuzzer",
	    name);
	return NULL;
}

void
module_unload(struct module *m)
{
	(void)m;
}

/* the daemon's counters are not the configuration's concern: the real
   metrics.c would bring the milter side with it */
struct istats *
metrics_instance(const char *instance, const char *module)
{
	static struct istats st;

	(void)instance;
	(void)module;
	return &st;
}

void
metrics_instance_release(struct istats *st)
{
	(void)st;
}

void
metrics_store(const char *backend, const char *result)
{
	(void)backend;
	(void)result;
}

static FILE *devnull;
static int memfd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* conf_load() reads a path; a memory file keeps the disk out of it */
	if ((memfd = memfd_create("fuzz_cfg.yaml", 0)) < 0 ||
	    (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	conf_default_plugin_dir = "/nonexistent";
	return 0;
}

/* Every getter on every key: the getters must cope with any node. */
static void
poke(const mm_opt *n)
{
	const char *s, **l;
	long long i;
	double d;
	int b;

	switch (cfg_type(n)) {
	case MM_OPT_MAP:
		for (size_t k = 0; k < cfg_len(n); k++) {
			const mm_opt *v;
			const char *key = cfg_key_at(n, k, &v);

			if (key == NULL)
				continue;
			cfg_str(n, key, "def", &s);
			cfg_int(n, key, -100, 1LL << 40, 0, &i);
			cfg_bool(n, key, 0, &b);
			cfg_duration(n, key, 1, &d);
			if (cfg_strlist(n, key, &l) >= 0)
				free(l);
			poke(v);
		}
		break;
	case MM_OPT_LIST:
		for (size_t k = 0; k < cfg_len(n); k++)
			poke(cfg_at(n, k));
		break;
	case MM_OPT_SCALAR:
		if (!cfg_is_null(n))
			cfg_parse_duration(cfg_scalar(n), &d);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfgtree *t;
	struct conf *c;

	t = cfgtree_parse("fuzz.yaml", (const char *)data, size);
	poke(t->root);
	cfg_check_unknown(t->root, "key");
	cfgtree_print_errors(t, devnull);
	cfgtree_free(t);

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if ((c = conf_load(path, devnull)) != NULL)
		conf_unref(c);
	return 0;
}
