#include "config.h"
/*
 * NAME
 *	test_store - the key-value store plugins share, on LMDB and Redis
 * DESCRIPTION
 *	Through the same API table plugins use, once per backend: put, get,
 *	overwrite and delete in named databases that do not see each other's
 *	keys; a value past its TTL reads as absent; binary keys and values
 *	survive; batches are atomic (a failed expectation writes nothing);
 *	counter records add, never go below zero and vanish at zero; many
 *	threads adding to the same counters lose no update; scans see a
 *	prefix, stop, delete and skip expired entries; a store that cannot
 *	be created is an error, not a crash. The Redis group runs a real
 *	redis-server on a unix socket (skipped when none is installed) and
 *	checks that an outage is an error, not a hang, and that the store
 *	reconnects when the server is back.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api.h"
#include "conf.h"
#include "session.h"
#include "store.h"

static struct store_cfg c;
static char dir[64];
static char *redis_pidfile, *redis_sock;

static int
mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/modmilter-store-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
setup_lmdb(void **state)
{
	char *err = NULL;
	(void)state;
	if (mkdir_tmp() < 0)
		return -1;
	char *path = xasprintf("%s/db", dir);
	if (store_cfg_from_uri(path, &c, &err) < 0)
		return -1;
	free(path);
	c.map_size = 64 << 20;
	return 0;
}

static int
teardown(void **state)
{
	char *cmd;
	(void)state;
	if (redis_pidfile) {
		cmd = xasprintf("kill $(cat %s) 2>/dev/null; sleep 0.2", redis_pidfile);
		if (system(cmd) != 0) {}
		free(cmd);
	}
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	store_cfg_free(&c);
	return 0;
}

static int
redis_start(void)
{
	char *cmd = xasprintf("redis-server --port 0 --unixsocket %s --save '' "
	    "--appendonly no --daemonize yes --pidfile %s --logfile %s/redis.log "
	    "--enable-debug-command local",
	    redis_sock, redis_pidfile, dir);
	int r = system(cmd);

	free(cmd);
	for (int i = 0; r == 0 && i < 100; i++) {
		struct stat sb;
		if (stat(redis_sock, &sb) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static void
redis_stop(void)
{
	char *cmd = xasprintf("kill $(cat %s); while [ -S %s ]; do sleep 0.05; done",
	    redis_pidfile, redis_sock);
	if (system(cmd) != 0) {}
	free(cmd);
}

static int
setup_redis(void **state)
{
	char *uri, *err = NULL;
	(void)state;
	if (mkdir_tmp() < 0)
		return -1;
	redis_sock = xasprintf("%s/redis.sock", dir);
	redis_pidfile = xasprintf("%s/redis.pid", dir);
	if (redis_start() < 0)
		return -1;
	uri = xasprintf("redis://%s", redis_sock);
	if (store_cfg_from_uri(uri, &c, &err) < 0)
		return -1;
	free(uri);
	free(c.prefix);
	c.prefix = xasprintf("t%ld:", (long)getpid());
	c.timeout = 0.5;
	return 0;
}

static mm_store *
open_db(const char *name)
{
	char *err = NULL;
	mm_store *st = store_open(&c, name, &err);
	if (st == NULL)
		fail_msg("store_open %s: %s", name, err ? err : "?");
	return st;
}

static void
test_put_get_del(void **state)
{
	mm_store *a = open_db("a"), *b = open_db("b");
	void *v;
	size_t vl;

	(void)state;
	assert_int_equal(core_api.store_put(a, "k", 1, "one", 3, 0), 0);
	assert_int_equal(core_api.store_get(a, "k", 1, &v, &vl), 1);
	assert_int_equal(vl, 3);
	assert_memory_equal(v, "one", 3);
	core_api.free(v);
	/* another database does not see it */
	assert_int_equal(core_api.store_get(b, "k", 1, &v, &vl), 0);
	/* overwrite */
	assert_int_equal(core_api.store_put(a, "k", 1, "two!", 4, 0), 0);
	assert_int_equal(core_api.store_get(a, "k", 1, &v, &vl), 1);
	assert_int_equal(vl, 4);
	assert_memory_equal(v, "two!", 4);
	core_api.free(v);
	assert_int_equal(core_api.store_del(a, "k", 1), 0);
	assert_int_equal(core_api.store_get(a, "k", 1, &v, &vl), 0);
	/* deleting what is not there is fine */
	assert_int_equal(core_api.store_del(a, "k", 1), 0);
	/* the same name gives the same database */
	assert_ptr_equal(open_db("a"), a);
}

