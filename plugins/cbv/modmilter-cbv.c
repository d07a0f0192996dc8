/*
 * NAME
 *	modmilter-cbv - list, query and purge the cbv plugin's cache
 * SYNOPSIS
 *	modmilter-cbv -c FILE [-d DB] list
 *	modmilter-cbv -c FILE [-d DB] query ADDRESS...
 *	modmilter-cbv -c FILE [-d DB] purge ADDRESS...
 *	modmilter-cbv -c FILE [-d DB] flush
 *	(-s STORE instead of -c FILE names the store directly: a directory
 *	for LMDB, or redis://[:PASSWORD@]HOST[:PORT][/DB] or redis:///SOCKET)
 * DESCRIPTION
 *	Opens the store that modmilterd uses with configuration FILE (the
 *	cbv plugin's database, "cbv" unless its option db says otherwise)
 *	and, while the daemon runs:
 *	  list    prints every live entry: address, kind (verify: a
 *	          callback; dsn: a notice sent), status, when it was learnt,
 *	          when it expires, and the remote answer;
 *	  query   prints the entries of the given addresses;
 *	  purge   forgets them, so that the next message probes again;
 *	  flush   forgets every entry of the database.
 * DIAGNOSTICS
 *	Exit status 0; 1 when query found nothing; 2 on a usage, configuration
 *	or store error, reported on stderr.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cbv.h"
#include "conf.h"
#include "log.h"
#include "store.h"

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-cbv {-c FILE | -s STORE} [-d DB] "
	    "list | query ADDRESS... | purge ADDRESS... | flush\n");
	exit(2);
}

static void
when(double t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
show(const char *key, const char *val, double expires)
{
	struct cbv_entry e;
	char up[32], ex[32];

	if (cache_parse(val, &e) < 0)
		return;
	when(e.updated, up, sizeof(up));
	if (expires > 0)
		when(expires, ex, sizeof(ex));
	else
		strcpy(ex, "never");
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", key + 2, key[0] == 'd' ? "dsn" : "verify",
	    cache_status_name(e.status), up, ex, e.text);
}

struct walk {
	const char *only;	/* query: this exact key */
	int flush;
	size_t n;
};

static int
visit(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    double expires)
{
	struct walk *w = arg;
	char key[CBV_ADDR_MAX + 8], val[CBV_TEXT_MAX + 64];

	if (w->flush) {
		w->n++;
		return MM_SCAN_DELETE;
	}
	if (kl < 3 || kl >= sizeof(key) ||
	    (w->only && (strlen(w->only) != kl || memcmp(w->only, k, kl) != 0)))
		return MM_SCAN_NEXT;
	memcpy(key, k, kl);
	key[kl] = 0;
	snprintf(val, sizeof(val), "%.*s", (int)vl, (const char *)v);
	show(key, val, expires);
	w->n++;
	return MM_SCAN_NEXT;
}

static mm_store *
open_db(const struct store_cfg *cfg, const char *db)
{
	char *err = NULL;
	mm_store *st = store_open(cfg, db, &err);

	if (st == NULL) {
		fprintf(stderr, "modmilter-cbv: %s\n", err ? err : "cannot open the store");
		free(err);
	}
	return st;
}

/* list and flush: every entry of the database */
static int
scan_all(const struct store_cfg *cfg, const char *db, int flush)
{
	struct walk w = { NULL, flush, 0 };
	mm_store *st = open_db(cfg, db);

	if (st == NULL)
		return 2;
	if (store_scan(st, NULL, 0, visit, &w) < 0) {
		fprintf(stderr, "modmilter-cbv: database %s: store error\n", db);
		return 2;
	}
	if (flush)
		printf("flushed %zu entries\n", w.n);
	return 0;
}

static int
each_address(const struct store_cfg *cfg, const char *db, char **addrs, int n,
    int purge)
{
	mm_store *st = open_db(cfg, db);
	size_t found = 0;

	if (st == NULL)
		return 2;
	for (int i = 0; i < n; i++) {
		static const char *const kinds[] = { "v:", "d:" };
		for (int k = 0; k < 2; k++) {
			char key[CBV_ADDR_MAX + 8];
			struct walk w = { key, 0, 0 };

			cache_key(kinds[k], addrs[i], key, sizeof(key));
			if (purge) {
				if (store_del(st, key, strlen(key)) < 0) {
					fprintf(stderr, "modmilter-cbv: cannot delete %s\n", key);
					return 2;
				}
				continue;
			}
			if (store_scan(st, key, strlen(key), visit, &w) < 0) {
				fprintf(stderr, "modmilter-cbv: store error reading %s\n", key);
				return 2;
			}
			found += w.n;
		}
	}
	return purge || found ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *db = "cbv", *cmd;
	struct conf *c = NULL;
	struct store_cfg bare;
	const struct store_cfg *cfg;
	char *err = NULL;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:s:d:")) != -1)
		switch (ch) {
		case 'c': file = optarg; break;
		case 's': dir = optarg; break;
		case 'd': db = optarg; break;
		default: usage();
		}
	if ((file == NULL) == (dir == NULL) || optind >= argc)
		usage();
	cmd = argv[optind++];
	log_open(LOG_DEST_STDERR, MM_LOG_WARNING, "modmilter-cbv");
	signal(SIGPIPE, SIG_IGN);	/* a dead store server is an error, not death */
	if (file) {
		if ((c = conf_load(file, stderr)) == NULL)
			return 2;
		cfg = &c->store;
	} else {
		if (store_cfg_from_uri(dir, &bare, &err) < 0) {
			fprintf(stderr, "modmilter-cbv: %s\n", err);
			return 2;
		}
		cfg = &bare;
	}
	if (strcmp(cmd, "list") == 0 && optind == argc)
		rc = scan_all(cfg, db, 0);
	else if (strcmp(cmd, "flush") == 0 && optind == argc)
		rc = scan_all(cfg, db, 1);
	else if (strcmp(cmd, "query") == 0 && optind < argc)
		rc = each_address(cfg, db, argv + optind, argc - optind, 0);
	else if (strcmp(cmd, "purge") == 0 && optind < argc)
		rc = each_address(cfg, db, argv + optind, argc - optind, 1);
	else
		usage();
	if (file)
		conf_unref(c);
	else
		store_cfg_free(&bare);
	return rc;
}
