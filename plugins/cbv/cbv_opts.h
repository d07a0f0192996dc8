/*
 * NAME
 *	cbv_opts.h - the cbv plugin's option table and what it reads
 * SYNOPSIS
 *	#include <modmilter/plugin.h>
 *	#include "cbv.h"
 *	#include "cbv_opts.h"
 * DESCRIPTION
 *	cbv_option_table (opttable.c) is read into a struct cbv_opts by
 *	the core, for the plugin (options.c) and for modmilter-cbv alike
 *	(through modmilter/host.h), so that both see the same values.
 */
#ifndef CBV_OPTS_H
#define CBV_OPTS_H

#include <modmilter/plugin.h>

#include "cbv.h"

/* what the option table reads; cbv_options() moves it into struct cbv */
struct cbv_opts {
	int verify, action, stage, on_tempfail, dsn_senders, own_interfaces;
	struct mm_strv domains, skip_domains, local_domains;
	struct mm_strv own_names, own_addresses, allow_networks;
	char *template_dir, *template, *helo_name, *dsn_from, *probe_from, *db;
	long long port, max_mx, max_connections, rate, headers_max;
	double step, total, dnst, bmin, bmax, progress;
	struct cbv_ttl ttl;
	struct dsn_caps caps;
};

extern const struct mm_option cbv_option_table[];

#endif
