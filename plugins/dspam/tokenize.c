/*
 * NAME
 *	tokenize - a message as a set of 64-bit token hashes
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct tokopts o = { .pairs = 4 };
 *	struct tokset ts;
 *	tokset_init(&ts);
 *	dspam_tokenize(&o, msg, len, &ts);	(sorted, unique, with counts)
 *	tokset_free(&ts);
 * DESCRIPTION
 *	What the classifier counts, from the message as the core's MIME
 *	reader gives it (mm_api.parts; HTML reduced by htmltext.c):
 *
 *	- header words, each prefixed by its lower-cased header name
 *	  ("subject" + "Free"), for the fields that carry evidence (see
 *	  header_counted());
 *	  addresses and host names also give their domain and parents;
 *	- body words (3 to 40 bytes of letters, digits, UTF-8 and the
 *	  inner punctuation $ ' - _ . ! @; pure numbers are left out),
 *	  ASCII letters lower-cased: in running text the case of a word
 *	  mostly tells where it stands in a sentence, and "Free", "FREE"
 *	  and "free" kept apart split one word's evidence into three rarer
 *	  tokens (header words keep their case);
 *	- URLs and hosts, from text and from HTML href/src ("url" + host,
 *	  and each parent domain); link targets are read as a browser
 *	  reads them (character references and %XX escapes decoded, a
 *	  "decoy@" before the host skipped), with the words of their path
 *	  and query ("url-path" + word);
 *	- field-specific header tokens: the number of Received: hops, the
 *	  host part of the Message-ID (or its absence), the whole X-Mailer;
 *	- optionally (o->pairs) word pairs in the subject and the body:
 *	  chained (each word with the one before) or orthogonal sparse
 *	  bigrams over a window of 5 (each word with each of the four
 *	  before it, and their distance);
 *	- a From: token ("from-whitelist" + the lower-cased address) that
 *	  the classifier uses for DSPAM's automatic whitelisting; the
 *	  address itself is kept in the set (from_addr), since the
 *	  whitelist may only be applied once the caller has authenticated
 *	  it;
 *	- with o->bnr, the body words also in message order (ts->seq, their
 *	  hashes, 0 between two text parts), for noise reduction (bnr.c).
 *
 *	The set itself (an open-addressing table, sorted at the end) is
 *	tokset.c's; link targets are decoded by htmltext.c.
 * DIAGNOSTICS
 *	-1 when out of memory.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dspam.h"

#define MIN_WORD 3
#define MAX_WORD 40	/* characters: the reader gives UTF-8 */
#define OSB_WINDOW 5
#define MAX_TEXT (512 * 1024)	/* decoded text tokenized per message */

/* --- the tokenizer's state while the message is walked --- */

struct tk {
	const struct tokopts *o;
	struct tokset *ts;
	uint64_t ring[OSB_WINDOW - 1];	/* previous word hashes */
	size_t nring;
	size_t text;			/* decoded bytes seen */
	unsigned received;		/* Received: fields */
	int err;
};

/* Characters in a UTF-8 string: the bytes that start one. */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '$' || c == '\'' || c == '-' ||
	    c == '_' || c == '.' || c == '!' || c == '@';
}

static int
is_inner_only(unsigned char c)
{
	return c == '\'' || c == '-' || c == '_' || c == '.' || c == '!' ||
	    c == '@';
}

static void
add(struct tk *k, uint64_t h)
{
	if (k->err == 0 && tokset_add(k->ts, h) < 0)
		k->err = -1;
}

/* a body word's hash (0: a break) appended to the sequence BNR reads */
static void
seq_add(struct tk *k, uint64_t h)
{
	struct tokset *ts = k->ts;

	if (ts->nseq == ts->seqcap) {
		size_t nc = ts->seqcap ? ts->seqcap * 2 : 256;
		uint64_t *ns;

		if (k->err || (ns = realloc(ts->seq, nc * sizeof(*ns))) == NULL) {
			k->err = -1;
			return;
		}
		ts->seq = ns;
		ts->seqcap = nc;
	}
	ts->seq[ts->nseq++] = h;
}

static void
osb_reset(struct tk *k)
{
	k->nring = 0;
}

/* a body or subject word: the word, and its pairs with the 4 before;
   returns the word's hash */
