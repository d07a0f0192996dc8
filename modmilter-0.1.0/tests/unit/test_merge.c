#include "config.h"
/*
 * NAME
 *	test_merge - the verdict merge table of DESIGN.md "Merging verdicts"
 * DESCRIPTION
 *	For every ordered pair of verdicts (CONTINUE, ACCEPT, REJECT,
 *	TEMPFAIL, DISCARD, SKIP) returned by plugin 0 then plugin 1, proves
 *	the merged stage verdict (DISCARD > REJECT > TEMPFAIL > CONTINUE,
 *	ACCEPT and SKIP counting as CONTINUE), which plugin decides (ties go
 *	to the earliest, whose reply is kept), that merge_decided() holds
 *	only once a DISCARD was seen, and that every kept reply is
 *	sanitized for the merged verdict (a reply of the wrong class gets
 *	the default code, no reply gets the default code and text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"

#define C MM_CONTINUE
#define A MM_ACCEPT
#define R MM_REJECT
#define T MM_TEMPFAIL
#define D MM_DISCARD
#define S MM_SKIP

static const mm_verdict all[] = { C, A, R, T, D, S };
#define NV (sizeof(all) / sizeof(all[0]))

/*
 * The table, written out by hand (not computed with the rule under
 * test): expect[i][j] is the merged verdict when plugin 0 says all[i]
 * and plugin 1 says all[j]; who[i][j] is the deciding plugin (-1: none).
 */
static const mm_verdict expect[NV][NV] = {
	/*         C  A  R  T  D  S  (plugin 1) */
	/* C */  { C, C, R, T, D, C },
	/* A */  { C, C, R, T, D, C },
	/* R */  { R, R, R, R, D, R },
	/* T */  { T, T, R, T, D, T },
	/* D */  { D, D, D, D, D, D },
	/* S */  { C, C, R, T, D, C },
};
static const int who[NV][NV] = {
	/*         C   A   R   T   D   S */
	/* C */  { -1, -1,  1,  1,  1, -1 },
	/* A */  { -1, -1,  1,  1,  1, -1 },
	/* R */  {  0,  0,  0,  0,  1,  0 },
	/* T */  {  0,  0,  1,  0,  1,  0 },
	/* D */  {  0,  0,  0,  0,  0,  0 },
	/* S */  { -1, -1,  1,  1,  1, -1 },
};

/* A well-formed reply for plugin p giving verdict v. */
static void
reply_for(struct reply *r, int p, mm_verdict v)
{
	memset(r, 0, sizeof(*r));
	if (v == MM_TEMPFAIL) {
		snprintf(r->rcode, sizeof(r->rcode), "45%d", p);
		snprintf(r->xcode, sizeof(r->xcode), "4.7.%d", p + 10);
	} else {
		snprintf(r->rcode, sizeof(r->rcode), "55%d", p);
		snprintf(r->xcode, sizeof(r->xcode), "5.7.%d", p + 10);
	}
	r->text = p == 0 ? "reply of plugin zero" : "reply of plugin one";
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NV; i++)
		for (size_t j = 0; j < NV; j++) {
			struct merge m;
			struct reply r0, r1;
			const char *n0 = verdict_name(all[i]), *n1 = verdict_name(all[j]);

			reply_for(&r0, 0, all[i]);
			reply_for(&r1, 1, all[j]);
			merge_init(&m);
			assert_int_equal(m.verdict, MM_CONTINUE);
			assert_int_equal(m.who, -1);
			assert_false(merge_decided(&m));

			merge_add(&m, 0, all[i], &r0);
			if (merge_decided(&m) != (all[i] == MM_DISCARD))
				fail_msg("%s: decided=%d after plugin 0", n0, merge_decided(&m));
			merge_add(&m, 1, all[j], &r1);

			if (m.verdict != expect[i][j])
				fail_msg("%s then %s: merged %s, expected %s", n0, n1,
				    verdict_name(m.verdict), verdict_name(expect[i][j]));
			if (m.who != who[i][j])
				fail_msg("%s then %s: decided by %d, expected %d", n0, n1,
				    m.who, who[i][j]);
			if (merge_decided(&m) != (expect[i][j] == MM_DISCARD))
				fail_msg("%s then %s: merge_decided=%d", n0, n1,
				    merge_decided(&m));

			if (m.verdict == MM_REJECT || m.verdict == MM_TEMPFAIL) {
				const struct reply *want = m.who == 0 ? &r0 : &r1;
				if (m.reply.text == NULL || strcmp(m.reply.text, want->text) != 0)
					fail_msg("%s then %s: reply text '%s', expected '%s'",
					    n0, n1, m.reply.text ? m.reply.text : "(null)",
					    want->text);
				if (strcmp(m.reply.rcode, want->rcode) != 0 ||
				    strcmp(m.reply.xcode, want->xcode) != 0)
					fail_msg("%s then %s: reply %s %s, expected %s %s",
					    n0, n1, m.reply.rcode, m.reply.xcode,
					    want->rcode, want->xcode);
			} else if (m.reply.text != NULL)
				fail_msg("%s then %s: %s carries reply text '%s'", n0, n1,
				    verdict_name(m.verdict), m.reply.text);
			merge_free(&m);
		}
}

