/*
 * NAME
 *	modmilter-policy - list and edit the policy plugin's auto-whitelist
 * SYNOPSIS
 *	modmilter-policy -c FILE [-i INSTANCE] [-d DB] whitelist list
 *	modmilter-policy -c FILE [-i INSTANCE] [-d DB] whitelist query ADDRESS...
 *	modmilter-policy -c FILE [-i INSTANCE] [-d DB] [-t TTL] whitelist add ADDRESS...
 *	modmilter-policy -c FILE [-i INSTANCE] [-d DB] whitelist del ADDRESS...
 *	(-s STORE instead of -c FILE names the store directly: a directory
 *	for LMDB, or redis://[:PASSWORD@]HOST[:PORT][/DB] or redis:///SOCKET)
 * DESCRIPTION
 *	Opens the store that modmilterd uses with configuration FILE (the
 *	policy plugin's database: -d DB, else the option db of the policy
 *	instance INSTANCE, else of the only one (with several, -i or -d
 *	must choose), read through modmilter/host.h by the plugin's own
 *	reader, which runs no plugin's init; "policy" without one, or
 *	with -s) and, while the daemon runs:
 *	  list    prints every auto-whitelisted address, what the entry
 *	          says (when learnt, from whom) and when it expires;
 *	  query   prints the entries of the given addresses;
 *	  add     whitelists the addresses for TTL days (default 60), as a
 *	          message from a whitelist sender would;
 *	  del     removes them.
 *	Addresses are compared in the core's normal form, in lower case.
 * DIAGNOSTICS
 *	Exit status 0; 1 when query found nothing; 2 on a usage,
 *	configuration or store error, reported on stderr.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/host.h>

#include "api.h"
#include "log.h"
#include "policy.h"
#include "store.h"

static const struct mm_api *api = &core_api;

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-policy {-c FILE [-i INSTANCE] | -s STORE} "
	    "[-d DB] [-t DAYS] whitelist list | query ADDRESS... | add ADDRESS... | "
	    "del ADDRESS...\n");
	exit(2);
}

static int
visit(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    double expires)
{
	size_t *n = arg, pl = strlen(POLICY_WL_PREFIX);
	char ex[32];

	if (kl <= pl || memcmp(k, POLICY_WL_PREFIX, pl) != 0)
		return MM_SCAN_NEXT;
	if (expires > 0) {
		time_t t = (time_t)expires;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ex, sizeof(ex), "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		strcpy(ex, "never");
	}
	printf("%.*s\t%.*s\texpires=%s\n", (int)(kl - pl), (const char *)k + pl,
	    (int)vl, (const char *)v, ex);
	(*n)++;
	return MM_SCAN_NEXT;
}

static int
each(mm_store *st, char **addrs, int n, const char *cmd, double ttl)
{
	char key[600];
	int kl, rc = 0;
	size_t found = 0;

	for (int i = 0; i < n; i++) {
		if ((kl = policy_wl_key(api, addrs[i], key, sizeof(key))) < 0) {
			fprintf(stderr, "modmilter-policy: %s: not a mailbox address\n",
			    addrs[i]);
			rc = 2;
			continue;
		}
		if (strcmp(cmd, "query") == 0) {
			if (store_scan(st, key, (size_t)kl, visit, &found) < 0)
				return 2;
		} else if (strcmp(cmd, "del") == 0) {
			if (store_del(st, key, (size_t)kl) < 0)
				return 2;
		} else {
			struct policy_rcpt r = { addrs[i], 1 };
			if (policy_wl_learn(api, st, NULL, &r, 1, (double)time(NULL), ttl,
			    "modmilter-policy") < 0)
				return 2;
		}
	}
	if (rc == 0 && strcmp(cmd, "query") == 0 && found == 0)
		rc = 1;
	return rc;
}

/* read by the plugin's own reader (options.c), as the daemon does */
static int
read_options(const struct mm_api *a, const mm_opt *opts, void *arg, char **err)
{
	(void)err;
	return policy_conf_load(a, opts, arg);
}

/* the database of the policy instance (-i NAME, or the only one), as
   the daemon reads its options; POLICY_DB without one. -1: an error
   (printed) */
static int
instance_db(mm_host *h, const char *want, char **db)
{
	struct policy_conf pc;
	const char *name;
	int r;

	*db = NULL;
	memset(&pc, 0, sizeof(pc));
	if ((r = mm_host_instance(h, "policy", want, "-i INSTANCE", &name)) <= 0)
		return r;
	if (mm_host_options(h, name, read_options, &pc) < 0)
		r = -1;
	else if ((*db = strdup(pc.db)) == NULL)
		r = -1;
	policy_conf_free(&pc);
	return r < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *db = NULL, *want = NULL, *cmd;
	char *confdb = NULL, *err = NULL;
	double ttl = 60 * 86400.0;
	mm_host *h;
	mm_store *st;
	int ch, rc;
	size_t n = 0;

	while ((ch = getopt(argc, argv, "c:s:d:i:t:")) != -1)
		switch (ch) {
		case 'c': file = optarg; break;
		case 's': dir = optarg; break;
		case 'd': db = optarg; break;
		case 'i': want = optarg; break;
		case 't': ttl = atof(optarg) * 86400.0; break;
		default: usage();
		}
	if ((file == NULL) == (dir == NULL) || ttl <= 0 || argc - optind < 2 ||
	    strcmp(argv[optind], "whitelist") != 0 || (want != NULL && file == NULL))
		usage();
	cmd = argv[optind + 1];
	optind += 2;
	if (strcmp(cmd, "list") == 0 ? optind != argc :
	    (strcmp(cmd, "query") && strcmp(cmd, "add") && strcmp(cmd, "del")) ||
	    optind >= argc)
		usage();
	log_open(LOG_DEST_STDERR, MM_LOG_WARNING, "modmilter-policy");
	signal(SIGPIPE, SIG_IGN);
	h = file ? mm_host_open("modmilter-policy", file) :
	    mm_host_open_store("modmilter-policy", dir);
	if (h == NULL)
		return 2;
	if (file && (db == NULL || want != NULL) && instance_db(h, want, &confdb) < 0) {
		mm_host_close(h);
		return 2;
	}
	if (db == NULL)
		db = confdb ? confdb : POLICY_DB;
	if ((st = mm_host_store(h, db, NULL, &err)) == NULL) {
		fprintf(stderr, "modmilter-policy: %s\n", err ? err : "cannot open the store");
		rc = 2;
	} else if (strcmp(cmd, "list") == 0) {
		rc = store_scan(st, POLICY_WL_PREFIX, strlen(POLICY_WL_PREFIX), visit,
		    &n) < 0 ? 2 : 0;
	} else {
		rc = each(st, argv + optind, argc - optind, cmd, ttl);
	}
	free(err);
	free(confdb);
	mm_host_close(h);
	return rc;
}