static void
test_binary(void **state)
{
	mm_store *a = open_db("bin");
	unsigned char key[4] = { 0, 1, 0, 2 }, val[5] = { 0, 0, 0xff, 0, 7 };
	void *v;
	size_t vl;

	(void)state;
	assert_int_equal(core_api.store_put(a, key, 4, val, 5, 0), 0);
	assert_int_equal(core_api.store_get(a, key, 4, &v, &vl), 1);
	assert_int_equal(vl, 5);
	assert_memory_equal(v, val, 5);
	core_api.free(v);
	/* empty value */
	assert_int_equal(core_api.store_put(a, "e", 1, NULL, 0, 0), 0);
	assert_int_equal(core_api.store_get(a, "e", 1, &v, &vl), 1);
	assert_int_equal(vl, 0);
	core_api.free(v);
	/* bad arguments */
	assert_int_equal(core_api.store_put(a, NULL, 0, "x", 1, 0), -1);
	assert_int_equal(core_api.store_get(NULL, "x", 1, &v, &vl), -1);
}

static void
test_ttl(void **state)
{
	mm_store *a = open_db("ttl");
	void *v;
	size_t vl;

	(void)state;
	assert_int_equal(core_api.store_put(a, "short", 5, "x", 1, 1), 0);
	assert_int_equal(core_api.store_put(a, "long", 4, "y", 1, 3600), 0);
	assert_int_equal(core_api.store_get(a, "short", 5, &v, &vl), 1);
	core_api.free(v);
	sleep(2);
	assert_int_equal(core_api.store_get(a, "short", 5, &v, &vl), 0);
	assert_int_equal(core_api.store_get(a, "long", 4, &v, &vl), 1);
	core_api.free(v);
}

static mm_store_batch *
batch(mm_store *st)
{
	mm_store_batch *b = core_api.store_batch(st);
	assert_non_null(b);
	return b;
}

/* A read batch of many keys (read through one cursor on LMDB): keys in
   order and out of order, across many leaf pages, absent keys between
   present ones, an expired entry, a key read twice: each result is
   what a get of its own gives. */
static void
test_read_batch(void **state)
{
	mm_store *a = open_db("readbatch");
	mm_store_batch *b;
	const void *v;
	void *sv;
	size_t vl, svl;
	char k[16];
	int idx[1200];
	size_t n = 0, i;

	(void)state;
	b = batch(a);
	for (i = 0; i < 1000; i += 2) {	/* even keys present */
		snprintf(k, sizeof(k), "k%05zu", i);
		core_api.store_batch_put(b, k, strlen(k), k, strlen(k), i == 500 ? 1 : 0);
	}
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	sleep(2);			/* k00500 expires */
	b = batch(a);
	for (i = 0; i < 1000; i++) {	/* in order */
		snprintf(k, sizeof(k), "k%05zu", i);
		idx[n++] = core_api.store_batch_get(b, k, strlen(k));
	}
	for (i = 0; i < 200; i++) {	/* out of order, repeated */
		snprintf(k, sizeof(k), "k%05zu", (i * 397) % 1000);
		idx[n++] = core_api.store_batch_get(b, k, strlen(k));
	}
	assert_int_equal(core_api.store_batch_run(b), 1);
	for (i = 0; i < n; i++) {
		size_t key = i < 1000 ? i : ((i - 1000) * 397) % 1000;
		int want = key % 2 == 0 && key != 500;

		snprintf(k, sizeof(k), "k%05zu", key);
		assert_int_equal(core_api.store_result(b, idx[i], &v, &vl), want);
		assert_int_equal(core_api.store_get(a, k, strlen(k), &sv, &svl), want);
		if (want) {
			assert_int_equal(vl, strlen(k));
			assert_memory_equal(v, k, vl);
			assert_int_equal(svl, vl);
			assert_memory_equal(sv, v, vl);
			core_api.free(sv);
		}
	}
	core_api.store_batch_free(b);
	/* keys and deltas short and long (kept in the op or allocated) in
	   one batch */
	{
		char lk[100];
		int64_t d12[12], d2[2] = { 3, 4 };
		int ia, ib;

		for (i = 0; i < 12; i++)
			d12[i] = (int64_t)i + 1;
		memset(lk, 'L', sizeof(lk));
		b = batch(a);
		ia = core_api.store_batch_add(b, lk, sizeof(lk), d12, 12, 0, -1);
		ib = core_api.store_batch_add(b, "s", 1, d2, 2, 0, -1);
		assert_int_equal(core_api.store_batch_run(b), 1);
		assert_int_equal(core_api.store_result(b, ia, &v, &vl), 1);
		assert_int_equal(core_api.store_counter(v, vl, 11), 12);
		assert_int_equal(core_api.store_result(b, ib, &v, &vl), 1);
		assert_int_equal(core_api.store_counter(v, vl, 1), 4);
		core_api.store_batch_free(b);
		assert_int_equal(core_api.store_get(a, lk, sizeof(lk), &sv, &svl), 1);
		assert_int_equal(core_api.store_counter(sv, svl, 0), 1);
		core_api.free(sv);
	}
}

