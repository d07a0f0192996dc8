/*
 * NAME
 *	cliopts - modmilter-dspam's command-line options
 * SYNOPSIS
 *	#include "cliopts.h"
 *
 *	struct cliopts o;
 *	cliopts_defaults(&o);
 *	while ((c = getopt_long(argc, argv, "+c:", cliopts_long, NULL)) != -1)
 *		cliopts_set(&o, c, optarg);
 * DESCRIPTION
 *	The global options of the command: the classifier (algorithm,
 *	training mode, thresholds, tokenizer, noise reduction), the
 *	dictionary, the database and the LMDB map size. Every value is
 *	checked whole against the plugin's own range (options.c), so that
 *	what trains here is what the daemon takes; -c, --instance and
 *	--store are the caller's (cli.c), as is the order in which a
 *	configuration file and these options apply.
 * DIAGNOSTICS
 *	A bad value or an unknown option prints a usage error and exits 2.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliopts.h"

const struct option cliopts_long[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "instance", required_argument, NULL, 'I' },
	{ "store", required_argument, NULL, 's' },
	{ "database", required_argument, NULL, 'B' },
	{ "purge-days", required_argument, NULL, 'P' },
	{ "purge-hits", required_argument, NULL, 'p' },
	{ "dict", required_argument, NULL, 'd' },
	{ "algorithm", required_argument, NULL, 'a' },
	{ "mode", required_argument, NULL, 'm' },
	{ "threshold", required_argument, NULL, 't' },
	{ "tokenizer", required_argument, NULL, 'k' },
	{ "map-size", required_argument, NULL, 'M' },
	{ "robs", required_argument, NULL, 'S' },
	{ "robx", required_argument, NULL, 'X' },
	{ "min-dev", required_argument, NULL, 'D' },
	{ "max-tokens", required_argument, NULL, 'T' },
	{ "bnr", no_argument, NULL, 'R' },
	{ "bnr-threshold", required_argument, NULL, 'r' },
	{ "bnr-sides", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 }
};

void
cliopts_defaults(struct cliopts *o)
{
	memset(o, 0, sizeof(*o));
	combine_defaults(&o->c.cp);
	o->c.mode = MODE_TEFT;
	o->c.sig_ttl = 14 * 86400.0;
	o->c.ds.purge_after = 30 * 86400.0;
	o->c.ds.purge_hits = 1;
	o->dict_name = "shared";
	o->database = "dspam";
}

void
cliopts_usage(void)
{
	fprintf(stderr,
	    "usage: modmilter-dspam [-c CONFIG [--instance NAME] | --store DIR|redis://...]\n"
	    "         [--database NAME] [--dict NAME]\n"
	    "         [--algorithm fisher|burton] [--mode teft|toe|tum|notrain] [--threshold P]\n"
	    "         [--tokenizer words|chain|osb] [--map-size MB] [--purge-days N] [--purge-hits N]\n"
	    "         [--robs S] [--robx X] [--min-dev D] [--max-tokens N]\n"
	    "         [--bnr] [--bnr-threshold T] [--bnr-sides both|spam] COMMAND\n"
	    "  train --spam|--ham [--source corpus|error|inoculation] [--only words|patterns]\n"
	    "        SOURCE...\n"
	    "  retrain --signature ID --spam|--ham\n"
	    "  classify [--learn] [--score] SOURCE...\n"
	    "  online [--unsure D] LIST   (lines: spam|ham SOURCE)\n"
	    "  stats\n"
	    "  purge\n"
	    "SOURCE: a message file, an mbox, a Maildir, a directory of Maildirs,\n"
	    "or - for names read from standard input\n");
	exit(2);
}

/* a bad value on the command line: a usage error naming the option */
void
cliopts_bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "modmilter-dspam: --%s: '%s' is not %s\n", opt, val, want);
	exit(2);
}

/* the whole argument must be a number in [min, max] */
double
cliopts_real(const char *opt, const char *s, double min, double max)
{
	char want[96], *end;
	double v;

	snprintf(want, sizeof(want), "a number from %g to %g", min, max);
	/* strtod would also take blanks, "inf", "nan" and hex */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		cliopts_bad_value(opt, s, want);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !(v >= min && v <= max))
		cliopts_bad_value(opt, s, want);
	return v;
}

/* the whole argument must be a whole number in [min, max] */
long long
cliopts_whole(const char *opt, const char *s, long long min, long long max)
{
	char want[96], *end;
	long long v;

	snprintf(want, sizeof(want), "a whole number from %lld to %lld", min, max);
	if (*s == '\0' || strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')))
		cliopts_bad_value(opt, s, want);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
		cliopts_bad_value(opt, s, want);
	return v;
}

/* One classifier option of the command line; the ranges are the
   plugin's (options.c), so what trains here is what the daemon takes. */
void
cliopts_set(struct cliopts *opts, int o, const char *arg)
{
	switch (o) {
	case 'B': opts->database = arg; break;
	case 'd': opts->dict_name = arg; break;
	case 'P': opts->c.ds.purge_after = cliopts_real("purge-days", arg, 0, 36500) * 86400.0; break;
	case 'p': opts->c.ds.purge_hits = (uint32_t)cliopts_whole("purge-hits", arg, 0, 1000000); break;
	case 'a':
		if (strcmp(arg, "fisher") == 0)
			opts->c.cp.algo = ALGO_FISHER;
		else if (strcmp(arg, "burton") == 0 || strcmp(arg, "graham") == 0)
			opts->c.cp.algo = ALGO_BURTON;
		else
			cliopts_bad_value("algorithm", arg, "fisher or burton");
		break;
	case 'm':
		if (train_mode_parse(arg, &opts->c.mode) < 0)
			cliopts_bad_value("mode", arg, "teft, toe, tum or notrain");
		break;
	case 't': opts->c.cp.threshold = cliopts_real("threshold", arg, 0, 1); break;
	case 'k':
		if (strcmp(arg, "words") == 0)
			opts->to.pairs = 0;
		else if (strcmp(arg, "chain") == 0)
			opts->to.pairs = 1;
		else if (strcmp(arg, "osb") == 0)
			opts->to.pairs = 4;
		else
			cliopts_bad_value("tokenizer", arg, "words, chain or osb");
		break;
	case 'M': opts->map_mb = cliopts_whole("map-size", arg, 1, 1048576); break;
	case 'S': opts->c.cp.robs = cliopts_real("robs", arg, 0.0001, 100); break;
	case 'X': opts->c.cp.robx = cliopts_real("robx", arg, 0, 1); break;
	case 'D': opts->c.cp.min_dev = cliopts_real("min-dev", arg, 0, 0.5); break;
	case 'T': opts->c.cp.max_tokens = (size_t)cliopts_whole("max-tokens", arg, 0, 1000000); break;
	case 'R': opts->c.cp.bnr = opts->to.bnr = 1; break;
	case 'r': opts->c.cp.bnr_threshold = cliopts_real("bnr-threshold", arg, 0, 0.5); break;
	case 'b':
		if (strcmp(arg, "both") == 0)
			opts->c.cp.bnr_sides = BNR_BOTH;
		else if (strcmp(arg, "spam") == 0)
			opts->c.cp.bnr_sides = BNR_SPAM;
		else
			cliopts_bad_value("bnr-sides", arg, "both or spam");
		break;
	default: cliopts_usage();
	}
}

