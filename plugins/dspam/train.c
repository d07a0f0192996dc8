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
 *	10 innocent hits and none as spam is innocent whatever its words,
 *	but only when the caller trusts the From: address (trust_from):
 *	From: is whatever the client wrote, so an unauthenticated history
 *	match is reported (from_history) and the message classified on its
 *	words; its From: token is then neither trained nor kept in the
 *	signature, so that a forged From: cannot end the real sender's
 *	whitelisting.
 *
 *	The writes of one message (its tokens, the totals, its signature)
 *	are one atomic store batch of counter additions, after one read.
 *	A correction by signature is conditional on the signature being
 *	unchanged since it was read, and is tried again otherwise, so two
 *	corrections of one message at once never count it twice.
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

/*
 * BNR: the patterns of ts from the counts st just read; with mark,
 * their own counts (a second read) and the noise words marked in st.
 */
static int
bnr_in(const struct classifier *c, uint64_t dict, const struct tokset *ts,
    struct tokstat *st, const struct dtotals *tot, struct bnr *b, int mark,
    char **err)
{
	if (bnr_build(b, &c->cp, ts, st, ts->seq, ts->nseq, tot->spam_learned,
	    tot->ham_learned) < 0) {
		if (err)
			*err = strdup("dspam: out of memory");
		return -1;
	}
	if (b->pat.len == 0 || !mark)
		return 0;	/* to train them, their hashes are enough */
	if (bnr_read(&c->ds, dict, b, err) < 0)
		return -1;
	bnr_mark(b, &c->cp, st, tot->spam_learned, tot->ham_learned);
	return 0;
}

/* Read the counts of ts (st, tot) and combine them; with BNR, b gets
   the message's patterns (b may be NULL: BNR off). */
static int
classify_in(const struct classifier *c, uint64_t dict, const struct tokset *ts,
    int trust_from, struct tokstat *st, struct dtotals *tot, struct verdict *v,
    struct bnr *b, char **err)
{
	size_t i, noise = 0;

	if (dict_read(&c->ds, dict, ts, st, tot, err) < 0)
		return -1;
	if (b != NULL && c->cp.bnr) {
		if (bnr_in(c, dict, ts, st, tot, b, 1, err) < 0)
			return -1;
		for (i = 0; i < ts->len; i++)
			noise += st[i].noise != 0;
	}
	combine(&c->cp, st, ts->len, tot->spam_learned, tot->ham_learned, v);
	v->noise = noise;
	v->from_history = 0;
	if (ts->from_token != 0) {
		for (i = 0; i < ts->len; i++) {
			if (ts->t[i].h != ts->from_token)
				continue;
			v->from_history = st[i].ham >= WHITELIST_HITS &&
			    st[i].spam == 0;
			if (v->from_history && trust_from) {
				v->whitelisted = 1;
				v->spam = 0;
				v->probability = 0.0;
				v->logodds = -700.0;
				v->confidence = 1.0;
			}
			break;
		}
	}
	return 0;
}

static struct tokstat *
stats_for(const struct tokset *ts)
{
	return malloc((ts->len ? ts->len : 1) * sizeof(struct tokstat));
}

int
classify_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int trust_from, struct verdict *v, char **err)
{
	struct dtotals tot;
	struct tokstat *st = stats_for(ts);
	struct bnr b;
	int r;

	if (st == NULL)
		return oom(err);
	bnr_init(&b);
	r = classify_in(c, dict, ts, trust_from, st, &tot, v, &b, err);
	bnr_free(&b);
	free(st);
	return r;
}

/* The hashes of ts, then of b's patterns (b NULL or empty: none);
   *n their number. */
static uint64_t *
hashes(const struct tokset *ts, const struct bnr *b, size_t *n)
{
	size_t np = b != NULL ? b->pat.len : 0, i;
	uint64_t *h = malloc((ts->len + np + 1) * sizeof(*h));

	if (h == NULL)
		return NULL;
	for (i = 0; i < ts->len; i++)
		h[i] = ts->t[i].h;
	for (i = 0; i < np; i++)
		h[ts->len + i] = b->pat.t[i].h;
	*n = ts->len + np;
	return h;
}

/* st (the counts of ts) grown to hold b's patterns' after them */
static struct tokstat *
with_patterns(struct tokstat *st, const struct tokset *ts, const struct bnr *b)
{
	struct tokstat *ns;

	if (b->pat.len == 0)
		return st;
	if ((ns = realloc(st, (ts->len + b->pat.len) * sizeof(*ns))) == NULL)
		return NULL;
	if (b->pst != NULL)
		memcpy(ns + ts->len, b->pst, b->pat.len * sizeof(*ns));
	else
		memset(ns + ts->len, 0, b->pat.len * sizeof(*ns));
	return ns;
}