#define THREADS 8
#define PER 200

static void *
writer(void *arg)
{
	mm_store *a = open_db("threads");
	long id = (long)arg;

	for (int i = 0; i < PER; i++) {
		char k[32], val[32];
		void *v;
		size_t vl;
		snprintf(k, sizeof(k), "%ld-%d", id, i);
		snprintf(val, sizeof(val), "v%ld.%d", id, i);
		if (core_api.store_put(a, k, strlen(k), val, strlen(val), 0) != 0)
			return (void *)1;
		if (core_api.store_get(a, k, strlen(k), &v, &vl) != 1 ||
		    vl != strlen(val) || memcmp(v, val, vl) != 0)
			return (void *)1;
		core_api.free(v);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS];
	mm_store *a = open_db("threads");
	int found = 0;

	(void)state;
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	for (long id = 0; id < THREADS; id++)
		for (int i = 0; i < PER; i++) {
			char k[32];
			void *v;
			size_t vl;
			snprintf(k, sizeof(k), "%ld-%d", id, i);
			if (core_api.store_get(a, k, strlen(k), &v, &vl) == 1) {
				found++;
				core_api.free(v);
			}
		}
	assert_int_equal(found, THREADS * PER);
}


static void
test_batch(void **state)
{
	mm_store *a = open_db("batch");
	mm_store_batch *b = batch(a);
	const void *v;
	size_t vl;
	int g0, g1, g2;

	(void)state;
	g0 = core_api.store_batch_get(b, "x", 1);	/* before the put */
	assert_true(core_api.store_batch_put(b, "x", 1, "one", 3, 0) >= 0);
	g1 = core_api.store_batch_get(b, "x", 1);	/* sees the put */
	assert_true(core_api.store_batch_put(b, "y", 1, "two", 3, 0) >= 0);
	assert_true(core_api.store_batch_del(b, "y", 1) >= 0);
	g2 = core_api.store_batch_get(b, "y", 1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, g0, &v, &vl), 0);
	assert_int_equal(core_api.store_result(b, g1, &v, &vl), 1);
	assert_int_equal(vl, 3);
	assert_memory_equal(v, "one", 3);
	assert_int_equal(core_api.store_result(b, g2, &v, &vl), 0);
	/* a batch runs once */
	assert_int_equal(core_api.store_batch_run(b), -1);
	assert_true(core_api.store_batch_get(b, "x", 1) < 0);
	core_api.store_batch_free(b);
	/* bad arguments */
	b = batch(a);
	assert_true(core_api.store_batch_get(b, NULL, 0) < 0);
	assert_true(core_api.store_batch_add(b, "c", 1, NULL, 2, 0, -1) < 0);
	core_api.store_batch_free(b);
	assert_null(core_api.store_batch(NULL));
}

/* A write batch large enough to run in key order (store_lmdb.c sorts
   one of 64 operations or more) gives each operation what it would get
   in the order given: 300 operations over 23 keys, scrambled, each
   checked against a model of the batch run one operation at a time. */
#define WB_OPS 300
#define WB_KEYS 23

