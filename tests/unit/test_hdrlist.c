#include "config.h"
/*
 * NAME
 *	test_hdrlist - the working header list and its minimal milter diff
 * DESCRIPTION
 *	Proves hdrlist_diff(): an untouched list gives no operation; an
 *	added header is one HDROP_ADD; a header inserted at the top is an
 *	HDROP_INSERT at index 0; a changed value of the 2nd "Received" is an
 *	HDROP_CHANGE with index 2; a removed header is an HDROP_DELETE;
 *	several changes and deletes of one name come in descending index
 *	order; a header deleted and added again is a delete plus an add;
 *	names compare case-insensitively; hdrlist_get() finds the nth.
 *	Every diff is also replayed on the received list the way an MTA
 *	applies smfi_chgheader/smfi_insheader/smfi_addheader, in order, and
 *	must give exactly the working list (also for random edits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "hdrlist.h"

/* --- an MTA's view of the header list --- */

struct mta {
	char *name[256], *value[256];
	size_t n;
};

static void
mta_from_orig(struct mta *m, const struct hdrlist *l)
{
	m->n = 0;
	for (size_t i = 0; i < l->norig; i++) {
		m->name[m->n] = strdup(l->orig[i].name);
		m->value[m->n] = strdup(l->orig[i].value);
		m->n++;
	}
}

static void
mta_free(struct mta *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->name[i]);
		free(m->value[i]);
	}
	m->n = 0;
}

/* smfi_chgheader: index is 1-based among headers of that name. */
static void
mta_chg(struct mta *m, const char *name, size_t idx, const char *value)
{
	size_t seen = 0;

	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->name[i], name) == 0 && ++seen == idx) {
			free(m->value[i]);
			if (value == NULL) {
				free(m->name[i]);
				memmove(&m->name[i], &m->name[i + 1], (m->n - i - 1) * sizeof(char *));
				memmove(&m->value[i], &m->value[i + 1], (m->n - i - 1) * sizeof(char *));
				m->n--;
			} else
				m->value[i] = strdup(value);
			return;
		}
	fail_msg("chgheader %s index %zu: no such header", name, idx);
}

static void
mta_ins(struct mta *m, size_t idx, const char *name, const char *value)
{
	if (idx > m->n)
		fail_msg("insheader at %zu beyond the end (%zu)", idx, m->n);
	memmove(&m->name[idx + 1], &m->name[idx], (m->n - idx) * sizeof(char *));
	memmove(&m->value[idx + 1], &m->value[idx], (m->n - idx) * sizeof(char *));
	m->name[idx] = strdup(name);
	m->value[idx] = strdup(value);
	m->n++;
}

/* Apply the diff of l as an MTA would and compare with the working list. */
static void
assert_diff_replays(const struct hdrlist *l)
{
	struct hdrop *ops;
	size_t n = hdrlist_diff(l, &ops);
	struct mta m;

	mta_from_orig(&m, l);
	for (size_t i = 0; i < n; i++) {
		switch (ops[i].kind) {
		case HDROP_CHANGE:
			assert_non_null(ops[i].value);
			mta_chg(&m, ops[i].name, ops[i].index, ops[i].value);
			break;
		case HDROP_DELETE:
			assert_null(ops[i].value);
			mta_chg(&m, ops[i].name, ops[i].index, NULL);
			break;
		case HDROP_INSERT:
			mta_ins(&m, ops[i].index, ops[i].name, ops[i].value);
			break;
		case HDROP_ADD:
			mta_ins(&m, m.n, ops[i].name, ops[i].value);
			break;
		}
	}
	if (m.n != l->n)
		fail_msg("replayed diff gives %zu headers, working list has %zu", m.n, l->n);
	for (size_t i = 0; i < m.n; i++) {
		if (strcmp(m.name[i], l->h[i].name) != 0 ||
		    strcmp(m.value[i], l->h[i].value) != 0)
			fail_msg("header %zu: replayed '%s: %s', working '%s: %s'", i,
			    m.name[i], m.value[i], l->h[i].name, l->h[i].value);
	}
	mta_free(&m);
	free(ops);
}

static void
received(struct hdrlist *l, const char *const *nv)
{
	for (size_t i = 0; nv[i]; i += 2)
		hdrlist_received(l, nv[i], nv[i + 1]);
}

