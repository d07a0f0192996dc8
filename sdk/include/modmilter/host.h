/*
 * NAME
 *	modmilter/host.h - the daemon's configuration and store, offline, for tools
 * SYNOPSIS
 *	#include <modmilter/plugin.h>
 *	#include <modmilter/host.h>
 *
 *	mm_host *h = mm_host_open("modmilter-foo", "/etc/modmilter/modmilter.yaml");
 *	const char *name;
 *	switch (mm_host_instance(h, "foo", want, "--instance NAME", &name)) ...
 *	if (mm_host_table(h, name, foo_option_table, &opts) < 0) ...
 *	mm_store *st = mm_host_store(h, "foo", NULL, &err);
 *	mm_host_api(h)->store_scan(st, ...);
 *	mm_host_close(h);
 * DESCRIPTION
 *	A plugin's command-line tool (modmilter-dspam, modmilter-cbv)
 *	must see what the daemon sees: the store it is configured with,
 *	and its instance's options read the way the daemon reads them.
 *	It must not start the daemon's plugins for that: mm_host_open()
 *	reads the YAML file, checks its store: and the shape of plugins:,
 *	and loads no plugin and runs no init().
 *
 *	mm_host_instance() finds the instance of a module (a module name,
 *	a path to NAME.so, or an instance named after the module with no
 *	module: key): the one named want, else the only one; 1 found,
 *	0 the file has none (want NULL), -1 it cannot be chosen (printed;
 *	how says how to choose, e.g. "--instance NAME").
 *
 *	mm_host_table() reads the instance's options through a plugin's
 *	table (struct mm_option): the same reader, defaults and errors as
 *	the daemon's api->opt_table. mm_host_options() runs a plugin's own
 *	reader (which may use api->opt_table and the opt_* calls) with
 *	the daemon's API table and then reports options nobody read, as
 *	modmilterd -t does. Both print "FILE:LINE:COL: message" for every
 *	problem and return -1.
 *
 *	mm_host_api() is the API table plugins get: logging, the options
 *	and address calls and the store calls work; there is no
 *	connection or message. mm_host_store() opens a database of the
 *	configured store (or of the one mm_host_open_store() names:
 *	a directory for LMDB, redis://... for Redis; or with path NULL,
 *	the daemon's default); struct mm_host_store_opts lets a bulk tool
 *	ask for a bigger LMDB map, no flush per commit (then
 *	mm_host_store_sync() at the end) and a longer timeout.
 * DIAGNOSTICS
 *	Messages go to stderr, prefixed with the program's name.
 *	mm_host_open() returns NULL when the file cannot be read or has
 *	errors; mm_host_store() NULL with *err malloc'ed.
 */
#ifndef MODMILTER_HOST_H
#define MODMILTER_HOST_H

#include <modmilter/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_host mm_host;

struct mm_host_store_opts {
	long long map_size;	/* LMDB map in bytes; 0: as configured */
	int nosync;		/* no flush per commit: mm_host_store_sync() */
	double min_timeout;	/* Redis: at least this many seconds */
};

mm_host *mm_host_open(const char *prog, const char *path);
mm_host *mm_host_open_store(const char *prog, const char *store_uri);
void mm_host_close(mm_host *h);
const struct mm_api *mm_host_api(const mm_host *h);

int mm_host_instance(mm_host *h, const char *module, const char *want,
    const char *how, const char **name);
int mm_host_table(mm_host *h, const char *name, const struct mm_option *table,
    void *conf);
int mm_host_options(mm_host *h, const char *name,
    int (*read)(const struct mm_api *api, const mm_opt *options, void *arg,
    char **err), void *arg);

mm_store *mm_host_store(mm_host *h, const char *db,
    const struct mm_host_store_opts *o, char **err);
int mm_host_store_sync(mm_store *st);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_HOST_H */