static void
test_write_batch_order(void **state)
{
	mm_store *a = open_db("wborder");
	mm_store_batch *b;
	int64_t cnt[WB_KEYS][2] = { { 0 } };
	char val[WB_KEYS][16];
	int has[WB_KEYS] = { 0 }, idx[WB_OPS], want[WB_OPS];
	int64_t wc[WB_OPS][2];
	char wv[WB_OPS][16], k[8];
	const void *v;
	size_t vl;

	(void)state;
	b = batch(a);
	for (int j = 0; j < WB_OPS; j++) {
		int key = (j * 7 + j / 23) % WB_KEYS, counter = key % 2, op = (j * 5) % 7;
		int64_t d[2] = { 1, j % 3 };

		snprintf(k, sizeof(k), "w%02d", key);
		if (op == 6) {		/* delete */
			idx[j] = core_api.store_batch_del(b, k, strlen(k));
			has[key] = 0;
			cnt[key][0] = cnt[key][1] = 0;
			want[j] = -1;
		} else if (op % 2 == 1) {	/* read */
			idx[j] = core_api.store_batch_get(b, k, strlen(k));
			want[j] = has[key];
		} else if (counter) {	/* add */
			idx[j] = core_api.store_batch_add(b, k, strlen(k), d, 2, 0, -1);
			cnt[key][0] += d[0];
			cnt[key][1] += d[1];
			has[key] = want[j] = 1;
		} else {		/* put */
			snprintf(val[key], sizeof(val[key]), "p%d", j);
			idx[j] = core_api.store_batch_put(b, k, strlen(k), val[key],
			    strlen(val[key]), 0);
			has[key] = 1;
			want[j] = -1;
		}
		memcpy(wc[j], cnt[key], sizeof(wc[j]));
		memcpy(wv[j], val[key], sizeof(wv[j]));
	}
	assert_int_equal(core_api.store_batch_run(b), 1);
	for (int j = 0; j < WB_OPS; j++) {
		int key = (j * 7 + j / 23) % WB_KEYS;

		if (want[j] < 0)
			continue;
		assert_int_equal(core_api.store_result(b, idx[j], &v, &vl), want[j]);
		if (!want[j])
			continue;
		if (key % 2) {
			assert_int_equal(core_api.store_counter(v, vl, 0), wc[j][0]);
			assert_int_equal(core_api.store_counter(v, vl, 1), wc[j][1]);
		} else {
			assert_int_equal(vl, strlen(wv[j]));
			assert_memory_equal(v, wv[j], vl);
		}
	}
	core_api.store_batch_free(b);
}

static void
test_counters(void **state)
{
	mm_store *a = open_db("counters");
	const int64_t d1[2] = { 3, 1 }, d2[2] = { -5, 1 }, d3[3] = { 0, -2, 7 },
	    d4[3] = { 0, 0, -7 };
	mm_store_batch *b;
	const void *v;
	size_t vl;
	int i;

	(void)state;
	b = batch(a);
	i = core_api.store_batch_add(b, "c", 1, d1, 2, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 1);
	assert_int_equal(vl, 16);
	assert_int_equal(core_api.store_counter(v, vl, 0), 3);
	assert_int_equal(core_api.store_counter(v, vl, 1), 1);
	assert_int_equal(core_api.store_counter(v, vl, 5), 0);
	core_api.store_batch_free(b);
	/* never below zero */
	b = batch(a);
	i = core_api.store_batch_add(b, "c", 1, d2, 2, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 1);
	assert_int_equal(core_api.store_counter(v, vl, 0), 0);
	assert_int_equal(core_api.store_counter(v, vl, 1), 2);
	core_api.store_batch_free(b);
	/* a longer delta grows the record */
	b = batch(a);
	i = core_api.store_batch_add(b, "c", 1, d3, 3, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 1);
	assert_int_equal(vl, 24);
	assert_int_equal(core_api.store_counter(v, vl, 1), 0);
	assert_int_equal(core_api.store_counter(v, vl, 2), 7);
	core_api.store_batch_free(b);
	/* all zero: gone */
	b = batch(a);
	i = core_api.store_batch_add(b, "c", 1, d4, 3, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 0);
	core_api.store_batch_free(b);
	b = batch(a);
	i = core_api.store_batch_get(b, "c", 1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 0);
	core_api.store_batch_free(b);
}

