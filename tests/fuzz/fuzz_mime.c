/*
 * NAME
 *	fuzz_mime - libFuzzer target for the mime plugin
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] mime
 * DESCRIPTION
 *	Each input goes through the name normaliser and the name policy
 *	(as a file name), the archive scanner (as an attachment's bytes)
 *	and the whole part walk (as a message: header fields up to the
 *	first empty line, as an MTA hands them over, then the body, read
 *	by the core's MIME reader as the daemon's plugin reads it),
 *	followed by the rewrite of whatever the walk found, which must
 *	parse again. Limits are small so that every input stays quick.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "mime.h"
#include "msgparts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *banned[] = { "exe", "scr", "js" };
static struct mime_conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mime_gmime_init();
	conf.banned_ext = banned;
	conf.nbanned_ext = sizeof(banned) / sizeof(banned[0]);
	conf.banned_kinds = (1u << MIME_KIND_EXE) | (1u << MIME_KIND_ELF) |
	    (1u << MIME_KIND_SCRIPT);
	conf.scan_archives = 1;
	conf.max_depth = 4;
	conf.max_parts = 200;
	conf.max_size = 4u << 20;
	return 0;
}

/* Header fields as an MTA passes them: name, value without the first
   space, continuation lines joined with "\n". Returns the count; *body
   is where the body starts. */
static size_t
split(const char *t, size_t len, struct mime_header **hp, size_t *body)
{
	size_t pos = 0, n = 0;
	struct mime_header *h = NULL;

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
			char *old = (char *)h[n - 1].value;
			h[n - 1].value = mime_xasprintf("%s\n%.*s", old, (int)(e - pos),
			    t + pos);
			free(old);
			pos = next;
			continue;
		}
		if ((colon = memchr(t + pos, ':', e - pos)) == NULL)
			break;
		h = mime_xrealloc(h, (n + 1) * sizeof(*h));
		h[n].name = mime_xstrndup(t + pos, (size_t)(colon - (t + pos)));
		colon++;
		if (colon < t + e && *colon == ' ')
			colon++;
		h[n].value = mime_xstrndup(colon, (size_t)(t + e - colon));
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
	struct mime_scan sc;
	struct mime_hit hit = { 0 };
	struct mime_result res = { NULL, 0 };
	struct mime_header *h = NULL;
	struct mime_buf out = { 0 };
	size_t nh, body;
	const char *t = (const char *)data;

	memset(&sc, 0, sizeof(sc));
	sc.conf = &conf;
	if (size < 4096) {
		mime_policy_name(&sc, t, size, "x.zip", &hit, NULL);
		mime_hit_free(&hit);
	}
	mime_archive_scan(&sc, data, size, "fuzz.zip", 1, &hit);
	mime_hit_free(&hit);
	mime_scan_free(&sc);

	memset(&sc, 0, sizeof(sc));
	sc.conf = &conf;
	sc.reader = &msgparts_reader;
	nh = split(t, size, &h, &body);
	mime_walk(&sc, h, nh, t + body, size - body, &res);
	if (res.n > 0) {
		struct mime_result again = { NULL, 0 };
		struct mime_scan sc2;

		mime_rewrite(t + body, size - body, &res, "ID", &out);
		/* what was written must itself go through the walk */
		memset(&sc2, 0, sizeof(sc2));
		sc2.conf = &conf;
		sc2.reader = &msgparts_reader;
		mime_walk(&sc2, h, nh, out.data, out.len, &again);
		mime_result_free(&again);
		mime_scan_free(&sc2);
	}
	mime_buf_free(&out);
	mime_result_free(&res);
	mime_scan_free(&sc);
	for (size_t i = 0; i < nh; i++) {
		free((char *)h[i].name);
		free((char *)h[i].value);
	}
	free(h);
	return 0;
}
