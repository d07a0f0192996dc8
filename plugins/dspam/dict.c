/*
 * NAME
 *	dict - token dictionaries and signatures in the core's store
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct dstore ds = { api, store, 30 * 86400.0, 1 };
 *	dict_read(&ds, dict, &ts, stats, &totals, &err);
 *	struct dwrite *w = dwrite_begin(&ds);
 *	dwrite_tokens(w, dict, &ts, stats, +1, 0, 0);
 *	dwrite_totals(w, dict, delta);
 *	dwrite_sig(w, id, &sig, ttl);
 *	dwrite_run(w, &err);			(1 done, 0 conflict, -1 error)
 * DESCRIPTION
 *	Every dictionary (per user, per group, shared) lives in one
 *	database of the core store (LMDB on this host, or Redis shared by
 *	several) under a 64-bit id, the hash of its name:
 *
 *	'T' dict token	a counter record [spam hits, innocent hits]
 *			(ids and hashes 8 bytes big endian, so a
 *			dictionary is one key range);
 *	'T' dict 0	the dictionary's totals, eight counters (struct
 *			dtotals, in its order);
 *	'S' id		a signature: dictionary, class, whether its tokens
 *			are counted, and the token hashes (sig.c).
 *
 *	Reads of one message are one store batch; so are its writes, which
 *	are counter additions: two writers (two threads, two mail hosts)
 *	training at once both count, and counts never go below zero.
 *
 *	Stale rare tokens expire in the store: a token whose hits after a
 *	training are at most purge_hits gets an expiry purge_after from
 *	then; a token with more hits is kept until it falls back (the store
 *	judges on the counts it writes, so concurrent writers agree). LMDB
 *	keeps expired entries until "modmilter-dspam purge" (or any
 *	store_expire) removes them; Redis drops them itself.
 * DIAGNOSTICS
 *	Functions return -1 with *err set to a malloc'ed message when the
 *	store fails (the core logs the backend's own reason).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dspam.h"

#define KEY_LEN 17

static int
seterr(char **err, const char *what)
{
	if (err != NULL && asprintf(err, "dspam store: %s", what) < 0)
		*err = NULL;
	return -1;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void
token_key(unsigned char k[KEY_LEN], uint64_t dict, uint64_t tok)
{
	k[0] = 'T';
	put_be64(k + 1, dict);
	put_be64(k + 9, tok);
}

uint64_t
dstore_dict_id(const char *name)
{
	return dspam_hash2("dict", 4, name, strlen(name));
}

static void
totals_from(const struct mm_api *api, const void *v, size_t vl,
    struct dtotals *t)
{
	uint64_t *f[T_COUNT] = { &t->spam_learned, &t->ham_learned,
	    &t->spam_classified, &t->ham_classified, &t->spam_misclassified,
	    &t->ham_misclassified, &t->spam_corpus, &t->ham_corpus };

	for (size_t i = 0; i < T_COUNT; i++)
		*f[i] = (uint64_t)api->store_counter(v, vl, i);
}

int
dict_read(const struct dstore *ds, uint64_t dict, const struct tokset *ts,
    struct tokstat *st, struct dtotals *tot, char **err)
{
	const struct mm_api *api = ds->api;
	mm_store_batch *b = api->store_batch(ds->st);
	unsigned char k[KEY_LEN];
	const void *v;
	size_t vl, i, n = ts ? ts->len : 0;
	int ti, first = -1, r;

	if (b == NULL)
		return seterr(err, "cannot start a batch");
	token_key(k, dict, 0);
	ti = api->store_batch_get(b, k, sizeof(k));
	for (i = 0; i < n; i++) {
		token_key(k, dict, ts->t[i].h);
		r = api->store_batch_get(b, k, sizeof(k));
		if (i == 0)
			first = r;
	}
	if (ti < 0 || (n && first < 0) || api->store_batch_run(b) != 1) {
		api->store_batch_free(b);
		return seterr(err, "read failed");
	}
	memset(tot, 0, sizeof(*tot));
	if (api->store_result(b, ti, &v, &vl) == 1)
		totals_from(api, v, vl, tot);
	for (i = 0; i < n; i++) {
		st[i].n = ts->t[i].n;
		st[i].spam = st[i].ham = 0;
		st[i].noise = 0;
		if (api->store_result(b, first + (int)i, &v, &vl) == 1) {
			int64_t s = api->store_counter(v, vl, 0);
			int64_t g = api->store_counter(v, vl, 1);
			st[i].spam = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
			st[i].ham = g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
		}
	}
	api->store_batch_free(b);
	return 0;
}

/*
 * A write batch is recorded first and handed to the store when it runs:
 * alone (a batch of its own), or, when the store has a group committer
 * (gcommit.c), together with the writes of other messages in one store
 * transaction. A conditional batch (an expectation) always runs alone.
 */
#define OP_KEY_MAX 40

struct dop {
	unsigned char kind;		/* 'a' add, 'p' put, 'e' expect */
	unsigned char klen;
	unsigned char n;		/* counters of an add */
	unsigned char key[OP_KEY_MAX];
	int64_t d[T_COUNT];
	double ttl;
	int64_t limit;
	unsigned char *val;		/* put, expect (NULL: must be absent) */
	size_t vlen;
};

struct dwrite {
	const struct dstore *ds;
	struct dop *op;
	size_t n, cap;
	int failed, conditional;
};

struct dwrite *
dwrite_begin(const struct dstore *ds)
{
	struct dwrite *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->ds = ds;
	return w;
}

