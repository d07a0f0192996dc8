/*
 * NAME
 *	parttext - a part's decoded content, and its text as UTF-8
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	msgparts_data(p, i, &data, &len);	(transfer encoding undone)
 *	msgparts_text(p, i, &text, &len);	(text parts, as UTF-8)
 *	char *v = msgparts_header_decode(value);	(RFC 2047)
 * DESCRIPTION
 *	Both are made when first asked for and kept with the parse, under
 *	its lock (a hook abandoned after its timeout may still read while
 *	the next plugin of the chain asks). Content without a transfer
 *	encoding to undo is given in place, without a copy.
 *
 *	Base64, quoted-printable and uuencode are undone with GMime's
 *	decoders; characters outside the base64 alphabet are skipped.
 *
 *	Text is converted from its declared charset with iconv (GMime's
 *	names and aliases), bytes the charset does not define skipped;
 *	ISO-8859-1 is converted directly. Without a charset, with UTF-8 or
 *	US-ASCII declared, or with a charset iconv does not know, text
 *	that is valid UTF-8 stays as it is; any byte that is not part of
 *	valid UTF-8 is read as Windows-1252 (the usual truth of undeclared
 *	8-bit mail; its five undefined bytes become U+FFFD). The result is
 *	always valid UTF-8.
 * DIAGNOSTICS
 *	msgparts_data() and msgparts_text() return -1 for a part that is
 *	not a leaf (or, for text, not a text/ leaf).
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "msgparts.h"
#include "util.h"

/* Windows-1252 0x80..0x9f as Unicode; 0xfffd where undefined */
static const unsigned short cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};


/* Valid UTF-8 kept, every other byte read as Windows-1252 (latin1: as
   ISO-8859-1); NULL when s is valid UTF-8 as it is. */
static char *
fix_utf8(const char *s, size_t len, int latin1, size_t *outlen)
{
	const char *end;
	char *out, *o;

	if (!latin1 && g_utf8_validate(s, (gssize)len, &end))
		return NULL;
	o = out = xmalloc(len * 3 + 1);
	for (size_t i = 0; i < len; ) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (!latin1) {
			/* one valid sequence at i? */
			const char *q = s + i;
			gunichar u = g_utf8_get_char_validated(q, (gssize)(len - i));

			if (u != (gunichar)-1 && u != (gunichar)-2) {
				size_t n = (size_t)(g_utf8_next_char(q) - q);
				memcpy(o, q, n);
				o += n;
				i += n;
				continue;
			}
		}
		o += mm_utf8_put(o, c >= 0xa0 || latin1 ? c : cp1252[c - 0x80]);
		i++;
	}
	*o = 0;
	*outlen = (size_t)(o - out);
	return out;
}

static int
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	    strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

