/*
 * NAME
 *	store_lmdb - the embedded LMDB backend of the store
 * DESCRIPTION
 *	One environment (a directory) with named sub-databases. MDB_NOTLS
 *	lets libmilter's per-connection threads each run their own read
 *	transactions; writers are serialised by LMDB itself. A full map is
 *	reported as an error (the plugin decides; usually TEMPFAIL).
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"
#include "util.h"

static void *
l_env_open(const char *path, long long map_size, char **err)
{
	MDB_env *env;
	int r;

	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		*err = xasprintf("store %s: cannot create: %s", path, strerror(errno));
		return NULL;
	}
	if ((r = mdb_env_create(&env)) != 0) {
		*err = xasprintf("store %s: %s", path, mdb_strerror(r));
		return NULL;
	}
	mdb_env_set_maxdbs(env, 256);
	mdb_env_set_maxreaders(env, 1024);
	mdb_env_set_mapsize(env, (size_t)map_size);
	if ((r = mdb_env_open(env, path, MDB_NOTLS, 0640)) != 0) {
		*err = xasprintf("store %s: %s", path, mdb_strerror(r));
		mdb_env_close(env);
		return NULL;
	}
	return env;
}

static void *
l_db_open(void *env, const char *name, char **err)
{
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	int r;
	MDB_dbi *p;

	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (r = mdb_dbi_open(txn, name, MDB_CREATE, &dbi)) != 0) {
		*err = xasprintf("store database %s: %s", name, mdb_strerror(r));
		if (txn)
			mdb_txn_abort(txn);
		return NULL;
	}
	if ((r = mdb_txn_commit(txn)) != 0) {
		*err = xasprintf("store database %s: %s", name, mdb_strerror(r));
		return NULL;
	}
	p = xmalloc(sizeof(*p));
	*p = dbi;
	return p;
}

static int
l_get(void *env, void *db, const void *k, size_t kl, void **v, size_t *vl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k }, val;
	int r;

	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return -1;
	r = mdb_get(txn, *(MDB_dbi *)db, &key, &val);
	if (r == 0) {
		*v = xmalloc(val.mv_size ? val.mv_size : 1);
		memcpy(*v, val.mv_data, val.mv_size);
		*vl = val.mv_size;
	}
	mdb_txn_abort(txn);
	if (r == MDB_NOTFOUND)
		return 0;
	if (r != 0) {
		log_warn("store: read failed: %s", mdb_strerror(r));
		return -1;
	}
	return 1;
}

static int
l_put(void *env, void *db, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	int r;

	if ((r = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		log_warn("store: write failed: %s", mdb_strerror(r));
		return -1;
	}
	if ((r = mdb_put(txn, *(MDB_dbi *)db, &key, &val, 0)) != 0) {
		mdb_txn_abort(txn);
		log_warn("store: write failed: %s", mdb_strerror(r));
		return -1;
	}
	if ((r = mdb_txn_commit(txn)) != 0) {
		log_warn("store: commit failed: %s", mdb_strerror(r));
		return -1;
	}
	return 0;
}

static int
l_del(void *env, void *db, const void *k, size_t kl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k };
	int r;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	r = mdb_del(txn, *(MDB_dbi *)db, &key, NULL);
	if (r != 0 && r != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
}

const struct store_ops store_lmdb_ops = {
	.name = "lmdb",
	.env_open = l_env_open,
	.db_open = l_db_open,
	.get = l_get,
	.put = l_put,
	.del = l_del,
};