/*
 * Leave token t out of h and st (n entries): an untrusted message that
 * claims a whitelisted From: must neither add to nor take from that
 * sender's history (counted as spam, a forged From: would end the real
 * sender's whitelisting). Returns the new count.
 */
static size_t
drop_token(uint64_t *h, struct tokstat *st, size_t n, uint64_t t)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++)
		if (h[i] != t) {
			h[o] = h[i];
			st[o] = st[i];
			o++;
		}
	return o;
}

int
classify_and_learn(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int trust_from, struct verdict *v,
    const char *sig_id, char **err)
{
	struct dtotals tot;
	struct tokstat *st = stats_for(ts), *ns;
	struct dwrite *w = NULL;
	struct sig s;
	int64_t delta[T_COUNT] = { 0 };
	uint64_t *h = NULL;
	uint32_t maxhits = 0;
	size_t nh;
	struct bnr b;
	int learn = 0, r = -1;

	if (st == NULL)
		return oom(err);
	bnr_init(&b);
	if (classify_in(c, dict, ts, trust_from, st, &tot, v, &b, err) < 0)
		goto done;
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
	/* the patterns are learned and kept in the signature like words */
	if ((h = hashes(ts, &b, &nh)) == NULL ||
	    (w = dwrite_begin(&c->ds)) == NULL) {
		oom(err);
		goto done;
	}
	if ((ns = with_patterns(st, ts, &b)) == NULL) {
		oom(err);
		goto done;
	}
	st = ns;
	if (v->from_history && !trust_from)
		nh = drop_token(h, st, nh, ts->from_token);
	if (learn) {
		dwrite_tokens(w, dict, h, st, nh, v->spam ? 1 : 0,
		    v->spam ? 0 : 1, maxhits);
		delta[v->spam ? T_SPAM_LEARNED : T_HAM_LEARNED] = 1;
		if (maxhits > 0) {
			/* the signature lists what was counted, so that a
			   correction undoes exactly that (TUM skips mature
			   tokens) */
			size_t i, o = 0, n = nh;

			for (i = 0; i < n; i++)
				if ((uint64_t)st[i].spam + st[i].ham < maxhits)
					h[o++] = h[i];
			nh = o;
		}
	}
	delta[v->spam ? T_SPAM_CLASSIFIED : T_HAM_CLASSIFIED] = 1;
	dwrite_totals(w, dict, delta);
	if (sig_id != NULL) {
		s.dict = dict;
		s.klass = s.orig = v->spam;
		s.learned = learn;
		s.h = h;
		s.n = nh;
		if (sig_write(w, sig_id, &s, c->sig_ttl, err) < 0)
			goto done;
	}
	r = dwrite_run(w, err) < 0 ? -1 : 0;
	w = NULL;
done:
	dwrite_abort(w);
	bnr_free(&b);
	free(h);
	free(st);
	return r;
}

