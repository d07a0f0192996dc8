/*
 * NAME
 *	names - normalise an attachment's file name before judging it
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	struct mime_name n;
 *	mime_name_clean(raw, len, &n);	... n.clean, n.ext, n.flags
 *	mime_name_free(&n);
 * DESCRIPTION
 *	Turns a name as a mail client or archiver would show it into the
 *	name Windows would act on:
 *
 *	- invalid UTF-8 is repaired (U+FFFD);
 *	- bidirectional controls (U+202A..U+202E, U+2066..U+2069,
 *	  U+200E, U+200F, U+061C) are removed and MIME_NAME_BIDI is set:
 *	  "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf";
 *	- other invisible characters (format and control characters,
 *	  zero-width joiners, variation selectors, Hangul fillers) are
 *	  removed and MIME_NAME_INVISIBLE is set;
 *	- the result is NFKC-normalised, so full-width or ligature
 *	  look-alikes ("ｅｘｅ") become their plain letters;
 *	- only the last path component is kept ('/' or '\\');
 *	- trailing dots, white space and stray double quotes are dropped,
 *	  as Windows does (MIME_NAME_TRIMMED);
 *	- a trailing ".{CLSID}" sets MIME_NAME_CLSID and is looked
 *	  through for the extension before it;
 *	- white space right before the last dot ("a.pdf      .exe")
 *	  sets MIME_NAME_PADDED.
 *
 *	n.ext is the last extension, case-folded, without the dot ("" if
 *	none or longer than 31 bytes).
 * DIAGNOSTICS
 *	None: every input gives a (possibly empty) name.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "mime.h"

static int
is_bidi(gunichar c)
{
	return c == 0x061C || c == 0x200E || c == 0x200F ||
	    (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

static int
is_invisible(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);

	if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT)
		return 1;
	return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) ||
	    (c >= 0x180B && c <= 0x180F) || c == 0x034F || c == 0x115F ||
	    c == 0x1160 || c == 0x3164 || c == 0xFFA0 || c == 0x17B4 ||
	    c == 0x17B5;
}

/* Remove bidi controls and invisible characters; flags say which. */
static GString *
strip_invisible(const char *s, unsigned *flags)
{
	GString *out = g_string_sized_new(strlen(s));

	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (is_bidi(c))
			*flags |= MIME_NAME_BIDI;
		else if (is_invisible(c))
			*flags |= MIME_NAME_INVISIBLE;
		else
			g_string_append_unichar(out, c);
	}
	return out;
}

static int
is_trailing_junk(gunichar c)
{
	return c == '.' || c == '"' || g_unichar_isspace(c) ||
	    g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR;
}

/* Length of s without trailing dots and white space. */
static size_t
trimmed_len(const char *s, size_t len)
{
	while (len > 0) {
		const char *prev = g_utf8_find_prev_char(s, s + len);

		if (prev == NULL || !is_trailing_junk(g_utf8_get_char(prev)))
			break;
		len = (size_t)(prev - s);
	}
	return len;
}

/* Does s[0..len) end in ".{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"? */
static int
ends_in_clsid(const char *s, size_t len)
{
	static const char pat[] = ".{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}";
	size_t pl = sizeof(pat) - 1;
	const char *t;

	if (len < pl)
		return 0;
	t = s + len - pl;
	for (size_t i = 0; i < pl; i++) {
		if (pat[i] == 'X') {
			if (!g_ascii_isxdigit(t[i]))
				return 0;
		} else if (t[i] != pat[i])
			return 0;
	}
	return 1;
}

int
mime_name_clean(const char *raw, size_t len, struct mime_name *n)
{
	char *valid, *norm, *base, *dot, *folded;
	GString *vis;
	size_t blen, stem;

	memset(n, 0, sizeof(*n));
	valid = g_utf8_make_valid(raw ? raw : "", raw ? (gssize)len : 0);
	vis = strip_invisible(valid, &n->flags);
	g_free(valid);
	norm = g_utf8_normalize(vis->str, (gssize)vis->len, G_NORMALIZE_NFKC);
	g_string_free(vis, TRUE);
	if (norm == NULL)
		norm = g_strdup("");
	/* normalisation may produce characters stripped above */
	vis = strip_invisible(norm, &n->flags);
	g_free(norm);

	base = vis->str;
	for (char *p = vis->str; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	blen = strlen(base);
	stem = trimmed_len(base, blen);
	if (stem != blen)
		n->flags |= MIME_NAME_TRIMMED;
	n->clean = mime_xstrndup(base, stem);
	g_string_free(vis, TRUE);

	blen = stem;
	if (ends_in_clsid(n->clean, blen)) {
		n->flags |= MIME_NAME_CLSID;
		blen = trimmed_len(n->clean, blen - 39);
	}
	dot = NULL;
	for (size_t i = blen; i-- > 0;)
		if (n->clean[i] == '.') {
			dot = n->clean + i;
			break;
		}
	if (dot == NULL)
		return 0;
	if (dot > n->clean) {
		const char *prev = g_utf8_find_prev_char(n->clean, dot);
		if (prev && (g_unichar_isspace(g_utf8_get_char(prev)) ||
		    g_unichar_type(g_utf8_get_char(prev)) == G_UNICODE_SPACE_SEPARATOR))
			n->flags |= MIME_NAME_PADDED;
	}
	if ((size_t)(n->clean + blen - (dot + 1)) >= sizeof(n->ext) ||
	    dot + 1 == n->clean + blen)
		return 0;
	folded = g_utf8_casefold(dot + 1, n->clean + blen - (dot + 1));
	if (strlen(folded) < sizeof(n->ext))
		strcpy(n->ext, folded);
	g_free(folded);
	return 0;
}

void
mime_name_free(struct mime_name *n)
{
	free(n->clean);
	n->clean = NULL;
}
