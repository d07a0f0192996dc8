/*
 * NAME
 *	bnr - Bayesian noise reduction: words out of their context
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct bnr b;
 *	bnr_init(&b);
 *	bnr_build(&b, &cp, &ts, st, ts.seq, ts.nseq, nspam, nham);
 *	bnr_read(&ds, dict, &b, &err);
 *	bnr_mark(&b, &cp, st, nspam, nham);	(st[i].noise set)
 *	bnr_free(&b);
 * DESCRIPTION
 *	After DSPAM's Bayesian noise reduction (Zdziarski): the body words
 *	in message order are read in windows of three; each window gives a
 *	pattern token, the three words' probabilities f(w) in bands 0.05
 *	wide ("bnr" + three band numbers, hashed: no word token has that
 *	prefix). Patterns are learned in the dictionary like words, with
 *	the class of the message.
 *
 *	At classification, a pattern whose own probability is decided
 *	(|f - 0.5| > cp->bnr_threshold) marks as noise each word of its
 *	window whose f(w) lies on the other side of 0.5, beyond a margin
 *	of 0.1: an innocent word inside a run of spam words, or the
 *	reverse (with cp->bnr_sides BNR_SPAM, only the former). A noise word is left out of the combination once, however
 *	many windows mark it. Patterns themselves are not combined.
 *
 *	The words' probabilities come from the counts of one dictionary
 *	read; the patterns are a second read, since which patterns a
 *	message has depends on the first.
 * DIAGNOSTICS
 *	-1 when out of memory or (bnr_read) the store fails.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dspam.h"

#define BNR_BANDS 20		/* bands 0.05 wide: 0..20 */
#define BNR_MARGIN 0.1		/* a word contradicts beyond 0.5 +- this */

void
bnr_init(struct bnr *b)
{
	memset(b, 0, sizeof(*b));
	tokset_init(&b->pat);
}

void
bnr_free(struct bnr *b)
{
	free(b->idx);
	free(b->wh);
	free(b->pst);
	tokset_free(&b->pat);
	memset(b, 0, sizeof(*b));
}

/* the index of h in a sorted set of n tokens, or n */
static size_t
find(const struct token *t, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && t[lo].h == h ? lo : n;
}

static double
prob(const struct combparams *cp, const struct tokstat *s, uint64_t nspam,
    uint64_t nham)
{
	return combine_token_robinson(cp, s->spam, s->ham, nspam, nham);
}

int
bnr_build(struct bnr *b, const struct combparams *cp,
    const struct tokset *set, const struct tokstat *st, const uint64_t *seq,
    size_t nseq, uint64_t nspam, uint64_t nham)
{
	unsigned char *band;
	size_t i;

	if (nseq < 3)
		return 0;
	b->idx = malloc(nseq * sizeof(*b->idx));
	b->wh = malloc((nseq - 2) * sizeof(*b->wh));
	band = malloc(nseq);
	if (b->idx == NULL || b->wh == NULL || band == NULL) {
		free(band);
		return -1;
	}
	for (i = 0; i < nseq; i++) {
		size_t k = seq[i] ? find(set->t, set->len, seq[i]) : set->len;

		b->idx[i] = k < set->len ? (uint32_t)k : UINT32_MAX;
		band[i] = k < set->len ? (unsigned char)lround(prob(cp, &st[k],
		    nspam, nham) * BNR_BANDS) : 0;
	}
	b->nwin = nseq - 2;
	for (i = 0; i < b->nwin; i++) {
		b->wh[i] = 0;	/* a window across a break: none */
		if (b->idx[i] == UINT32_MAX || b->idx[i + 1] == UINT32_MAX ||
		    b->idx[i + 2] == UINT32_MAX)
			continue;
		b->wh[i] = dspam_hash2("bnr", 3, band + i, 3);
		if (tokset_add(&b->pat, b->wh[i]) < 0) {
			free(band);
			return -1;
		}
	}
	free(band);
	tokset_finish(&b->pat);
	return 0;
}

int
bnr_read(const struct dstore *ds, uint64_t dict, struct bnr *b, char **err)
{
	struct dtotals tot;

	free(b->pst);
	if ((b->pst = malloc((b->pat.len ? b->pat.len : 1) *
	    sizeof(*b->pst))) == NULL) {
		if (err)
			*err = strdup("dspam: out of memory");
		return -1;
	}
	if (b->pat.len == 0)
		return 0;
	return dict_read(ds, dict, &b->pat, b->pst, &tot, err);
}

size_t
bnr_mark(const struct bnr *b, const struct combparams *cp,
    struct tokstat *st, uint64_t nspam, uint64_t nham)
{
	size_t i, j, marked = 0;

	if (b->pst == NULL)
		return 0;
	for (i = 0; i < b->nwin; i++) {
		size_t k;
		double pf;
		int spammy;

		if (b->wh[i] == 0 ||
		    (k = find(b->pat.t, b->pat.len, b->wh[i])) == b->pat.len)
			continue;
		pf = prob(cp, &b->pst[k], nspam, nham);
		if (fabs(pf - 0.5) <= cp->bnr_threshold)
			continue;	/* not decided */
		spammy = pf > 0.5;
		if (!spammy && cp->bnr_sides == BNR_SPAM)
			continue;
		for (j = i; j < i + 3; j++) {
			struct tokstat *w = &st[b->idx[j]];
			double f = prob(cp, w, nspam, nham);

			if (w->noise || (spammy ? f >= 0.5 - BNR_MARGIN :
			    f <= 0.5 + BNR_MARGIN))
				continue;
			w->noise = 1;
			marked++;
		}
	}
	return marked;
}