int
train_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int klass, enum train_source src, char **err)
{
	struct dtotals tot;
	struct tokstat *st = NULL;
	struct dwrite *w;
	struct bnr b;
	int64_t delta[T_COUNT] = { 0 };
	uint64_t *h = NULL;
	size_t nh = 0;
	int pass, r = -1;

	bnr_init(&b);
	if (c->cp.bnr && ts->nseq >= 3) {
		/* the patterns, from the dictionary as it is */
		if ((st = stats_for(ts)) == NULL) {
			oom(err);
			goto done;
		}
		if (dict_read(&c->ds, dict, ts, st, &tot, err) < 0 ||
		    bnr_in(c, dict, ts, st, &tot, &b, 0, err) < 0)
			goto done;
	}
	if ((h = hashes(ts, &b, &nh)) == NULL || (w = dwrite_begin(&c->ds)) == NULL) {
		oom(err);
		goto done;
	}
	if (src == SRC_ERROR) {
		dwrite_tokens(w, dict, h, NULL, nh, klass ? 1 : -1,
		    klass ? -1 : 1, 0);
		delta[klass ? T_HAM_LEARNED : T_SPAM_LEARNED] = -1;
		delta[klass ? T_SPAM_LEARNED : T_HAM_LEARNED] = 1;
		delta[klass ? T_SPAM_MISS : T_HAM_MISS] = 1;
	} else {
		dwrite_tokens(w, dict, h, NULL, nh, klass ? 1 : 0,
		    klass ? 0 : 1, 0);
		delta[klass ? T_SPAM_LEARNED : T_HAM_LEARNED] = 1;
		delta[klass ? T_SPAM_CORPUS : T_HAM_CORPUS] = 1;
	}
	dwrite_totals(w, dict, delta);
	if (dwrite_run(w, err) < 0)
		goto done;
	/* inoculation: train again while the dictionary still disagrees */
	for (pass = 1; src == SRC_INOCULATION && pass < INOCULATION_PASSES; pass++) {
		struct verdict v;
		struct bnr cb;
		int rc;

		if (st == NULL && (st = stats_for(ts)) == NULL) {
			oom(err);
			goto done;
		}
		bnr_init(&cb);
		rc = classify_in(c, dict, ts, 0, st, &tot, &v, &cb, err);
		bnr_free(&cb);
		if (rc < 0)
			goto done;
		if (v.spam == klass)
			break;
		if ((w = dwrite_begin(&c->ds)) == NULL) {
			oom(err);
			goto done;
		}
		dwrite_tokens(w, dict, h, NULL, nh, klass ? 1 : 0,
		    klass ? 0 : 1, 0);
		if (dwrite_run(w, err) < 0)
			goto done;
	}
	r = 0;
done:
	bnr_free(&b);
	free(h);
	free(st);
	return r;
}

/* The counts of message m's tokens (mst, in m's order) from those of
   acc (ast), less the message itself in class klass */
static void
counts_without(const struct tokset *m, struct tokstat *mst,
    const struct tokset *acc, const struct tokstat *ast, int klass)
{
	size_t j, k = 0;

	for (j = 0; j < m->len; j++) {
		while (k < acc->len && acc->t[k].h < m->t[j].h)
			k++;	/* both sorted, m's tokens all in acc */
		mst[j] = ast[k];
		if (klass && mst[j].spam > 0)
			mst[j].spam--;
		else if (!klass && mst[j].ham > 0)
			mst[j].ham--;
	}
}

/* The patterns of each message of ts (once per message) into pacc,
   from the counts acc (the union of their words) has now; alone (the
   words already trained), each message's from the dictionary without
   it, as if it had been trained last. */
static int
corpus_patterns(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, size_t n, int klass, int alone,
    const struct tokset *acc, struct tokset *pacc, char **err)
{
	struct tokstat *st = malloc((acc->len ? acc->len : 1) * sizeof(*st));
	struct tokstat *mst = NULL;
	struct dtotals tot;
	size_t i, j, most = 1;
	int r = -1;

	for (i = 0; i < n; i++)
		if (ts[i].len > most)
			most = ts[i].len;
	if (st == NULL || (alone && (mst = malloc(most * sizeof(*mst))) == NULL)) {
		free(st);
		return oom(err);
	}
	if (dict_read(&c->ds, dict, acc, st, &tot, err) < 0)
		goto done;
	if (alone && (klass ? tot.spam_learned : tot.ham_learned) > 0) {
		if (klass)
			tot.spam_learned--;
		else
			tot.ham_learned--;
	}
	for (i = 0; i < n; i++) {
		struct bnr b;
		int rb;

		bnr_init(&b);
		if (alone) {
			counts_without(&ts[i], mst, acc, st, klass);
			rb = bnr_build(&b, &c->cp, &ts[i], mst, ts[i].seq,
			    ts[i].nseq, tot.spam_learned, tot.ham_learned);
		} else
			rb = bnr_build(&b, &c->cp, acc, st, ts[i].seq,
			    ts[i].nseq, tot.spam_learned, tot.ham_learned);
		if (rb < 0) {
			bnr_free(&b);
			oom(err);
			goto done;
		}
		for (j = 0; j < b.pat.len; j++)
			if (tokset_add(pacc, b.pat.t[j].h) < 0) {
				bnr_free(&b);
				oom(err);
				goto done;
			}
		bnr_free(&b);
	}
	r = 0;
done:
	free(mst);
	free(st);
	return r;
}

