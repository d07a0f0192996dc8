/*
 * NAME
 *	htmltext - the text a reader sees of an HTML part
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	int htmltext(const char *html, size_t len,
 *	    const struct textcb *cb);
 *	size_t html_link_target(const char *s, size_t len, char *out,
 *	    size_t size);
 * DESCRIPTION
 *	Reduces HTML to the words a mail reader shows, for the tokenizer,
 *	so that markup cannot cut a word into pieces no dictionary knows
 *	("V<s></s>iagra", "v<b>i</b>agra", "vi<!-- x -->agra") and hidden
 *	filler cannot be slipped between or around words:
 *
 *	- Only block elements (p, div, br, td, li, h1, table, ...: the
 *	  table below) separate words, as a browser starts a new line or
 *	  box there. Inline elements (b, i, s, span, font, a, img, wbr,
 *	  ...) and elements it does not know (a browser shows those
 *	  inline) do not; neither do comments, <!DOCTYPE> or <?xml?>.
 *	  A block element styled display:inline... joins words too, an
 *	  inline one styled as a block separates them.
 *	- Hidden content is left out, as the reader never sees it: an
 *	  element with the hidden attribute or a style with display:none,
 *	  visibility:hidden, font-size:0 or opacity:0 hides everything
 *	  up to its end tag ("vi<span style=display:none>zz</span>agra" is
 *	  "viagra"), as do script, style and template bodies. Its link
 *	  targets are still reported (a link is evidence whether shown or
 *	  not). Text hidden by other means (white on white, tiny sizes,
 *	  positioning) is read as shown.
 *	- An element ends at its end tag, at the end tag of an element
 *	  around it, or where an HTML parser closes it implicitly (a p by
 *	  the next block, an li by the next li, a cell by the next cell or
 *	  row, ...); an end tag that matches nothing open is ignored, as
 *	  browsers do. So a hidden element never hides more than a browser
 *	  would, only ever less.
 *	- Entities are decoded (numeric ones and the common names);
 *	  tag names and href/src targets go to cb->markup.
 *
 *	html_link_target() reads an href or src value as a browser
 *	does: leading blanks skipped, character references and %XX
 *	escapes decoded, and a "decoy@" before the host left out
 *	(http://decoy@host/ goes to host); at most size - 1 bytes of it
 *	into out, and their count returned.
 *
 *	It is a reader, not a validator: the nesting is followed to 64
 *	levels (deeper elements are treated as if they had no content of
 *	their own), and malformed markup never fails.
 * DIAGNOSTICS
 *	-1 when out of memory or when a callback returns -1.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <modmilter/strbuf.h>

#include "dspam.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#define MAX_OPEN 64
#define MAX_NAME 16

/* element flags */
#define E_BLOCK		0x01	/* separates words */
#define E_CLOSES_P	0x02	/* its start tag ends an open p */
#define E_VOID		0x04	/* never has content or an end tag */
#define E_RAW		0x08	/* its content is not shown (script, style) */

struct elemdef {
	const char *name;
	unsigned flags;
};

