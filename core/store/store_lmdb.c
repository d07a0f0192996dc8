/*
 * NAME
 *	store_lmdb - the embedded LMDB backend of the store
 * DESCRIPTION
 *	One environment (a directory) with named sub-databases. A batch is
 *	one transaction: read-only when it has no write, else one write
 *	transaction that commits all or nothing. MDB_NOTLS lets libmilter's
 *	per-connection threads each run their own read transactions;
 *	writers are serialised by LMDB itself, across processes too, so a
 *	command line tool may work on the store while the daemon runs.
 *
 *	Each value is an 8-byte big-endian expiry time (unix seconds,
 *	0 = never) followed by the caller's bytes. Expired entries stay
 *	until store_expire() removes them; the front hides them.
 *
 *	A full map is reported as an error naming map_size (the plugin
 *	decides; usually TEMPFAIL).
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"
#include "util.h"

struct lenv {
	MDB_env *env;
	char *path;
	/* held shared around every transaction, exclusively to adopt a map
	   another process has grown (MDB_MAP_RESIZED) */
	pthread_rwlock_t resize;
};

static void
put_be64(unsigned char *p, int64_t sv)
{
	uint64_t v = (uint64_t)sv;
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static int64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static void *
l_env_open(const struct store_cfg *cfg, char **err)
{
	struct lenv *e;
	MDB_env *env;
	int r, dead;

	if (mkdir(cfg->path, 0750) < 0 && errno != EEXIST) {
		*err = xasprintf("store %s: cannot create: %s", cfg->path,
		    strerror(errno));
		return NULL;
	}
	if ((r = mdb_env_create(&env)) != 0) {
		*err = xasprintf("store %s: %s", cfg->path, mdb_strerror(r));
		return NULL;
	}
	mdb_env_set_maxdbs(env, 256);
	mdb_env_set_maxreaders(env, 1024);
	mdb_env_set_mapsize(env, (size_t)cfg->map_size);
	if ((r = mdb_env_open(env, cfg->path,
	    MDB_NOTLS | (cfg->nosync ? MDB_NOSYNC : 0), 0640)) != 0) {
		*err = xasprintf("store %s: %s", cfg->path, mdb_strerror(r));
		mdb_env_close(env);
		return NULL;
	}
	mdb_reader_check(env, &dead);	/* slots of processes that died */
	e = xcalloc(1, sizeof(*e));
	e->env = env;
	e->path = xstrdup(cfg->path);
	{
		pthread_rwlockattr_t a;	/* a resize must not wait forever */
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&e->resize, &a);
		pthread_rwlockattr_destroy(&a);
	}
	return e;
}

static void *
l_db_open(void *ve, const char *name, char **err)
{
	struct lenv *e = ve;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	int r;
	MDB_dbi *p;

	/*
	 * A database that exists opens in a read-only transaction, which
	 * does not wait for the environment's one writer: a command-line
	 * tool reading a store, or a daemon starting, is not held up by
	 * another process's long commit. Only a new one needs a write.
	 */
	if (mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_dbi_open(txn, name, 0, &dbi) != 0)
			mdb_txn_abort(txn);
		else if (mdb_txn_commit(txn) == 0)	/* frees txn */
			goto opened;
		txn = NULL;
	}
	if ((r = mdb_txn_begin(e->env, NULL, 0, &txn)) != 0 ||
	    (r = mdb_dbi_open(txn, name, MDB_CREATE, &dbi)) != 0) {
		*err = xasprintf("store %s database %s: %s", e->path, name,
		    mdb_strerror(r));
		if (txn)
			mdb_txn_abort(txn);
		return NULL;
	}
	if ((r = mdb_txn_commit(txn)) != 0) {
		*err = xasprintf("store %s database %s: %s", e->path, name,
		    mdb_strerror(r));
		return NULL;
	}
opened:
	p = xmalloc(sizeof(*p));
	*p = dbi;
	return p;
}

/*
 * Begin a transaction, the resize lock held shared (the caller releases
 * it after the commit or abort). When another process has grown the
 * map, adopt its size first: LMDB allows that only while this process
 * has no transaction open.
 */