int
train_corpus_many(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, size_t n, int klass, int what, char **err)
{
	struct tokset acc, pacc;
	struct dwrite *w = NULL;
	int64_t delta[T_COUNT] = { 0 };
	size_t i, j;
	int r = -1;

	/* every token with the number of messages that have it */
	tokset_init(&acc);
	tokset_init(&pacc);
	for (i = 0; i < n; i++)
		for (j = 0; j < ts[i].len; j++)
			if (tokset_add(&acc, ts[i].t[j].h) < 0) {
				oom(err);
				goto done;
			}
	tokset_finish(&acc);
	/* BNR: the patterns from the dictionary before this batch */
	if (c->cp.bnr && (what & TRAIN_PATTERNS) &&
	    corpus_patterns(c, dict, ts, n, klass, !(what & TRAIN_WORDS), &acc,
	    &pacc, err) < 0)
		goto done;
	tokset_finish(&pacc);
	if ((w = dwrite_begin(&c->ds)) == NULL) {
		oom(err);
		goto done;
	}
	for (i = 0; (what & TRAIN_WORDS) && i < acc.len; i++)
		dwrite_token(w, dict, acc.t[i].h, klass ? acc.t[i].n : 0,
		    klass ? 0 : acc.t[i].n);
	for (i = 0; i < pacc.len; i++)
		dwrite_token(w, dict, pacc.t[i].h, klass ? pacc.t[i].n : 0,
		    klass ? 0 : pacc.t[i].n);
	if (what & TRAIN_WORDS) {
		delta[klass ? T_SPAM_LEARNED : T_HAM_LEARNED] = (int64_t)n;
		delta[klass ? T_SPAM_CORPUS : T_HAM_CORPUS] = (int64_t)n;
		dwrite_totals(w, dict, delta);
	}
	r = dwrite_run(w, err) < 0 ? -1 : 0;
	w = NULL;
done:
	dwrite_abort(w);
	tokset_free(&acc);
	tokset_free(&pacc);
	return r;
}

/* One attempt; 0 when the signature changed meanwhile (try again). */
static int
retrain_once(const struct classifier *c, const char *sig_id, int klass,
    char **err)
{
	struct dwrite *w = NULL;
	struct sig s, now;
	int64_t delta[T_COUNT] = { 0 };
	int r;

	if ((r = sig_read(&c->ds, sig_id, &s, err)) <= 0)
		return r < 0 ? -1 : 2;
	if (s.klass == klass && s.learned) {
		sig_free(&s);
		return 1;		/* already counted as that */
	}
	r = -1;
	if ((w = dwrite_begin(&c->ds)) == NULL || sig_expect(w, sig_id, &s) < 0) {
		oom(err);
		goto done;
	}
	if (s.learned) {
		dwrite_tokens(w, s.dict, s.h, NULL, s.n, klass ? 1 : -1,
		    klass ? -1 : 1, 0);
		delta[klass ? T_HAM_LEARNED : T_SPAM_LEARNED] = -1;
	} else {
		dwrite_tokens(w, s.dict, s.h, NULL, s.n, klass ? 1 : 0,
		    klass ? 0 : 1, 0);
	}
	delta[klass ? T_SPAM_LEARNED : T_HAM_LEARNED] = 1;
	if (s.klass != klass && klass != s.orig) {
		/* the classification was wrong */
		delta[s.orig ? T_SPAM_CLASSIFIED : T_HAM_CLASSIFIED] = -1;
		delta[klass ? T_SPAM_MISS : T_HAM_MISS] = 1;
	} else if (s.klass != klass) {
		/* corrected back: it was right after all */
		delta[s.orig ? T_SPAM_CLASSIFIED : T_HAM_CLASSIFIED] = 1;
		delta[s.klass ? T_SPAM_MISS : T_HAM_MISS] = -1;
	} else {
		delta[klass ? T_SPAM_CORPUS : T_HAM_CORPUS] = 1;
	}
	dwrite_totals(w, s.dict, delta);
	now = s;
	now.klass = klass;
	now.learned = 1;
	if (sig_write(w, sig_id, &now, c->sig_ttl, err) < 0)
		goto done;
	r = dwrite_run(w, err);
	w = NULL;
done:
	dwrite_abort(w);
	sig_free(&s);
	return r;
}

int
retrain_signature(const struct classifier *c, const char *sig_id, int klass,
    char **err)
{
	int attempt, r = 0;

	/* a concurrent correction of the same message wins; we then see
	   its result and apply ours on top (or nothing, if the same) */
	for (attempt = 0; attempt < 5; attempt++) {
		r = retrain_once(c, sig_id, klass, err);
		if (r != 0)
			break;
	}
	if (r == 0) {
		if (err)
			*err = strdup("dspam: signature kept changing; not retrained");
		return -1;
	}
	return r == 2 ? 0 : r;
}
