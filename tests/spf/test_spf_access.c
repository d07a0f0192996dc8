/*
 * NAME
 *	test_spf_access - unit tests of the spf plugin's access_file
 * DESCRIPTION
 *	bms.py's SPF entries in Sendmail's access format: the values and
 *	their actions, the order of lookups (whole sender, domain, bare
 *	prefix) per SPF result, case, other maps' lines skipped, bad lines
 *	reported with file and line while the good ones apply, and a file
 *	read again when it changes (not more than once a second).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spf_access.h"

struct msgs {
	char all[2048];
	int n;
};

static void
collect(void *arg, const char *msg)
{
	struct msgs *m = arg;

	strncat(m->all, msg, sizeof(m->all) - strlen(m->all) - 2);
	strcat(m->all, "\n");
	m->n++;
}

static const char sample[] =
	"# SPF policy by domain\n"
	"SPF-Fail:aol.example\tREJECT\n"
	"SPF-Fail:user@aol.example OK\n"
	"SPF-Fail:  CBV\n"
	"Spf-Softfail:Bounces.Amazon.Example. ok\n"
	"SPF-Neutral:aol.example REJECT\n"
	"SPF-PermError:broken.example DSN\n"
	"SPF-None: REJECT\n"
	"Connect:192.0.2 RELAY\n"
	"From:spammer@example.net REJECT\n"
	"\n"
	"SPF-Pass:bad.example MAYBE\n"
	"SPF-Bogus:x.example OK\n"
	"SPF-Pass:<x@y> OK\n"
	"SPF-Pass:nothing.example\n";

static void
test_parse_and_lookup(void **state)
{
	struct msgs m = { "", 0 };
	struct spf_access *a;
	int bad;

	(void)state;
	a = spf_access_parse(sample, strlen(sample), "/etc/mail/access", collect, &m,
	    &bad);
	assert_non_null(a);
	assert_int_equal(bad, 4);
	assert_int_equal(m.n, 4);
	assert_non_null(strstr(m.all, "/etc/mail/access:12: value must be OK, CBV, DSN or REJECT"));
	assert_non_null(strstr(m.all, "/etc/mail/access:13: unknown SPF result"));
	assert_non_null(strstr(m.all, "/etc/mail/access:14: bad character"));
	assert_non_null(strstr(m.all, "/etc/mail/access:15: no value"));
	assert_int_equal(spf_access_size(a), 7);
	/* the whole sender first, then its domain, then the bare prefix */
	assert_int_equal(spf_access_lookup(a, "user@aol.example", "aol.example", SPFR_FAIL),
	    SPF_ACT_ACCEPT);
	assert_int_equal(spf_access_lookup(a, "USER@AOL.example", "aol.example", SPFR_FAIL),
	    SPF_ACT_ACCEPT);
	assert_int_equal(spf_access_lookup(a, "other@aol.example", "AOL.example.", SPFR_FAIL),
	    SPF_ACT_REJECT);
	assert_int_equal(spf_access_lookup(a, "x@elsewhere.example", "elsewhere.example",
	    SPFR_FAIL), SPF_ACT_VERIFY);
	/* per result; no entry, no default: the spf policy decides */
	assert_int_equal(spf_access_lookup(a, "x@aol.example", "aol.example", SPFR_NEUTRAL),
	    SPF_ACT_REJECT);
	assert_int_equal(spf_access_lookup(a, "x@other.example", "other.example",
	    SPFR_NEUTRAL), SPF_ACT_UNSET);
	assert_int_equal(spf_access_lookup(a, "b@bounces.amazon.example",
	    "bounces.amazon.example", SPFR_SOFTFAIL), SPF_ACT_ACCEPT);
	assert_int_equal(spf_access_lookup(a, "b@x.example", "x.example", SPFR_NONE),
	    SPF_ACT_REJECT);
	assert_int_equal(spf_access_lookup(a, "b@broken.example", "broken.example",
	    SPFR_PERMERROR), SPF_ACT_VERIFY);
	/* bad lines do not apply */
	assert_int_equal(spf_access_lookup(a, "b@bad.example", "bad.example", SPFR_PASS),
	    SPF_ACT_UNSET);
	assert_int_equal(spf_access_lookup(a, "", NULL, SPFR_TEMPERROR), SPF_ACT_UNSET);
	spf_access_free(a);
	/* empty, comments only */
	a = spf_access_parse("", 0, "x", collect, &m, &bad);
	assert_non_null(a);
	assert_int_equal(spf_access_lookup(a, "a@b", "b", SPFR_FAIL), SPF_ACT_UNSET);
	spf_access_free(a);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_file_reload(void **state)
{
	char path[] = "/tmp/test_spf_access.XXXXXX";
	struct msgs m = { "", 0 };
	struct spf_access_file *f;
	int fd = mkstemp(path), bad;
	time_t now = time(NULL);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "SPF-Fail:partner.example OK\n");
	assert_non_null(f = spf_access_open(path, collect, &m, &bad));
	assert_int_equal(bad, 0);
	assert_int_equal(spf_access_file_lookup(f, "a@partner.example", "partner.example",
	    SPFR_FAIL, now, collect, &m), SPF_ACT_ACCEPT);
	/* changed (size differs): read again at the next second */
	write_file(path, "SPF-Fail:partner.example REJECT\nSPF-Fail:new.example OK\nbad\n"
	    "SPF-Pass:x.example WHAT\n");
	assert_int_equal(spf_access_file_lookup(f, "a@partner.example", "partner.example",
	    SPFR_FAIL, now + 1, collect, &m), SPF_ACT_REJECT);
	assert_int_equal(spf_access_file_lookup(f, "a@new.example", "new.example",
	    SPFR_FAIL, now + 1, collect, &m), SPF_ACT_ACCEPT);
	assert_non_null(strstr(m.all, ":4: value must be"));
	/* gone: the loaded map stays */
	unlink(path);
	assert_int_equal(spf_access_file_lookup(f, "a@partner.example", "partner.example",
	    SPFR_FAIL, now + 2, collect, &m), SPF_ACT_REJECT);
	spf_access_close(f);
	/* an unreadable file at start: reported, no map */
	m.n = 0;
	assert_null(spf_access_open("/nonexistent/access", collect, &m, &bad));
	assert_int_equal(m.n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_file_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