static const char *const msg[] = {
	"Received", "from a by b",
	"From", "<alice@example.com>",
	"Received", "from c by d",
	"Subject", "hello",
	"Received", "from e by f",
	"To", "<bob@example.org>",
	NULL
};

static void
assert_op(const struct hdrop *op, enum hdrop_kind kind, const char *name,
    size_t index, const char *value)
{
	assert_int_equal(op->kind, kind);
	assert_string_equal(op->name, name);
	if (kind != HDROP_ADD)
		assert_int_equal(op->index, index);
	if (value)
		assert_string_equal(op->value, value);
	else
		assert_null(op->value);
}

static void
test_no_change(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	assert_int_equal(hdrlist_diff(&l, &ops), 0);
	free(ops);
	/* changing a value to the same value is no change either */
	assert_int_equal(hdrlist_change(&l, "Subject", 1, "hello"), 0);
	assert_int_equal(hdrlist_diff(&l, &ops), 0);
	free(ops);
	hdrlist_reset(&l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.norig, 0);

	/* an empty list */
	assert_int_equal(hdrlist_diff(&l, &ops), 0);
	free(ops);
}

static void
test_add(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	hdrlist_add(&l, "X-Spam", "no");
	hdrlist_add(&l, "X-Other", "yes");
	assert_int_equal(hdrlist_diff(&l, &ops), 2);
	assert_op(&ops[0], HDROP_ADD, "X-Spam", 0, "no");
	assert_op(&ops[1], HDROP_ADD, "X-Other", 0, "yes");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_insert_top(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	hdrlist_insert(&l, 0, "Authentication-Results", "mx; spf=pass");
	assert_int_equal(hdrlist_diff(&l, &ops), 1);
	assert_op(&ops[0], HDROP_INSERT, "Authentication-Results", 0, "mx; spf=pass");
	free(ops);
	assert_string_equal(l.h[0].name, "Authentication-Results");
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_insert_middle_and_end(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	hdrlist_insert(&l, 3, "X-Mid", "m");	/* before Subject */
	hdrlist_insert(&l, 100, "X-End", "e");	/* clamped to the end */
	assert_int_equal(l.n, 8);
	assert_string_equal(l.h[3].name, "X-Mid");
	assert_string_equal(l.h[7].name, "X-End");
	assert_int_equal(hdrlist_diff(&l, &ops), 2);
	assert_int_equal(ops[0].kind, HDROP_INSERT);
	assert_int_equal(ops[0].index, 3);
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_change_second_received(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	assert_int_equal(hdrlist_change(&l, "Received", 2, "from X by Y"), 0);
	assert_int_equal(hdrlist_diff(&l, &ops), 1);
	assert_op(&ops[0], HDROP_CHANGE, "Received", 2, "from X by Y");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_delete(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, msg);
	assert_int_equal(hdrlist_change(&l, "Subject", 1, NULL), 0);
	assert_int_equal(l.n, 5);
	assert_null(hdrlist_get(&l, "Subject", 1));
	assert_int_equal(hdrlist_diff(&l, &ops), 1);
	assert_op(&ops[0], HDROP_DELETE, "Subject", 1, NULL);
	free(ops);
	assert_diff_replays(&l);

	/* the third Received */
	assert_int_equal(hdrlist_change(&l, "Received", 3, NULL), 0);
	assert_int_equal(hdrlist_diff(&l, &ops), 2);
	/* later originals first */
	assert_op(&ops[0], HDROP_DELETE, "Received", 3, NULL);
	assert_op(&ops[1], HDROP_DELETE, "Subject", 1, NULL);
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

/* Within one name, no operation may move the index of a later one. */
static void
test_descending_order(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;
	size_t n;

	(void)state;
	received(&l, msg);
	assert_int_equal(hdrlist_change(&l, "Received", 1, "r1"), 0);
	assert_int_equal(hdrlist_change(&l, "Received", 3, "r3"), 0);
	assert_int_equal(hdrlist_change(&l, "Received", 2, NULL), 0);
	/* working: Received r1, From, Subject, Received r3, To */
	assert_string_equal(hdrlist_get(&l, "Received", 1), "r1");
	assert_string_equal(hdrlist_get(&l, "Received", 2), "r3");
	assert_null(hdrlist_get(&l, "Received", 3));
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 3);
	assert_op(&ops[0], HDROP_CHANGE, "Received", 3, "r3");
	assert_op(&ops[1], HDROP_DELETE, "Received", 2, NULL);
	assert_op(&ops[2], HDROP_CHANGE, "Received", 1, "r1");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);

	/* deleting all three: indexes 3, 2, 1 */
	received(&l, msg);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hdrlist_change(&l, "Received", 1, NULL), 0);
	assert_int_equal(hdrlist_change(&l, "Received", 1, NULL), -1);
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 3);
	assert_op(&ops[0], HDROP_DELETE, "Received", 3, NULL);
	assert_op(&ops[1], HDROP_DELETE, "Received", 2, NULL);
	assert_op(&ops[2], HDROP_DELETE, "Received", 1, NULL);
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_deleted_then_readded(void **state)
{
	struct hdrlist l = { 0 };
	struct hdrop *ops;
	size_t n;

	(void)state;
	received(&l, msg);
	assert_int_equal(hdrlist_change(&l, "Subject", 1, NULL), 0);
	hdrlist_add(&l, "Subject", "[SPAM] hello");
	assert_string_equal(hdrlist_get(&l, "Subject", 1), "[SPAM] hello");
	assert_null(hdrlist_get(&l, "Subject", 2));
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 2);
	assert_op(&ops[0], HDROP_DELETE, "Subject", 1, NULL);
	assert_op(&ops[1], HDROP_ADD, "Subject", 0, "[SPAM] hello");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);

	/* deleted, then inserted where it was */
	received(&l, msg);
	assert_int_equal(hdrlist_change(&l, "Subject", 1, NULL), 0);
	hdrlist_insert(&l, 3, "Subject", "new");
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 2);
	assert_op(&ops[0], HDROP_DELETE, "Subject", 1, NULL);
	assert_op(&ops[1], HDROP_INSERT, "Subject", 3, "new");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);

	/* a new Received on top, then the (original) 2nd one changed */
	received(&l, msg);
	hdrlist_insert(&l, 0, "Received", "from us");
	assert_int_equal(hdrlist_change(&l, "Received", 3, "changed"), 0);
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 2);
	assert_op(&ops[0], HDROP_CHANGE, "Received", 2, "changed");
	assert_op(&ops[1], HDROP_INSERT, "Received", 0, "from us");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_case_insensitive(void **state)
{
	static const char *const mixed[] = {
		"Received", "one",
		"RECEIVED", "two",
		"received", "three",
		"X-Thing", "x",
		NULL
	};
	struct hdrlist l = { 0 };
	struct hdrop *ops;

	(void)state;
	received(&l, mixed);
	assert_string_equal(hdrlist_get(&l, "received", 1), "one");
	assert_string_equal(hdrlist_get(&l, "ReCeIvEd", 2), "two");
	assert_string_equal(hdrlist_get(&l, "RECEIVED", 3), "three");
	assert_string_equal(hdrlist_get(&l, "x-thing", 1), "x");
	assert_int_equal(hdrlist_change(&l, "rEcEiVeD", 3, "3!"), 0);
	assert_int_equal(hdrlist_change(&l, "x-THING", 1, NULL), 0);
	assert_int_equal(hdrlist_diff(&l, &ops), 2);
	assert_int_equal(ops[0].kind, HDROP_DELETE);
	assert_true(strcasecmp(ops[0].name, "X-Thing") == 0);
	assert_int_equal(ops[0].index, 1);
	assert_int_equal(ops[1].kind, HDROP_CHANGE);
	assert_true(strcasecmp(ops[1].name, "received") == 0);
	assert_int_equal(ops[1].index, 3);
	assert_string_equal(ops[1].value, "3!");
	free(ops);
	assert_diff_replays(&l);
	hdrlist_reset(&l);
}