static uint64_t
add_word(struct tk *k, const char *prefix, size_t plen, const char *w,
    size_t wl, int pairs)
{
	uint64_t h = plen ? dspam_hash2(prefix, plen, w, wl) : dspam_hash(w, wl);
	size_t i;

	add(k, h);
	if (!pairs || k->o->pairs <= 0)
		return h;
	for (i = 0; i < k->nring && i < (size_t)k->o->pairs; i++) {
		/* distance i+1; pair hash from the two word hashes */
		uint64_t p = k->ring[i];

		add(k, dspam_mix64(p * 0x9e3779b97f4a7c15ULL ^ (h + (uint64_t)(i + 1) *
		    0x632be59bd9b4e019ULL)));
	}
	memmove(k->ring + 1, k->ring, sizeof(k->ring[0]) * (OSB_WINDOW - 2));
	k->ring[0] = h;
	if (k->nring < OSB_WINDOW - 1)
		k->nring++;
	return h;
}

/* host name: "url"+host, and each parent with at least two labels */
static void
add_host(struct tk *k, const char *prefix, const char *h, size_t hl)
{
	char buf[256] = "";
	size_t i, dots = 0;

	if (hl == 0 || hl >= sizeof(buf))
		return;
	for (i = 0; i < hl; i++)
		buf[i] = (char)tolower((unsigned char)h[i]);
	add(k, dspam_hash2(prefix, strlen(prefix), buf, hl));
	for (i = 0; i < hl; i++)
		if (buf[i] == '.')
			dots++;
	for (i = 0; i < hl && dots > 1; i++) {
		if (buf[i] == '.') {
			dots--;
			add(k, dspam_hash2(prefix, strlen(prefix), buf + i + 1,
			    hl - i - 1));
		}
	}
}

/* a URL at s: its host; returns the length consumed */
static size_t
add_url(struct tk *k, const char *s, size_t len)
{
	size_t i = 0, hs;

	if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
		i = 7;
	else if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
		i = 8;
	else if (len >= 4 && strncasecmp(s, "www.", 4) == 0)
		i = 0;
	else
		return 0;
	hs = i;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
	    s[i] == '-' || s[i] == '_'))
		i++;
	add_host(k, "url", s + hs, i - hs);
	return i;
}

static int
all_digits(const char *w, size_t wl)
{
	size_t i;

	for (i = 0; i < wl; i++)
		if (!isdigit((unsigned char)w[i]) && w[i] != '.' && w[i] != '-')
			return 0;
	return 1;
}

/* Split s into words; prefix "" for body text. */
static void
words(struct tk *k, const char *prefix, size_t plen, const char *s,
    size_t len, int pairs, int hosts)
{
	size_t i = 0;

	while (i < len && k->err == 0) {
		size_t st, wl;

		if (!is_word_byte((unsigned char)s[i])) {
			i++;
			continue;
		}
		if ((s[i] == 'h' || s[i] == 'H' || s[i] == 'w' || s[i] == 'W') &&
		    (i == 0 || !is_word_byte((unsigned char)s[i - 1]))) {
			size_t u = add_url(k, s + i, len - i);

			if (u > 0) {
				i += u;
				continue;
			}
		}
		st = i;
		while (i < len && is_word_byte((unsigned char)s[i]))
			i++;
		/* trim punctuation that only belongs inside a word */
		wl = i - st;
		while (wl > 0 && is_inner_only((unsigned char)s[st]) ) {
			st++;
			wl--;
		}
		while (wl > 0 && is_inner_only((unsigned char)s[st + wl - 1]) &&
		    s[st + wl - 1] != '!')
			wl--;
		if (wl < MIN_WORD || wl > MAX_WORD * 4 ||
		    utf8_chars(s + st, wl) > MAX_WORD || all_digits(s + st, wl))
			continue;
		if (plen == 0) {
			char lw[MAX_WORD * 4];
			size_t j;

			for (j = 0; j < wl; j++)	/* ASCII only: UTF-8 stays */
				lw[j] = s[st + j] >= 'A' && s[st + j] <= 'Z' ?
				    (char)(s[st + j] - 'A' + 'a') : s[st + j];
			uint64_t h = add_word(k, prefix, plen, lw, wl, pairs);

			if (k->o->bnr)
				seq_add(k, h ? h : 1);	/* the set stores 0 as 1 */
		} else
			add_word(k, prefix, plen, s + st, wl, pairs);
		if (hosts) {
			const char *at = memchr(s + st, '@', wl);
			const char *h = at ? at + 1 : s + st;
			size_t hl = at ? (size_t)(s + st + wl - h) : wl;

			if (memchr(h, '.', hl))
				add_host(k, "host", h, hl);
		}
	}
}

/* the address in a From: value, lower-cased, into buf */
static size_t
from_address(const char *v, size_t vl, char *buf, size_t size)
{
	const char *lt = memchr(v, '<', vl), *s, *e;
	size_t n = 0;

	if (lt != NULL) {
		s = lt + 1;
		e = memchr(s, '>', (size_t)(v + vl - s));
		if (e == NULL)
			e = v + vl;
	} else {
		s = v;
		while (s < v + vl && isspace((unsigned char)*s))
			s++;
		e = s;
		while (e < v + vl && !isspace((unsigned char)*e) && *e != '(')
			e++;
	}
	while (s < e && n + 1 < size)
		buf[n++] = (char)tolower((unsigned char)*s++);
	buf[n] = '\0';
	return memchr(buf, '@', n) ? n : 0;
}

