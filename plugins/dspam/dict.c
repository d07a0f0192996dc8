/*
 * NAME
 *	dict - token dictionaries in one LMDB environment
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct dstore *ds = dstore_open("/var/lib/modmilter/dspam", 1024, &err);
 *	struct dtxn *t = dtxn_begin(ds, 1, &err);
 *	dict_lookup(t, dstore_dict_id("alice@example.com"), &ts, stats, &err);
 *	dict_update(t, dict, hashes, n, +1, 0, 0, &err);
 *	dtxn_commit(t, &err);
 * DESCRIPTION
 *	Every dictionary (per user, per group, shared) lives in one LMDB
 *	environment under a 64-bit id (the hash of its name). A token's
 *	key is 16 bytes, the dictionary id then the token hash, both big
 *	endian, so one dictionary is one contiguous key range and a sorted
 *	token set is read in key order. A token's value is 12 bytes: spam
 *	hits, innocent hits, and the day it was last trained (for purge),
 *	little endian. Token hash 0 holds the dictionary's totals.
 *	Signatures use a second named database (sig.c).
 *
 *	A process opens an environment once (LMDB forbids opening it
 *	twice); instances that name the same path share it, counted.
 *	MDB_NOTLS lets the milter's threads each run read transactions;
 *	LMDB serialises writers, across threads and processes, so the
 *	daemon and the command line tool may work on one store at once.
 * DIAGNOSTICS
 *	Functions return -1 with *err set to a malloc'ed message; a full
 *	map (MDB_MAP_FULL) says to raise map_size.
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dspam.h"

struct dstore {
	char *path;
	MDB_env *env;
	MDB_dbi tok, sig;
	int refs;
	struct dstore *next;
};

struct dtxn {
	struct dstore *ds;
	MDB_txn *txn;
	int write;
};

static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dstore *stores;

static void seterr(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
seterr(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
today(void)
{
	return (uint32_t)(time(NULL) / 86400);
}

uint64_t
dstore_dict_id(const char *name)
{
	return dspam_hash2("dict", 4, name, strlen(name));
}

struct dstore *
dstore_open(const char *path, size_t map_mb, int nosync, char **err)
{
	struct dstore *ds;
	MDB_txn *txn = NULL;
	int r, dead;

	pthread_mutex_lock(&stores_lock);
	for (ds = stores; ds != NULL; ds = ds->next) {
		if (strcmp(ds->path, path) == 0) {
			ds->refs++;
			pthread_mutex_unlock(&stores_lock);
			return ds;
		}
	}
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		seterr(err, "dspam store %s: cannot create: %s", path, strerror(errno));
		goto fail;
	}
	if ((ds = calloc(1, sizeof(*ds))) == NULL ||
	    (ds->path = strdup(path)) == NULL) {
		seterr(err, "dspam store %s: out of memory", path);
		if (ds)
			free(ds);
		ds = NULL;
		goto fail;
	}
	if ((r = mdb_env_create(&ds->env)) != 0) {
		seterr(err, "dspam store %s: %s", path, mdb_strerror(r));
		ds->env = NULL;
		goto fail;
	}
	mdb_env_set_maxdbs(ds->env, 4);
	mdb_env_set_maxreaders(ds->env, 1024);
	mdb_env_set_mapsize(ds->env, map_mb * 1024 * 1024);
	if ((r = mdb_env_open(ds->env, path,
	    MDB_NOTLS | (nosync ? MDB_NOSYNC : 0), 0640)) != 0) {
		seterr(err, "dspam store %s: %s", path, mdb_strerror(r));
		goto fail;
	}
	mdb_reader_check(ds->env, &dead);
	if ((r = mdb_txn_begin(ds->env, NULL, 0, &txn)) != 0 ||
	    (r = mdb_dbi_open(txn, "tokens", MDB_CREATE, &ds->tok)) != 0 ||
	    (r = mdb_dbi_open(txn, "signatures", MDB_CREATE, &ds->sig)) != 0 ||
	    (r = mdb_txn_commit(txn)) != 0) {
		if (txn && r != 0)
			mdb_txn_abort(txn);
		seterr(err, "dspam store %s: %s", path, mdb_strerror(r));
		goto fail;
	}
	ds->refs = 1;
	ds->next = stores;
	stores = ds;
	pthread_mutex_unlock(&stores_lock);
	return ds;
fail:
	if (ds != NULL) {
		if (ds->env)
			mdb_env_close(ds->env);
		free(ds->path);
		free(ds);
	}
	pthread_mutex_unlock(&stores_lock);
	return NULL;
}

int
dstore_sync(struct dstore *ds, char **err)
{
	int r = mdb_env_sync(ds->env, 1);

	if (r != 0) {
		seterr(err, "dspam store %s: sync: %s", ds->path, mdb_strerror(r));
		return -1;
	}
	return 0;
}

void
dstore_close(struct dstore *ds)
{
	struct dstore **pp;

	if (ds == NULL)
		return;
	pthread_mutex_lock(&stores_lock);
	if (--ds->refs == 0) {
		for (pp = &stores; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == ds) {
				*pp = ds->next;
				break;
			}
		}
		mdb_env_close(ds->env);
		free(ds->path);
		free(ds);
	}
	pthread_mutex_unlock(&stores_lock);
}

struct dtxn *
dtxn_begin(struct dstore *ds, int write, char **err)
{
	struct dtxn *t = calloc(1, sizeof(*t));
	int r;

	if (t == NULL) {
		seterr(err, "dspam store: out of memory");
		return NULL;
	}
	if ((r = mdb_txn_begin(ds->env, NULL, write ? 0 : MDB_RDONLY, &t->txn)) != 0) {
		seterr(err, "dspam store %s: %s", ds->path, mdb_strerror(r));
		free(t);
		return NULL;
	}
	t->ds = ds;
	t->write = write;
	return t;
}

int
dtxn_commit(struct dtxn *t, char **err)
{
	int r = mdb_txn_commit(t->txn);

	if (r != 0)
		seterr(err, "dspam store %s: commit: %s%s", t->ds->path,
		    mdb_strerror(r), r == MDB_MAP_FULL ? " (raise map_size)" : "");
	free(t);
	return r == 0 ? 0 : -1;
}

void
dtxn_abort(struct dtxn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

MDB_txn *
dtxn_lmdb(struct dtxn *t, MDB_dbi *sig)
{
	*sig = t->ds->sig;
	return t->txn;
}

static void
make_key(unsigned char k[16], uint64_t dict, uint64_t tok)
{
	put_be64(k, dict);
	put_be64(k + 8, tok);
}

int
dict_lookup(struct dtxn *t, uint64_t dict, const struct tokset *ts,
    struct tokstat *st, char **err)
{
	unsigned char k[16];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	size_t i;
	int r;

	/* one cursor over the sorted set: LMDB searches the current leaf
	   page first, so neighbouring tokens skip the descent from the root */
	if ((r = mdb_cursor_open(t->txn, t->ds->tok, &c)) != 0) {
		seterr(err, "dspam store %s: read: %s", t->ds->path, mdb_strerror(r));
		return -1;
	}
	put_be64(k, dict);
	for (i = 0; i < ts->len; i++) {
		put_be64(k + 8, ts->t[i].h);
		key.mv_size = sizeof(k);
		key.mv_data = k;
		st[i].n = ts->t[i].n;
		r = mdb_cursor_get(c, &key, &val, MDB_SET);
		if (r == MDB_NOTFOUND || (r == 0 && val.mv_size < 8)) {
			st[i].spam = st[i].ham = 0;
		} else if (r == 0) {
			st[i].spam = get_le32(val.mv_data);
			st[i].ham = get_le32((unsigned char *)val.mv_data + 4);
		} else {
			mdb_cursor_close(c);
			seterr(err, "dspam store %s: read: %s", t->ds->path,
			    mdb_strerror(r));
			return -1;
		}
	}
	mdb_cursor_close(c);
	return 0;
}

