/*
 * NAME
 *	mimetext - the decoded text of a message, for the tokenizer
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	int mimetext_message(const unsigned char *msg, size_t len,
 *	    const struct mimetext_cb *cb, int headers_only);
 *	int mimetext_body(const char *ctype, const char *cte,
 *	    const unsigned char *body, size_t len,
 *	    const struct mimetext_cb *cb);
 * DESCRIPTION
 *	Walks the MIME structure of a message and hands the tokenizer what
 *	a reader would see: header fields unfolded with RFC 2047 words
 *	decoded; text parts with quoted-printable and base64 undone, the
 *	charset converted to UTF-8 (iconv), HTML reduced to the text a
 *	reader sees (htmltext.c), with tag names and link targets reported
 *	apart; nested multiparts and
 *	message/rfc822 parts entered (10 levels at most). Non-text leaves
 *	contribute their part headers only.
 *
 *	Of a multipart/alternative, only one alternative is read, as a
 *	reader sees only one: the first text/plain part, else the last part
 *	(RFC 2046: the sender's preferred). The alternatives carry the same
 *	text; reading both counts the HTML rendering's leftovers (layout,
 *	image names, alt texts, tracking links) on top of the words, and
 *	those look alike in commercial newsletters and in spam.
 *
 *	It is a small reader of its own rather than GMime: the tokenizer
 *	needs decoded text only, at thousands of messages a second, and the
 *	plugin builds without the libraries of the mime plugin (configure
 *	looks for GMime only when that plugin is enabled).
 *
 *	It is a reader of hostile input, not a validator: a missing final
 *	boundary, bad base64, an unknown charset or a truncated header all
 *	give the best text that can be had, never an error.
 * DIAGNOSTICS
 *	-1 when out of memory or when a callback returns -1.
 */
#include "config.h"

#include <ctype.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dspam.h"

#define MAX_DEPTH 10

static int walk_entity(const unsigned char *p, size_t len,
    const struct mimetext_cb *cb, int depth, int headers_only,
    const char *default_type);
static int walk_body(const char *ctype, const char *cte,
    const unsigned char *body, size_t len, const struct mimetext_cb *cb,
    int depth);

/* Length of the line at p (without its end), and of its end. */
static size_t
line_len(const unsigned char *p, size_t len, size_t *eol)
{
	const unsigned char *nl = memchr(p, '\n', len);
	size_t n;

	if (nl == NULL) {
		*eol = 0;
		return len;
	}
	n = (size_t)(nl - p);
	*eol = 1;
	if (n > 0 && p[n - 1] == '\r') {
		n--;
		*eol = 2;
	}
	return n;
}

/* The value of parameter name in a Content-Type value, malloc'ed. */
static char *
get_param(const char *v, const char *name)
{
	size_t nl = strlen(name);
	const char *p = strchr(v, ';');

	while (p != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl) == 0) {
			const char *q = p + nl;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=') {
				const char *e;

				q++;
				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == '"') {
					q++;
					e = strchr(q, '"');
					if (e == NULL)
						e = q + strlen(q);
				} else {
					e = q + strcspn(q, "; \t");
				}
				return strndup(q, (size_t)(e - q));
			}
		}
		p = strchr(p, ';');
	}
	return NULL;
}

/* "text/html; charset=..." -> "text/html" lower-cased, in buf. */
static void
media_type(const char *v, char *buf, size_t size)
{
	size_t i = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && i + 1 < size)
		buf[i++] = (char)tolower((unsigned char)*v++);
	buf[i] = '\0';
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
mimetext_b64_decode(const char *in, size_t len, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0, i;

	for (i = 0; i < len; i++) {
		int v = b64val((unsigned char)in[i]);

		if (in[i] == '=')
			break;
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

int
mimetext_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* hdr: RFC 2047 "Q" ('_' is a space) */
size_t
mimetext_qp_decode(const char *in, size_t len, char *out, int hdr)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char c = in[i];
		int hi = i + 2 < len ? mimetext_hexval((unsigned char)in[i + 1]) : -1;
		int lo = i + 2 < len ? mimetext_hexval((unsigned char)in[i + 2]) : -1;

		if (c == '=' && hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 3;
		} else if (c == '=' && !hdr) {
			/* soft line break "=\r\n" / "=\n", or a stray '=' */
			size_t j = i + 1;

			while (j < len && (in[j] == ' ' || in[j] == '\t'))
				j++;
			if (j < len && in[j] == '\r')
				j++;
			if (j < len && in[j] == '\n') {
				i = j + 1;
			} else if (j >= len) {
				i = j;
			} else {
				out[o++] = c;
				i++;
			}
		} else if (c == '_' && hdr) {
			out[o++] = ' ';
			i++;
		} else {
			out[o++] = c;
			i++;
		}
	}
	return o;
}