static void
test_expect(void **state)
{
	mm_store *a = open_db("expect");
	mm_store_batch *b;
	void *v;
	size_t vl;
	const int64_t one[1] = { 1 };

	(void)state;
	/* absent: runs */
	b = batch(a);
	core_api.store_batch_expect(b, "sig", 3, NULL, 0);
	core_api.store_batch_put(b, "sig", 3, "A", 1, 0);
	core_api.store_batch_add(b, "n", 1, one, 1, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	/* the same again: the expectation fails, nothing is written */
	b = batch(a);
	core_api.store_batch_add(b, "n", 1, one, 1, 0, -1);
	core_api.store_batch_put(b, "sig", 3, "B", 1, 0);
	core_api.store_batch_expect(b, "sig", 3, NULL, 0);
	assert_int_equal(core_api.store_batch_run(b), 0);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_get(a, "sig", 3, &v, &vl), 1);
	assert_memory_equal(v, "A", 1);
	core_api.free(v);
	assert_int_equal(core_api.store_get(a, "n", 1, &v, &vl), 1);
	assert_int_equal(core_api.store_counter(v, vl, 0), 1);
	core_api.free(v);
	/* a value: compare and swap */
	b = batch(a);
	core_api.store_batch_expect(b, "sig", 3, "A", 1);
	core_api.store_batch_put(b, "sig", 3, "C", 1, 0);
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	b = batch(a);
	core_api.store_batch_expect(b, "sig", 3, "A", 1);
	core_api.store_batch_put(b, "sig", 3, "D", 1, 0);
	assert_int_equal(core_api.store_batch_run(b), 0);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_get(a, "sig", 3, &v, &vl), 1);
	assert_memory_equal(v, "C", 1);
	core_api.free(v);
}

struct seen {
	int n, deleted;
	char keys[16][16];
	double exp[16];
};

static int
collect(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    double expires)
{
	struct seen *s = arg;
	(void)v;
	(void)vl;
	if (s->n < 16 && kl < 16) {
		memcpy(s->keys[s->n], k, kl);
		s->keys[s->n][kl] = 0;
		s->exp[s->n] = expires;
	}
	s->n++;
	if (kl >= 4 && memcmp(k, "p:b", 3) == 0 && s->deleted >= 0) {
		s->deleted++;
		return MM_SCAN_DELETE;
	}
	return MM_SCAN_NEXT;
}

static int
stop_at_first(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    double expires)
{
	(void)k; (void)kl; (void)v; (void)vl; (void)expires;
	(*(int *)arg)++;
	return MM_SCAN_STOP;
}

static int
has(const struct seen *s, const char *k)
{
	for (int i = 0; i < s->n && i < 16; i++)
		if (strcmp(s->keys[i], k) == 0)
			return 1;
	return 0;
}