static uint32_t
bump(uint32_t v, int d)
{
	if (d < 0)
		return v > 0 ? v - 1 : 0;
	if (d > 0)
		return v < UINT32_MAX ? v + 1 : v;
	return v;
}

int
dict_update(struct dtxn *t, uint64_t dict, const uint64_t *h, size_t n,
    int dspam, int dham, uint32_t maxhits, char **err)
{
	unsigned char k[16], v[12];
	MDB_val key = { sizeof(k), k }, val;
	uint32_t day = today();
	size_t i;
	int r;

	put_be64(k, dict);
	for (i = 0; i < n; i++) {
		uint32_t s = 0, g = 0;

		put_be64(k + 8, h[i]);
		r = mdb_get(t->txn, t->ds->tok, &key, &val);
		if (r == 0 && val.mv_size >= 8) {
			s = get_le32(val.mv_data);
			g = get_le32((unsigned char *)val.mv_data + 4);
		} else if (r != 0 && r != MDB_NOTFOUND) {
			seterr(err, "dspam store %s: read: %s", t->ds->path,
			    mdb_strerror(r));
			return -1;
		}
		if (maxhits > 0 && (uint64_t)s + g >= maxhits &&
		    (dspam > 0 || dham > 0))
			continue;	/* a mature token (TUM) */
		s = bump(s, dspam);
		g = bump(g, dham);
		if (s == 0 && g == 0) {
			r = mdb_del(t->txn, t->ds->tok, &key, NULL);
			if (r == MDB_NOTFOUND)
				r = 0;
		} else {
			MDB_val nv = { sizeof(v), v };

			put_le32(v, s);
			put_le32(v + 4, g);
			put_le32(v + 8, day);
			r = mdb_put(t->txn, t->ds->tok, &key, &nv, 0);
		}
		if (r != 0) {
			seterr(err, "dspam store %s: write: %s%s", t->ds->path,
			    mdb_strerror(r), r == MDB_MAP_FULL ? " (raise map_size)" : "");
			return -1;
		}
	}
	return 0;
}