static void
test_get_nth(void **state)
{
	struct hdrlist l = { 0 };

	(void)state;
	received(&l, msg);
	assert_string_equal(hdrlist_get(&l, "Received", 1), "from a by b");
	assert_string_equal(hdrlist_get(&l, "Received", 2), "from c by d");
	assert_string_equal(hdrlist_get(&l, "Received", 3), "from e by f");
	assert_null(hdrlist_get(&l, "Received", 4));
	assert_null(hdrlist_get(&l, "Received", 0));
	assert_null(hdrlist_get(&l, "Nonexistent", 1));
	assert_int_equal(hdrlist_change(&l, "Nonexistent", 1, "v"), -1);
	assert_int_equal(hdrlist_change(&l, "Received", 4, "v"), -1);
	assert_int_equal(hdrlist_change(&l, "Received", 0, "v"), -1);
	/* later edits are seen */
	hdrlist_insert(&l, 0, "Received", "from top");
	assert_string_equal(hdrlist_get(&l, "Received", 1), "from top");
	assert_string_equal(hdrlist_get(&l, "Received", 4), "from e by f");
	hdrlist_reset(&l);
}

/* Random edits: whatever the plugins did, the replayed diff agrees. */
static void
test_random_edits(void **state)
{
	static const char *const names[] = { "Received", "X-A", "Subject", "x-a" };
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct hdrlist l = { 0 };
		int nrecv, nedit;
		char v[32];

		srand(seed + (unsigned)round);
		nrecv = rand() % 7;
		for (int i = 0; i < nrecv; i++) {
			snprintf(v, sizeof(v), "orig%d", i);
			hdrlist_received(&l, names[rand() % 4], v);
		}
		nedit = rand() % 8;
		for (int e = 0; e < nedit; e++) {
			const char *nm = names[rand() % 4];
			snprintf(v, sizeof(v), "edit%d.%d", round, e);
			switch (rand() % 4) {
			case 0:
				hdrlist_add(&l, nm, v);
				break;
			case 1:
				hdrlist_insert(&l, (size_t)(rand() % (int)(l.n + 1)), nm, v);
				break;
			case 2:
				hdrlist_change(&l, nm, (size_t)(rand() % 3 + 1), v);
				break;
			default:
				hdrlist_change(&l, nm, (size_t)(rand() % 3 + 1), NULL);
				break;
			}
		}
		assert_diff_replays(&l);
		hdrlist_reset(&l);
	}
}

