/*
 * NAME
 *	test_msgsource - unit tests of modmilter-dspam's message sources
 *	and Message-ID deduplication
 * DESCRIPTION
 *	The exact bytes of each message of an mbox (separators, the empty
 *	line a writer adds, mboxrd ">From " quoting undone, a "From " in
 *	running text kept, CRLF lines), the FILE:LINE names, a plain file
 *	taken whole, a Maildir read cur/ then new/ in name order without
 *	tmp/ and dot files, a directory of Maildirs, an unreadable name
 *	reported and skipped, a walk stopped by its caller; Message-IDs compared inside their brackets,
 *	folded, and absent (never a duplicate), and only in the header.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dedup.h"
#include "msgsource.h"

static char dir[] = "/tmp/test_msgsource.XXXXXX";

/* what a walk gave: "NAME\n<bytes>\n--\n" per message, "!NAME\n" per error */
static char got[8192];

static int
on_message(void *arg, const char *name, const unsigned char *msg, size_t len)
{
	size_t n = strlen(got);

	(void)arg;
	snprintf(got + n, sizeof(got) - n, "%s\n%.*s--\n", name, (int)len,
	    (const char *)msg);
	return 0;
}

static void
on_error(void *arg, const char *name, const char *why)
{
	size_t n = strlen(got);

	(void)arg;
	(void)why;
	snprintf(got + n, sizeof(got) - n, "!%s\n", name);
}

static const struct msgsource_cb cb = { on_message, on_error, NULL };