static int
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	    strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Convert s (len) from charset cs to UTF-8; *out malloc'ed, or NULL
   when no conversion is needed or possible (use the input as it is). */
static int
to_utf8(const char *cs, const char *s, size_t len, char **out, size_t *olen)
{
	iconv_t cd;
	char *buf, *ip, *op;
	size_t il, ol, cap;

	*out = NULL;
	if (cs == NULL || *cs == '\0' || is_utf8_name(cs) || len == 0)
		return 0;
	if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0) {
		size_t i, o = 0;

		if ((buf = malloc(len * 2 + 1)) == NULL)
			return -1;
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x80) {
				buf[o++] = (char)c;
			} else {
				buf[o++] = (char)(0xc0 | (c >> 6));
				buf[o++] = (char)(0x80 | (c & 0x3f));
			}
		}
		*out = buf;
		*olen = o;
		return 0;
	}
	if ((cd = iconv_open("UTF-8//IGNORE", cs)) == (iconv_t)-1)
		return 0;
	cap = len * 4 + 16;
	if ((buf = malloc(cap)) == NULL) {
		iconv_close(cd);
		return -1;
	}
	ip = (char *)s;
	il = len;
	op = buf;
	ol = cap;
	while (il > 0) {
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			if (ol < 8)
				break;
			ip++;		/* skip an invalid byte, keep going */
			il--;
		}
	}
	iconv_close(cd);
	*out = buf;
	*olen = (size_t)(op - buf);
	return 0;
}

int
mimetext_header_decode(const char *v, size_t len, char **out, size_t *olen)
{
	char *buf = malloc(len * 4 + 1);
	size_t o = 0, i = 0;
	int last_word = 0;

	if (buf == NULL)
		return -1;
	while (i < len) {
		if (v[i] == '=' && i + 1 < len && v[i + 1] == '?') {
			/* =?charset?X?text?= */
			const char *cs = v + i + 2, *q1, *q2, *end;
			const char *lim = v + len;

			q1 = memchr(cs, '?', (size_t)(lim - cs));
			if (q1 && q1 + 2 < lim && q1[2] == '?') {
				end = q1 + 3;
				q2 = NULL;
				while (end + 1 < lim) {
					if (end[0] == '?' && end[1] == '=') {
						q2 = end;
						break;
					}
					end++;
				}
				if (q2 != NULL) {
					char csname[64], *dec, *conv;
					size_t cl = (size_t)(q1 - cs), dl, tl = (size_t)(q2 - (q1 + 3));
					int enc = toupper((unsigned char)q1[1]);

					if (cl >= sizeof(csname))
						cl = sizeof(csname) - 1;
					memcpy(csname, cs, cl);
					csname[cl] = '\0';
					if (strchr(csname, '*'))	/* RFC 2231 language */
						*strchr(csname, '*') = '\0';
					if ((dec = malloc(tl + 1)) == NULL) {
						free(buf);
						return -1;
					}
					dl = enc == 'B' ? mimetext_b64_decode(q1 + 3, tl, dec) :
					    mimetext_qp_decode(q1 + 3, tl, dec, 1);
					if (last_word) {
						/* whitespace between words is dropped */
						while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
							o--;
					}
					if (to_utf8(csname, dec, dl, &conv, &cl) < 0) {
						free(dec);
						free(buf);
						return -1;
					}
					if (conv != NULL) {
						/* room: grow when conversion widened */
						char *nb = realloc(buf, o + cl + (len - i) * 4 + 1);

						if (nb == NULL) {
							free(conv);
							free(dec);
							free(buf);
							return -1;
						}
						buf = nb;
						memcpy(buf + o, conv, cl);
						o += cl;
						free(conv);
					} else {
						memcpy(buf + o, dec, dl);
						o += dl;
					}
					free(dec);
					i = (size_t)(q2 + 2 - v);
					last_word = 1;
					continue;
				}
			}
		}
		if (v[i] != ' ' && v[i] != '\t')
			last_word = 0;
		buf[o++] = v[i++];
	}
	buf[o] = '\0';
	*out = buf;
	*olen = o;
	return 0;
}

/* --- entities --- */

