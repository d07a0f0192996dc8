/*
 * NAME
 *	modmilter-srs - make and reverse SRS addresses as the srs plugin does
 * SYNOPSIS
 *	modmilter-srs -c FILE [-i INSTANCE] [-t TIME] forward|reverse ADDRESS...
 *	modmilter-srs {-S FILE | -s SECRET...} -d FWDOMAIN [-l HASHLENGTH]
 *	    [-p SEPARATOR] [-t TIME] forward ADDRESS...
 *	modmilter-srs {-S FILE | -s SECRET...} [-l HASHLENGTH] [-n HASHMIN]
 *	    [-m MAXAGE] [-t TIME] reverse ADDRESS...
 * DESCRIPTION
 *	The codec of the srs plugin, for admins and scripts: forward prints
 *	the SRS address that replaces each sender when mail is forwarded
 *	through FWDOMAIN (SRS0, or SRS1 for an SRS0 or SRS1 sender);
 *	reverse checks each SRS address (hash, age) and prints the address
 *	it stands for. With -c, everything comes from the srs instance of
 *	the daemon's configuration FILE (the one named INSTANCE, else the
 *	only one), read and checked by the plugin's own option parser;
 *	-d, -l, -n, -m and -p then override its options. Otherwise the
 *	secrets come from -S FILE, as the plugin's secret_file (the first
 *	signs, all verify; the same permission checks), or from -s options
 *	(the first signs), and the defaults are the plugin's: hash length
 *	8, maximum age 8 days, separator "=". TIME (seconds since 1970)
 *	replaces the clock, for tests.
 * DIAGNOSTICS
 *	Exit status 0 when every address was done; 1 when one was refused
 *	(the reason on stderr, as "ADDRESS: invalid SRS signature"); 2 on
 *	a usage or configuration error or an unreadable secret file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/host.h>

#include "srs_plugin.h"

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-srs {-c FILE [-i INSTANCE] | -S FILE | -s SECRET...} [-d FWDOMAIN] "
	    "[-l HASHLENGTH] [-n HASHMIN] [-m MAXAGE] [-p SEPARATOR] [-t TIME] "
	    "forward|reverse ADDRESS...\n");
	exit(2);
}

static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end != 0 || v < min || v > max) {
		fprintf(stderr, "modmilter-srs: %s must be a number from %ld to %ld\n",
		    what, min, max);
		exit(2);
	}
	return v;
}

static int
read_options(const struct mm_api *api, const mm_opt *opts, void *arg, char **err)
{
	struct srs_conf **c = arg;

	if (opts == NULL) {
		*err = strdup("srs needs options");
		return -1;
	}
	return (*c = srs_conf_load(api, opts, err)) != NULL ? 0 : -1;
}

/* The srs instance of the daemon's file, or NULL (errors printed). No
   plugin is loaded: modmilter/host.h reads the one instance's options. */
static struct srs_conf *
from_config(const char *path, const char *want)
{
	struct srs_conf *c = NULL;
	const char *name = NULL;
	mm_host *h;
	int r;

	if ((h = mm_host_open("modmilter-srs", path)) == NULL)
		return NULL;
	r = mm_host_instance(h, "srs", want, "-i", &name);
	if (r == 0 && want == NULL)
		fprintf(stderr, "modmilter-srs: %s: no srs instance\n", path);
	if (r == 1 && mm_host_options(h, name, read_options, &c) < 0) {
		srs_conf_free(c);
		c = NULL;
	}
	mm_host_close(h);
	return c;
}

int
main(int argc, char **argv)
{
	struct srs_codec c = { NULL, 0, 8, 0, 8, '=', NULL };
	struct srs_codec set = { NULL, 0, 0, 0, 0, 0, NULL };
	char *given[SRS_SECRETS_MAX], out[SRS_ADDR_MAX], err[512];
	const char *file = NULL, *fwdomain = NULL, *config = NULL, *instance = NULL;
	struct srs_conf *conf = NULL;
	time_t now = time(NULL);
	int ch, forward, rc = 0;
	size_t ngiven = 0;

	while ((ch = getopt(argc, argv, "c:i:S:s:d:l:n:m:p:t:")) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'i': instance = optarg; break;
		case 'S': file = optarg; break;
		case 's':
			if (ngiven == SRS_SECRETS_MAX || *optarg == 0)
				usage();
			given[ngiven++] = optarg;
			break;
		case 'd': fwdomain = optarg; break;
		case 'l': set.hashlength = (int)number(optarg, 1, SRS_HASH_MAX, "-l"); break;
		case 'n': set.hashmin = (int)number(optarg, 1, SRS_HASH_MAX, "-n"); break;
		case 'm': set.maxage = (int)number(optarg, 1, 1023, "-m"); break;
		case 'p':
			if (strlen(optarg) != 1 || strchr("=+-", optarg[0]) == NULL) {
				fprintf(stderr, "modmilter-srs: the separator is one of = + -\n");
				exit(2);
			}
			set.separator = optarg[0];
			break;
		case 't': now = (time_t)number(optarg, 0, 0x7fffffffL, "-t"); break;
		default: usage();
		}
	}
	if (argc - optind < 2 || (config != NULL) + (file != NULL) + (ngiven != 0) != 1 ||
	    (instance != NULL && config == NULL))
		usage();
	if (strcmp(argv[optind], "forward") == 0)
		forward = 1;
	else if (strcmp(argv[optind], "reverse") == 0)
		forward = 0;
	else
		usage();
	if (config != NULL) {
		if ((conf = from_config(config, instance)) == NULL)
			exit(2);
		c = conf->codec;
		if (fwdomain == NULL)
			fwdomain = conf->fwdomain;
	}
	if (forward && fwdomain == NULL) {
		fprintf(stderr, "modmilter-srs: forward needs -d FWDOMAIN\n");
		exit(2);
	}
	if (set.hashlength)
		c.hashlength = set.hashlength;
	if (set.hashmin)
		c.hashmin = set.hashmin;
	else if (set.hashlength || c.hashmin == 0)
		c.hashmin = c.hashlength;
	if (set.maxage)
		c.maxage = set.maxage;
	if (set.separator)
		c.separator = set.separator;
	if (file != NULL &&
	    srs_secrets_read(file, &c.secrets, &c.nsecrets, err, sizeof(err)) < 0) {
		fprintf(stderr, "modmilter-srs: %s\n", err);
		exit(2);
	}
	if (ngiven != 0) {
		c.secrets = given;
		c.nsecrets = ngiven;
	}
	/* the plugin's way: the HMAC keyed once per secret */
	if (srs_codec_key(&c) < 0) {
		fprintf(stderr, "modmilter-srs: libcrypto cannot key HMAC-SHA1\n");
		exit(2);
	}
	for (int i = optind + 1; i < argc; i++) {
		int r = forward ? srs_forward(&c, argv[i], fwdomain, now, out, sizeof(out)) :
		    srs_reverse(&c, argv[i], now, out, sizeof(out));
		if (r == SRS_OK)
			printf("%s\n", out);
		else {
			fprintf(stderr, "%s: %s\n", argv[i], srs_strerror(r));
			rc = 1;
		}
	}
	srs_codec_unkey(&c);
	if (conf != NULL)
		srs_conf_free(conf);
	else if (file != NULL)
		srs_secrets_free(c.secrets, c.nsecrets);
	return rc;
}