/* Sorted by name (bsearch). Everything else is inline. */
static const struct elemdef elems[] = {
	{ "address", E_BLOCK | E_CLOSES_P }, { "area", E_VOID },
	{ "article", E_BLOCK | E_CLOSES_P }, { "aside", E_BLOCK | E_CLOSES_P },
	{ "base", E_VOID }, { "blockquote", E_BLOCK | E_CLOSES_P },
	{ "body", E_BLOCK }, { "br", E_BLOCK | E_VOID }, { "button", E_BLOCK },
	{ "caption", E_BLOCK }, { "center", E_BLOCK | E_CLOSES_P },
	{ "col", E_VOID }, { "dd", E_BLOCK | E_CLOSES_P },
	{ "details", E_BLOCK | E_CLOSES_P }, { "dialog", E_BLOCK | E_CLOSES_P },
	{ "dir", E_BLOCK | E_CLOSES_P }, { "div", E_BLOCK | E_CLOSES_P },
	{ "dl", E_BLOCK | E_CLOSES_P }, { "dt", E_BLOCK | E_CLOSES_P },
	{ "embed", E_VOID }, { "fieldset", E_BLOCK | E_CLOSES_P },
	{ "figcaption", E_BLOCK | E_CLOSES_P }, { "figure", E_BLOCK | E_CLOSES_P },
	{ "footer", E_BLOCK | E_CLOSES_P }, { "form", E_BLOCK | E_CLOSES_P },
	{ "frame", E_BLOCK | E_VOID }, { "frameset", E_BLOCK },
	{ "h1", E_BLOCK | E_CLOSES_P }, { "h2", E_BLOCK | E_CLOSES_P },
	{ "h3", E_BLOCK | E_CLOSES_P }, { "h4", E_BLOCK | E_CLOSES_P },
	{ "h5", E_BLOCK | E_CLOSES_P }, { "h6", E_BLOCK | E_CLOSES_P },
	{ "head", E_BLOCK }, { "header", E_BLOCK | E_CLOSES_P },
	{ "hgroup", E_BLOCK | E_CLOSES_P }, { "hr", E_BLOCK | E_CLOSES_P | E_VOID },
	{ "html", E_BLOCK }, { "iframe", E_BLOCK }, { "img", E_VOID },
	{ "input", E_BLOCK | E_VOID }, { "legend", E_BLOCK },
	{ "li", E_BLOCK | E_CLOSES_P }, { "link", E_VOID },
	{ "main", E_BLOCK | E_CLOSES_P }, { "menu", E_BLOCK | E_CLOSES_P },
	{ "meta", E_VOID }, { "nav", E_BLOCK | E_CLOSES_P },
	{ "noscript", E_BLOCK }, { "ol", E_BLOCK | E_CLOSES_P },
	{ "optgroup", E_BLOCK }, { "option", E_BLOCK },
	{ "p", E_BLOCK | E_CLOSES_P }, { "param", E_VOID },
	{ "pre", E_BLOCK | E_CLOSES_P }, { "script", E_RAW },
	{ "section", E_BLOCK | E_CLOSES_P }, { "select", E_BLOCK },
	{ "source", E_VOID }, { "style", E_RAW },
	{ "summary", E_BLOCK | E_CLOSES_P }, { "table", E_BLOCK | E_CLOSES_P },
	{ "tbody", E_BLOCK }, { "td", E_BLOCK }, { "template", E_RAW },
	{ "textarea", E_BLOCK }, { "tfoot", E_BLOCK }, { "th", E_BLOCK },
	{ "thead", E_BLOCK }, { "title", E_BLOCK }, { "tr", E_BLOCK },
	{ "track", E_VOID }, { "ul", E_BLOCK | E_CLOSES_P },
	{ "wbr", E_VOID },
};

struct open_elem {
	char name[MAX_NAME];
	unsigned char block;	/* its end separates words */
	unsigned char hides;	/* its content is not shown */
};

struct reader {
	const struct textcb *cb;
	struct open_elem open[MAX_OPEN];
	size_t nopen;
	size_t hidden;		/* open elements that hide */
	char *out;		/* the text, at most as long as the input */
	size_t o;
};

static int
elem_cmp(const void *key, const void *el)
{
	return strcmp(key, ((const struct elemdef *)el)->name);
}

static unsigned
elem_flags(const char *name)
{
	const struct elemdef *d = bsearch(name, elems, sizeof(elems) /
	    sizeof(elems[0]), sizeof(elems[0]), elem_cmp);

	return d ? d->flags : 0;
}

/* name is one of the space-separated words of set */
static int
in_set(const char *set, const char *name)
{
	size_t nl = strlen(name);

	while (*set) {
		size_t wl = strcspn(set, " ");

		if (wl == nl && strncmp(set, name, nl) == 0)
			return 1;
		set += wl;
		while (*set == ' ')
			set++;
	}
	return 0;
}

static void
separate(struct reader *r)
{
	if (r->o > 0 && r->out[r->o - 1] != ' ')
		r->out[r->o++] = ' ';
}

/* Close the top n open elements. */
static void
pop(struct reader *r, size_t n)
{
	while (n-- > 0 && r->nopen > 0) {
		struct open_elem *e = &r->open[--r->nopen];

		if (e->block)
			separate(r);
		if (e->hides)
			r->hidden--;
	}
}

/* Close the innermost open element named in names and all inside it,
   unless an element named in stops comes first. 1 when closed. */
static int
close_through(struct reader *r, const char *names, const char *stops)
{
	size_t i;

	for (i = r->nopen; i > 0; i--) {
		if (in_set(names, r->open[i - 1].name)) {
			pop(r, r->nopen - i + 1);
			return 1;
		}
		if (stops != NULL && in_set(stops, r->open[i - 1].name))
			return 0;
	}
	return 0;
}