static int
begin(struct lenv *e, unsigned flags, MDB_txn **txn)
{
	int r;

	pthread_rwlock_rdlock(&e->resize);
	if ((r = mdb_txn_begin(e->env, NULL, flags, txn)) != MDB_MAP_RESIZED)
		return r;
	pthread_rwlock_unlock(&e->resize);
	pthread_rwlock_wrlock(&e->resize);
	r = mdb_env_set_mapsize(e->env, 0);
	pthread_rwlock_unlock(&e->resize);
	pthread_rwlock_rdlock(&e->resize);
	if (r != 0)
		return r;
	log_info("store %s: adopted the map size another process set", e->path);
	return mdb_txn_begin(e->env, NULL, flags, txn);
}

static void
end(struct lenv *e)
{
	pthread_rwlock_unlock(&e->resize);
}

static int
failed(struct lenv *e, const char *what, int r)
{
	log_warn("store %s: %s: %s%s", e->path, what, mdb_strerror(r),
	    r == MDB_MAP_FULL ? " (raise store map_size)" : "");
	return -1;
}

/* Read a live entry: 1 found (payload in *v), 0 absent or expired.
   With a cursor (cur not NULL) the lookup starts from the cursor's leaf
   page when the key lies on it: a batch of gets in key order (dspam's
   tokens) then descends the tree once per leaf, not once per key. */
static int
read_live(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *cur, struct store_op *o,
    MDB_val *v, int64_t *exp, int64_t now, int *code)
{
	MDB_val key = { o->klen, o->key };
	int r = cur != NULL ? mdb_cursor_get(cur, &key, v, MDB_SET_KEY) :
	    mdb_get(txn, dbi, &key, v);

	if (r == MDB_NOTFOUND)
		return 0;
	if (r != 0) {
		*code = r;
		return -1;
	}
	if (v->mv_size < 8)
		return 0;	/* not ours: treat as absent */
	*exp = get_be64(v->mv_data);
	if (*exp != 0 && *exp <= now)
		return 0;
	v->mv_data = (unsigned char *)v->mv_data + 8;
	v->mv_size -= 8;
	return 1;
}

static int
write_val(MDB_txn *txn, MDB_dbi dbi, struct store_op *o, const void *p,
    size_t len, int64_t exp)
{
	MDB_val key = { o->klen, o->key }, v = { len + 8, NULL };
	int r = mdb_put(txn, dbi, &key, &v, MDB_RESERVE);

	if (r != 0)
		return r;
	put_be64(v.mv_data, exp);
	if (len)
		memcpy((unsigned char *)v.mv_data + 8, p, len);
	return 0;
}

/* The record under the cursor, of the same size, rewritten where it is
   (no second search of the tree). */
static int
rewrite_val(MDB_cursor *cur, struct store_op *o, const void *p, size_t len,
    int64_t exp)
{
	MDB_val key = { o->klen, o->key }, v;
	unsigned char buf[8 + 64], *heap = NULL, *d = buf;
	int r;

	if (len > sizeof(buf) - 8 && (d = heap = malloc(8 + len)) == NULL)
		return ENOMEM;
	put_be64(d, exp);
	if (len)
		memcpy(d + 8, p, len);
	v.mv_size = len + 8;
	v.mv_data = d;
	r = mdb_cursor_put(cur, &key, &v, MDB_CURRENT);
	free(heap);
	return r;
}

static void
set_result(struct store_op *o, const void *p, size_t len, int64_t exp)
{
	o->found = 1;
	o->rval = xmalloc(len ? len : 1);
	if (len)
		memcpy(o->rval, p, len);
	o->rlen = len;
	o->rexpires = exp;
}

/* A large write batch runs in key order, each key's operations in the
   order given (what one operation sees of the others on its key does
   not change). Neighbouring keys share leaf pages, and the cursor finds
   a key on the page it is on without a search from the root. NULL: the
   order given (a small batch, or no memory). */
#define SORT_FROM 64

static int
by_key(const void *a, const void *b, void *arg)
{
	const struct store_op *ops = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct store_op *x = &ops[i], *y = &ops[j];
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	if (c == 0 && x->klen != y->klen)
		c = x->klen < y->klen ? -1 : 1;
	if (c == 0)
		c = i < j ? -1 : 1;
	return c;
}

