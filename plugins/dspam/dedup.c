/*
 * NAME
 *	dedup - Message-IDs seen in one run of modmilter-dspam
 * SYNOPSIS
 *	#include "dedup.h"
 *
 *	struct dedup *d = dedup_new();
 *	if (dedup_seen(d, msg, len)) skip it;
 *	dedup_free(d);
 * DESCRIPTION
 *	The same mail is often kept twice (a copy in Sent and in a list
 *	folder, a message in two mbox exports); trained twice, it would
 *	count twice. A message is known by the text between < and > of
 *	its first Message-ID field (the whole trimmed value when there are
 *	no brackets), compared exactly. A message without a Message-ID is
 *	never taken for a duplicate: nothing says it is the same mail.
 *
 *	The set keeps a 64-bit SipHash of each id (hash.c), 8 bytes a
 *	message; two different ids of one run share a hash with a
 *	probability of about n^2 / 2^65 (1e-8 for a million messages).
 * DIAGNOSTICS
 *	Memory exhaustion aborts (util.c's x*alloc), as everywhere in the
 *	command.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

#include "dedup.h"
#include "dspam.h"

struct dedup {
	uint64_t *slot;		/* open addressing; 0 is a free slot */
	size_t cap, n;		/* cap a power of two */
};

struct dedup *
dedup_new(void)
{
	struct dedup *d = mm_xcalloc(1, sizeof(*d));

	d->cap = 1024;
	d->slot = mm_xcalloc(d->cap, sizeof(*d->slot));
	return d;
}

void
dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	free(d->slot);
	free(d);
}

/* 1 when h was there already */
static int
insert(struct dedup *d, uint64_t h)
{
	size_t i;

	for (i = h & (d->cap - 1); d->slot[i] != 0; i = (i + 1) & (d->cap - 1))
		if (d->slot[i] == h)
			return 1;
	d->slot[i] = h;
	d->n++;
	return 0;
}

static void
grow(struct dedup *d)
{
	uint64_t *old = d->slot;
	size_t i, cap = d->cap;

	d->cap *= 2;
	d->slot = mm_xcalloc(d->cap, sizeof(*d->slot));
	d->n = 0;
	for (i = 0; i < cap; i++)
		if (old[i] != 0)
			insert(d, old[i]);
	free(old);
}

/* The Message-ID's value in the header, unfolded into buf; its length,
   0 when there is none. */
static size_t
message_id(const unsigned char *msg, size_t len, struct mm_buf *b)
{
	const unsigned char *p = msg, *end = msg + len;

	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *next = eol ? eol + 1 : end;

		if (b->len == 0 && (size_t)(end - p) >= 11 &&
		    strncasecmp((const char *)p, "Message-ID:", 11) == 0) {
			mm_buf_add(b, p + 11, (size_t)(next - p - 11));
			/* folded onto the following lines */
			while (next < end && (*next == ' ' || *next == '\t')) {
				eol = memchr(next, '\n', (size_t)(end - next));
				mm_buf_add(b, next, (size_t)((eol ? eol + 1 : end) - next));
				next = eol ? eol + 1 : end;
			}
			return b->len;
		}
		p = next;
	}
	return 0;
}

int
dedup_seen(struct dedup *d, const unsigned char *msg, size_t len)
{
	struct mm_buf b = { 0 };
	const char *s, *e;
	uint64_t h;

	if (message_id(msg, len, &b) == 0) {
		mm_buf_free(&b);
		return 0;
	}
	if ((s = memchr(b.data, '<', b.len)) != NULL &&
	    (e = memchr(s, '>', (size_t)(b.data + b.len - s))) != NULL) {
		s++;
	} else {
		for (s = b.data; s < b.data + b.len && strchr(" \t\r\n", *s); s++)
			;
		for (e = b.data + b.len; e > s && strchr(" \t\r\n", e[-1]); e--)
			;
	}
	if (e <= s) {
		mm_buf_free(&b);
		return 0;
	}
	h = dspam_hash(s, (size_t)(e - s));
	mm_buf_free(&b);
	if (h == 0)
		h = 1;
	if (2 * (d->n + 1) > d->cap)
		grow(d);
	return insert(d, h);
}
