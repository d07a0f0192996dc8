/*
 * NAME
 *	words - Subject words: RFC 2047 decoding and folding of look-alikes
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	char *f = policy_fold_header(api, "=?UTF-8?B?VsOtYWdyYQ==?= offer");
 *	const char *w = policy_word_in(conf->porn_words, f);   "viagra"
 *	free(f);
 * DESCRIPTION
 *	policy_fold_header() decodes the encoded-words of a header value
 *	with the core's reader (api->header_decode: RFC 2047, each word on
 *	its own, the result UTF-8) and folds the result with policy_fold().
 *
 *	policy_fold() makes spellings that look alike compare equal:
 *	letters in lower case; accented Latin letters (Latin-1 and Latin
 *	Extended-A) as their base letter; combining marks, soft hyphens,
 *	zero-width and other invisible characters dropped; Cyrillic and
 *	Greek letters that look like Latin ones, fullwidth forms and the
 *	mathematical alphanumeric letters as those Latin letters; runs of
 *	blanks as one space. Other characters stay as they are. The words
 *	of the options are folded the same way, so "frëe" in porn_words
 *	and "FRЕE" (Cyrillic Е) in a Subject are both "free".
 *
 *	policy_word_in() finds the first listed (folded) word contained in
 *	a folded value.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

/* U+00C0..U+00FF; '-' keeps the character */
static const char latin1[] =
	"aaaaaaaceeeeiiii" "dnooooo-ouuuuyts"
	"aaaaaaaceeeeiiii" "dnooooo-ouuuuyty";
/* U+0100..U+017F */
static const char latin_ext_a[] =
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii" "iijjkkk"
	"llllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

struct pair {
	uint32_t cp;
	char c;
};

/* Cyrillic and Greek letters drawn like Latin ones */
static const struct pair lookalike[] = {
	{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' },
	{ 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039a, 'k' }, { 0x039c, 'm' },
	{ 0x039d, 'n' }, { 0x039f, 'o' }, { 0x03a1, 'p' }, { 0x03a4, 't' },
	{ 0x03a5, 'y' }, { 0x03a7, 'x' }, { 0x03b1, 'a' }, { 0x03b5, 'e' },
	{ 0x03b9, 'i' }, { 0x03ba, 'k' }, { 0x03bd, 'v' }, { 0x03bf, 'o' },
	{ 0x03c1, 'p' }, { 0x03c4, 't' }, { 0x03c5, 'u' }, { 0x03c7, 'x' },
	{ 0x0405, 's' }, { 0x0406, 'i' }, { 0x0408, 'j' }, { 0x0410, 'a' },
	{ 0x0412, 'b' }, { 0x0415, 'e' }, { 0x041a, 'k' }, { 0x041c, 'm' },
	{ 0x041d, 'h' }, { 0x041e, 'o' }, { 0x0420, 'p' }, { 0x0421, 'c' },
	{ 0x0422, 't' }, { 0x0423, 'y' }, { 0x0425, 'x' }, { 0x0430, 'a' },
	{ 0x0435, 'e' }, { 0x043a, 'k' }, { 0x043c, 'm' }, { 0x043d, 'h' },
	{ 0x043e, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0442, 't' },
	{ 0x0443, 'y' }, { 0x0445, 'x' }, { 0x0455, 's' }, { 0x0456, 'i' },
	{ 0x0458, 'j' }, { 0x04bb, 'h' }, { 0x0501, 'd' },
};

static int
invisible(uint32_t cp)
{
	return cp == 0xad || (cp >= 0x300 && cp <= 0x36f) ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xfeff || cp == 0x034f || (cp >= 0xfe00 && cp <= 0xfe0f);
}

/* The ASCII letter a code point folds to, or 0 */
static int
fold_cp(uint32_t cp)
{
	if (cp < 0x80)
		return tolower((int)cp);
	if (cp >= 0xc0 && cp <= 0xff && latin1[cp - 0xc0] != '-')
		return latin1[cp - 0xc0];
	if (cp >= 0x100 && cp <= 0x17f)
		return latin_ext_a[cp - 0x100];
	if (cp >= 0xff01 && cp <= 0xff5e)
		return tolower((int)(cp - 0xff01 + 0x21));
	if (cp >= 0x1d400 && cp <= 0x1d6a3) {
		int k = (int)((cp - 0x1d400) % 52);
		return k < 26 ? 'a' + k : 'a' + k - 26;
	}
	if (cp >= 0x1d7ce && cp <= 0x1d7ff)
		return '0' + (int)((cp - 0x1d7ce) % 10);
	for (size_t i = 0; i < sizeof(lookalike) / sizeof(lookalike[0]); i++)
		if (lookalike[i].cp == cp)
			return lookalike[i].c;
	return 0;
}

/* Decode one UTF-8 sequence at s (len left); 0 bytes: invalid (take one
   byte as it is). */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

char *
policy_fold(const char *utf8, size_t len)
{
	const unsigned char *s = (const unsigned char *)utf8;
	char *out = malloc(len + 1), *o = out;
	int blank = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		int c;

		if (n == 0) {		/* not UTF-8: the byte as it is */
			*o++ = (char)s[i++];
			blank = 0;
			continue;
		}
		if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' ||
		    cp == 0xa0 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x3000) {
			if (!blank && o != out)
				*o++ = ' ';
			blank = 1;
			i += n;
			continue;
		}
		blank = 0;
		if (invisible(cp)) {
			i += n;
			continue;
		}
		if ((c = fold_cp(cp)) != 0) {
			*o++ = (char)c;
			if (cp == 0xdf || cp == 0xe6 || cp == 0xc6)	/* ß æ Æ */
				*o++ = cp == 0xdf ? 's' : 'e';
		} else {
			memcpy(o, s + i, n);
			o += n;
		}
		i += n;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

char *
policy_fold_header(const struct mm_api *api, const char *value)
{
	char *dv, *res;

	if ((dv = api->header_decode(value)) == NULL)
		return NULL;
	res = policy_fold(dv, strlen(dv));
	api->free(dv);
	return res;
}

const char *
policy_word_in(char *const *list, const char *folded)
{
	for (size_t i = 0; list && list[i]; i++)
		if (*list[i] && strstr(folded, list[i]))
			return list[i];
	return NULL;
}
