/*
 * NAME
 *	store - the key-value store plugins share (named databases, TTLs,
 *	atomic batches, counters, scans)
 * DESCRIPTION
 *	See store.h. Database names are letters, digits, '.', '_' and '-'
 *	(they become part of Redis keys). Expiry times are whole unix
 *	seconds; an entry whose time has come reads as absent, whatever
 *	the backend still holds. The "store:" configuration node is read by
 *	host/store_cfg.c.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

struct store_env {
	char *id;			/* backend + where, e.g. "lmdb:/var/..." */
	const struct store_ops *ops;
	void *env;
	struct mm_store *dbs;
	struct store_env *next;
};

struct mm_store {
	struct store_env *env;
	char *name;
	void *db;
	struct mm_store *next;
};

struct mm_store_batch {
	struct mm_store *st;
	struct store_op *ops;
	size_t n, cap;
	int ran;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_env *envs;

/* --- opening --- */

static char *
env_id(const struct store_cfg *cfg)
{
	if (cfg->backend == STORE_REDIS)
		return cfg->socket ? xasprintf("redis:%s/%d/%s", cfg->socket,
		    cfg->database, cfg->prefix) :
		    xasprintf("redis:%s:%d/%d/%s", cfg->host, cfg->port,
		    cfg->database, cfg->prefix);
	return xasprintf("lmdb:%s", cfg->path);
}

static int
valid_dbname(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!(isalnum((unsigned char)s[n]) || s[n] == '.' ||
		    s[n] == '_' || s[n] == '-'))
			return 0;
	return n > 0 && n <= 200;
}

mm_store *
store_open(const struct store_cfg *cfg, const char *dbname, char **err)
{
	struct store_env *e;
	struct mm_store *st;
	char *id;

	if (!valid_dbname(dbname)) {
		if (err)
			*err = xasprintf("bad database name '%s' (letters, digits, "
			    "'.', '_', '-')", dbname ? dbname : "");
		return NULL;
	}
	id = env_id(cfg);
	pthread_mutex_lock(&store_lock);
	for (e = envs; e; e = e->next)
		if (strcmp(e->id, id) == 0)
			break;
	if (e == NULL) {
		const struct store_ops *ops = &store_lmdb_ops;
		void *h;
#ifdef HAVE_HIREDIS
		if (cfg->backend == STORE_REDIS)
			ops = &store_redis_ops;
#else
		if (cfg->backend == STORE_REDIS) {
			pthread_mutex_unlock(&store_lock);
			if (err)
				*err = xstrdup("store backend redis: built without hiredis");
			free(id);
			return NULL;
		}
#endif
		if ((h = ops->env_open(cfg, err)) == NULL) {
			pthread_mutex_unlock(&store_lock);
			free(id);
			return NULL;
		}
		e = xcalloc(1, sizeof(*e));
		e->id = id;
		id = NULL;
		e->ops = ops;
		e->env = h;
		e->next = envs;
		envs = e;
	}
	free(id);
	for (st = e->dbs; st; st = st->next)
		if (strcmp(st->name, dbname) == 0)
			break;
	if (st == NULL) {
		void *db = e->ops->db_open(e->env, dbname, err);
		if (db == NULL) {
			pthread_mutex_unlock(&store_lock);
			return NULL;
		}
		st = xcalloc(1, sizeof(*st));
		st->env = e;
		st->name = xstrdup(dbname);
		st->db = db;
		st->next = e->dbs;
		e->dbs = st;
	}
	pthread_mutex_unlock(&store_lock);
	return st;
}

/* --- counters --- */