static void
test_scan(void **state)
{
	mm_store *a = open_db("scan");
	struct seen s;
	int n = 0;
	double now = (double)time(NULL);

	(void)state;
	assert_int_equal(core_api.store_put(a, "p:a1", 4, "1", 1, 0), 0);
	assert_int_equal(core_api.store_put(a, "p:a2", 4, "2", 1, 3600), 0);
	assert_int_equal(core_api.store_put(a, "p:b1", 4, "3", 1, 0), 0);
	assert_int_equal(core_api.store_put(a, "p*b2", 4, "4", 1, 0), 0);
	assert_int_equal(core_api.store_put(a, "q:a1", 4, "5", 1, 0), 0);
	assert_int_equal(core_api.store_put(a, "p:gone", 6, "6", 1, 1), 0);
	sleep(2);
	memset(&s, 0, sizeof(s));
	s.deleted = -1;		/* only look */
	assert_int_equal(core_api.store_scan(a, "p:", 2, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(has(&s, "p:a1") && has(&s, "p:a2") && has(&s, "p:b1"));
	for (int i = 0; i < 3; i++)
		if (strcmp(s.keys[i], "p:a2") == 0)
			assert_true(s.exp[i] > now + 3000 && s.exp[i] < now + 3700);
		else
			assert_true(s.exp[i] == 0);
	/* a glob character in the prefix is taken literally */
	memset(&s, 0, sizeof(s));
	s.deleted = -1;
	assert_int_equal(core_api.store_scan(a, "p*", 2, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(has(&s, "p*b2"));
	/* delete while scanning */
	memset(&s, 0, sizeof(s));
	assert_int_equal(core_api.store_scan(a, "p:", 2, collect, &s), 0);
	assert_int_equal(s.deleted, 1);
	memset(&s, 0, sizeof(s));
	s.deleted = -1;
	assert_int_equal(core_api.store_scan(a, NULL, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_false(has(&s, "p:b1"));
	/* stop */
	assert_int_equal(core_api.store_scan(a, NULL, 0, stop_at_first, &n), 0);
	assert_int_equal(n, 1);
	/* expired entries go (LMDB keeps them until now; Redis already did) */
	assert_int_equal(core_api.store_expire(a), c.backend == STORE_LMDB ? 1 : 0);
	assert_int_equal(core_api.store_expire(a), 0);
}

/* the daemon's periodic sweep: every LMDB database this process opened
   loses its expired records (Redis expires keys itself) */
static void
test_sweep(void **state)
{
	mm_store *a = open_db("sweep1"), *b = open_db("sweep2");
	long n;

	(void)state;
	assert_int_equal(core_api.store_put(a, "old", 3, "1", 1, 1), 0);
	assert_int_equal(core_api.store_put(b, "old", 3, "1", 1, 1), 0);
	assert_int_equal(core_api.store_put(b, "new", 3, "2", 1, 0), 0);
	sleep(2);
	n = store_sweep();
	if (c.backend == STORE_LMDB)
		assert_true(n >= 2);
	else
		assert_true(n >= 0);
	/* nothing expired is left to remove, the live record stays */
	assert_int_equal(core_api.store_expire(a), 0);
	assert_int_equal(core_api.store_expire(b), 0);
	void *v;
	size_t vl;
	assert_int_equal(core_api.store_get(b, "new", 3, &v, &vl), 1);
	core_api.free(v);
}

/* counters saturate at 2^53; ttl_limit: only small records expire;
   keys up to 511 bytes */
static int
expiry_of(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    double expires)
{
	(void)k; (void)kl; (void)v; (void)vl;
	*(double *)arg = expires;
	return MM_SCAN_NEXT;
}

static void
test_limits(void **state)
{
	mm_store *a = open_db("limits");
	const int64_t big[1] = { INT64_MAX }, one[1] = { 1 }, five[1] = { 5 },
	    down[1] = { -6 };
	mm_store_batch *b;
	const void *v;
	size_t vl;
	double exp = -1, now = (double)time(NULL);
	char key[600];
	int i;

	(void)state;
	b = batch(a);
	i = core_api.store_batch_add(b, "big", 3, big, 1, 0, -1);
	core_api.store_batch_add(b, "big", 3, big, 1, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), 1);
	assert_int_equal(core_api.store_result(b, i, &v, &vl), 1);
	assert_int_equal(core_api.store_counter(v, vl, 0), 1LL << 53);
	core_api.store_batch_free(b);
	/* rare: expires; busy (sum 6 > 2): kept; rare again: expires */
	b = batch(a);
	core_api.store_batch_add(b, "tok", 3, one, 1, 3600, 2);
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_scan(a, "tok", 3, expiry_of, &exp), 0);
	assert_true(exp > now + 3500 && exp < now + 3700);
	b = batch(a);
	core_api.store_batch_add(b, "tok", 3, five, 1, 3600, 2);
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_scan(a, "tok", 3, expiry_of, &exp), 0);
	assert_true(exp == 0);
	b = batch(a);
	core_api.store_batch_add(b, "tok", 3, down, 1, 3600, 2);	/* 6 - 6: gone */
	core_api.store_batch_add(b, "tok", 3, one, 1, 3600, 2);
	assert_int_equal(core_api.store_batch_run(b), 1);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_scan(a, "tok", 3, expiry_of, &exp), 0);
	assert_true(exp > now + 3500);
	/* keys */
	memset(key, 'k', sizeof(key));
	assert_int_equal(core_api.store_put(a, key, 511, "x", 1, 0), 0);
	assert_int_equal(core_api.store_put(a, key, 512, "x", 1, 0), -1);
	/* an absurd TTL is capped, not wrapped */
	assert_int_equal(core_api.store_put(a, "far", 3, "x", 1, 1e300), 0);
	void *pv;
	assert_int_equal(core_api.store_get(a, "far", 3, &pv, &vl), 1);
	core_api.free(pv);
}

/* an entry written while the scan that marked it for deletion ran is kept */
static mm_store *racing;

static void *
rewrite(void *arg)
{
	(void)arg;
	return (void *)(long)core_api.store_put(racing, "k", 1, "new", 3, 0);
}

static int
delete_but_rewrite(void *arg, const void *k, size_t kl, const void *v,
    size_t vl, double expires)
{
	pthread_t t;
	void *r;

	(void)arg; (void)k; (void)kl; (void)v; (void)vl; (void)expires;
	if (pthread_create(&t, NULL, rewrite, NULL) != 0)
		return MM_SCAN_STOP;
	pthread_join(t, &r);
	return MM_SCAN_DELETE;
}

static int
collect_delete_all(void *arg, const void *k, size_t kl, const void *v,
    size_t vl, double expires)
{
	(void)arg; (void)k; (void)kl; (void)v; (void)vl; (void)expires;
	return MM_SCAN_DELETE;
}

static void
test_scan_delete_changed(void **state)
{
	void *v;
	size_t vl;

	(void)state;
	racing = open_db("racing");
	assert_int_equal(core_api.store_put(racing, "k", 1, "old", 3, 0), 0);
	assert_int_equal(core_api.store_scan(racing, "k", 1, delete_but_rewrite, NULL), 0);
	assert_int_equal(core_api.store_get(racing, "k", 1, &v, &vl), 1);
	assert_memory_equal(v, "new", 3);
	core_api.free(v);
	/* unchanged: deleted */
	assert_int_equal(core_api.store_scan(racing, "k", 1, collect_delete_all, NULL), 0);
	assert_int_equal(core_api.store_get(racing, "k", 1, &v, &vl), 0);
}

#define ADDERS 4
#define ADDS 150
#define NCOUNTERS 10

static void *
adder(void *arg)
{
	mm_store *a = open_db("adders");
	const int64_t d[2] = { 1, 2 };

	(void)arg;
	for (int i = 0; i < ADDS; i++) {
		mm_store_batch *b = core_api.store_batch(a);
		for (int k = 0; k < NCOUNTERS; k++) {
			char key[8];
			snprintf(key, sizeof(key), "k%d", k);
			core_api.store_batch_add(b, key, strlen(key), d, 2, 0, -1);
		}
		int r = core_api.store_batch_run(b);
		core_api.store_batch_free(b);
		if (r != 1)
			return (void *)1;
	}
	return NULL;
}

static void
test_counters_threads(void **state)
{
	pthread_t t[ADDERS];
	mm_store *a = open_db("adders");

	(void)state;
	for (long i = 0; i < ADDERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, (void *)i), 0);
	for (int i = 0; i < ADDERS; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	for (int k = 0; k < NCOUNTERS; k++) {
		char key[8];
		void *v;
		size_t vl;
		snprintf(key, sizeof(key), "k%d", k);
		assert_int_equal(core_api.store_get(a, key, strlen(key), &v, &vl), 1);
		assert_int_equal(core_api.store_counter(v, vl, 0), ADDERS * ADDS);
		assert_int_equal(core_api.store_counter(v, vl, 1), 2 * ADDERS * ADDS);
		core_api.free(v);
	}
}

static void
test_uri(void **state)
{
	struct store_cfg u;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_cfg_from_uri("redis://:s3cret@mx.example:6380/2", &u, &err), 0);
	assert_int_equal(u.backend, STORE_REDIS);
	assert_string_equal(u.host, "mx.example");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.database, 2);
	assert_string_equal(u.password, "s3cret");
	store_cfg_free(&u);
	assert_int_equal(store_cfg_from_uri("redis:///run/redis/redis.sock", &u, &err), 0);
	assert_string_equal(u.socket, "/run/redis/redis.sock");
	store_cfg_free(&u);
	assert_int_equal(store_cfg_from_uri("lmdb:/var/x", &u, &err), 0);
	assert_int_equal(u.backend, STORE_LMDB);
	assert_string_equal(u.path, "/var/x");
	store_cfg_free(&u);
	assert_int_equal(store_cfg_from_uri("redis://h:99999", &u, &err), -1);
	assert_non_null(strstr(err, "port"));
	free(err);
	store_cfg_free(&u);
}