static int
walk_text(const char *ctype, const char *mtype, const char *cte,
    const unsigned char *body, size_t len, const struct mimetext_cb *cb)
{
	char *dec = NULL, *conv = NULL, *cs;
	const char *t = (const char *)body;
	size_t tl = len, cl;
	int r;

	if (cte && strncasecmp(cte, "base64", 6) == 0) {
		if ((dec = malloc(len + 1)) == NULL)
			return -1;
		tl = mimetext_b64_decode((const char *)body, len, dec);
		t = dec;
	} else if (cte && strncasecmp(cte, "quoted-printable", 16) == 0) {
		if ((dec = malloc(len + 1)) == NULL)
			return -1;
		tl = mimetext_qp_decode((const char *)body, len, dec, 0);
		t = dec;
	}
	cs = ctype ? get_param(ctype, "charset") : NULL;
	if (to_utf8(cs, t, tl, &conv, &cl) < 0) {
		free(cs);
		free(dec);
		return -1;
	}
	free(cs);
	if (conv != NULL) {
		t = conv;
		tl = cl;
	}
	if (strcmp(mtype, "text/html") == 0)
		r = htmltext(t, tl, cb);
	else
		r = cb->text(cb->arg, t, tl, 0);
	free(conv);
	free(dec);
	return r;
}

/* The media type of a part, from its header ("text/plain" without one). */
static void
part_media_type(const unsigned char *p, size_t len, char *buf, size_t size)
{
	size_t i = 0, eol;

	media_type("text/plain", buf, size);
	while (i < len) {
		size_t ll = line_len(p + i, len - i, &eol);

		if (ll == 0)
			break;		/* end of the part header */
		if (ll > 13 && strncasecmp((const char *)p + i, "content-type:", 13) == 0) {
			char v[64];
			size_t n = ll - 13 < sizeof(v) - 1 ? ll - 13 : sizeof(v) - 1;

			memcpy(v, p + i + 13, n);
			v[n] = '\0';
			media_type(v, buf, size);
			break;
		}
		i += ll + eol;
		if (eol == 0)
			break;
	}
}

/*
 * One part of a multipart: walked at once, or, of an alternative, kept
 * as a candidate (the first text/plain part, and the last part).
 */
struct parts {
	int alternative;
	const unsigned char *plain, *last;
	size_t plain_len, last_len;
};

static int
multipart_part(struct parts *ps, const unsigned char *p, size_t len,
    const struct mimetext_cb *cb, int depth, const char *deftype)
{
	char mtype[64];

	if (!ps->alternative)
		return walk_entity(p, len, cb, depth + 1, 0, deftype);
	ps->last = p;
	ps->last_len = len;
	if (ps->plain == NULL) {
		part_media_type(p, len, mtype, sizeof(mtype));
		if (strcmp(mtype, "text/plain") == 0) {
			ps->plain = p;
			ps->plain_len = len;
		}
	}
	return 0;
}

static int
walk_multipart(const char *ctype, const unsigned char *body, size_t len,
    const struct mimetext_cb *cb, int depth, const char *subtype)
{
	char *b = get_param(ctype, "boundary");
	size_t bl, i = 0, start = 0, eol;
	int in_part = 0, r = 0;
	struct parts ps = { strcmp(subtype, "alternative") == 0, NULL, NULL, 0, 0 };
	const char *deftype = strcmp(subtype, "digest") == 0 ? "message/rfc822" :
	    "text/plain";

	if (b == NULL || *b == '\0') {
		free(b);
		return walk_text(ctype, "text/plain", NULL, body, len, cb);
	}
	bl = strlen(b);
	while (i < len && r == 0) {
		size_t ll = line_len(body + i, len - i, &eol);

		if (ll >= bl + 2 && body[i] == '-' && body[i + 1] == '-' &&
		    memcmp(body + i + 2, b, bl) == 0) {
			int last = ll >= bl + 4 && body[i + 2 + bl] == '-' &&
			    body[i + 3 + bl] == '-';

			if (in_part && i > start) {
				size_t end = i;

				/* the line end before a boundary belongs to it */
				if (end > start && body[end - 1] == '\n')
					end--;
				if (end > start && body[end - 1] == '\r')
					end--;
				r = multipart_part(&ps, body + start, end - start,
				    cb, depth, deftype);
			}
			in_part = !last;
			start = i + ll + eol;
			if (last)
				break;
		}
		i += ll + eol;
		if (eol == 0)
			break;
	}
	if (r == 0 && in_part && start < len)	/* no closing boundary */
		r = multipart_part(&ps, body + start, len - start, cb, depth,
		    deftype);
	if (r == 0 && ps.plain != NULL)
		r = walk_entity(ps.plain, ps.plain_len, cb, depth + 1, 0, deftype);
	else if (r == 0 && ps.last != NULL)
		r = walk_entity(ps.last, ps.last_len, cb, depth + 1, 0, deftype);
	free(b);
	return r;
}

