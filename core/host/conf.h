/*
 * NAME
 *	conf - modmilterd's configuration: one generation of it
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	struct conf *c = conf_load(path, errfp);	(NULL: errors printed)
 *	struct conf *c0 = conf_load_core(path, errfp);	(no plugin loaded)
 *	conf_ref(c); ... conf_unref(c);
 * DESCRIPTION
 *	conf_load() reads the YAML file, validates every core key, loads
 *	each plugin module through libltdl, checks its SDK version and file
 *	safety, runs each instance's init() with its options, reports
 *	options nobody read, and parses the chains. Every problem is printed
 *	as "FILE:LINE:COL: message"; one bad key does not hide the next.
 *	A loaded configuration is a generation: connections hold a
 *	reference, so a reload never pulls instances from under them.
 * DIAGNOSTICS
 *	conf_load() returns NULL when any error was found; nothing it
 *	loaded stays loaded.
 */
#ifndef MM_CONF_H
#define MM_CONF_H

#include <stdio.h>
#include <modmilter/plugin.h>

#include "cidr.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

enum on_error { ONERR_TEMPFAIL, ONERR_CONTINUE, ONERR_REJECT };

struct module;


struct instance {
	char *name;
	struct module *mod;
	const struct mm_plugin *p;
	void *data;			/* what init() returned */
	int monitor;
	enum on_error on_error;
	double timeout;			/* seconds; 0 = none */
	unsigned actions, flags;	/* the descriptor's, narrowed at init */
	int index;			/* position in conf->inst */
	struct mm_ctx *ictx;		/* context for init/fini logging */
	struct conf *conf;
	struct istats *stats;		/* metrics.c: survives reloads in the daemon */
};

enum client_match { CM_ANY, CM_INTERNAL, CM_EXTERNAL, CM_TRUSTED, CM_CIDR };

struct chain {
	char *name;
	enum client_match client;
	struct mm_cidr *nets;
	size_t nnets;
	int auth;			/* -1 any, 0 no, 1 yes */
	char **daemons;
	size_t ndaemons;
	char **rcpt_domains;
	size_t nrcpt_domains;
	struct instance **plugins;
	size_t n;
	unsigned actions;		/* union of the plugins' MM_ACT_* */
	unsigned flags;			/* union of the plugins' MM_F_* */
};

struct conf {
	char *file;
	char *listen;
	char *user, *group;
	int socket_mode;		/* of a unix socket, at creation */
	char *socket_group;		/* its group, e.g. postfix */
	char *pidfile;
	enum log_dest log_dest;
	int log_level;
	int log_explicit;		/* 'log:' given (else syslog once detached) */
	char *log_file;			/* text or json lines here instead of stderr */
	double shutdown_timeout;	/* seconds open sessions get at SIGTERM */
	char *authserv_id;
	struct mm_cidr *internal, *trusted;
	size_t ninternal, ntrusted;
	struct store_cfg store;		/* store: (store.h) */
	char *plugin_dir;
	char *stats_socket;
	char *metrics_listen;		/* metrics: { listen: HOST:PORT } */
	char *tmpdir;
	long long memory_limit;
	struct instance **inst;
	size_t ninst;
	struct chain *chains;
	size_t nchains;
	int rcpt_chains;		/* some chain matches rcpt_domain */
	int auth_chains;		/* some chain matches auth */
	unsigned hooks;			/* stages some plugin hooks (1 << mm_stage) */
	unsigned actions;		/* union over all instances */
	unsigned flags;
	int any_monitor;
	int any_conn_open;		/* some plugin can decide at conn_open */
	char *macros[MM_STAGE_COUNT];	/* space-separated, for smfi_setsymlist */
	int refs;
};

struct conf *conf_load(const char *path, FILE *errfp);
/* The core's own keys only: no plugin is loaded, no init runs. */
struct conf *conf_load_core(const char *path, FILE *errfp);
void conf_ref(struct conf *c);
void conf_unref(struct conf *c);
struct instance *conf_instance(const struct conf *c, const char *name);

/* Process-wide: the directory plugins are loaded from when none is set. */
extern const char *conf_default_plugin_dir;

#endif