/*
 * The header fields that carry evidence. The others (list management,
 * trace and delivery fields of the local site, our own X-DSPAM-*) are
 * mostly the same for spam and innocent mail that reach one host, so
 * they add noise and, measured on the benchmark, false positives.
 */
static int
header_counted(const char *lname)
{
	static const char *const counted[] = {
		"subject", "from", "to", "reply-to", "return-path", "message-id",
		"received", "content-type", "x-mailer",
		/* what the sender's software and setup say of it: measured
		   by cross-validation (the list fields List-Id, Sender,
		   Precedence, X-Mailing-List and the thread fields were
		   measured too, and left out: spam through a list the
		   reader is on carries them as well) */
		"user-agent", "organization", "x-priority", "x-msmail-priority",
		"mime-version", "content-transfer-encoding", "x-originating-ip",
	};
	size_t i;

	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (strcmp(lname, counted[i]) == 0)
			return 1;
	return 0;
}

/* The field name lower-cased into lname (64 bytes) when it is one
   that counts; else 0. */
static int
counted_name(const char *name, size_t nlen, char *lname)
{
	if (nlen == 0 || nlen >= 64)
		return 0;
	for (size_t i = 0; i < nlen; i++)
		lname[i] = (char)tolower((unsigned char)name[i]);
	lname[nlen] = '\0';
	return header_counted(lname);
}

/* One counted header field, its value decoded; lname lower case. */
static int
cb_header(struct tk *k, const char *lname, size_t nlen, const char *value,
    size_t vlen)
{
	if (strcmp(lname, "from") == 0 && k->ts->from_token == 0) {
		char addr[256];
		size_t al = from_address(value, vlen, addr, sizeof(addr));

		if (al > 0) {
			k->ts->from_token = dspam_hash2("from-whitelist", 14, addr, al);
			/* kept so that the plugin can ask whether this very
			   address is authenticated before it trusts the token */
			memcpy(k->ts->from_addr, addr, al + 1);
			add(k, k->ts->from_token);
		}
	}
	/* field-specific tokens: the number of hops, the host that made
	   the Message-ID (or none), the mailer as one whole token */
	if (strcmp(lname, "received") == 0) {
		k->received++;
	} else if (strcmp(lname, "message-id") == 0) {
		const char *at = memchr(value, '@', vlen), *e;

		if (at == NULL) {
			add(k, dspam_hash("msgid-nohost", 12));
		} else {
			at++;
			for (e = at; e < value + vlen && *e != '>' &&
			    !isspace((unsigned char)*e); e++)
				;
			add_host(k, "msgid-host", at, (size_t)(e - at));
		}
	} else if (strcmp(lname, "x-mailer") == 0) {
		size_t l = vlen;

		while (l > 0 && isspace((unsigned char)value[l - 1]))
			l--;
		add(k, dspam_hash2("x-mailer-all", 12, value, l > 64 ? 64 : l));
	}
	osb_reset(k);
	words(k, lname, nlen, value, vlen, strcmp(lname, "subject") == 0,
	    strcmp(lname, "subject") != 0);
	osb_reset(k);
	return k->err;
}

/* the tokens of the header as a whole, once it has been read */
static void
header_done(struct tk *k)
{
	char b[32];
	int n;

	n = snprintf(b, sizeof(b), "received-hops %u", k->received > 12 ? 12 : k->received);
	add(k, dspam_hash(b, (size_t)n));
}

static int
cb_text(void *arg, const char *s, size_t len, int html)
{
	struct tk *k = arg;

	(void)html;
	if (k->text >= MAX_TEXT)
		return 0;
	if (len > MAX_TEXT - k->text)
		len = MAX_TEXT - k->text;
	k->text += len;
	osb_reset(k);
	if (k->o->bnr && k->ts->nseq > 0 && k->ts->seq[k->ts->nseq - 1] != 0)
		seq_add(k, 0);	/* no window across two parts */
	words(k, "", 0, s, len, 1, 0);
	return k->err;
}

/* Link targets in markup count like URLs in text; tag names do not
   (HTML newsletters are innocent mail too). */