/* The elements a start tag closes implicitly, as an HTML parser does
   (WHATWG "in body" insertion mode, the common cases). */
static void
implied_close(struct reader *r, const char *name, unsigned flags)
{
	if (flags & E_CLOSES_P)
		close_through(r, "p", "table td th button caption");
	if (strcmp(name, "li") == 0)
		close_through(r, "li", "ul ol table td th");
	else if (strcmp(name, "dt") == 0 || strcmp(name, "dd") == 0)
		close_through(r, "dt dd", "dl table td th");
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		close_through(r, "td th", "tr table");
	else if (strcmp(name, "tr") == 0)
		close_through(r, "tr", "table");
	else if (strcmp(name, "option") == 0 || strcmp(name, "optgroup") == 0)
		close_through(r, "option", "select");
}

/* Where a tag starting at t ends (its '>'), quoted attribute values
   skipped as a browser does; NULL when it never ends. */
static const char *
tag_end(const char *t, const char *end)
{
	const char *p = t;
	char prev = 0;

	while (p < end) {
		if (*p == '>')
			return p;
		if ((*p == '"' || *p == '\'') && prev == '=') {
			const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));

			if (q == NULL)
				return NULL;
			p = q + 1;
			prev = 0;
			continue;
		}
		if (!isspace((unsigned char)*p))
			prev = *p;
		p++;
	}
	return NULL;
}

/* The next attribute in [*p, e): its name and value (*v NULL without
   one). 0 when there is none left. */
static int
attr_next(const char **p, const char *e, const char **n, size_t *nl,
    const char **v, size_t *vl)
{
	const char *q = *p;

	while (q < e && (isspace((unsigned char)*q) || *q == '/'))
		q++;
	if (q >= e)
		return 0;
	*n = q++;
	while (q < e && !isspace((unsigned char)*q) && *q != '=' && *q != '/')
		q++;
	*nl = (size_t)(q - *n);
	while (q < e && isspace((unsigned char)*q))
		q++;
	*v = NULL;
	*vl = 0;
	if (q < e && *q == '=') {
		q++;
		while (q < e && isspace((unsigned char)*q))
			q++;
		if (q < e && (*q == '"' || *q == '\'')) {
			const char *ve = memchr(q + 1, *q, (size_t)(e - q - 1));

			*v = q + 1;
			*vl = (size_t)((ve ? ve : e) - *v);
			q = ve ? ve + 1 : e;
		} else {
			*v = q;
			while (q < e && !isspace((unsigned char)*q))
				q++;
			*vl = (size_t)(q - *v);
		}
	}
	*p = q;
	return 1;
}

/* What a style attribute says: bit 1 hides, bit 2 inline, bit 4 block. */
#define S_HIDES		1
#define S_INLINE	2
#define S_BLOCK		4

/* "0" as a whole CSS length (0, 0px, 0pt, 0em), not 0.5em */
static int
zero_length(const char *s)
{
	return s[0] == '0' && s[1] != '.' && !isdigit((unsigned char)s[1]);
}

static unsigned
style_says(const char *v, size_t vl)
{
	char css[512], *d;
	size_t i, n = 0;
	unsigned r = 0;

	/* declarations without blanks, lower-cased: "display:none;" */
	for (i = 0; i < vl && n + 1 < sizeof(css); i++)
		if (!isspace((unsigned char)v[i]))
			css[n++] = (char)tolower((unsigned char)v[i]);
	css[n] = '\0';
	if (strstr(css, "visibility:hidden") != NULL)
		r |= S_HIDES;
	for (d = css; (d = strstr(d, "font-size:")) != NULL; d += 10)
		if (zero_length(d + 10))
			r |= S_HIDES;
	for (d = css; (d = strstr(d, "opacity:")) != NULL; d += 8)
		if (zero_length(d + 8))
			r |= S_HIDES;
	for (d = css; (d = strstr(d, "display:")) != NULL; d += 8) {
		if (d > css && d[-1] != ';' && d[-1] != '"')
			continue;	/* mso-display and the like */
		if (strncmp(d + 8, "none", 4) == 0)
			r |= S_HIDES;
		else if (strncmp(d + 8, "inline", 6) == 0 ||
		    strncmp(d + 8, "contents", 8) == 0)
			r = (r & ~(unsigned)S_BLOCK) | S_INLINE;
		else
			r = (r & ~(unsigned)S_INLINE) | S_BLOCK;
	}
	return r;
}

