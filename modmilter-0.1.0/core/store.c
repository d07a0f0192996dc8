/*
 * NAME
 *	store - the key-value store plugins share (named databases, TTLs)
 * DESCRIPTION
 *	See store.h. Each stored value is an 8-byte big-endian expiry time
 *	(unix seconds, 0 = never) followed by the plugin's bytes.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "store.h"
#include "util.h"

struct store_env {
	char *path;
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

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_env *envs;

mm_store *
store_open(struct conf *c, const char *dbname, char **err)
{
	struct store_env *e;
	struct mm_store *st;

	if (dbname == NULL || *dbname == 0 || strlen(dbname) > 200) {
		if (err)
			*err = xstrdup("bad database name");
		return NULL;
	}
	pthread_mutex_lock(&store_lock);
	for (e = envs; e; e = e->next)
		if (strcmp(e->path, c->store_path) == 0)
			break;
	if (e == NULL) {
		void *h = store_lmdb_ops.env_open(c->store_path, c->store_map_size, err);
		if (h == NULL) {
			pthread_mutex_unlock(&store_lock);
			return NULL;
		}
		e = xcalloc(1, sizeof(*e));
		e->path = xstrdup(c->store_path);
		e->ops = &store_lmdb_ops;
		e->env = h;
		e->next = envs;
		envs = e;
	}
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

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
store_get(mm_store *st, const void *key, size_t klen, void **val, size_t *vlen)
{
	void *raw;
	size_t rl;
	int r;
	uint64_t exp;

	if (st == NULL || key == NULL || klen == 0)
		return -1;
	r = st->env->ops->get(st->env->env, st->db, key, klen, &raw, &rl);
	if (r <= 0)
		return r;
	if (rl < 8) {
		free(raw);
		return -1;
	}
	exp = get_be64(raw);
	if (exp != 0 && exp <= (uint64_t)wall_now()) {
		free(raw);
		return 0;
	}
	*vlen = rl - 8;
	*val = xmalloc(rl - 8 + 1);
	memcpy(*val, (unsigned char *)raw + 8, rl - 8);
	((char *)*val)[rl - 8] = 0;
	free(raw);
	return 1;
}

int
store_put(mm_store *st, const void *key, size_t klen, const void *val,
    size_t vlen, double ttl)
{
	unsigned char *raw;
	int r;

	if (st == NULL || key == NULL || klen == 0 || (val == NULL && vlen))
		return -1;
	raw = xmalloc(vlen + 8);
	put_be64(raw, ttl > 0 ? (uint64_t)(wall_now() + ttl + 0.999) : 0);
	if (vlen)
		memcpy(raw + 8, val, vlen);
	r = st->env->ops->put(st->env->env, st->db, key, klen, raw, vlen + 8);
	free(raw);
	return r;
}

int
store_del(mm_store *st, const void *key, size_t klen)
{
	if (st == NULL || key == NULL || klen == 0)
		return -1;
	return st->env->ops->del(st->env->env, st->db, key, klen);
}