static size_t *
key_order(struct store_op *ops, size_t n)
{
	size_t *ord;

	if (n < SORT_FROM || (ord = malloc(n * sizeof(*ord))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	qsort_r(ord, n, sizeof(*ord), by_key, ops);
	return ord;
}

static int
run_txn(struct lenv *e, MDB_dbi dbi, struct store_op *ops, size_t n)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL, *wcur = NULL;
	MDB_val v;
	size_t *ord = NULL;
	int64_t now = (int64_t)wall_now(), exp;
	int write = 0, r = 0, code = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (ops[i].code == SOP_PUT || ops[i].code == SOP_DEL ||
		    ops[i].code == SOP_ADD)
			write = 1;
	if ((r = begin(e, write ? 0 : MDB_RDONLY, &txn)) != 0)
		return failed(e, "begin", r);
	/* a read-only batch reads through one cursor (read_live); a write
	   batch's counter additions find their record with one (wcur) and
	   rewrite it in place when its size stays */
	if (!write && n > 1 && (r = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto fail;
	if (write && (r = mdb_cursor_open(txn, dbi, &wcur)) != 0)
		goto fail;
	/* expectations first, against the store as it was */
	for (i = 0; i < n; i++) {
		struct store_op *o = &ops[i];
		if (o->code != SOP_EXPECT)
			continue;
		if ((r = read_live(txn, dbi, NULL, o, &v, &exp, now, &code)) < 0) {
			r = code;
			goto fail;
		}
		if ((r == 1) != (o->val != NULL) || (r == 1 &&
		    (v.mv_size != o->vlen || memcmp(v.mv_data, o->val, o->vlen)))) {
			mdb_txn_abort(txn);
			return 0;
		}
	}
	ord = write ? key_order(ops, n) : NULL;
	for (i = 0; i < n; i++) {
		struct store_op *o = &ops[ord ? ord[i] : i];
		MDB_val key = { o->klen, o->key };

		switch (o->code) {
		case SOP_GET:
			if ((r = read_live(txn, dbi, cur, o, &v, &exp, now, &code)) < 0) {
				r = code;
				goto fail;
			}
			if (r == 1)
				set_result(o, v.mv_data, v.mv_size, exp);
			break;
		case SOP_PUT:
			if ((r = write_val(txn, dbi, o, o->val, o->vlen, o->expires)) != 0)
				goto fail;
			break;
		case SOP_DEL:
			r = mdb_del(txn, dbi, &key, NULL);
			if (r != 0 && r != MDB_NOTFOUND)
				goto fail;
			break;
		case SOP_ADD: {
			unsigned char *nv;
			size_t nl;

			if ((r = read_live(txn, dbi, wcur, o, &v, &exp, now, &code)) < 0) {
				r = code;
				goto fail;
			}
			int64_t sum, x = o->expires;
			int live = r;	/* wcur is on the record */

			store_counters_apply(live ? v.mv_data : NULL,
			    live ? v.mv_size : 0, o->delta, o->n, &nv, &nl, &sum);
			if (o->ttl_limit >= 0 && sum > o->ttl_limit)
				x = 0;		/* busy enough to keep */
			if (nv == NULL) {
				r = live ? mdb_cursor_del(wcur, 0) :
				    mdb_del(txn, dbi, &key, NULL);
				if (r != 0 && r != MDB_NOTFOUND)
					goto fail;
				break;
			}
			if (live && nl == v.mv_size)
				r = rewrite_val(wcur, o, nv, nl, x);
			else
				r = write_val(txn, dbi, o, nv, nl, x);
			if (r != 0) {
				free(nv);
				goto fail;
			}
			o->found = 1;		/* the result is the new record */
			o->rval = nv;
			o->rlen = nl;
			o->rexpires = x;
			break;
		}
		case SOP_EXPECT:
			break;
		}
	}
	r = 0;
	if (!write) {
		if (cur != NULL)
			mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		return 1;
	}
	free(ord);
	mdb_cursor_close(wcur);
	if ((r = mdb_txn_commit(txn)) != 0)
		return failed(e, "commit", r);
	return 1;
fail:
	free(ord);
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (wcur != NULL)
		mdb_cursor_close(wcur);
	mdb_txn_abort(txn);
	return failed(e, "batch", r);
}

static int
l_run(void *ve, void *db, struct store_op *ops, size_t n)
{
	struct lenv *e = ve;
	int r = run_txn(e, *(MDB_dbi *)db, ops, n);

	end(e);
	return r;
}

struct delkey {
	unsigned char *k, *v;	/* the key and the raw value as visited */
	size_t len, vlen;
};

/* Delete what the walk marked, unless it changed since (a writer may
   have re-created an expired entry meanwhile). */
static int
delete_keys(struct lenv *e, MDB_dbi dbi, struct delkey *dk, size_t n)
{
	size_t i = 0;

	while (i < n) {
		MDB_txn *txn;
		size_t stop = i + 1000 < n ? i + 1000 : n;
		int r;

		if ((r = begin(e, 0, &txn)) != 0) {
			end(e);
			return failed(e, "begin", r);
		}
		for (; i < stop; i++) {
			MDB_val key = { dk[i].len, dk[i].k }, v;

			r = mdb_get(txn, dbi, &key, &v);
			if (r == 0 && (v.mv_size != dk[i].vlen ||
			    memcmp(v.mv_data, dk[i].v, v.mv_size) != 0))
				continue;	/* changed: keep it */
			if (r == 0)
				r = mdb_del(txn, dbi, &key, NULL);
			if (r != 0 && r != MDB_NOTFOUND) {
				mdb_txn_abort(txn);
				end(e);
				return failed(e, "delete", r);
			}
		}
		r = mdb_txn_commit(txn);
		end(e);
		if (r != 0)
			return failed(e, "commit", r);
	}
	return 0;
}

static int
l_scan(void *ve, void *db, const void *prefix, size_t plen, store_scan_fn cb,
    void *arg)
{
	struct lenv *e = ve;
	MDB_dbi dbi = *(MDB_dbi *)db;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val key = { plen, (void *)prefix }, v;
	struct delkey *dk = NULL;
	size_t ndk = 0, cap = 0;
	int r, rc = 0;

	if ((r = begin(e, MDB_RDONLY, &txn)) != 0) {
		end(e);
		return failed(e, "begin", r);
	}
	if ((r = mdb_cursor_open(txn, dbi, &c)) != 0) {
		mdb_txn_abort(txn);
		end(e);
		return failed(e, "cursor", r);
	}
	r = plen ? mdb_cursor_get(c, &key, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &key, &v, MDB_FIRST);
	while (r == 0) {
		int a;

		if (plen && (key.mv_size < plen || memcmp(key.mv_data, prefix, plen) != 0))
			break;
		if (v.mv_size >= 8) {
			a = cb(arg, key.mv_data, key.mv_size,
			    (unsigned char *)v.mv_data + 8, v.mv_size - 8,
			    get_be64(v.mv_data));
			if (a == MM_SCAN_STOP)
				break;
			if (a == MM_SCAN_DELETE) {
				if (ndk == cap) {
					cap = cap ? 2 * cap : 64;
					dk = xrealloc(dk, cap * sizeof(*dk));
				}
				dk[ndk].k = xmalloc(key.mv_size);
				memcpy(dk[ndk].k, key.mv_data, key.mv_size);
				dk[ndk].len = key.mv_size;
				dk[ndk].v = xmalloc(v.mv_size);
				memcpy(dk[ndk].v, v.mv_data, v.mv_size);
				dk[ndk++].vlen = v.mv_size;
			}
		}
		r = mdb_cursor_get(c, &key, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	end(e);
	if (r != 0 && r != MDB_NOTFOUND)
		rc = failed(e, "scan", r);
	if (rc == 0 && ndk)
		rc = delete_keys(e, dbi, dk, ndk);
	for (size_t i = 0; i < ndk; i++) {
		free(dk[i].k);
		free(dk[i].v);
	}
	free(dk);
	return rc;
}

static int
l_sync(void *ve)
{
	struct lenv *e = ve;
	int r = mdb_env_sync(e->env, 1);

	return r == 0 ? 0 : failed(e, "sync", r);
}

const struct store_ops store_lmdb_ops = {
	.name = "lmdb",
	.env_open = l_env_open,
	.db_open = l_db_open,
	.run = l_run,
	.scan = l_scan,
	.sync = l_sync,
};
