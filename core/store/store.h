/*
 * NAME
 *	store - the key-value store plugins share (named databases, TTLs,
 *	atomic batches, counters, scans)
 * SYNOPSIS
 *	#include "store.h"
 *
 *	mm_store *st = store_open(&conf->store, "cbv", &err);
 *	store_put(st, key, klen, val, vlen, ttl_seconds);
 *	store_get(st, key, klen, &val, &vlen);		(1 found, 0 absent)
 *
 *	mm_store_batch *b = store_batch(st);
 *	int i = store_batch_add(b, key, klen, delta, 2, 0, -1);
 *	store_batch_run(b);				(1 done, 0 conflict, -1 error)
 *	store_result(b, i, &val, &vlen);
 *	store_batch_free(b);
 * DESCRIPTION
 *	A front over backends (struct store_ops): embedded LMDB
 *	(store_lmdb.c, the default) and Redis (store_redis.c, so several
 *	mail hosts share one store). Every operation, even a single get, is
 *	a batch run by the backend as one atomic unit. The front checks
 *	arguments, turns TTLs into absolute expiry times and hides entries
 *	past their expiry from readers.
 *
 *	Safe to use from many threads. A backend environment is opened once
 *	per process (per path or server) and kept across reloads (LMDB
 *	forbids opening one twice).
 *
 *	The store configuration (struct store_cfg) is read from the
 *	"store:" node of the daemon's YAML by store_cfg_parse(), so tools
 *	that share the daemon's store read the same file.
 */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <modmilter/plugin.h>

enum store_backend { STORE_LMDB = 0, STORE_REDIS = 1 };

struct store_cfg {
	enum store_backend backend;
	/* lmdb */
	char *path;
	long long map_size;
	int nosync;		/* bulk tools: no flush per commit (store_sync) */
	double sweep_interval;	/* the daemon removes expired records this
				   often (seconds; 0 never) */
	/* redis */
	char *host;		/* default 127.0.0.1 */
	int port;		/* default 6379 */
	char *socket;		/* a unix socket instead of host:port */
	int database;
	char *password;
	char *prefix;		/* of every key; default "modmilter:" */
	double timeout;		/* connect and per command, seconds */
};

/* One operation of a batch, as a backend sees it. */
enum store_opcode { SOP_GET, SOP_PUT, SOP_DEL, SOP_ADD, SOP_EXPECT };

#define STORE_OP_KEY_INLINE	24	/* keys up to this long live in the op */
#define STORE_OP_DELTA_INLINE	8	/* so do deltas of up to 8 counters */

struct store_op {
	enum store_opcode code;
	unsigned char *key;	/* the front points it (and delta) at the op's
				   own buffers when the batch runs */
	size_t klen;
	unsigned char *val;	/* PUT, EXPECT (NULL: must be absent) */
	size_t vlen;
	int64_t *delta;		/* ADD */
	size_t n;
	int64_t expires;	/* PUT, ADD: unix seconds, 0 never */
	int64_t ttl_limit;	/* ADD: expires only if the sum is at most this
				   (< 0: always) */
	/* results (GET, ADD), set by the backend; rval malloc'ed */
	int found;
	unsigned char *rval;
	size_t rlen;
	int64_t rexpires;
	/* the front's: short keys and deltas without an allocation each */
	unsigned char kbuf[STORE_OP_KEY_INLINE];
	int64_t dbuf[STORE_OP_DELTA_INLINE];
	unsigned char kin, din;	/* key, delta in kbuf, dbuf */
};

/* A scan callback as backends call it: expired entries included. A
   backend visits each entry once, and deletes an entry the callback
   answered MM_SCAN_DELETE for only if it still holds what was visited. */
typedef int (*store_scan_fn)(void *arg, const void *key, size_t klen,
    const void *val, size_t vlen, int64_t expires);

struct store_ops {
	const char *name;
	void *(*env_open)(const struct store_cfg *cfg, char **err);
	void *(*db_open)(void *env, const char *name, char **err);
	/* 1 done, 0 an EXPECT failed (nothing written), -1 error */
	int (*run)(void *env, void *db, struct store_op *ops, size_t n);
	/* MM_SCAN_DELETE answers are applied after the walk */
	int (*scan)(void *env, void *db, const void *prefix, size_t plen,
	    store_scan_fn cb, void *arg);
	int (*sync)(void *env);		/* may be NULL */
};

extern const struct store_ops store_lmdb_ops;
#ifdef HAVE_HIREDIS
extern const struct store_ops store_redis_ops;
#endif

/* Read the "store:" node (NULL: defaults) into cfg; errors are recorded
   at the nodes (cfgtree). store_cfg_free releases the strings. */
void store_cfg_parse(const mm_opt *node, struct store_cfg *cfg);
void store_cfg_free(struct store_cfg *cfg);
/* "lmdb:/path", a plain path, or "redis://[:password@]host[:port][/db]"
   or "redis:///path/to/socket"; 0, or -1 with *err set. */
int store_cfg_from_uri(const char *uri, struct store_cfg *cfg, char **err);

mm_store *store_open(const struct store_cfg *cfg, const char *dbname,
    char **err);
int store_get(mm_store *st, const void *key, size_t klen, void **val,
    size_t *vlen);
int store_put(mm_store *st, const void *key, size_t klen, const void *val,
    size_t vlen, double ttl);
int store_del(mm_store *st, const void *key, size_t klen);

mm_store_batch *store_batch(mm_store *st);
int store_batch_get(mm_store_batch *b, const void *key, size_t klen);
int store_batch_put(mm_store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen, double ttl);
int store_batch_del(mm_store_batch *b, const void *key, size_t klen);
int store_batch_add(mm_store_batch *b, const void *key, size_t klen,
    const int64_t *delta, size_t n, double ttl, int64_t ttl_limit);
int store_batch_expect(mm_store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen);
int store_batch_run(mm_store_batch *b);
int store_result(mm_store_batch *b, int op, const void **val, size_t *vlen);
void store_batch_free(mm_store_batch *b);
int64_t store_counter(const void *val, size_t vlen, size_t i);

int store_scan(mm_store *st, const void *prefix, size_t plen,
    int (*cb)(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen, double expires), void *arg);
long store_expire(mm_store *st);
/* store_expire() on every LMDB database this process opened; the
   number removed, or -1 if some walk failed. */
long store_sweep(void);
int store_sync(mm_store *st);

/* Counter records (shared by the backends): counters stay within
   0 .. STORE_COUNTER_MAX (exact in a Lua double, for Redis). *sum is
   the sum of the new record's counters (saturated). */
#define STORE_COUNTER_MAX	(1LL << 53)
#define STORE_KEY_MAX		511	/* LMDB's default limit */
void store_counters_apply(const unsigned char *old, size_t olen,
    const int64_t *delta, size_t n, unsigned char **out, size_t *outlen,
    int64_t *sum);

#endif