/* A decided stage stays decided: nothing after a DISCARD changes it. */
static void
test_discard_is_final(void **state)
{
	struct merge m;
	struct reply r;

	(void)state;
	merge_init(&m);
	merge_add(&m, 0, MM_CONTINUE, NULL);
	merge_add(&m, 1, MM_DISCARD, NULL);
	assert_true(merge_decided(&m));
	reply_for(&r, 2, MM_REJECT);
	merge_add(&m, 2, MM_REJECT, &r);
	merge_add(&m, 3, MM_DISCARD, NULL);
	assert_int_equal(m.verdict, MM_DISCARD);
	assert_int_equal(m.who, 1);
	assert_null(m.reply.text);
	merge_free(&m);
}

/* Three plugins: the earliest of the most severe decides. */
static void
test_three_plugins(void **state)
{
	struct merge m;
	struct reply r1, r2, r3;

	(void)state;
	reply_for(&r1, 0, MM_TEMPFAIL);
	reply_for(&r2, 1, MM_REJECT);
	reply_for(&r3, 2, MM_REJECT);
	r3.text = "third";
	merge_init(&m);
	merge_add(&m, 0, MM_TEMPFAIL, &r1);
	assert_false(merge_decided(&m));
	merge_add(&m, 1, MM_REJECT, &r2);
	assert_false(merge_decided(&m));
	merge_add(&m, 2, MM_REJECT, &r3);
	assert_int_equal(m.verdict, MM_REJECT);
	assert_int_equal(m.who, 1);
	assert_string_equal(m.reply.text, "reply of plugin one");
	assert_string_equal(m.reply.rcode, "551");
	merge_free(&m);
}

/* ERROR and out-of-range values are no stage verdicts: CONTINUE. */
static void
test_severity(void **state)
{
	(void)state;
	assert_true(verdict_severity(MM_DISCARD) > verdict_severity(MM_REJECT));
	assert_true(verdict_severity(MM_REJECT) > verdict_severity(MM_TEMPFAIL));
	assert_true(verdict_severity(MM_TEMPFAIL) > verdict_severity(MM_CONTINUE));
	assert_int_equal(verdict_severity(MM_ACCEPT), verdict_severity(MM_CONTINUE));
	assert_int_equal(verdict_severity(MM_SKIP), verdict_severity(MM_CONTINUE));
	assert_string_equal(verdict_name(MM_TEMPFAIL), "tempfail");
	assert_string_equal(verdict_name(MM_SKIP), "skip");
	assert_string_equal(verdict_name((mm_verdict)42), "invalid");
}

/* A reply of the wrong class gets the verdict's default code. */
static void
test_reply_sanitized(void **state)
{
	struct merge m;
	struct reply r;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.rcode, "450");
	strcpy(r.xcode, "4.1.1");
	r.text = "wrong class\r\nfor a reject 100%";
	merge_init(&m);
	merge_add(&m, 0, MM_REJECT, &r);
	assert_int_equal(m.verdict, MM_REJECT);
	assert_string_equal(m.reply.rcode, "550");
	assert_string_equal(m.reply.xcode, "5.1.1");
	assert_string_equal(m.reply.text, "wrong class for a reject 100%%");
	merge_free(&m);

	strcpy(r.rcode, "250");
	strcpy(r.xcode, "2.0.0");
	r.text = "ok?";
	merge_init(&m);
	merge_add(&m, 3, MM_TEMPFAIL, &r);
	assert_int_equal(m.verdict, MM_TEMPFAIL);
	assert_int_equal(m.who, 3);
	assert_string_equal(m.reply.rcode, "451");
	assert_string_equal(m.reply.xcode, "4.0.0");
	assert_string_equal(m.reply.text, "ok?");
	merge_free(&m);

	/* an empty reply structure (nothing set with set_reply) */
	memset(&r, 0, sizeof(r));
	merge_init(&m);
	merge_add(&m, 0, MM_REJECT, &r);
	assert_string_equal(m.reply.rcode, "550");
	assert_string_equal(m.reply.xcode, "5.7.1");
	assert_non_null(m.reply.text);
	assert_true(strlen(m.reply.text) > 0);
	merge_free(&m);

	/* no reply at all */
	merge_init(&m);
	merge_add(&m, 0, MM_TEMPFAIL, NULL);
	assert_string_equal(m.reply.rcode, "451");
	assert_string_equal(m.reply.xcode, "4.7.1");
	assert_non_null(m.reply.text);
	assert_true(strlen(m.reply.text) > 0);
	merge_free(&m);
}

/* The merge keeps its own copy of the reply text. */
static void
test_reply_copied(void **state)
{
	struct merge m;
	struct reply r;
	char text[] = "mutable text";

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.rcode, "554");
	strcpy(r.xcode, "5.7.1");
	r.text = text;
	merge_init(&m);
	merge_add(&m, 0, MM_REJECT, &r);
	memset(text, 'X', sizeof(text) - 1);
	assert_string_equal(m.reply.text, "mutable text");
	assert_string_equal(m.reply.rcode, "554");
	merge_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_discard_is_final),
		cmocka_unit_test(test_three_plugins),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_reply_sanitized),
		cmocka_unit_test(test_reply_copied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
