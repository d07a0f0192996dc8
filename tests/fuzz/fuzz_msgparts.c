/*
 * NAME
 *	fuzz_msgparts - libFuzzer target for the core's MIME reader
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] msgparts
 * DESCRIPTION
 *	Each input is a message, read the two ways the core reads one: as
 *	a standalone message (msgparts_parse: mbox "From " line, header,
 *	GMime's parse or the one-leaf path) and as the MTA hands it over,
 *	header fields and body apart (msgparts_from). Every part's content
 *	is decoded and every text part converted; every field value goes
 *	through the RFC 2047 decoder.
 *
 *	Beyond the sanitizers: the list starts with a root and every
 *	parent comes before its children; offsets lie within the body and
 *	in order; every string is there; text is valid UTF-8.
 * DIAGNOSTICS
 *	abort() when an invariant above fails.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgparts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* valid UTF-8, NULs allowed (glib's check refuses them) */
static int
valid(const char *t, size_t len)
{
	while (len > 0) {
		const char *z = memchr(t, 0, len);
		size_t n = z ? (size_t)(z - t) : len;

		if (!g_utf8_validate(t, (gssize)n, NULL))
			return 0;
		t += n;
		len -= n;
		if (z) {
			t++;
			len--;
		}
	}
	return 1;
}

static void
check(struct mm_parts *p, size_t bodylen)
{
	size_t n = msgparts_count(p);

	if (n == 0 || msgparts_at(p, 0)->parent != -1)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct mm_part *pt = msgparts_at(p, i);
		const unsigned char *d;
		const char *t;
		size_t dl, tl;

		if (pt->type == NULL || (i > 0 && (pt->parent < 0 || (size_t)pt->parent >= i)))
			abort();
		if (pt->content_start >= 0 && (pt->content_end < pt->content_start ||
		    (size_t)pt->content_end > bodylen))
			abort();
		if (pt->start >= 0 && (size_t)pt->start > bodylen)
			abort();
		for (size_t k = 0; k < pt->nnames; k++)
			if (pt->names[k] == NULL)
				abort();
		for (size_t k = 0; k < pt->ntypes; k++)
			if (pt->types[k] == NULL)
				abort();
		for (size_t k = 0; k < pt->nfields; k++) {
			char *v = msgparts_header_decode(pt->fields[k].value);
			if (v == NULL || !g_utf8_validate(v, -1, NULL))
				abort();
			free(v);
		}
		if ((msgparts_data(p, i, &d, &dl) == 0) != (pt->kind == MM_PART_LEAF))
			abort();
		if (msgparts_text(p, i, &t, &tl) == 0 && !valid(t, tl))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgparts_field f[64];
	char *copy = malloc(size + 1), *pos, *end, *body;
	struct mm_parts *p;
	size_t nf = 0, skip = 0;

	p = msgparts_parse(data, size);
	if (size >= 5 && memcmp(data, "From ", 5) == 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		skip = nl ? (size_t)(nl - data) + 1 : size;
	}
	check(p, size - skip - p->body_off);
	msgparts_free(p);

	/* fields as an MTA passes them: "name: value" lines, up to an
	   empty line; the rest is the body */
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = 0;
	pos = copy;
	end = copy + size;
	while (pos < end && nf < 64) {
		char *nl = memchr(pos, '\n', (size_t)(end - pos)), *colon;

		if (nl == NULL || nl == pos)
			break;
		*nl = 0;
		if ((colon = strchr(pos, ':')) == NULL)
			break;
		*colon = 0;
		f[nf].name = pos;
		f[nf].value = colon + 1;
		nf++;
		pos = nl + 1;
	}
	body = pos < end && *pos == '\n' ? pos + 1 : pos;
	p = msgparts_from(f, nf, (const unsigned char *)body, (size_t)(end - body));
	check(p, (size_t)(end - body));
	msgparts_free(p);
	free(copy);
	return 0;
}
