/*
 * NAME
 *	train - classification and the training modes and sources
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	classify_and_learn(&c, dict, &ts, &verdict, sig_id, &err);
 *	train_tokens(&c, dict, &ts, 1, SRC_CORPUS, &err);
 *	retrain_signature(&c, sig_id, 0, &err);
 * DESCRIPTION
 *	DSPAM's training modes, applied when a message is classified:
 *
 *	TEFT	train everything: the message's tokens are counted in the
 *		class it was given;
 *	TOE	train on error only: nothing is counted until a correction;
 *	TUM	train until mature: TEFT while the dictionary has learned
 *		fewer than 2,500 innocent messages, then only tokens with
 *		fewer than 25 hits; errors are always trained;
 *	NOTRAIN	classify only (explicit training and corrections still
 *		apply).
 *
 *	Training sources: corpus (add the message to a class), error (a
 *	correction: take it out of the other class, add it to this one),
 *	inoculation (corpus training repeated, at most 5 times, until the
 *	dictionary itself gives the message this class).
 *
 *	A correction by signature knows whether the tokens were counted
 *	and in which class, so it undoes exactly what classification did;
 *	the signature then records the new class, so a repeated correction
 *	changes nothing.
 *
 *	Whitelisting (DSPAM's): a message whose From: token has at least
 *	10 innocent hits and none as spam is innocent whatever its words.
 *
 *	Classification, training and the signature of one message are one
 *	LMDB transaction.
 * DIAGNOSTICS
 *	-1 with *err (malloc'ed) on a store failure; nothing is changed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dspam.h"

#define TUM_INNOCENT 2500
#define TUM_MAXHITS 25
#define WHITELIST_HITS 10
#define INOCULATION_PASSES 5

int
train_mode_parse(const char *s, enum train_mode *m)
{
	if (strcasecmp(s, "teft") == 0)
		*m = MODE_TEFT;
	else if (strcasecmp(s, "toe") == 0)
		*m = MODE_TOE;
	else if (strcasecmp(s, "tum") == 0)
		*m = MODE_TUM;
	else if (strcasecmp(s, "notrain") == 0)
		*m = MODE_NOTRAIN;
	else
		return -1;
	return 0;
}

const char *
train_mode_name(enum train_mode m)
{
	static const char *names[] = { "teft", "toe", "tum", "notrain" };

	return names[m];
}

int
train_source_parse(const char *s, enum train_source *src)
{
	if (strcasecmp(s, "corpus") == 0)
		*src = SRC_CORPUS;
	else if (strcasecmp(s, "error") == 0)
		*src = SRC_ERROR;
	else if (strcasecmp(s, "inoculation") == 0)
		*src = SRC_INOCULATION;
	else
		return -1;
	return 0;
}

static int
oom(char **err)
{
	if (err)
		*err = strdup("dspam: out of memory");
	return -1;
}

/* Classify within an open transaction. */
static int
classify_in(const struct classifier *c, struct dtxn *t, uint64_t dict,
    const struct tokset *ts, const struct dtotals *tot, struct verdict *v,
    char **err)
{
	struct tokstat *st = malloc((ts->len ? ts->len : 1) * sizeof(*st));
	size_t i;

	if (st == NULL)
		return oom(err);
	if (dict_lookup(t, dict, ts, st, err) < 0) {
		free(st);
		return -1;
	}
	combine(&c->cp, st, ts->len, tot->spam_learned, tot->ham_learned, v);
	if (ts->from_token != 0) {
		for (i = 0; i < ts->len; i++) {
			if (ts->t[i].h != ts->from_token)
				continue;
			if (st[i].ham >= WHITELIST_HITS && st[i].spam == 0) {
				v->whitelisted = 1;
				v->spam = 0;
				v->probability = 0.0;
				v->logodds = -700.0;
				v->confidence = 1.0;
			}
			break;
		}
	}
	free(st);
	return 0;
}

int
classify_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, struct verdict *v, char **err)
{
	struct dtotals tot;
	struct dtxn *t = dtxn_begin(c->ds, 0, err);
	int r;

	if (t == NULL)
		return -1;
	r = dict_totals(t, dict, &tot, err);
	if (r == 0)
		r = classify_in(c, t, dict, ts, &tot, v, err);
	dtxn_abort(t);
	return r;
}

static uint64_t *
hashes(const struct tokset *ts)
{
	uint64_t *h = malloc((ts->len ? ts->len : 1) * sizeof(*h));
	size_t i;

	if (h != NULL)
		for (i = 0; i < ts->len; i++)
			h[i] = ts->t[i].h;
	return h;
}

static void
count_learned(struct dtotals *tot, int klass, int d)
{
	uint64_t *p = klass ? &tot->spam_learned : &tot->ham_learned;

	if (d > 0)
		(*p)++;
	else if (*p > 0)
		(*p)--;
}