static void
put_le64(unsigned char *p, int64_t sv)
{
	uint64_t v = (uint64_t)sv;
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static int64_t
get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

int64_t
store_counter(const void *val, size_t vlen, size_t i)
{
	if (val == NULL || vlen / 8 <= i)
		return 0;
	return get_le64((const unsigned char *)val + 8 * i);
}

void
store_counters_apply(const unsigned char *old, size_t olen,
    const int64_t *delta, size_t n, unsigned char **out, size_t *outlen,
    int64_t *sum)
{
	size_t k = olen / 8 > n ? olen / 8 : n, i;
	unsigned char *p = xmalloc(8 * k);
	int64_t total = 0;
	int nonzero = 0;

	for (i = 0; i < k; i++) {
		int64_t v = store_counter(old, olen, i);
		if (i < n) {
			/* both within 0 .. 2^53 (old) and int64: no overflow */
			if (delta[i] > STORE_COUNTER_MAX)
				v = STORE_COUNTER_MAX;
			else if (delta[i] < -STORE_COUNTER_MAX)
				v = 0;
			else
				v += delta[i];
		}
		if (v < 0)
			v = 0;
		if (v > STORE_COUNTER_MAX)
			v = STORE_COUNTER_MAX;
		nonzero |= v != 0;
		total += v;	/* at most 64 counters of 2^53: no overflow */
		put_le64(p + 8 * i, v);
	}
	*sum = total;
	if (!nonzero) {
		free(p);
		*out = NULL;
		*outlen = 0;
		return;
	}
	*out = p;
	*outlen = 8 * k;
}

/* --- batches --- */

#define TTL_MAX (100.0 * 366 * 86400)

static int64_t
expiry(double ttl)
{
	if (!(ttl > 0))		/* also NaN */
		return 0;
	if (ttl > TTL_MAX)
		ttl = TTL_MAX;
	return (int64_t)(wall_now() + ttl + 0.999);
}

mm_store_batch *
store_batch(mm_store *st)
{
	struct mm_store_batch *b;

	if (st == NULL)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->st = st;
	return b;
}

static struct store_op *
new_op(mm_store_batch *b, enum store_opcode code, const void *key, size_t klen)
{
	struct store_op *o;

	if (b == NULL || b->ran || key == NULL || klen == 0 || klen > STORE_KEY_MAX)
		return NULL;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->ops = xrealloc(b->ops, b->cap * sizeof(*b->ops));
	}
	o = &b->ops[b->n++];
	memset(o, 0, sizeof(*o));
	o->code = code;
	/* the ops array may still move: inline buffers are pointed at
	   when the batch runs (store_batch_run) */
	if (klen <= sizeof(o->kbuf)) {
		memcpy(o->kbuf, key, klen);
		o->kin = 1;
	} else {
		o->key = xmalloc(klen);
		memcpy(o->key, key, klen);
	}
	o->klen = klen;
	return o;
}

static int
op_index(mm_store_batch *b, struct store_op *o)
{
	return o ? (int)(o - b->ops) : -1;
}

int
store_batch_get(mm_store_batch *b, const void *key, size_t klen)
{
	return op_index(b, new_op(b, SOP_GET, key, klen));
}

static void
set_val(struct store_op *o, const void *val, size_t vlen)
{
	o->val = xmalloc(vlen ? vlen : 1);
	if (vlen)
		memcpy(o->val, val, vlen);
	o->vlen = vlen;
}

int
store_batch_put(mm_store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen, double ttl)
{
	struct store_op *o;

	if (val == NULL && vlen)
		return -1;
	if ((o = new_op(b, SOP_PUT, key, klen)) == NULL)
		return -1;
	set_val(o, val, vlen);
	o->expires = expiry(ttl);
	return op_index(b, o);
}

int
store_batch_del(mm_store_batch *b, const void *key, size_t klen)
{
	return op_index(b, new_op(b, SOP_DEL, key, klen));
}

int
store_batch_add(mm_store_batch *b, const void *key, size_t klen,
    const int64_t *delta, size_t n, double ttl, int64_t ttl_limit)
{
	struct store_op *o;

	if (delta == NULL || n == 0 || n > 64)
		return -1;
	if ((o = new_op(b, SOP_ADD, key, klen)) == NULL)
		return -1;
	if (n <= STORE_OP_DELTA_INLINE) {
		memcpy(o->dbuf, delta, n * sizeof(*delta));
		o->din = 1;
	} else {
		o->delta = xmalloc(n * sizeof(*delta));
		memcpy(o->delta, delta, n * sizeof(*delta));
	}
	o->n = n;
	o->expires = expiry(ttl);
	o->ttl_limit = ttl_limit;
	return op_index(b, o);
}

int
store_batch_expect(mm_store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	struct store_op *o;

	if ((o = new_op(b, SOP_EXPECT, key, klen)) == NULL)
		return -1;
	if (val != NULL)
		set_val(o, val, vlen);
	return op_index(b, o);
}

int
store_batch_run(mm_store_batch *b)
{
	int64_t now;
	int r;

	if (b == NULL || b->ran)
		return -1;
	b->ran = 1;
	if (b->n == 0)
		return 1;
	for (size_t i = 0; i < b->n; i++) {	/* the array no longer moves */
		if (b->ops[i].kin)
			b->ops[i].key = b->ops[i].kbuf;
		if (b->ops[i].din)
			b->ops[i].delta = b->ops[i].dbuf;
	}
	r = b->st->env->ops->run(b->st->env->env, b->st->db, b->ops, b->n);
	metrics_store(b->st->env->ops->name, r > 0 ? "ok" : r == 0 ? "conflict" : "error");
	if (r <= 0) {
		/* no results from a batch that did not run */
		for (size_t i = 0; i < b->n; i++) {
			free(b->ops[i].rval);
			b->ops[i].rval = NULL;
			b->ops[i].found = 0;
		}
		return r;
	}
	/* results past their expiry read as absent */
	now = (int64_t)wall_now();
	for (size_t i = 0; i < b->n; i++) {
		struct store_op *o = &b->ops[i];
		if (o->found && o->rexpires != 0 && o->rexpires <= now) {
			o->found = 0;
			free(o->rval);
			o->rval = NULL;
			o->rlen = 0;
		}
	}
	return 1;
}

