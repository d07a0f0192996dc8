/*
 * NAME
 *	modmilter-cbv - list, query and purge the cbv plugin's cache
 * SYNOPSIS
 *	modmilter-cbv -c FILE [-d DB] list
 *	modmilter-cbv -c FILE [-d DB] query ADDRESS...
 *	modmilter-cbv -c FILE [-d DB] purge ADDRESS...
 *	modmilter-cbv -c FILE [-d DB] flush
 *	(-s STOREDIR instead of -c FILE names the store directly)
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

#include <lmdb.h>
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
	fprintf(stderr, "usage: modmilter-cbv {-c FILE | -s STOREDIR} [-d DB] "
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
		strcpy(ex, "-");	/* query reads through the store API, which keeps the expiry to itself */
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", key + 2, key[0] == 'd' ? "dsn" : "verify",
	    cache_status_name(e.status), up, ex, e.text);
}

/* list and flush: LMDB directly (the store API has no iteration). */
static int
scan(const char *path, const char *db, int flush)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int r;

	if ((r = mdb_env_create(&env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(env, 256);
	if ((r = mdb_env_open(env, path, flush ? MDB_NOTLS : MDB_RDONLY | MDB_NOTLS,
	    0640)) != 0) {
		mdb_env_close(env);
		goto fail;
	}
	if ((r = mdb_txn_begin(env, NULL, flush ? 0 : MDB_RDONLY, &txn)) != 0) {
		mdb_env_close(env);
		goto fail;
	}
	if ((r = mdb_dbi_open(txn, db, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		mdb_env_close(env);
		if (r == MDB_NOTFOUND)
			return 0;	/* nothing cached yet */
		goto fail;
	}
	if (flush) {
		if ((r = mdb_drop(txn, dbi, 0)) != 0 || (r = mdb_txn_commit(txn)) != 0) {
			mdb_env_close(env);
			goto fail;
		}
		mdb_env_close(env);
		return 0;
	}
	if ((r = mdb_cursor_open(txn, dbi, &cur)) == 0) {
		double now = (double)time(NULL);
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			const unsigned char *p = v.mv_data;
			uint64_t exp = 0;
			char key[CBV_ADDR_MAX + 8], val[CBV_TEXT_MAX + 64];
			if (v.mv_size < 8 || k.mv_size < 3 || k.mv_size >= sizeof(key))
				continue;
			for (int i = 0; i < 8; i++)
				exp = exp << 8 | p[i];
			if (exp != 0 && (double)exp <= now)
				continue;
			memcpy(key, k.mv_data, k.mv_size);
			key[k.mv_size] = 0;
			snprintf(val, sizeof(val), "%.*s", (int)(v.mv_size - 8), p + 8);
			show(key, val, (double)exp);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return r == 0 ? 0 : 2;
fail:
	fprintf(stderr, "modmilter-cbv: store %s, database %s: %s\n", path, db,
	    mdb_strerror(r));
	return 2;
}

static int
each_address(struct conf *c, const char *db, char **addrs, int n, int purge)
{
	char *err = NULL;
	mm_store *st = store_open(c, db, &err);
	int found = 0;

	if (st == NULL) {
		fprintf(stderr, "modmilter-cbv: %s\n", err ? err : "cannot open the store");
		free(err);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		static const char *const kinds[] = { "v:", "d:" };
		for (int k = 0; k < 2; k++) {
			char key[CBV_ADDR_MAX + 8];
			void *val;
			size_t vl;
			int r;
			cache_key(kinds[k], addrs[i], key, sizeof(key));
			if (purge) {
				if (store_del(st, key, strlen(key)) < 0) {
					fprintf(stderr, "modmilter-cbv: cannot delete %s\n", key);
					return 2;
				}
				continue;
			}
			r = store_get(st, key, strlen(key), &val, &vl);
			if (r < 0) {
				fprintf(stderr, "modmilter-cbv: store error reading %s\n", key);
				return 2;
			}
			if (r == 1) {
				show(key, val, 0);
				free(val);
				found++;
			}
		}
	}
	return purge || found ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL, *db = "cbv", *cmd;
	struct conf *c = NULL, bare;
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
	if (file) {
		if ((c = conf_load(file, stderr)) == NULL)
			return 2;
	} else {
		memset(&bare, 0, sizeof(bare));
		bare.store_path = (char *)dir;
		bare.store_map_size = 1LL << 30;
		c = &bare;
	}
	if (strcmp(cmd, "list") == 0 && optind == argc)
		rc = scan(c->store_path, db, 0);
	else if (strcmp(cmd, "flush") == 0 && optind == argc)
		rc = scan(c->store_path, db, 1);
	else if (strcmp(cmd, "query") == 0 && optind < argc)
		rc = each_address(c, db, argv + optind, argc - optind, 0);
	else if (strcmp(cmd, "purge") == 0 && optind < argc)
		rc = each_address(c, db, argv + optind, argc - optind, 1);
	else
		usage();
	if (file)
		conf_unref(c);
	return rc;
}