int
classify_and_learn(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, struct verdict *v, const char *sig_id,
    char **err)
{
	struct dtotals tot;
	struct dtxn *t;
	struct sig s;
	uint64_t *h = NULL;
	uint32_t maxhits = 0;
	int learn = 0;

	if ((t = dtxn_begin(c->ds, 1, err)) == NULL)
		return -1;
	if (dict_totals(t, dict, &tot, err) < 0 ||
	    classify_in(c, t, dict, ts, &tot, v, err) < 0)
		goto fail;
	switch (c->mode) {
	case MODE_TEFT:
		learn = 1;
		break;
	case MODE_TUM:
		learn = 1;
		if (tot.ham_learned >= TUM_INNOCENT)
			maxhits = TUM_MAXHITS;
		break;
	default:
		break;
	}
	if ((learn || sig_id) && (h = hashes(ts)) == NULL) {
		oom(err);
		goto fail;
	}
	if (learn) {
		if (dict_update(t, dict, h, ts->len, v->spam ? 1 : 0,
		    v->spam ? 0 : 1, maxhits, err) < 0)
			goto fail;
		count_learned(&tot, v->spam, 1);
	}
	if (v->spam)
		tot.spam_classified++;
	else
		tot.ham_classified++;
	if (dict_put_totals(t, dict, &tot, err) < 0)
		goto fail;
	if (sig_id != NULL) {
		s.dict = dict;
		s.klass = v->spam;
		s.learned = learn;
		s.h = h;
		s.n = ts->len;
		if (sig_put(t, sig_id, &s, c->sig_ttl, err) < 0)
			goto fail;
	}
	free(h);
	return dtxn_commit(t, err);
fail:
	free(h);
	dtxn_abort(t);
	return -1;
}

int
train_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int klass, enum train_source src, char **err)
{
	struct dtotals tot;
	struct dtxn *t;
	uint64_t *h;
	int pass;

	if ((h = hashes(ts)) == NULL)
		return oom(err);
	if ((t = dtxn_begin(c->ds, 1, err)) == NULL) {
		free(h);
		return -1;
	}
	if (dict_totals(t, dict, &tot, err) < 0)
		goto fail;
	if (src == SRC_ERROR) {
		if (dict_update(t, dict, h, ts->len, klass ? 1 : -1,
		    klass ? -1 : 1, 0, err) < 0)
			goto fail;
		count_learned(&tot, !klass, -1);
		count_learned(&tot, klass, 1);
		if (klass)
			tot.spam_misclassified++;
		else
			tot.ham_misclassified++;
	} else {
		if (dict_update(t, dict, h, ts->len, klass ? 1 : 0, klass ? 0 : 1,
		    0, err) < 0)
			goto fail;
		count_learned(&tot, klass, 1);
		if (klass)
			tot.spam_corpus++;
		else
			tot.ham_corpus++;
	}
	for (pass = 1; src == SRC_INOCULATION && pass < INOCULATION_PASSES; pass++) {
		struct verdict v;

		if (classify_in(c, t, dict, ts, &tot, &v, err) < 0)
			goto fail;
		if (v.spam == klass)
			break;
		if (dict_update(t, dict, h, ts->len, klass ? 1 : 0, klass ? 0 : 1,
		    0, err) < 0)
			goto fail;
	}
	if (dict_put_totals(t, dict, &tot, err) < 0)
		goto fail;
	free(h);
	return dtxn_commit(t, err);
fail:
	free(h);
	dtxn_abort(t);
	return -1;
}

int
retrain_signature(const struct classifier *c, const char *sig_id, int klass,
    char **err)
{
	struct dtotals tot;
	struct dtxn *t;
	struct sig s;
	int r;

	if ((t = dtxn_begin(c->ds, 1, err)) == NULL)
		return -1;
	if ((r = sig_get(t, sig_id, &s, err)) <= 0) {
		dtxn_abort(t);
		return r;
	}
	if (s.klass == klass && s.learned) {
		sig_free(&s);
		dtxn_abort(t);		/* already counted as that */
		return 1;
	}
	if (dict_totals(t, s.dict, &tot, err) < 0)
		goto fail;
	if (s.learned) {
		if (dict_update(t, s.dict, s.h, s.n, klass ? 1 : -1, klass ? -1 : 1,
		    0, err) < 0)
			goto fail;
		count_learned(&tot, !klass, -1);
	} else if (dict_update(t, s.dict, s.h, s.n, klass ? 1 : 0, klass ? 0 : 1,
	    0, err) < 0) {
		goto fail;
	}
	count_learned(&tot, klass, 1);
	if (s.klass != klass) {
		uint64_t *was = s.klass ? &tot.spam_classified : &tot.ham_classified;

		if (*was > 0)
			(*was)--;
		if (klass)
			tot.spam_misclassified++;
		else
			tot.ham_misclassified++;
	} else if (klass) {
		tot.spam_corpus++;
	} else {
		tot.ham_corpus++;
	}
	s.klass = klass;
	s.learned = 1;
	if (dict_put_totals(t, s.dict, &tot, err) < 0 ||
	    sig_put(t, sig_id, &s, c->sig_ttl, err) < 0)
		goto fail;
	sig_free(&s);
	return dtxn_commit(t, err) < 0 ? -1 : 1;
fail:
	sig_free(&s);
	dtxn_abort(t);
	return -1;
}
