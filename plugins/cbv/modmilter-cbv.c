/*
 * NAME
 *	modmilter-cbv - list, query and purge the cbv plugin's cache
 * SYNOPSIS
 *	modmilter-cbv -c FILE [-i INSTANCE] [-d DB] list
 *	modmilter-cbv -c FILE [-i INSTANCE] [-d DB] query ADDRESS...
 *	modmilter-cbv -c FILE [-i INSTANCE] [-d DB] purge ADDRESS...
 *	modmilter-cbv -c FILE [-i INSTANCE] [-d DB] flush
 *	(-s STORE instead of -c FILE names the store directly: a directory
 *	for LMDB, or redis://[:PASSWORD@]HOST[:PORT][/DB] or redis:///SOCKET)
 * DESCRIPTION
 *	Opens the store that modmilterd uses with configuration FILE (the
 *	cbv instance's database: its option db, read through the plugin's
 *	option table as the daemon reads it, of the instance named by -i
 *	or the only cbv instance; "cbv" without one; -d names another)
 *	and, while the daemon runs:
 *	  list    prints every live entry: address, kind (verify: a
 *	          callback; dsn: a notice sent), status, when it was learnt,
 *	          when it expires, and the remote answer;
 *	  query   prints the entries of the given addresses;
 *	  purge   forgets them, so that the next message probes again;
 *	  flush   forgets every entry of the database.
 *	The file is read through modmilter/host.h: no plugin is loaded
 *	and no plugin's init() runs.
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

#include <modmilter/plugin.h>
#include <modmilter/host.h>

#include "cbv.h"
#include "cbv_opts.h"

static const struct mm_api *api;

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-cbv {-c FILE [-i INSTANCE] | -s STORE} [-d DB] "
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
open_db(mm_host *h, const char *db)
{
	char *err = NULL;
	mm_store *st = mm_host_store(h, db, NULL, &err);

	if (st == NULL) {
		fprintf(stderr, "modmilter-cbv: %s\n", err ? err : "cannot open the store");
		free(err);
	}
	return st;
}

/* list and flush: every entry of the database */
static int
scan_all(mm_host *h, const char *db, int flush)
{
	struct walk w = { NULL, flush, 0 };
	mm_store *st = open_db(h, db);

	if (st == NULL)
		return 2;
	if (api->store_scan(st, NULL, 0, visit, &w) < 0) {
		fprintf(stderr, "modmilter-cbv: database %s: store error\n", db);
		return 2;
	}
	if (flush)
		printf("flushed %zu entries\n", w.n);
	return 0;
}

static int
each_address(mm_host *h, const char *db, char **addrs, int n, int purge)
{
	mm_store *st = open_db(h, db);
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
				if (api->store_del(st, key, strlen(key)) < 0) {
					fprintf(stderr, "modmilter-cbv: cannot delete %s\n", key);
					return 2;
				}
				continue;
			}
			if (api->store_scan(st, key, strlen(key), visit, &w) < 0) {
				fprintf(stderr, "modmilter-cbv: store error reading %s\n", key);
				return 2;
			}
			found += w.n;
		}
	}
	return purge || found ? 0 : 1;
}

/* the database of the cbv instance (-i NAME, or the only one), as the
   daemon reads its options; "cbv" without one. -1: an error (printed) */
static int
instance_db(mm_host *h, const char *want, char **db)
{
	struct cbv_opts o;
	const char *name;
	int r;

	*db = NULL;
	if ((r = mm_host_instance(h, "cbv", want, "-i INSTANCE", &name)) <= 0)
		return r;
	memset(&o, 0, sizeof(o));
	if (mm_host_table(h, name, cbv_option_table, &o) < 0)
		r = -1;
	else if ((*db = strdup(o.db)) == NULL)
		r = -1;
	api->opt_table_free(cbv_option_table, &o);
	return r < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *db = NULL, *want = NULL, *cmd;
	char *confdb = NULL;
	mm_host *h;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:s:d:i:")) != -1)
		switch (ch) {
		case 'c': file = optarg; break;
		case 's': dir = optarg; break;
		case 'd': db = optarg; break;
		case 'i': want = optarg; break;
		default: usage();
		}
	if ((file == NULL) == (dir == NULL) || optind >= argc ||
	    (want != NULL && file == NULL))
		usage();
	cmd = argv[optind++];
	signal(SIGPIPE, SIG_IGN);	/* a dead store server is an error, not death */
	h = file ? mm_host_open("modmilter-cbv", file) :
	    mm_host_open_store("modmilter-cbv", dir);
	if (h == NULL)
		return 2;
	api = mm_host_api(h);
	if (file && instance_db(h, want, &confdb) < 0) {
		mm_host_close(h);
		return 2;
	}
	if (db == NULL)
		db = confdb ? confdb : "cbv";
	if (strcmp(cmd, "list") == 0 && optind == argc)
		rc = scan_all(h, db, 0);
	else if (strcmp(cmd, "flush") == 0 && optind == argc)
		rc = scan_all(h, db, 1);
	else if (strcmp(cmd, "query") == 0 && optind < argc)
		rc = each_address(h, db, argv + optind, argc - optind, 0);
	else if (strcmp(cmd, "purge") == 0 && optind < argc)
		rc = each_address(h, db, argv + optind, argc - optind, 1);
	else
		usage();
	free(confdb);
	mm_host_close(h);
	return rc;
}
