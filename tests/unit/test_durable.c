#include "config.h"
/*
 * NAME
 *	test_durable - files that appear whole or not at all
 * DESCRIPTION
 *	Proves, in a fresh directory, that mm_durable_*() write a file
 *	under its temporary name (mode as asked, less the umask; small
 *	pieces buffered, a piece larger than the buffer written through,
 *	in order) and give it its final name only on commit, by rename(2)
 *	or by link(2) (MM_DURABLE_LINK, which refuses to replace an
 *	existing name and leaves the file complete under its temporary
 *	name); that create refuses an existing name ("create", EEXIST);
 *	that withdraw removes the temporary file in any state before the
 *	commit and nothing after it; that out-of-order calls fail; and
 *	mm_write_all() and mm_fsync_dir().
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <modmilter/durable.h>

static char dir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/unit/durable.XXXXXX", BUILDDIR);
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
path(const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* The file's bytes, or NULL when it is missing. */
static char *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *d;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	d = malloc((size_t)n + 1);
	*len = fread(d, 1, (size_t)n, f);
	d[*len] = 0;
	fclose(f);
	return d;
}

static void
test_write_rename(void **state)
{
	struct mm_durable f;
	size_t big = 200000, len;
	char *data = malloc(big), *got;
	struct stat st;

	(void)state;
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	umask(022);
	assert_int_equal(mm_durable_create(&f, path(".a.tmp"), 0640), 0);
	assert_int_equal(mm_durable_write(&f, "head:", 5), 0);
	assert_int_equal(mm_durable_write(&f, data, big), 0);
	assert_int_equal(mm_durable_write(&f, ":tail", 5), 0);
	assert_int_equal(mm_durable_finish(&f), 0);
	assert_int_equal(f.state, MM_DURABLE_READY);
	/* complete under the temporary name, nothing under the final one */
	assert_null(slurp(path("a.eml"), &len));
	got = slurp(path(".a.tmp"), &len);
	assert_non_null(got);
	assert_int_equal(len, big + 10);
	free(got);
	assert_int_equal(mm_durable_commit(&f, path("a.eml"), 0), 0);
	assert_int_equal(f.state, MM_DURABLE_DONE);
	mm_durable_withdraw(&f);	/* committed: stays */
	assert_null(slurp(path(".a.tmp"), &len));
	got = slurp(path("a.eml"), &len);
	assert_non_null(got);
	assert_int_equal(len, big + 10);
	assert_memory_equal(got, "head:", 5);
	assert_memory_equal(got + 5, data, big);
	assert_memory_equal(got + 5 + big, ":tail", 5);
	free(got);
	assert_int_equal(stat(path("a.eml"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	free(data);
}

static void
test_link_refuses_existing(void **state)
{
	struct mm_durable f;
	size_t len;
	char *got;

	(void)state;
	assert_int_equal(mm_durable_create(&f, path(".b.tmp"), 0600), 0);
	assert_int_equal(mm_durable_write(&f, "one", 3), 0);
	assert_int_equal(mm_durable_finish(&f), 0);
	assert_int_equal(mm_durable_commit(&f, path("b"), MM_DURABLE_LINK), 0);
	mm_durable_release(&f);
	assert_null(slurp(path(".b.tmp"), &len));

	assert_int_equal(mm_durable_create(&f, path(".b2.tmp"), 0600), 0);
	assert_int_equal(mm_durable_write(&f, "two", 3), 0);
	assert_int_equal(mm_durable_finish(&f), 0);
	assert_int_equal(mm_durable_commit(&f, path("b"), MM_DURABLE_LINK), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(f.step, "link");
	assert_string_equal(f.step_path, path("b"));
	assert_false(f.committed);
	got = slurp(path("b"), &len);
	assert_string_equal(got, "one");
	free(got);
	got = slurp(path(".b2.tmp"), &len);
	assert_string_equal(got, "two");
	free(got);
	mm_durable_withdraw(&f);
	assert_null(slurp(path(".b2.tmp"), &len));
}

static void
test_create_and_withdraw(void **state)
{
	struct mm_durable f, g;
	size_t len;

	(void)state;
	assert_int_equal(mm_durable_create(&f, path(".c.tmp"), 0600), 0);
	assert_int_equal(mm_durable_create(&g, path(".c.tmp"), 0600), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(g.step, "create");
	assert_string_equal(g.step_path, path(".c.tmp"));
	mm_durable_withdraw(&g);	/* harmless on a failed create */
	assert_int_equal(mm_durable_write(&f, "x", 1), 0);
	mm_durable_withdraw(&f);	/* while writing */
	assert_null(slurp(path(".c.tmp"), &len));
	assert_int_equal(mm_durable_write(&f, "x", 1), -1);
	assert_int_equal(mm_durable_finish(&f), -1);

	assert_int_equal(mm_durable_create(&f, path(".d.tmp"), 0600), 0);
	assert_int_equal(mm_durable_commit(&f, path("d"), 0), -1);	/* not finished */
	assert_int_equal(mm_durable_finish(&f), 0);
	mm_durable_withdraw(&f);	/* complete, not committed */
	assert_null(slurp(path(".d.tmp"), &len));
	assert_null(slurp(path("d"), &len));

	assert_int_equal(mm_durable_create(&f, path("missing/.e.tmp"), 0600), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(f.state, MM_DURABLE_NONE);
}

static void
test_write_all_fsync_dir(void **state)
{
	int fds[2];
	char buf[8];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(mm_write_all(fds[1], "hello", 5), 0);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	close(fds[0]);
	assert_int_equal(mm_write_all(-1, "x", 1), -1);
	close(fds[1]);
	assert_int_equal(mm_fsync_dir(dir), 0);
	assert_int_equal(mm_fsync_dir(path("nothing-here")), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_rename),
		cmocka_unit_test(test_link_refuses_existing),
		cmocka_unit_test(test_create_and_withdraw),
		cmocka_unit_test(test_write_all_fsync_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
