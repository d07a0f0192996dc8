#include "config.h"
/*
 * NAME
 *	test_connpark - what a reused milter connection keeps between SMTP connections
 * DESCRIPTION
 *	Proves connpark.c: what is put under a key is taken back once (then
 *	the key is empty), putting again under a key drops what was there,
 *	connpark_drop() drops, keys do not mix, and however many keys are
 *	left behind (milter connections whose last close looked like a
 *	QUIT_NC one) at most 256 x 64 entries stay, the oldest dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "connpark.h"

static int dropped;

static void
count_drop(void *p)
{
	free(p);
	dropped++;
}

static int *
val(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static void
test_put_take(void **state)
{
	int k1, k2, *p;

	(void)state;
	dropped = 0;
	connpark_put(&k1, val(1), count_drop);
	connpark_put(&k2, val(2), count_drop);
	p = connpark_take(&k1);
	assert_non_null(p);
	assert_int_equal(*p, 1);
	free(p);
	assert_null(connpark_take(&k1));
	connpark_put(&k2, val(3), count_drop);	/* replaces 2 */
	assert_int_equal(dropped, 1);
	p = connpark_take(&k2);
	assert_int_equal(*p, 3);
	free(p);
	connpark_put(&k1, val(4), count_drop);
	connpark_drop(&k1);
	connpark_drop(&k1);			/* nothing left: no-op */
	assert_int_equal(dropped, 2);
	assert_null(connpark_take(&k1));
	assert_null(connpark_take(&k2));
}

static void
test_bounded(void **state)
{
	enum { N = 40000 };
	char *keys = malloc(N);
	int kept = 0;

	(void)state;
	assert_non_null(keys);
	dropped = 0;
	for (int i = 0; i < N; i++)
		connpark_put(keys + i, val(i), count_drop);
	assert_true(dropped >= N - 256 * 64);
	/* the newest is always kept */
	for (int i = N - 1; i >= 0; i--) {
		int *p = connpark_take(keys + i);
		if (i == N - 1)
			assert_non_null(p);
		if (p) {
			assert_int_equal(*p, i);
			free(p);
			kept++;
		}
	}
	assert_int_equal(kept + dropped, N);
	free(keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_take),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
