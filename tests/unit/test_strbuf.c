#include "config.h"
/*
 * NAME
 *	test_strbuf - growable strings and aborting allocation of the
 *	helper library
 * DESCRIPTION
 *	Proves that struct mm_buf appends bytes (NUL bytes included) and
 *	keeps a NUL after them across growth, printf included; that
 *	mm_buf_str() gives "" for an empty buffer; that a soft buffer that
 *	cannot grow sets oom, keeps what it had, ignores later additions
 *	and makes mm_buf_str() NULL, while a zeroed buffer aborts; that
 *	mm_buf_reset() and mm_buf_free() empty it; and the mm_x*
 *	allocators (a size of 0 still gives memory).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

static void
test_append(void **state)
{
	struct mm_buf b = MM_BUF_INIT;
	char big[1000];

	(void)state;
	assert_string_equal(mm_buf_str(&b), "");
	mm_buf_adds(&b, "ab");
	mm_buf_add(&b, "\0c", 2);
	mm_buf_addc(&b, 'd');
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "ab\0cd", 6);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 10; i++)
		mm_buf_add(&b, big, sizeof(big));
	assert_int_equal(b.len, 10005);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], 0);
	mm_buf_printf(&b, "[%d %s]", 42, "y");
	assert_string_equal(b.data + 10005, "[42 y]");
	mm_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(mm_buf_str(&b), "");
	mm_buf_add(&b, "", 0);
	assert_non_null(b.data);
	mm_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	mm_buf_free(&b);
}

static void
test_soft_oom(void **state)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;

	(void)state;
	mm_buf_adds(&b, "kept");
	/* more than any address space: refused without allocating */
	mm_buf_add(&b, "x", SIZE_MAX);
	assert_true(b.oom);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	mm_buf_adds(&b, "ignored");
	mm_buf_printf(&b, "%s", "ignored");
	assert_int_equal(b.len, 4);
	assert_null(mm_buf_str(&b));
	mm_buf_reset(&b);
	assert_false(b.oom);
	assert_true(b.soft);
	mm_buf_adds(&b, "again");
	assert_string_equal(mm_buf_str(&b), "again");
	mm_buf_free(&b);
	assert_true(b.soft);
}

static void
test_hard_oom_aborts(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	if ((pid = fork()) == 0) {
		struct mm_buf b = { 0 };
		close(STDERR_FILENO);
		mm_buf_add(&b, "x", SIZE_MAX);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void
test_alloc(void **state)
{
	char *s, *p;
	int *v;

	(void)state;
	p = mm_xmalloc(0);
	assert_non_null(p);
	p = mm_xrealloc(p, 10);
	memcpy(p, "123456789", 10);
	free(p);
	v = mm_xcalloc(4, sizeof(*v));
	assert_int_equal(v[3], 0);
	free(v);
	s = mm_xstrdup("abc");
	assert_string_equal(s, "abc");
	free(s);
	s = mm_xstrndup("abcdef", 2);
	assert_string_equal(s, "ab");
	free(s);
	s = mm_xasprintf("%s-%03d", "n", 7);
	assert_string_equal(s, "n-007");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_soft_oom),
		cmocka_unit_test(test_hard_oom_aborts),
		cmocka_unit_test(test_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
