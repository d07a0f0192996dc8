/*
 * NAME
 *	spf_options - the spf plugin's configuration
 * SYNOPSIS
 *	#include "spf_options.h"
 *
 *	struct spf_conf conf;
 *	if (spf_conf_load(api, options, &conf) < 0) ... errors were recorded
 *	spf_conf_free(&conf);
 * DESCRIPTION
 *	Reads the options node of an spf instance (see doc/plugins/spf.md
 *	for every key and its default) and checks every value before the
 *	instance runs: actions and result names, CIDRs, domain names, the
 *	best guess record (parsed as an SPF record), the default
 *	explanation (macro syntax).
 * DIAGNOSTICS
 *	spf_conf_load() returns -1 after recording each problem at its
 *	node with api->opt_error() (FILE:LINE:COL for the admin); it then
 *	frees what it allocated.
 */
#ifndef MM_SPF_OPTIONS_H
#define MM_SPF_OPTIONS_H

#include <stddef.h>

#include <modmilter/plugin.h>

#include "spf_policy.h"
#include "spf_util.h"

struct spf_conf {
	const struct mm_api *api;
	struct spf_policy policy;
	char *best_guess;		/* NULL: no best guess */
	int received_spf, authres;
	struct spf_net *skip_clients;
	size_t nskip_clients;
	char **skip_senders;		/* "local@domain" or "domain", lower case */
	size_t nskip_senders;
	char **forwarders;
	size_t nforwarders;
	char *explanation;		/* default explanation, macro-string */
	char *receiver;			/* NULL: the MTA's macro j */
	char *access_file;		/* NULL: none (bms.py's access_file) */
	double time_limit;
	double dns_timeout;
	long long dns_retries;
	int dns_cache;
	long long void_limit;
	/* the lists as the option table reads them */
	struct mm_strv opt_clients, opt_senders, opt_forwarders;
};

extern const struct mm_option spf_option_table[];

int spf_conf_load(const struct mm_api *api, const mm_opt *o, struct spf_conf *c);
void spf_conf_free(struct spf_conf *c);

#endif
