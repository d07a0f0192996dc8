/*
 * NAME
 *	mime-verify - compare a message with its rewritten copy, part by part
 * SYNOPSIS
 *	mime-verify ORIGINAL REWRITTEN
 * DESCRIPTION
 *	Parses both messages with GMime and walks them side by side.
 *	For each part of ORIGINAL it prints one line:
 *
 *	kept PATH TYPE NAME	the part is in REWRITTEN, its encoded
 *				content byte for byte the same
 *	replaced PATH NAME	REWRITTEN has a WARNING.TXT part there
 *	whole TYPE		REWRITTEN's body is a notice alone
 *
 *	PATH is 1-based indices ("2.1"), NAME the part's file name or
 *	"-". Line ends are compared without CR, so an MTA's LF copy
 *	matches a CRLF one. A leading "From " line is skipped.
 * DIAGNOSTICS
 *	Exit 0 when every part not replaced is identical and REWRITTEN
 *	has no more critical parser warnings than ORIGINAL; 1 otherwise,
 *	with MISMATCH lines; 2 on usage or unreadable files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

static int fails;

static void
count_warning(gint64 off, GMimeParserWarning code, const gchar *item, gpointer p)
{
	(void)off;
	(void)item;
	if (code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY ||
	    code == GMIME_WARN_MALFORMED_MULTIPART ||
	    code == GMIME_WARN_TRUNCATED_MESSAGE ||
	    code == GMIME_WARN_MALFORMED_MESSAGE ||
	    code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT ||
	    code == GMIME_CRIT_INVALID_HEADER_NAME ||
	    code == GMIME_CRIT_NESTING_OVERFLOW)
		(*(int *)p)++;
}

static GMimeMessage *
load(const char *path, int *warnings)
{
	gchar *text;
	gsize len, off = 0;
	GMimeStream *st;
	GMimeParser *p;
	GMimeParserOptions *po;
	GMimeMessage *m;

	if (!g_file_get_contents(path, &text, &len, NULL)) {
		fprintf(stderr, "mime-verify: cannot read %s\n", path);
		exit(2);
	}
	if (len > 5 && memcmp(text, "From ", 5) == 0) {
		const char *nl = memchr(text, '\n', len);
		off = nl ? (gsize)(nl - text) + 1 : len;
	}
	st = g_mime_stream_mem_new_with_buffer(text + off, len - off);
	g_free(text);
	p = g_mime_parser_new_with_stream(st);
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, count_warning, warnings);
	m = g_mime_parser_construct_message(p, po);
	g_mime_parser_options_free(po);
	g_object_unref(p);
	g_object_unref(st);
	if (m == NULL) {
		fprintf(stderr, "mime-verify: %s does not parse\n", path);
		exit(2);
	}
	return m;
}

/* the encoded content, without CRs */
static GByteArray *
content(GMimeObject *o)
{
	GByteArray *out = g_byte_array_new();
	GMimeDataWrapper *dw = GMIME_IS_PART(o) ? g_mime_part_get_content(GMIME_PART(o)) : NULL;
	GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	char buf[4096];
	gssize n;

	if (s == NULL)
		return out;
	g_mime_stream_reset(s);
	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		for (gssize i = 0; i < n; i++)
			if (buf[i] != '\r')
				g_byte_array_append(out, (guint8 *)&buf[i], 1);
	g_mime_stream_reset(s);
	return out;
}

static int
same(const GByteArray *a, const GByteArray *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static const char *
name_of(GMimeObject *o)
{
	const char *n = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
	return n ? n : "-";
}

static int
is_notice(GMimeObject *o)
{
	const char *n = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
	return n && strcmp(n, "WARNING.TXT") == 0;
}

static GMimeObject *
inner(GMimeObject *o)
{
	GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
	return m ? g_mime_message_get_mime_part(m) : NULL;
}

static void
compare(GMimeObject *a, GMimeObject *b, const char *path)
{
	char *ta = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(a));

	if (is_notice(b) && !is_notice(a)) {
		printf("replaced %s %s\n", path, name_of(a));
	} else if (G_OBJECT_TYPE(a) != G_OBJECT_TYPE(b)) {
		printf("MISMATCH %s: %s became %s\n", path, G_OBJECT_TYPE_NAME(a),
		    G_OBJECT_TYPE_NAME(b));
		fails++;
	} else if (GMIME_IS_MULTIPART(a)) {
		int na = g_mime_multipart_get_count(GMIME_MULTIPART(a));
		int nb = g_mime_multipart_get_count(GMIME_MULTIPART(b));
		if (na != nb) {
			printf("MISMATCH %s: %d parts became %d\n", path, na, nb);
			fails++;
		}
		for (int i = 0; i < na && i < nb; i++) {
			char *sub = g_strdup_printf("%s%s%d", path, *path ? "." : "", i + 1);
			compare(g_mime_multipart_get_part(GMIME_MULTIPART(a), i),
			    g_mime_multipart_get_part(GMIME_MULTIPART(b), i), sub);
			g_free(sub);
		}
	} else if (GMIME_IS_MESSAGE_PART(a)) {
		GMimeObject *ia = inner(a), *ib = inner(b);
		char *sub = g_strdup_printf("%s%sm", path, *path ? "." : "");
		if (ia && ib)
			compare(ia, ib, sub);
		else if (ia || ib) {
			printf("MISMATCH %s: embedded message lost\n", path);
			fails++;
		}
		g_free(sub);
	} else {
		GByteArray *ca = content(a), *cb = content(b);
		if (same(ca, cb))
			printf("kept %s %s %s\n", *path ? path : "0", ta, name_of(a));
		else {
			printf("MISMATCH %s %s: content differs (%u vs %u bytes)\n",
			    *path ? path : "0", name_of(a), ca->len, cb->len);
			fails++;
		}
		g_byte_array_free(ca, TRUE);
		g_byte_array_free(cb, TRUE);
	}
	g_free(ta);
}

int
main(int argc, char **argv)
{
	GMimeMessage *ma, *mb;
	GMimeObject *ra, *rb;
	int wa = 0, wb = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: mime-verify ORIGINAL REWRITTEN\n");
		return 2;
	}
	g_mime_init();
	ma = load(argv[1], &wa);
	mb = load(argv[2], &wb);
	ra = g_mime_message_get_mime_part(ma);
	rb = g_mime_message_get_mime_part(mb);
	if (ra && rb && !GMIME_IS_MULTIPART(rb) && !is_notice(rb) &&
	    (G_OBJECT_TYPE(ra) != G_OBJECT_TYPE(rb) || GMIME_IS_PART(ra))) {
		GByteArray *ca = content(ra), *cb = content(rb);
		if (!same(ca, cb) && cb->len > 0 && g_strstr_len((const char *)cb->data, cb->len,
		    "This message contained")) {
			char *t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(ra));
			printf("whole %s\n", t);
			g_free(t);
		} else
			compare(ra, rb, "");
		g_byte_array_free(ca, TRUE);
		g_byte_array_free(cb, TRUE);
	} else if (ra && rb)
		compare(ra, rb, "");
	if (wb > wa) {
		printf("MISMATCH rewritten copy has %d parser warnings, original %d\n",
		    wb, wa);
		fails++;
	}
	g_object_unref(ma);
	g_object_unref(mb);
	g_mime_shutdown();
	return fails ? 1 : 0;
}
