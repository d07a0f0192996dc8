/*
 * NAME
 *	srs_plugin.h - the srs plugin's configuration, shared by its modules
 * SYNOPSIS
 *	#include "srs_plugin.h"
 * DESCRIPTION
 *	struct srs_conf is one instance's configuration, read-only once
 *	init has returned (every connection thread reads it): options.c
 *	makes it from srs_option_table, srs.c (descriptor and hooks) uses it, and modmilter-srs
 *	reads the same options from the daemon's file.
 */
#ifndef SRS_PLUGIN_H
#define SRS_PLUGIN_H

#include <modmilter/plugin.h>

#include "srs.h"

/* When the envelope sender is rewritten (option sign). */
#define SRS_SIGN_ALWAYS		0	/* every message of the chain */
#define SRS_SIGN_RELAYED	1	/* internal, trusted relay or authenticated clients */
#define SRS_SIGN_NEVER		2	/* reverse and refuse only */

struct srs_conf {
	const struct mm_api *api;
	struct srs_codec codec;
	char *fwdomain;			/* normal form */
	char **local_domains;		/* NULL-terminated, normal form */
	char **banned;			/* NULL-terminated local parts, lower case */
	int sign;			/* SRS_SIGN_* */
	int reject_spoofed;
	mm_metric *actions;		/* modmilter_srs_actions_total{action} */
};

/* options.c: the table the core reads (the descriptor's .options) */
extern const struct mm_option srs_option_table[];
struct srs_conf *srs_conf_load(const struct mm_api *api, const mm_opt *opts,
    char **err);
void srs_conf_free(struct srs_conf *c);

#endif /* SRS_PLUGIN_H */