static void
test_unusable_path(void **state)
{
	struct store_cfg bad;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_cfg_from_uri("/proc/modmilter-no-such/store", &bad, &err), 0);
	bad.map_size = 1 << 20;
	assert_null(store_open(&bad, "x", &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/proc/modmilter-no-such/store"));
	free(err);
	err = NULL;
	/* a name that cannot be a database */
	assert_null(store_open(&c, "a:b", &err));
	assert_non_null(err);
	free(err);
	store_cfg_free(&bad);
}

static void
redis_cli(const char *args)
{
	char *cmd = xasprintf("redis-cli -s %s %s >/dev/null 2>&1", redis_sock, args);
	if (system(cmd) != 0)
		fail_msg("redis-cli %s failed", args);
	free(cmd);
}

/* a key of another type under our prefix: refused before any write */
static void
test_redis_wrongtype(void **state)
{
	mm_store *a = open_db("wt");
	mm_store_batch *b = batch(a);
	const int64_t one[1] = { 1 };
	char *args = xasprintf("RPUSH %swt:lst x", c.prefix);
	void *v;
	size_t vl;

	(void)state;
	redis_cli(args);
	free(args);
	core_api.store_batch_put(b, "first", 5, "x", 1, 0);
	core_api.store_batch_add(b, "lst", 3, one, 1, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), -1);
	core_api.store_batch_free(b);
	assert_int_equal(core_api.store_get(a, "first", 5, &v, &vl), 0);
}