static int
emit_markup(const struct textcb *cb, const char *kind, const char *s,
    size_t len)
{
	if (cb->markup == NULL || len == 0)
		return 0;
	return cb->markup(cb->arg, kind, s, len);
}

/* A start tag: name (lower case) and its attributes [a, e). */
static int
start_tag(struct reader *r, const char *name, const char *a, const char *e)
{
	const char *n, *v, *url = NULL;
	size_t nl, vl, urll = 0;
	unsigned flags = elem_flags(name), style = 0;
	int hidden_attr = 0, rc, block;

	while (attr_next(&a, e, &n, &nl, &v, &vl)) {
		if (nl == 4 && strncasecmp(n, "href", 4) == 0 && v != NULL) {
			url = v;
			urll = vl;
		} else if (nl == 3 && strncasecmp(n, "src", 3) == 0 && v != NULL &&
		    url == NULL) {
			url = v;
			urll = vl;
		} else if (nl == 5 && strncasecmp(n, "style", 5) == 0 && v != NULL) {
			style |= style_says(v, vl);
		} else if (nl == 6 && strncasecmp(n, "hidden", 6) == 0) {
			hidden_attr = 1;
		}
	}
	if ((rc = emit_markup(r->cb, "tag", name, strlen(name))) != 0 ||
	    (url != NULL && (rc = emit_markup(r->cb, "url", url, urll)) != 0))
		return rc;
	implied_close(r, name, flags);
	block = (style & S_BLOCK) || ((flags & E_BLOCK) && !(style & S_INLINE));
	if (block)
		separate(r);
	/* raw elements are not kept open: their content is skipped whole */
	if (!(flags & (E_VOID | E_RAW)) && r->nopen < MAX_OPEN) {
		struct open_elem *o = &r->open[r->nopen++];

		strcpy(o->name, name);
		o->block = (unsigned char)block;
		o->hides = (style & S_HIDES) || hidden_attr;
		if (o->hides)
			r->hidden++;
	}
	return 0;
}

/* An end tag: the element it closes, if one is open. */
static void
end_tag(struct reader *r, const char *name)
{
	if (close_through(r, name, NULL))
		return;
	/* a stray </p> or </br> still makes a line, as in a browser */
	if (strcmp(name, "p") == 0 || strcmp(name, "br") == 0)
		separate(r);
}

/* Past the content of a raw element (script, style) started at p:
   after its end tag, or the end of the text. */
static const char *
skip_raw(const char *p, const char *end, const char *name)
{
	size_t nl = strlen(name);

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) > nl + 1 && p[1] == '/' &&
		    strncasecmp(p + 2, name, nl) == 0) {
			const char *e = memchr(p, '>', (size_t)(end - p));

			return e ? e + 1 : end;
		}
		p++;
	}
	return end;
}