static int
cb_markup(void *arg, const char *kind, const char *s, size_t len)
{
	struct tk *k = arg;
	char d[512] = "";
	size_t dl, u;

	if (strcmp(kind, "url") != 0)
		return k->err;
	dl = html_link_target(s, len, d, sizeof(d));
	u = add_url(k, d, dl);
	if (u == 0 && dl > 0)
		add(k, dspam_hash2("url-rel", 7, d, dl > 64 ? 64 : dl));
	/* the words of the path and query, decoded ("url-path" + word) */
	if (u > 0 && u < dl)
		words(k, "url-path", 8, d + u, dl - u, 0, 0);
	return k->err;
}

static void
tk_setup(struct tk *k, struct textcb *cb, const struct tokopts *o,
    struct tokset *ts)
{
	memset(k, 0, sizeof(*k));
	k->o = o;
	k->ts = ts;
	cb->text = cb_text;
	cb->markup = cb_markup;
	cb->arg = k;
}

/* One header field: counted ones are decoded (RFC 2047) and read. */
static int
field(struct tk *k, const struct mm_api *api, const char *name,
    const char *value)
{
	char lname[64];
	size_t nlen = strlen(name);
	char *dv;
	int r;

	if (!counted_name(name, nlen, lname))
		return 0;
	if ((dv = api->header_decode(value)) == NULL)
		return -1;
	r = cb_header(k, lname, nlen, dv, strlen(dv));
	api->free(dv);
	return r;
}

/*
 * The parts a reader sees: of a multipart/alternative only one child
 * (and what it holds): the first text/plain one, else the last (RFC
 * 2046: the sender's preferred). The alternatives carry the same text;
 * reading both counts the HTML rendering's leftovers (layout, image
 * names, alt texts, tracking links) on top of the words, and those look
 * alike in commercial newsletters and in spam. Returns a malloc'ed
 * array of flags, 1 for a part to skip.
 */
static char *
hidden_parts(const struct mm_api *api, mm_parts *p, size_t n)
{
	char *skip = calloc(n ? n : 1, 1);
	long *pick = malloc((n ? n : 1) * sizeof(long));
	char *plain = calloc(n ? n : 1, 1);

	if (skip == NULL || pick == NULL || plain == NULL) {
		free(skip);
		free(pick);
		free(plain);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		pick[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct mm_part *pt = api->part_at(p, i);
		const struct mm_part *par = pt->parent >= 0 ?
		    api->part_at(p, (size_t)pt->parent) : NULL;

		if (par == NULL || strcmp(par->type, "multipart/alternative") != 0)
			continue;
		if (!plain[pt->parent]) {
			pick[pt->parent] = (long)i;
			plain[pt->parent] = strcmp(pt->type, "text/plain") == 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct mm_part *pt = api->part_at(p, i);

		if (pt->parent < 0)
			continue;
		skip[i] = skip[pt->parent] || (pick[pt->parent] >= 0 &&
		    pick[pt->parent] != (long)i);
	}
	free(pick);
	free(plain);
	return skip;
}

static int
read_parts(struct tk *k, const struct textcb *cb, const struct mm_api *api,
    mm_parts *p, int top_fields)
{
	size_t n = api->parts_count(p);
	char *skip = hidden_parts(api, p, n);

	if (skip == NULL)
		return -1;
	for (size_t i = 0; i < n && !k->err; i++) {
		const struct mm_part *pt = api->part_at(p, i);
		const char *t;
		size_t tl;

		if (skip[i])
			continue;
		if (i > 0 || top_fields)
			for (size_t f = 0; f < pt->nfields && !k->err; f++)
				if (field(k, api, pt->fields[f].name, pt->fields[f].value) < 0)
					k->err = -1;
		if (i == 0 && k->o->headers_only)
			break;
		if (pt->kind != MM_PART_LEAF || api->part_text(p, i, &t, &tl) < 0)
			continue;
		if (strcmp(pt->type, "text/html") == 0) {
			if (htmltext(t, tl, cb) < 0)
				k->err = -1;
		} else if (cb_text(k, t, tl, 0) < 0)
			k->err = -1;
	}
	free(skip);
	return k->err ? -1 : 0;
}

int
dspam_tokenize_msg(const struct tokopts *o, const struct mm_api *api,
    const struct hdr *h, size_t nh, mm_parts *p, struct tokset *ts)
{
	struct textcb cb;
	struct tk k;

	tk_setup(&k, &cb, o, ts);
	for (size_t i = 0; i < nh && !k.err; i++)
		if (field(&k, api, h[i].name, h[i].value) < 0)
			return -1;
	if (k.err)
		return -1;
	if (p != NULL && !(o->headers_only && h != NULL) &&
	    read_parts(&k, &cb, api, p, h == NULL) < 0)
		return -1;
	header_done(&k);
	if (k.err)
		return -1;
	tokset_finish(ts);
	return 0;
}