/* a batch that timed out is not sent again: it runs at most once */
static void
test_redis_timeout_once(void **state)
{
	mm_store *a = open_db("slow");
	mm_store_batch *b = batch(a);
	const int64_t one[1] = { 1 };
	char *cmd = xasprintf("redis-cli -s %s DEBUG SLEEP 3 >/dev/null 2>&1 &",
	    redis_sock);
	/* the server is asleep once a PING goes unanswered (a fixed wait
	   raced with a loaded machine starting redis-cli) */
	char *busy = xasprintf("for i in $(seq 100); do timeout 0.2 redis-cli "
	    "-s %s PING >/dev/null 2>&1 || exit 0; sleep 0.02; done; exit 1",
	    redis_sock);
	void *v;
	size_t vl;

	(void)state;
	assert_int_equal(system(cmd), 0);
	assert_int_equal(system(busy), 0);
	free(cmd);
	free(busy);
	core_api.store_batch_add(b, "n", 1, one, 1, 0, -1);
	assert_int_equal(core_api.store_batch_run(b), -1);	/* timeout 0.5 s */
	core_api.store_batch_free(b);
	sleep(4);
	assert_int_equal(core_api.store_get(a, "n", 1, &v, &vl), 1);
	assert_int_equal(core_api.store_counter(v, vl, 0), 1);
	core_api.free(v);
}

static void
test_redis_outage(void **state)
{
	mm_store *a = open_db("outage");
	void *v;
	size_t vl;
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(core_api.store_put(a, "k", 1, "x", 1, 0), 0);
	redis_stop();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(core_api.store_get(a, "k", 1, &v, &vl), -1);
	assert_int_equal(core_api.store_put(a, "k", 1, "y", 1, 0), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_int_equal(redis_start(), 0);
	/* the server came back empty (no persistence): a fresh write works */
	assert_int_equal(core_api.store_put(a, "k", 1, "z", 1, 0), 0);
	assert_int_equal(core_api.store_get(a, "k", 1, &v, &vl), 1);
	assert_memory_equal(v, "z", 1);
	core_api.free(v);
}

int
main(void)
{
	const struct CMUnitTest common[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_read_batch),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_write_batch_order),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_counters_threads),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_scan_delete_changed),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_unusable_path),
	};
	const struct CMUnitTest redis_only[] = {
		cmocka_unit_test(test_redis_wrongtype),
		cmocka_unit_test(test_redis_timeout_once),
		cmocka_unit_test(test_redis_outage),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);	/* as modmilterd: a dead server is an error */
	log_open(LOG_DEST_STDERR, MM_LOG_ERR, "test_store");
	rc = cmocka_run_group_tests_name("lmdb", common, setup_lmdb, teardown);
#ifdef HAVE_HIREDIS
	if (system("command -v redis-server >/dev/null 2>&1") == 0) {
		rc |= cmocka_run_group_tests_name("redis", common, setup_redis, NULL);
		rc |= cmocka_run_group_tests_name("redis outage", redis_only, NULL, teardown);
	} else {
		printf("SKIP: redis-server is not installed; the Redis backend is not tested\n");
	}
#endif
	return rc;
}