/* An entity at s[0] == '&': its character into *c, its length, or 0. */
static size_t
entity(const char *s, size_t len, unsigned long *c)
{
	static const struct { const char *n; char c; } names[] = {
		{ "nbsp;", ' ' }, { "amp;", '&' }, { "lt;", '<' },
		{ "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	size_t j = 1, k;

	*c = 0;
	if (j < len && s[j] == '#') {
		j++;
		if (j < len && (s[j] == 'x' || s[j] == 'X')) {
			j++;
			while (j < len && hexval((unsigned char)s[j]) >= 0 &&
			    *c < 0x110000)
				*c = *c * 16 + (unsigned long)hexval(
				    (unsigned char)s[j++]);
		} else {
			while (j < len && isdigit((unsigned char)s[j]) && *c < 0x110000)
				*c = *c * 10 + (unsigned long)(s[j++] - '0');
		}
		return *c > 0 && *c < 0x110000 && j < len && s[j] == ';' ? j + 1 : 0;
	}
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t el = strlen(names[k].n);

		if (len - j >= el && strncasecmp(s + j, names[k].n, el) == 0) {
			*c = (unsigned char)names[k].c;
			return j + el;
		}
	}
	return 0;
}


/* One tag at s[0] == '<'; returns where the text goes on. */
static const char *
tag(struct reader *r, const char *s, const char *end, int *rc)
{
	const char *t = s + 1, *e, *n;
	char name[MAX_NAME];
	size_t nl = 0;
	int closing;

	if (end - t >= 3 && strncmp(t, "!--", 3) == 0) {
		/* a comment: nothing, not even a word break */
		for (e = t + 3; e + 2 < end; e++)
			if (e[0] == '-' && e[1] == '-' && e[2] == '>')
				return e + 3;
		return end;
	}
	if ((e = tag_end(t, end)) == NULL)
		e = end;
	closing = t < e && *t == '/';
	n = t + closing;
	while (n + nl < e && isalnum((unsigned char)n[nl]) && nl + 1 < MAX_NAME)
		name[nl] = (char)tolower((unsigned char)n[nl]), nl++;
	name[nl] = '\0';
	if (nl == 0 || (n + nl < e && isalnum((unsigned char)n[nl])))
		return e < end ? e + 1 : end;	/* <!DOCTYPE>, <?xml?>, junk */
	if (closing) {
		end_tag(r, name);
		return e < end ? e + 1 : end;
	}
	if ((*rc = start_tag(r, name, n + nl, e)) != 0)
		return end;
	if (elem_flags(name) & E_RAW)
		return e < end ? skip_raw(e + 1, end, name) : end;
	return e < end ? e + 1 : end;
}

int
htmltext(const char *s, size_t len, const struct textcb *cb)
{
	struct reader *r = calloc(1, sizeof(*r));
	const char *p = s, *end = s + len;
	int rc = 0;

	if (r == NULL || (r->out = malloc(len + 1)) == NULL) {
		free(r);
		return -1;
	}
	r->cb = cb;
	while (p < end && rc == 0) {
		if (*p == '<') {
			p = tag(r, p, end, &rc);
		} else if (r->hidden > 0) {
			p++;
		} else if (*p == '&') {
			unsigned long c;
			size_t el = entity(p, (size_t)(end - p), &c);

			/* the character's UTF-8 is never longer than its entity */
			if (el > 0) {
				r->o += mm_utf8_put(r->out + r->o, c);
				p += el;
			} else {
				r->out[r->o++] = *p++;
			}
		} else {
			r->out[r->o++] = *p++;
		}
	}
	if (rc == 0)
		rc = cb->text(cb->arg, r->out, r->o, 1);
	free(r->out);
	free(r);
	return rc;
}

/* A link target as the browser reads it: character references and
   %XX escapes decoded, leading blanks skipped. */
static size_t
link_decode(const char *s, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	while (i < len && o + 1 < size) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 3;
		} else if (s[i] == '&' && i + 4 < len && strncasecmp(s + i, "&amp;", 5) == 0) {
			out[o++] = '&';
			i += 5;
		} else if (s[i] == '&' && i + 3 < len && s[i + 1] == '#') {
			size_t j = i + 2;
			unsigned long c = 0;
			int hex = j < len && (s[j] == 'x' || s[j] == 'X');

			j += hex;
			while (j < len && (hex ? hexval((unsigned char)s[j]) >= 0 :
			    isdigit((unsigned char)s[j])) && c < 256) {
				c = c * (hex ? 16 : 10) + (unsigned long)(hex ?
				    hexval((unsigned char)s[j]) : s[j] - '0');
				j++;
			}
			if (c > 0 && c < 128 && j > i + 2 + (size_t)hex) {
				out[o++] = (char)c;
				i = j + (j < len && s[j] == ';');
			} else
				out[o++] = s[i++];
		} else
			out[o++] = s[i++];
	}
	return o;
}

/* http://decoy@host/ goes to host: leave "decoy@" out; the new length */
static size_t
drop_userinfo(char *d, size_t dl)
{
	char *p = memchr(d, ':', dl), *at, *end;

	if (p == NULL || (size_t)(p - d) + 3 > dl || p[1] != '/' || p[2] != '/')
		return dl;
	p += 3;
	end = p;
	while (end < d + dl && *end != '/' && *end != '?' && *end != '#')
		end++;
	if ((at = memrchr(p, '@', (size_t)(end - p))) == NULL)
		return dl;
	at++;
	memmove(p, at, (size_t)(d + dl - at));
	return dl - (size_t)(at - p);
}

size_t
html_link_target(const char *s, size_t len, char *out, size_t size)
{
	return drop_userinfo(out, link_decode(s, len, out, size));
}