static int
walk_body(const char *ctype, const char *cte, const unsigned char *body,
    size_t len, const struct mimetext_cb *cb, int depth)
{
	char mtype[64];

	media_type(ctype ? ctype : "text/plain", mtype, sizeof(mtype));
	if (depth > MAX_DEPTH)
		return 0;
	if (strncmp(mtype, "multipart/", 10) == 0)
		return walk_multipart(ctype, body, len, cb, depth, mtype + 10);
	if (strcmp(mtype, "message/rfc822") == 0)
		return walk_entity(body, len, cb, depth + 1, 0, "text/plain");
	if (strncmp(mtype, "text/", 5) == 0 || mtype[0] == '\0')
		return walk_text(ctype, mtype, cte, body, len, cb);
	return 0;
}

int
mimetext_body(const char *ctype, const char *cte, const unsigned char *body,
    size_t len, const struct mimetext_cb *cb)
{
	return walk_body(ctype, cte, body, len, cb, 0);
}

/* Headers of an entity, then (unless headers_only) its body. */
static int
walk_entity(const unsigned char *p, size_t len, const struct mimetext_cb *cb,
    int depth, int headers_only, const char *default_type)
{
	char *ctype = NULL, *cte = NULL, *field = NULL;
	size_t i = 0, flen = 0, fcap = 0, eol = 0;
	int r = 0;

	for (;;) {
		size_t ll = i < len ? line_len(p + i, len - i, &eol) : 0;
		int cont = i < len && ll > 0 && (p[i] == ' ' || p[i] == '\t');

		if (!cont && flen > 0) {
			/* a complete field */
			char *colon = memchr(field, ':', flen);

			if (colon != NULL && colon > field) {
				size_t nl = (size_t)(colon - field), vs = nl + 1;
				char *dv;
				size_t dl;

				while (nl > 0 && (field[nl - 1] == ' ' || field[nl - 1] == '\t'))
					nl--;
				while (vs < flen && (field[vs] == ' ' || field[vs] == '\t'))
					vs++;
				field[flen] = '\0';
				if (nl == 12 && strncasecmp(field, "Content-Type", 12) == 0) {
					free(ctype);
					ctype = strdup(field + vs);
				} else if (nl == 25 && strncasecmp(field,
				    "Content-Transfer-Encoding", 25) == 0) {
					free(cte);
					cte = strdup(field + vs);
				}
				if (mimetext_header_decode(field + vs, flen - vs, &dv, &dl) < 0) {
					r = -1;
					break;
				}
				r = cb->header(cb->arg, field, nl, dv, dl);
				free(dv);
				if (r != 0)
					break;
			}
			flen = 0;
		}
		if (i >= len || ll == 0)
			break;		/* end of the header (or of the input) */
		if (flen + ll + 2 > fcap) {
			char *nf;

			fcap = (flen + ll + 2) * 2;
			if ((nf = realloc(field, fcap)) == NULL) {
				r = -1;
				break;
			}
			field = nf;
		}
		if (cont && flen > 0)
			field[flen++] = ' ';
		{
			size_t k = 0;

			if (cont)
				while (k < ll && (p[i + k] == ' ' || p[i + k] == '\t'))
					k++;
			memcpy(field + flen, p + i + k, ll - k);
			flen += ll - k;
		}
		i += ll + eol;
		if (eol == 0)
			i = len;
	}
	free(field);
	if (r == 0 && !headers_only) {
		if (i < len)
			i += eol;	/* the empty line */
		if (i > len)
			i = len;
		r = walk_body(ctype ? ctype : default_type, cte, p + i, len - i,
		    cb, depth);
	}
	free(ctype);
	free(cte);
	return r;
}

int
mimetext_message(const unsigned char *msg, size_t len,
    const struct mimetext_cb *cb, int headers_only)
{
	size_t eol, ll;

	/* an mbox "From " separator line is not a header field */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		ll = line_len(msg, len, &eol);
		msg += ll + eol;
		len -= ll + eol;
	}
	return walk_entity(msg, len, cb, 0, headers_only, "text/plain");
}
