/*
 * NAME
 *	tokset - a message's tokens: a set of 64-bit hashes with counts
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct tokset ts;
 *	tokset_init(&ts);
 *	tokset_add(&ts, h);	(any number of times)
 *	tokset_finish(&ts);	(sorted by hash, each once with its count)
 *	tokset_free(&ts);
 * DESCRIPTION
 *	The tokenizer adds every token it finds; a token seen again counts
 *	one more occurrence. The set is kept in an open-addressing table
 *	(linear probing on a mixed hash, grown at half full) while tokens
 *	come in, and sorted once at the end by an eight-pass radix sort,
 *	so that the dictionary is read in key order. After tokset_finish()
 *	the set is an array (t[0..len)); tokset_add() may not be called
 *	again. Hash 0 is reserved (the dictionary's totals) and counted as 1.
 * DIAGNOSTICS
 *	tokset_add(): -1 when out of memory (the set stays as it was).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dspam.h"

void
tokset_init(struct tokset *ts)
{
	memset(ts, 0, sizeof(*ts));
}

void
tokset_free(struct tokset *ts)
{
	free(ts->t);
	free(ts->seq);
	memset(ts, 0, sizeof(*ts));
}

static int
tokset_grow(struct tokset *ts)
{
	size_t ncap = ts->cap ? ts->cap * 2 : 1024, i;
	struct token *nt = calloc(ncap, sizeof(*nt));

	if (nt == NULL)
		return -1;
	for (i = 0; i < ts->cap; i++) {
		size_t j;

		if (ts->t[i].h == 0)
			continue;
		j = (size_t)dspam_mix64(ts->t[i].h) & (ncap - 1);
		while (nt[j].h != 0)
			j = (j + 1) & (ncap - 1);
		nt[j] = ts->t[i];
	}
	free(ts->t);
	ts->t = nt;
	ts->cap = ncap;
	return 0;
}

int
tokset_add(struct tokset *ts, uint64_t h)
{
	size_t j;

	if (h == 0)
		h = 1;
	if ((ts->len + 1) * 2 > ts->cap && tokset_grow(ts) < 0)
		return -1;
	j = (size_t)dspam_mix64(h) & (ts->cap - 1);
	while (ts->t[j].h != 0) {
		if (ts->t[j].h == h) {
			if (ts->t[j].n < UINT32_MAX)
				ts->t[j].n++;
			return 0;
		}
		j = (j + 1) & (ts->cap - 1);
	}
	ts->t[j].h = h;
	ts->t[j].n = 1;
	ts->len++;
	return 0;
}

void
tokset_finish(struct tokset *ts)
{
	struct token *tmp;
	size_t i, o = 0, pass;

	/* compact the table to its first len slots */
	for (i = 0; i < ts->cap; i++)
		if (ts->t[i].h != 0)
			ts->t[o++] = ts->t[i];
	if (o < 2 || (tmp = malloc(o * sizeof(*tmp))) == NULL) {
		/* tiny set, or no memory for the radix buffer: insertion sort */
		for (i = 1; i < o; i++) {
			struct token k = ts->t[i];
			size_t j = i;

			while (j > 0 && ts->t[j - 1].h > k.h) {
				ts->t[j] = ts->t[j - 1];
				j--;
			}
			ts->t[j] = k;
		}
		ts->len = o;
		ts->cap = 0;
		return;
	}
	for (pass = 0; pass < 8; pass++) {
		size_t cnt[256] = { 0 }, pos = 0;
		unsigned sh = (unsigned)pass * 8;
		struct token *swap;

		for (i = 0; i < o; i++)
			cnt[(ts->t[i].h >> sh) & 0xff]++;
		for (i = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = pos;
			pos += c;
		}
		for (i = 0; i < o; i++)
			tmp[cnt[(ts->t[i].h >> sh) & 0xff]++] = ts->t[i];
		swap = ts->t;
		ts->t = tmp;
		tmp = swap;
	}
	free(tmp);	/* eight passes: the sorted data is back in ts->t's role */
	ts->len = o;
	/* the table is no longer a hash table: forbid further adds */
	ts->cap = 0;
}
