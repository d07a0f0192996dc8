/*
 * NAME
 *	fuzz_dspam - libFuzzer target for the dspam tokenizer and its reader
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] dspam
 * DESCRIPTION
 *	Each input is a message, read the three ways the plugin and the
 *	command line tool read one: whole, with orthogonal sparse bigrams
 *	and the body word sequence of noise reduction (dspam_tokenize: the
 *	core's MIME reader, then the choice among alternatives, HTML to
 *	text); split into header fields and body as
 *	an MTA hands them over, with chained pairs (dspam_tokenize_parts);
 *	and header only, as header triage does. The MIME reader itself
 *	(decoders, charsets) has its own target, fuzz_msgparts.
 *
 *	Beyond the sanitizers, each token set must come out sorted without
 *	duplicates, and every word of the sequence must be in the set.
 * DIAGNOSTICS
 *	abort() when an invariant above fails.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dspam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_set(const struct tokset *ts)
{
	for (size_t i = 1; i < ts->len; i++)
		if (ts->t[i - 1].h >= ts->t[i].h)
			abort();
}

static int
in_set(const struct tokset *ts, uint64_t h)
{
	size_t lo = 0, hi = ts->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ts->t[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ts->len && ts->t[lo].h == h;
}

static void
check_seq(const struct tokset *ts)
{
	for (size_t i = 0; i < ts->nseq; i++)
		if (ts->seq[i] != 0 && !in_set(ts, ts->seq[i]))
			abort();
}

/* Header fields as an MTA passes them: name, value without the first
   space, continuation lines joined with "\n". Returns the count; *body
   is where the body starts. */
static size_t
split(const char *t, size_t len, struct hdr **hp, size_t *body)
{
	size_t pos = 0, n = 0;
	struct hdr *h = NULL;

	while (pos < len) {
		const char *nl = memchr(t + pos, '\n', len - pos);
		size_t e = nl ? (size_t)(nl - t) : len, next = nl ? e + 1 : len;
		const char *colon;

		if (e > pos && t[e - 1] == '\r')
			e--;
		if (e == pos) {
			pos = next;
			break;
		}
		if ((t[pos] == ' ' || t[pos] == '\t') && n > 0) {
			size_t ol = strlen(h[n - 1].value);
			char *v = realloc((char *)h[n - 1].value, ol + 1 + (e - pos) + 1);

			if (v == NULL)
				abort();
			v[ol] = '\n';
			memcpy(v + ol + 1, t + pos, e - pos);
			v[ol + 1 + (e - pos)] = 0;
			h[n - 1].value = v;
			pos = next;
			continue;
		}
		if ((colon = memchr(t + pos, ':', e - pos)) == NULL)
			break;
		if ((h = realloc(h, (n + 1) * sizeof(*h))) == NULL)
			abort();
		h[n].name = strndup(t + pos, (size_t)(colon - (t + pos)));
		colon++;
		if (colon < t + e && *colon == ' ')
			colon++;
		h[n].value = strndup(colon, (size_t)(t + e - colon));
		if (h[n].name == NULL || h[n].value == NULL)
			abort();
		n++;
		pos = next;
	}
	*hp = h;
	*body = pos;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tokopts osb = { 4, 0, 1 }, chained = { 1, 0, 0 },
	    triage = { 0, 1, 0 };
	const char *t = (const char *)data;
	struct tokset ts;
	struct hdr *h;
	size_t nh, body;

	tokset_init(&ts);
	if (dspam_tokenize(&osb, data, size, &ts) == 0) {
		check_set(&ts);
		check_seq(&ts);
	}
	tokset_free(&ts);

	tokset_init(&ts);
	nh = split(t, size, &h, &body);
	if (dspam_tokenize_parts(&chained, h, nh, data + body, size - body, &ts) == 0)
		check_set(&ts);
	tokset_free(&ts);
	for (size_t i = 0; i < nh; i++) {
		free((char *)h[i].name);
		free((char *)h[i].value);
	}
	free(h);

	tokset_init(&ts);
	if (dspam_tokenize(&triage, data, size, &ts) == 0)
		check_set(&ts);
	tokset_free(&ts);

	return 0;
}