static char *
put(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static char *
sub(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
test_mbox(void **state)
{
	char want[2048], *p;

	(void)state;
	p = put("box", "From a@example.org Mon Jan  2 10:00:00 2023\n"
	    "Subject: one\n\nbody\n>From quoted\n>>From twice\n"
	    "text\nFrom in running text\n\n"
	    "From b@example.org Mon Jan  2 10:01:00 2023\n"
	    "Subject: two\n\n\n"
	    "From c@example.org Mon Jan  2 10:02:00 2023\n"
	    "Subject: three\n\nlast, no newline");
	got[0] = '\0';
	assert_int_equal(msgsource_walk(p, &cb), 0);
	snprintf(want, sizeof(want),
	    "%s:1\nSubject: one\n\nbody\nFrom quoted\n>From twice\ntext\n"
	    "From in running text\n--\n"
	    "%s:10\nSubject: two\n\n--\n"
	    "%s:14\nSubject: three\n\nlast, no newline--\n", p, p, p);
	assert_string_equal(got, want);
}

static void
test_mbox_crlf(void **state)
{
	char want[1024], *p;

	(void)state;
	p = put("crlf", "From a Mon Jan  2 10:00:00 2023\r\nSubject: one\r\n\r\n"
	    "x\r\n\r\nFrom b Mon Jan  2 10:00:00 2023\r\nSubject: two\r\n\r\n");
	got[0] = '\0';
	assert_int_equal(msgsource_walk(p, &cb), 0);
	snprintf(want, sizeof(want), "%s:1\nSubject: one\r\n\r\nx\r\n--\n"
	    "%s:6\nSubject: two\r\n--\n", p, p);
	assert_string_equal(got, want);
}

static void
test_plain_file(void **state)
{
	char want[512], *p;

	(void)state;
	p = put("one.eml", "From: a@example.org\n\nFrom here\n\nFrom there\n");
	got[0] = '\0';
	assert_int_equal(msgsource_walk(p, &cb), 0);
	snprintf(want, sizeof(want), "%s\nFrom: a@example.org\n\nFrom here\n\n"
	    "From there\n--\n", p);
	assert_string_equal(got, want);
}

static void
test_maildir(void **state)
{
	char want[2048], md[512];

	(void)state;
	assert_int_equal(mkdir(sub("mail"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md/cur"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md/new"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md/tmp"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md/.Junk"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/md/.Junk/cur"), 0700), 0);
	assert_int_equal(mkdir(sub("mail/other"), 0700), 0);
	put("mail/md/cur/2:2,S", "B\n");
	put("mail/md/cur/1:2,", "A\n");
	put("mail/md/new/3", "From x Mon Jan  2 10:00:00 2023\nC\n");	/* not an mbox here */
	put("mail/md/tmp/4", "T\n");
	put("mail/md/cur/.seen", "D\n");
	put("mail/md/.Junk/cur/5", "J\n");
	snprintf(md, sizeof(md), "%s", sub("mail/md"));
	got[0] = '\0';
	assert_int_equal(msgsource_walk(md, &cb), 0);
	snprintf(want, sizeof(want), "%s/cur/1:2,\nA\n--\n%s/cur/2:2,S\nB\n--\n"
	    "%s/new/3\nFrom x Mon Jan  2 10:00:00 2023\nC\n--\n", md, md, md);
	assert_string_equal(got, want);

	/* the directory above: its Maildirs, "other" is not one */
	got[0] = '\0';
	assert_int_equal(msgsource_walk(sub("mail"), &cb), 0);
	assert_non_null(strstr(got, "/mail/md/cur/1:2,\nA\n"));
	assert_null(strstr(got, "J\n"));
	assert_null(strchr(got, '!'));
}

static void
test_unreadable(void **state)
{
	char want[1024], *p;

	(void)state;
	got[0] = '\0';
	assert_int_equal(msgsource_walk(sub("nonexistent"), &cb), 0);
	snprintf(want, sizeof(want), "!%s\n", sub("nonexistent"));
	assert_string_equal(got, want);
	p = put("empty", "");
	got[0] = '\0';
	assert_int_equal(msgsource_walk(p, &cb), 0);
	snprintf(want, sizeof(want), "%s\n--\n", p);
	assert_string_equal(got, want);
}

static int
stop(void *arg, const char *name, const unsigned char *msg, size_t len)
{
	(*(int *)arg)++;
	(void)name;
	(void)msg;
	(void)len;
	return -1;
}

static void
test_stop(void **state)
{
	int n = 0;
	struct msgsource_cb s = { stop, on_error, &n };

	(void)state;
	put("two", "From a Mon Jan  2 10:00:00 2023\nx\n\n"
	    "From b Mon Jan  2 10:00:00 2023\ny\n");
	assert_int_equal(msgsource_walk(sub("two"), &s), -1);
	assert_int_equal(n, 1);
}

#define SEEN(d, s) dedup_seen(d, (const unsigned char *)(s), strlen(s))

static void
test_dedup(void **state)
{
	struct dedup *d = dedup_new();
	char m[128];
	int i;

	(void)state;
	assert_int_equal(SEEN(d, "Message-ID: <a@x>\n\nbody\n"), 0);
	assert_int_equal(SEEN(d, "Subject: s\nmessage-id:   <a@x> (copy)\n\n"), 1);
	assert_int_equal(SEEN(d, "Message-ID:\n\t<a@x>\n\n"), 1);	/* folded */
	assert_int_equal(SEEN(d, "Message-ID: <A@x>\n\n"), 0);	/* exact */
	assert_int_equal(SEEN(d, "Message-Id: b@x\r\n\r\n"), 0);	/* no brackets */
	assert_int_equal(SEEN(d, "Message-Id:  b@x \r\n\r\n"), 1);
	/* no Message-ID: never a duplicate, nor one in the body */
	assert_int_equal(SEEN(d, "Subject: s\n\nbody\n"), 0);
	assert_int_equal(SEEN(d, "Subject: s\n\nbody\n"), 0);
	assert_int_equal(SEEN(d, "Subject: s\n\nMessage-ID: <c@x>\n"), 0);
	assert_int_equal(SEEN(d, "Subject: s\n\nMessage-ID: <c@x>\n"), 0);
	assert_int_equal(SEEN(d, "Message-ID: <>\n\n"), 0);
	assert_int_equal(SEEN(d, "Message-ID: <>\n\n"), 0);
	/* the set grows */
	for (i = 0; i < 5000; i++) {
		snprintf(m, sizeof(m), "Message-ID: <%d@many>\n\n", i);
		assert_int_equal(SEEN(d, m), 0);
	}
	for (i = 0; i < 5000; i += 7) {
		snprintf(m, sizeof(m), "Message-ID: <%d@many>\n\n", i);
		assert_int_equal(SEEN(d, m), 1);
	}
	dedup_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbox),
		cmocka_unit_test(test_mbox_crlf),
		cmocka_unit_test(test_plain_file),
		cmocka_unit_test(test_maildir),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_dedup),
	};
	char cmd[600];
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		r = r ? r : 1;
	return r;
}
