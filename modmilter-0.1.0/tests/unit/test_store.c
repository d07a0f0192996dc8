#include "config.h"
/*
 * NAME
 *	test_store - the key-value store plugins share, on LMDB
 * DESCRIPTION
 *	Through the same API table plugins use: put, get, overwrite and
 *	delete in named databases that do not see each other's keys; a value
 *	past its TTL reads as absent; binary keys and values survive; many
 *	threads write and read at once without losing a write; a store that
 *	cannot be created is an error, not a crash.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "session.h"
#include "store.h"

static struct conf c;
static char dir[] = "/tmp/modmilter-store-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	c.store_path = xasprintf("%s/db", dir);
	c.store_map_size = 64 << 20;
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);
	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(c.store_path);
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
test_unusable_path(void **state)
{
	struct conf bad;
	char *err = NULL;

	(void)state;
	memset(&bad, 0, sizeof(bad));
	bad.store_path = "/proc/modmilter-no-such/store";
	bad.store_map_size = 1 << 20;
	assert_null(store_open(&bad, "x", &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/proc/modmilter-no-such/store"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_unusable_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