/* When the received headers are not kept, an insert keeps the position
   it asked for and adds stay adds, in the order of the calls */
static void
test_blind(void **state)
{
	struct hdrlist l;
	struct hdrop *ops;
	size_t n;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.blind = 1;
	hdrlist_insert(&l, 0, "Received-SPF", "pass");
	hdrlist_add(&l, "X-A", "1");
	hdrlist_insert(&l, 3, "X-Three", "3");
	n = hdrlist_diff(&l, &ops);
	assert_int_equal(n, 3);
	assert_int_equal(ops[0].kind, HDROP_INSERT);
	assert_int_equal(ops[0].index, 0);
	assert_string_equal(ops[0].name, "Received-SPF");
	assert_int_equal(ops[1].kind, HDROP_ADD);
	assert_string_equal(ops[1].name, "X-A");
	assert_int_equal(ops[2].kind, HDROP_INSERT);
	assert_int_equal(ops[2].index, 3);
	free(ops);
	hdrlist_reset(&l);
}

/* A value a plugin read stays valid after a later change or delete,
   until the message ends (the SDK's memory rule) */
static void
test_old_values_stay(void **state)
{
	struct hdrlist l;
	const char *v1, *v2;

	(void)state;
	memset(&l, 0, sizeof(l));
	hdrlist_received(&l, "Subject", "first");
	hdrlist_received(&l, "X-Gone", "soon");
	v1 = hdrlist_get(&l, "Subject", 1);
	v2 = hdrlist_get(&l, "X-Gone", 1);
	assert_int_equal(hdrlist_change(&l, "Subject", 1, "second"), 0);
	assert_int_equal(hdrlist_change(&l, "X-Gone", 1, NULL), 0);
	assert_string_equal(v1, "first");
	assert_string_equal(v2, "soon");
	assert_string_equal(hdrlist_get(&l, "Subject", 1), "second");
	assert_null(hdrlist_get(&l, "X-Gone", 1));
	hdrlist_reset(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_blind),
		cmocka_unit_test(test_old_values_stay),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_insert_top),
		cmocka_unit_test(test_insert_middle_and_end),
		cmocka_unit_test(test_change_second_received),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_descending_order),
		cmocka_unit_test(test_deleted_then_readded),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_get_nth),
		cmocka_unit_test(test_random_edits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