int
dict_totals(struct dtxn *t, uint64_t dict, struct dtotals *tot, char **err)
{
	unsigned char k[16];
	MDB_val key = { sizeof(k), k }, val;
	int r;

	memset(tot, 0, sizeof(*tot));
	make_key(k, dict, 0);
	r = mdb_get(t->txn, t->ds->tok, &key, &val);
	if (r == MDB_NOTFOUND)
		return 0;
	if (r != 0) {
		seterr(err, "dspam store %s: read: %s", t->ds->path, mdb_strerror(r));
		return -1;
	}
	if (val.mv_size >= 64) {
		const unsigned char *p = val.mv_data;

		tot->spam_learned = get_le64(p);
		tot->ham_learned = get_le64(p + 8);
		tot->spam_classified = get_le64(p + 16);
		tot->ham_classified = get_le64(p + 24);
		tot->spam_misclassified = get_le64(p + 32);
		tot->ham_misclassified = get_le64(p + 40);
		tot->spam_corpus = get_le64(p + 48);
		tot->ham_corpus = get_le64(p + 56);
	}
	return 0;
}

int
dict_put_totals(struct dtxn *t, uint64_t dict, const struct dtotals *tot,
    char **err)
{
	unsigned char k[16], v[64];
	MDB_val key = { sizeof(k), k }, val = { sizeof(v), v };
	int r;

	make_key(k, dict, 0);
	put_le64(v, tot->spam_learned);
	put_le64(v + 8, tot->ham_learned);
	put_le64(v + 16, tot->spam_classified);
	put_le64(v + 24, tot->ham_classified);
	put_le64(v + 32, tot->spam_misclassified);
	put_le64(v + 40, tot->ham_misclassified);
	put_le64(v + 48, tot->spam_corpus);
	put_le64(v + 56, tot->ham_corpus);
	if ((r = mdb_put(t->txn, t->ds->tok, &key, &val, 0)) != 0) {
		seterr(err, "dspam store %s: write: %s%s", t->ds->path,
		    mdb_strerror(r), r == MDB_MAP_FULL ? " (raise map_size)" : "");
		return -1;
	}
	return 0;
}

/* Walk one dictionary's tokens; purge when days > 0, else count. */
static int
walk(struct dtxn *t, uint64_t dict, unsigned days, uint32_t maxhits,
    size_t *n, char **err)
{
	unsigned char k[16];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	uint32_t limit = today() - days;
	int r, purge = days > 0 || maxhits > 0;

	*n = 0;
	if ((r = mdb_cursor_open(t->txn, t->ds->tok, &c)) != 0) {
		seterr(err, "dspam store %s: %s", t->ds->path, mdb_strerror(r));
		return -1;
	}
	make_key(k, dict, 1);
	r = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	while (r == 0) {
		const unsigned char *kp = key.mv_data;
		uint64_t d = 0;
		int i;

		if (key.mv_size != 16)
			break;
		for (i = 0; i < 8; i++)
			d = d << 8 | kp[i];
		if (d != dict)
			break;
		if (!purge) {
			(*n)++;
		} else if (val.mv_size >= 12) {
			uint32_t s = get_le32(val.mv_data);
			uint32_t g = get_le32((unsigned char *)val.mv_data + 4);
			uint32_t day = get_le32((unsigned char *)val.mv_data + 8);

			if ((uint64_t)s + g <= maxhits && day < limit) {
				/* after a delete, MDB_NEXT gives the entry that
				   followed the deleted one */
				if ((r = mdb_cursor_del(c, 0)) != 0)
					break;
				(*n)++;
			}
		}
		r = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r != 0 && r != MDB_NOTFOUND) {
		seterr(err, "dspam store %s: %s", t->ds->path, mdb_strerror(r));
		return -1;
	}
	return 0;
}

int
dict_purge(struct dtxn *t, uint64_t dict, unsigned days, uint32_t maxhits,
    size_t *removed, char **err)
{
	return walk(t, dict, days, maxhits ? maxhits : UINT32_MAX, removed, err);
}

int
dict_count_tokens(struct dtxn *t, uint64_t dict, size_t *n, char **err)
{
	return walk(t, dict, 0, 0, n, err);
}
