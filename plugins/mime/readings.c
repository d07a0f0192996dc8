/*
 * NAME
 *	readings - the ways a message with repeated Content-Type fields
 *	can be read
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	struct mime_readings rd;
 *	n = mime_readings_find(text, len, &rd);
 *	for (k = 0; k < n; k++) {
 *		char *copy = mime_reading(text, len, &rd, k);
 *		... parse and walk copy ...
 *	}
 *	mime_readings_free(&rd);
 * DESCRIPTION
 *	A part with two Content-Type fields is one thing to a reader that
 *	takes the first (text/plain, say) and another to one that takes
 *	the last (a multipart holding an executable). GMime takes one;
 *	the walk must see every one.
 *
 *	mime_readings_find() finds the header blocks that hold more than
 *	one Content-Type field: runs of lines without an empty line or a
 *	boundary line ("--...") between them, each field at a line start.
 *	It returns how many readings the text has: the largest number of
 *	Content-Type fields in one such block (0 when there is none).
 *
 *	mime_reading() returns reading k: a copy of the text in which, in
 *	every such block, each Content-Type field but the k-th (the last
 *	one of a block that has fewer) is renamed MIME_MASKED_CT, a name
 *	of the same length, so that a parser sees exactly one type per
 *	part and every byte offset is the same as in the text. The walk
 *	still takes file names from the renamed fields.
 *
 *	Lines of body text that look like Content-Type fields are renamed
 *	in the copies too; that only changes what the copies say, never
 *	the message.
 * DIAGNOSTICS
 *	None; the copy is malloc'ed (out of memory aborts, as everywhere
 *	in the plugin).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

#define CT_LEN	12		/* strlen("Content-Type") */

static void
add_field(struct mime_readings *rd, size_t off)
{
	rd->f = mime_xrealloc(rd->f, (rd->n + 1) * sizeof(*rd->f));
	rd->f[rd->n].off = off;
	rd->f[rd->n].idx = 0;
	rd->f[rd->n].count = 0;
	rd->n++;
}

/* Keep the fields of the block that started at field first when it has
   more than one; drop them otherwise. */
static void
end_block(struct mime_readings *rd, size_t first, size_t *max)
{
	size_t count = rd->n - first;

	if (count < 2) {
		rd->n = first;
		return;
	}
	for (size_t i = first; i < rd->n; i++) {
		rd->f[i].idx = i - first;
		rd->f[i].count = count;
	}
	if (count > *max)
		*max = count;
}

size_t
mime_readings_find(const char *text, size_t len, struct mime_readings *rd)
{
	size_t pos = 0, first = 0, max = 0;

	memset(rd, 0, sizeof(*rd));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, ll = end - pos;

		if (ll > 0 && text[end - 1] == '\r')
			ll--;
		if (ll == 0 || (ll >= 2 && text[pos] == '-' && text[pos + 1] == '-')) {
			end_block(rd, first, &max);
			first = rd->n;
		} else if (ll > CT_LEN &&
		    strncasecmp(text + pos, "Content-Type", CT_LEN) == 0) {
			size_t c = pos + CT_LEN;

			while (c < end && (text[c] == ' ' || text[c] == '\t'))
				c++;
			if (c < end && text[c] == ':')
				add_field(rd, pos);
		}
		pos = end + 1;
	}
	end_block(rd, first, &max);
	return max;
}

char *
mime_reading(const char *text, size_t len, const struct mime_readings *rd,
    size_t k)
{
	char *copy = mime_xmalloc(len + 1);

	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t i = 0; i < rd->n; i++) {
		size_t keep = k < rd->f[i].count ? k : rd->f[i].count - 1;

		if (rd->f[i].idx != keep)
			memcpy(copy + rd->f[i].off, MIME_MASKED_CT, CT_LEN);
	}
	return copy;
}

void
mime_readings_free(struct mime_readings *rd)
{
	free(rd->f);
	memset(rd, 0, sizeof(*rd));
}