static struct dop *
new_op(struct dwrite *w, int kind, const void *key, size_t klen)
{
	struct dop *o;

	if (klen > OP_KEY_MAX) {
		w->failed = 1;
		return NULL;
	}
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		struct dop *no = realloc(w->op, nc * sizeof(*no));

		if (no == NULL) {
			w->failed = 1;
			return NULL;
		}
		w->op = no;
		w->cap = nc;
	}
	o = &w->op[w->n++];
	o->kind = (unsigned char)kind;
	o->klen = (unsigned char)klen;
	o->n = 0;
	memcpy(o->key, key, klen);
	o->ttl = 0;
	o->limit = -1;
	o->val = NULL;
	o->vlen = 0;
	return o;
}

static void
add_op(struct dwrite *w, const unsigned char *k, const int64_t *d, size_t n,
    double ttl, int64_t limit)
{
	struct dop *o = new_op(w, 'a', k, KEY_LEN);

	if (o == NULL)
		return;
	memcpy(o->d, d, n * sizeof(*d));
	o->n = (unsigned char)n;
	o->ttl = ttl;
	o->limit = limit;
}

void
dwrite_token(struct dwrite *w, uint64_t dict, uint64_t h, int64_t dspam,
    int64_t dham)
{
	const struct dstore *ds = w->ds;
	unsigned char k[KEY_LEN];
	int64_t d[2] = { dspam, dham };

	/* the store decides on the counts it writes: a token with at most
	   purge_hits hits expires purge_after from now, others stay */
	token_key(k, dict, h);
	add_op(w, k, d, 2, ds->purge_after, (int64_t)ds->purge_hits);
}

void
dwrite_tokens(struct dwrite *w, uint64_t dict, const uint64_t *h,
    const struct tokstat *known, size_t n, int dspam, int dham,
    uint32_t maxhits)
{
	for (size_t i = 0; i < n; i++) {
		if (maxhits > 0 && known != NULL && (uint64_t)known[i].spam +
		    known[i].ham >= maxhits && (dspam > 0 || dham > 0))
			continue;	/* a mature token (TUM) */
		dwrite_token(w, dict, h[i], dspam, dham);
	}
}

void
dwrite_totals(struct dwrite *w, uint64_t dict, const int64_t delta[T_COUNT])
{
	unsigned char k[KEY_LEN];

	token_key(k, dict, 0);
	add_op(w, k, delta, T_COUNT, 0, -1);
}

static void
val_op(struct dwrite *w, int kind, const void *key, size_t klen,
    const void *val, size_t vlen, double ttl)
{
	struct dop *o = new_op(w, kind, key, klen);

	if (o == NULL)
		return;
	o->ttl = ttl;
	if (val != NULL) {
		if ((o->val = malloc(vlen ? vlen : 1)) == NULL) {
			w->n--;
			w->failed = 1;
			return;
		}
		memcpy(o->val, val, vlen);
		o->vlen = vlen;
	}
}

void
dwrite_put(struct dwrite *w, const void *key, size_t klen, const void *val,
    size_t vlen, double ttl)
{
	val_op(w, 'p', key, klen, val, vlen, ttl);
}

void
dwrite_expect(struct dwrite *w, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	w->conditional = 1;
	val_op(w, 'e', key, klen, val, vlen, 0);
}

int
dwrite_apply(const struct dwrite *w, mm_store_batch *b)
{
	const struct mm_api *api = w->ds->api;
	size_t i;
	int r = 0;

	if (w->failed)
		return -1;
	for (i = 0; i < w->n && r >= 0; i++) {
		const struct dop *o = &w->op[i];

		if (o->kind == 'a')
			r = api->store_batch_add(b, o->key, o->klen, o->d, o->n,
			    o->ttl, o->limit);
		else if (o->kind == 'p')
			r = api->store_batch_put(b, o->key, o->klen, o->val,
			    o->vlen, o->ttl);
		else
			r = api->store_batch_expect(b, o->key, o->klen, o->val,
			    o->vlen);
	}
	return r < 0 ? -1 : 0;
}

size_t
dwrite_size(const struct dwrite *w)
{
	return w->n;
}

int
dwrite_run(struct dwrite *w, char **err)
{
	const struct dstore *ds = w->ds;
	mm_store_batch *b;
	int r = -1;

	if (!w->failed && ds->gc != NULL && !w->conditional && ds->queued &&
	    gcommit_queue(ds->gc, w) == 0)
		return 1;	/* the writer has it */
	if (!w->failed && ds->gc != NULL && !w->conditional) {
		r = gcommit_submit(ds->gc, w);
	} else if (!w->failed && (b = ds->api->store_batch(ds->st)) != NULL) {
		r = dwrite_apply(w, b) < 0 ? -1 : ds->api->store_batch_run(b);
		ds->api->store_batch_free(b);
	}
	dwrite_abort(w);
	if (r < 0)
		return seterr(err, "write failed");
	return r;
}

void
dwrite_abort(struct dwrite *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->op[i].val);
	free(w->op);
	free(w);
}

struct count_arg {
	size_t n;
};

static int
count_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen, double expires)
{
	const unsigned char *k = key;
	int tot = 1;

	(void)val;
	(void)vlen;
	(void)expires;
	for (size_t i = 9; i < klen; i++)
		tot &= k[i] == 0;
	if (klen == KEY_LEN && !tot)
		((struct count_arg *)arg)->n++;
	return MM_SCAN_NEXT;
}

int
dict_count_tokens(const struct dstore *ds, uint64_t dict, size_t *n, char **err)
{
	unsigned char k[KEY_LEN];
	struct count_arg a = { 0 };

	token_key(k, dict, 0);
	if (ds->api->store_scan(ds->st, k, 9, count_one, &a) < 0)
		return seterr(err, "scan failed");
	*n = a.n;
	return 0;
}

long
dstore_expire(const struct dstore *ds, char **err)
{
	long n = ds->api->store_expire(ds->st);

	if (n < 0)
		seterr(err, "expire failed");
	return n;
}
