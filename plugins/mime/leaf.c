/*
 * NAME
 *	leaf - judge one MIME leaf part
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	struct mime_leaf leaf = { ctype, types, ntypes, names, nnames, cte,
 *	    data, len, depth };
 *	r = mime_leaf_scan(&sc, &leaf, &hit);
 * DESCRIPTION
 *	A leaf is banned when one of its names is (Content-Disposition
 *	filename and Content-Type name are both looked at: mail clients
 *	differ in which they show and which they save under), when it is
 *	a message/partial fragment and the `partial` policy bans those
 *	(fragments reassemble into an attachment no filter has seen),
 *	when a text part carries a uuencoded file with a banned name
 *	("begin 644 name" line), when its decoded first bytes are of a
 *	banned kind whatever its name says, or when it is an archive (by
 *	its bytes or by its name) that holds something banned. A part
 *	with several Content-Type fields is a message/partial fragment or
 *	a text part when any of them says so: readers differ in which
 *	field they take.
 *
 *	Only the head of a part is decoded unless it is an archive to
 *	open; an archive is decoded whole, within the scan's budget.
 *	Base64 with characters outside its alphabet marks the message
 *	malformed (scanning goes on with what decodes).
 * DIAGNOSTICS
 *	1: banned, *hit filled; 0: nothing banned; -1: a limit was
 *	reached.
 */
#define _GNU_SOURCE 1	/* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

/* "begin 644 name" lines of uuencoded files in a text part: 1 when one
   names a banned file */
static int
uuencoded(struct mime_scan *sc, const char *p, size_t len, struct mime_hit *hit)
{
	const char *end = p + len;

	for (const char *l = p; l < end; ) {
		const char *nl, *e, *q;

		if ((size_t)(end - l) < 6)
			break;
		if (memcmp(l, "begin ", 6) != 0) {
			/* next line that starts with "begin " */
			const char *b = memmem(l, (size_t)(end - l), "\nbegin ", 7);
			if (b == NULL)
				break;
			l = b + 1;
		}
		nl = memchr(l, '\n', (size_t)(end - l));
		e = nl ? nl : end;
		q = l + 6;
		if (e - l > 10) {
			while (q < e && *q >= '0' && *q <= '7')
				q++;
			if (q - (l + 6) >= 3 && q < e && *q == ' ') {
				size_t n = (size_t)(e - (q + 1));
				if (n > 0 && q[n] == '\r')
					n--;
				if (mime_policy_name(sc, q + 1, n, "", hit, NULL)) {
					char *reason = mime_xasprintf("%s, uuencoded in the text",
					    hit->reason);
					free(hit->reason);
					hit->reason = reason;
					return 1;
				}
			}
		}
		l = nl ? nl + 1 : end;
	}
	return 0;
}

/* One of the part's Content-Type fields gives this media type (exact)
   or a type of this family ("text/"). */
static int
has_type(const struct mime_leaf *leaf, const char *t)
{
	size_t tl = strlen(t);
	int family = tl > 0 && t[tl - 1] == '/';

	if (family ? strncasecmp(leaf->ctype, t, tl) == 0 :
	    strcasecmp(leaf->ctype, t) == 0)
		return 1;
	for (size_t i = 0; i < leaf->ntypes; i++)
		if (family ? strncasecmp(leaf->types[i], t, tl) == 0 :
		    strcasecmp(leaf->types[i], t) == 0)
			return 1;
	return 0;
}

/* The part's name as shown, made when first needed. */
static const char *
show(char **shown, const struct mime_leaf *leaf)
{
	if (*shown == NULL)
		*shown = mime_xasprintf("unnamed %s part", leaf->ctype);
	return *shown;
}

int
mime_leaf_scan(struct mime_scan *sc, const struct mime_leaf *leaf,
    struct mime_hit *hit)
{
	const struct mime_conf *c = sc->conf;
	char *shown = NULL;
	int archive_name = 0, r = 0, more, bad;
	const unsigned char *head;
	unsigned char *headbuf = NULL;
	size_t headlen;
	enum mime_kind kind;

	for (size_t i = 0; i < leaf->nnames; i++) {
		struct mime_name nm;
		if (mime_policy_name(sc, leaf->names[i], strlen(leaf->names[i]),
		    "", hit, &nm)) {
			mime_name_free(&nm);
			free(shown);
			return 1;
		}
		if (mime_ext_is_archive(nm.ext))
			archive_name = 1;
		if (shown == NULL && *nm.clean)
			shown = mime_xstrdup(nm.clean);
		mime_name_free(&nm);
	}
	if (has_type(leaf, "message/partial") && c->partial == MIME_POL_BAN) {
		mime_hit_set(hit, show(&shown, leaf), "fragment of a message "
		    "(message/partial)");
		free(shown);
		return 1;
	}

	if (has_type(leaf, "text/") && leaf->cte == MIME_CTE_IDENTITY &&
	    uuencoded(sc, leaf->data, leaf->len, hit)) {
		free(shown);
		return 1;
	}
	if (leaf->cte == MIME_CTE_IDENTITY) {
		head = (const unsigned char *)leaf->data;
		headlen = leaf->len < MIME_SNIFF_HEAD ? leaf->len : MIME_SNIFF_HEAD;
		bad = 0;
	} else {
		headbuf = mime_decode(leaf->cte, leaf->data, leaf->len,
		    MIME_SNIFF_HEAD, &headlen, &more, &bad);
		head = headbuf;
		if (!mime_count_bytes(sc, headlen)) {
			r = -1;
			goto out;
		}
	}
	if (bad)
		mime_set_malformed(sc, "invalid base64 in \"%s\"", show(&shown, leaf));
	kind = mime_sniff(head, headlen);
	if (mime_policy_kind_banned(sc, kind)) {
		mime_hit_set(hit, show(&shown, leaf), "%s content",
		    mime_kind_description(kind));
		r = 1;
		goto out;
	}
	if (c->scan_archives && headlen > 0 &&
	    (mime_kind_is_archive(kind) || archive_name)) {
		unsigned char *full;
		size_t fulllen, room = c->max_size - sc->decoded;

		if (leaf->depth + 1 > c->max_depth) {
			mime_set_limit(sc, "archive nested deeper than %d levels",
			    c->max_depth);
			r = -1;
			goto out;
		}
		full = mime_decode(leaf->cte, leaf->data, leaf->len, room,
		    &fulllen, &more, &bad);
		if (more || !mime_count_bytes(sc, fulllen > headlen &&
		    leaf->cte != MIME_CTE_IDENTITY ? fulllen - headlen : fulllen)) {
			mime_set_limit(sc, "more than %zu bytes to decode or "
			    "decompress", c->max_size);
			free(full);
			r = -1;
			goto out;
		}
		r = mime_archive_scan(sc, full, fulllen, show(&shown, leaf),
		    leaf->depth + 1, hit);
		free(full);
	}
out:
	free(headbuf);
	free(shown);
	return r;
}