char *
msgparts_to_utf8(const char *cs, const char *s, size_t len, size_t *outlen)
{
	iconv_t cd;
	char *buf, *ip, *op, *fixed;
	size_t il, ol, cap, fl;

	if (cs == NULL || *cs == 0 || is_utf8_name(cs))
		return fix_utf8(s, len, 0, outlen);
	if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0)
		return fix_utf8(s, len, 1, outlen);
	msgparts_gmime_init();		/* its iconv cache */
	if ((cd = g_mime_iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return fix_utf8(s, len, 0, outlen);
	cap = len * 4 + 16;
	buf = xmalloc(cap + 1);
	ip = (char *)s;
	il = len;
	op = buf;
	ol = cap;
	while (il > 0 && iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		if (errno == E2BIG) {
			/* a byte can stand for several characters (TSCII) */
			size_t used = (size_t)(op - buf);

			cap *= 2;
			buf = xrealloc(buf, cap + 1);
			op = buf + used;
			ol = cap - used;
		} else if (errno == EILSEQ) {
			ip++;		/* skip an invalid byte, keep going */
			il--;
		} else
			break;		/* EINVAL: a sequence cut at the end */
	}
	g_mime_iconv_close(cd);
	*op = 0;
	*outlen = (size_t)(op - buf);
	/* iconv's UTF-8 is not always valid: a charset GMime maps to UTF-8
	   passes sequences beyond U+10FFFF through */
	if ((fixed = fix_utf8(buf, *outlen, 0, &fl)) != NULL) {
		free(buf);
		buf = fixed;
		*outlen = fl;
	}
	return buf;
}

unsigned char *
msgparts_decode(mm_cte cte, const char *in, size_t len, size_t *outlen)
{
	GMimeEncoding st;
	GMimeContentEncoding enc;
	unsigned char *out;
	size_t n;

	switch (cte) {
	case MM_CTE_BASE64: enc = GMIME_CONTENT_ENCODING_BASE64; break;
	case MM_CTE_QP: enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE; break;
	case MM_CTE_UUENCODE: enc = GMIME_CONTENT_ENCODING_UUENCODE; break;
	default:
		out = xmalloc(len + 1);
		memcpy(out, in, len);
		out[len] = 0;
		*outlen = len;
		return out;
	}
	g_mime_encoding_init_decode(&st, enc);
	out = xmalloc(g_mime_encoding_outlen(&st, len) + 1);
	n = g_mime_encoding_flush(&st, in, len, (char *)out);
	out[n] = 0;
	*outlen = n;
	return out;
}

static int
is_encoded(mm_cte c)
{
	return c == MM_CTE_BASE64 || c == MM_CTE_QP || c == MM_CTE_UUENCODE;
}

/* Called with the lock held. */
static void
make_data(struct mm_parts *p, size_t i)
{
	struct part_slot *sl = &p->slot[i];
	const struct mm_part *pt = &p->p[i];

	if (sl->have_data)
		return;
	sl->have_data = 1;
	if (sl->cs > sl->ce) {
		sl->data = (unsigned char *)"";
		sl->dlen = 0;
	} else if (!is_encoded(pt->encoding)) {
		sl->data = (unsigned char *)p->text + sl->cs;
		sl->dlen = sl->ce - sl->cs;
	} else {
		sl->data = msgparts_decode(pt->encoding, p->text + sl->cs,
		    sl->ce - sl->cs, &sl->dlen);
		sl->own_data = 1;
	}
}

int
msgparts_data(struct mm_parts *p, size_t i, const unsigned char **data,
    size_t *len)
{
	if (p == NULL || i >= p->n || p->p[i].kind != MM_PART_LEAF)
		return -1;
	pthread_mutex_lock(&p->lock);
	make_data(p, i);
	*data = p->slot[i].data;
	*len = p->slot[i].dlen;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int
msgparts_raw(struct mm_parts *p, size_t i, const unsigned char **data,
    size_t *len)
{
	const struct part_slot *sl;

	if (p == NULL || i >= p->n || p->p[i].kind != MM_PART_LEAF)
		return -1;
	sl = &p->slot[i];
	*data = (const unsigned char *)p->text + (sl->cs <= sl->ce ? sl->cs : 0);
	*len = sl->cs <= sl->ce ? sl->ce - sl->cs : 0;
	return 0;
}

int
msgparts_text(struct mm_parts *p, size_t i, const char **text, size_t *len)
{
	struct part_slot *sl;

	if (p == NULL || i >= p->n || p->p[i].kind != MM_PART_LEAF ||
	    (p->p[i].type && strncmp(p->p[i].type, "text/", 5) != 0))
		return -1;
	sl = &p->slot[i];
	pthread_mutex_lock(&p->lock);
	if (!sl->have_text) {
		char *u;
		size_t ul;

		make_data(p, i);
		u = msgparts_to_utf8(p->p[i].charset, (const char *)sl->data,
		    sl->dlen, &ul);
		sl->have_text = 1;
		if (u) {
			sl->utf8 = u;
			sl->ulen = ul;
			sl->own_text = 1;
		} else {
			sl->utf8 = (char *)sl->data;
			sl->ulen = sl->dlen;
		}
	}
	*text = sl->utf8;
	*len = sl->ulen;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* RFC 2047 "B" */
static size_t
b64_decode(const char *in, size_t len, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int c = (unsigned char)in[i], v;

		v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
		    c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 2047 "Q": quoted-printable, '_' a space */
static size_t
q_decode(const char *in, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		int hi = i + 2 < len && in[i] == '=' ? hexval((unsigned char)in[i + 1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;

		if (hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 3;
		} else {
			out[o++] = in[i] == '_' ? ' ' : in[i];
			i++;
		}
	}
	return o;
}

/*
 * Each encoded word is decoded and converted on its own (a reader that
 * joins adjacent words of one charset before converting loses text
 * after a stateful charset's first word, ISO-2022-JP's); the blanks
 * between two words go. The result is made valid UTF-8 at the end:
 * raw 8-bit text outside encoded words is read as msgparts_to_utf8()
 * reads undeclared text.
 */
char *
msgparts_header_decode(const char *value)
{
	size_t len, o = 0, i = 0;
	char *buf, *fixed;
	int last_word = 0;

	if (value == NULL)
		return NULL;
	/* most values have nothing to decode: ASCII without "=?" */
	for (const char *q = value; ; q++) {
		if (*q == 0)
			return xstrdup(value);
		if ((unsigned char)*q >= 0x80 || (*q == '=' && q[1] == '?'))
			break;
	}
	len = strlen(value);
	buf = xmalloc(len * 4 + 1);
	while (i < len) {
		const char *v = value, *cs = v + i + 2, *lim = v + len, *q1, *q2 = NULL;

		if (v[i] == '=' && i + 1 < len && v[i + 1] == '?' &&
		    (q1 = memchr(cs, '?', (size_t)(lim - cs))) != NULL &&
		    q1 + 2 < lim && q1[2] == '?') {
			for (const char *e = q1 + 3; e + 1 < lim; e++)
				if (e[0] == '?' && e[1] == '=') {
					q2 = e;
					break;
				}
		}
		if (q2 != NULL) {
			char csname[64], *dec, *conv;
			size_t cl = (size_t)(q1 - cs), tl = (size_t)(q2 - (q1 + 3)), dl, ul;
			int enc = q1[1] == 'b' || q1[1] == 'B';

			if (cl >= sizeof(csname))
				cl = sizeof(csname) - 1;
			memcpy(csname, cs, cl);
			csname[cl] = 0;
			if (strchr(csname, '*'))	/* RFC 2231 language */
				*strchr(csname, '*') = 0;
			dec = xmalloc(tl + 1);
			dl = enc ? b64_decode(q1 + 3, tl, dec) : q_decode(q1 + 3, tl, dec);
			if (last_word)	/* blanks between two words go */
				while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t' ||
				    buf[o - 1] == '\r' || buf[o - 1] == '\n'))
					o--;
			conv = msgparts_to_utf8(csname, dec, dl, &ul);
			if (conv == NULL) {
				conv = dec;
				ul = dl;
				dec = NULL;
			}
			buf = xrealloc(buf, o + ul + (len - i) * 4 + 1);
			memcpy(buf + o, conv, ul);
			o += ul;
			free(conv);
			free(dec);
			i = (size_t)(q2 + 2 - v);
			last_word = 1;
			continue;
		}
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
			last_word = 0;
		buf[o++] = v[i++];
	}
	buf[o] = 0;
	if ((fixed = fix_utf8(buf, o, 0, &len)) != NULL) {
		free(buf);
		return fixed;
	}
	return buf;
}
