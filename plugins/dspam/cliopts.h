/*
 * NAME
 *	cliopts.h - modmilter-dspam's command-line options
 * SYNOPSIS
 *	#include "cliopts.h"
 * DESCRIPTION
 *	See cliopts.c.
 */
#ifndef DSPAM_CLIOPTS_H
#define DSPAM_CLIOPTS_H

#include <getopt.h>

#include "dspam.h"

/* the classifier the command works with, and where it counts */
struct cliopts {
	struct classifier c;
	struct tokopts to;
	const char *dict_name;		/* --dict */
	const char *database;		/* --database */
	long long map_mb;		/* --map-size; 0: the store's default */
};

/* the global options (getopt_long), with -c, --instance, --store, --help */
extern const struct option cliopts_long[];
/* the plugin's defaults */
void cliopts_defaults(struct cliopts *o);
/* one classifier option; a bad value is a usage error (exit 2) */
void cliopts_set(struct cliopts *o, int opt, const char *arg);
__attribute__((noreturn)) void cliopts_usage(void);
/* a bad value of --opt: a usage error naming it and what it wants */
__attribute__((noreturn)) void cliopts_bad_value(const char *opt,
    const char *val, const char *want);
/* the whole argument, a number / a whole number in [min, max], or a
   usage error */
double cliopts_real(const char *opt, const char *s, double min, double max);
long long cliopts_whole(const char *opt, const char *s, long long min,
    long long max);

#endif
