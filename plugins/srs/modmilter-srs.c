/*
 * NAME
 *	modmilter-srs - make and reverse SRS addresses as the srs plugin does
 * SYNOPSIS
 *	modmilter-srs {-S FILE | -s SECRET...} -d FWDOMAIN [-l HASHLENGTH]
 *	    [-p SEPARATOR] [-t TIME] forward ADDRESS...
 *	modmilter-srs {-S FILE | -s SECRET...} [-l HASHLENGTH] [-n HASHMIN]
 *	    [-m MAXAGE] [-t TIME] reverse ADDRESS...
 * DESCRIPTION
 *	The codec of the srs plugin, for admins and scripts: forward prints
 *	the SRS address that replaces each sender when mail is forwarded
 *	through FWDOMAIN (SRS0, or SRS1 for an SRS0 or SRS1 sender);
 *	reverse checks each SRS address (hash, age) and prints the address
 *	it stands for. The secrets come from FILE, as the plugin's
 *	secret_file (the first signs, all verify; the same permission
 *	checks), or from -s options (the first signs). The defaults are the
 *	plugin's: hash length 8, maximum age 8 days, separator "=". TIME
 *	(seconds since 1970) replaces the clock, for tests.
 * DIAGNOSTICS
 *	Exit status 0 when every address was done; 1 when one was refused
 *	(the reason on stderr, as "ADDRESS: invalid SRS signature"); 2 on
 *	a usage error or an unreadable secret file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "srs.h"

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-srs {-S FILE | -s SECRET...} [-d FWDOMAIN] "
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

int
main(int argc, char **argv)
{
	struct srs_codec c = { NULL, 0, 8, 0, 8, '=' };
	char *given[SRS_SECRETS_MAX], out[SRS_ADDR_MAX], err[512];
	const char *file = NULL, *fwdomain = NULL;
	time_t now = time(NULL);
	int ch, forward, rc = 0;
	size_t ngiven = 0;

	while ((ch = getopt(argc, argv, "S:s:d:l:n:m:p:t:")) != -1) {
		switch (ch) {
		case 'S': file = optarg; break;
		case 's':
			if (ngiven == SRS_SECRETS_MAX || *optarg == 0)
				usage();
			given[ngiven++] = optarg;
			break;
		case 'd': fwdomain = optarg; break;
		case 'l': c.hashlength = (int)number(optarg, 1, SRS_HASH_MAX, "-l"); break;
		case 'n': c.hashmin = (int)number(optarg, 1, SRS_HASH_MAX, "-n"); break;
		case 'm': c.maxage = (int)number(optarg, 1, 1023, "-m"); break;
		case 'p':
			if (strlen(optarg) != 1 || strchr("=+-", optarg[0]) == NULL) {
				fprintf(stderr, "modmilter-srs: the separator is one of = + -\n");
				exit(2);
			}
			c.separator = optarg[0];
			break;
		case 't': now = (time_t)number(optarg, 0, 0x7fffffffL, "-t"); break;
		default: usage();
		}
	}
	if (argc - optind < 2 || (file == NULL) == (ngiven == 0))
		usage();
	if (strcmp(argv[optind], "forward") == 0)
		forward = 1;
	else if (strcmp(argv[optind], "reverse") == 0)
		forward = 0;
	else
		usage();
	if (forward && fwdomain == NULL) {
		fprintf(stderr, "modmilter-srs: forward needs -d FWDOMAIN\n");
		exit(2);
	}
	if (c.hashmin == 0)
		c.hashmin = c.hashlength;
	if (file != NULL) {
		if (srs_secrets_read(file, &c.secrets, &c.nsecrets, err, sizeof(err)) < 0) {
			fprintf(stderr, "modmilter-srs: %s\n", err);
			exit(2);
		}
	} else {
		c.secrets = given;
		c.nsecrets = ngiven;
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
	if (file != NULL)
		srs_secrets_free(c.secrets, c.nsecrets);
	return rc;
}