int
store_result(mm_store_batch *b, int op, const void **val, size_t *vlen)
{
	struct store_op *o;

	if (b == NULL || !b->ran || op < 0 || (size_t)op >= b->n)
		return -1;
	o = &b->ops[op];
	if (!o->found)
		return 0;
	*val = o->rval;
	*vlen = o->rlen;
	return 1;
}

void
store_batch_free(mm_store_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->ops[i].kin)
			free(b->ops[i].key);
		free(b->ops[i].val);
		if (!b->ops[i].din)
			free(b->ops[i].delta);
		free(b->ops[i].rval);
	}
	free(b->ops);
	free(b);
}

/* --- single operations (one-op batches) --- */

int
store_get(mm_store *st, const void *key, size_t klen, void **val, size_t *vlen)
{
	mm_store_batch *b = store_batch(st);
	int i, r;

	if ((i = store_batch_get(b, key, klen)) < 0 ||
	    (r = store_batch_run(b)) < 0) {
		store_batch_free(b);
		return -1;
	}
	if ((r = b->ops[i].found) == 1) {
		/* hand the value over, NUL-terminated for string users */
		struct store_op *o = &b->ops[i];
		*val = xmalloc(o->rlen + 1);
		memcpy(*val, o->rval, o->rlen);
		((char *)*val)[o->rlen] = 0;
		*vlen = o->rlen;
	}
	store_batch_free(b);
	return r;
}

int
store_put(mm_store *st, const void *key, size_t klen, const void *val,
    size_t vlen, double ttl)
{
	mm_store_batch *b = store_batch(st);
	int r = store_batch_put(b, key, klen, val, vlen, ttl) < 0 ? -1 :
	    store_batch_run(b) > 0 ? 0 : -1;

	store_batch_free(b);
	return r;
}

int
store_del(mm_store *st, const void *key, size_t klen)
{
	mm_store_batch *b = store_batch(st);
	int r = store_batch_del(b, key, klen) < 0 ? -1 :
	    store_batch_run(b) > 0 ? 0 : -1;

	store_batch_free(b);
	return r;
}

/* --- scans --- */

struct scan_arg {
	int (*cb)(void *, const void *, size_t, const void *, size_t, double);
	void *arg;
	int64_t now;
	int expire_only;
	long removed;
};

static int
scan_one(void *a, const void *key, size_t klen, const void *val, size_t vlen,
    int64_t expires)
{
	struct scan_arg *s = a;

	if (expires != 0 && expires <= s->now) {
		if (!s->expire_only)
			return MM_SCAN_NEXT;
		s->removed++;
		return MM_SCAN_DELETE;
	}
	if (s->expire_only)
		return MM_SCAN_NEXT;
	return s->cb(s->arg, key, klen, val, vlen, (double)expires);
}

int
store_scan(mm_store *st, const void *prefix, size_t plen,
    int (*cb)(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen, double expires), void *arg)
{
	struct scan_arg s = { cb, arg, (int64_t)wall_now(), 0, 0 };

	if (st == NULL || cb == NULL || (prefix == NULL && plen))
		return -1;
	return st->env->ops->scan(st->env->env, st->db, prefix, plen, scan_one, &s);
}

long
store_expire(mm_store *st)
{
	struct scan_arg s = { NULL, NULL, (int64_t)wall_now(), 1, 0 };

	if (st == NULL)
		return -1;
	if (st->env->ops->scan(st->env->env, st->db, NULL, 0, scan_one, &s) < 0)
		return -1;
	return s.removed;
}

long
store_sweep(void)
{
	mm_store **all = NULL;
	size_t n = 0;
	long removed = 0, r;
	int failed = 0;

	/* environments and databases are never closed: a snapshot of the
	   list stays valid without the lock, which a long walk must not hold */
	pthread_mutex_lock(&store_lock);
	for (struct store_env *e = envs; e; e = e->next)
		if (e->ops == &store_lmdb_ops)	/* Redis expires keys itself */
			for (mm_store *st = e->dbs; st; st = st->next) {
				all = xrealloc(all, (n + 1) * sizeof(*all));
				all[n++] = st;
			}
	pthread_mutex_unlock(&store_lock);
	for (size_t i = 0; i < n; i++) {
		if ((r = store_expire(all[i])) < 0)
			failed = 1;
		else
			removed += r;
	}
	free(all);
	return failed ? -1 : removed;
}

int
store_sync(mm_store *st)
{
	if (st == NULL)
		return -1;
	return st->env->ops->sync ? st->env->ops->sync(st->env->env) : 0;
}
