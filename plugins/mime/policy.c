/*
 * NAME
 *	policy - what is banned for this message, and the scan's budget
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	mime_policy_exceptions(&sc, sender, rcpts, nrcpts);
 *	if (mime_policy_name(&sc, raw, len, "a.zip", &hit, NULL)) ...
 *	if (mime_policy_kind_banned(&sc, MIME_KIND_EXE)) ...
 *	if (!mime_count_part(&sc) || !mime_count_bytes(&sc, n)) ...
 * DESCRIPTION
 *	An extension or content kind is banned when the configuration
 *	bans it and no exception allows it for this message. Exceptions
 *	are keyed by domain: one matching the sender's domain applies;
 *	one matching a recipient's domain applies only when every
 *	recipient's domain is covered, because the message is changed
 *	for all of its recipients at once. A key starting with '.'
 *	matches the domain's subdomains.
 *
 *	A name is banned for its extension, for a bidirectional control
 *	character (a right-to-left override exists only to make a name
 *	read differently from what it is) or for a trailing CLSID.
 *
 *	The scan's budget (max_parts, max_size) is kept here; the first
 *	limit reached, and the first malformation seen, are recorded for
 *	the verdict.
 * DIAGNOSTICS
 *	None.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

int
mime_policy_allowed(const struct mime_scan *sc, const char *item)
{
	for (size_t i = 0; i < sc->allow.n; i++)
		if (strcasecmp(sc->allow.v[i], item) == 0)
			return 1;
	return 0;
}

int
mime_policy_ext_banned(const struct mime_scan *sc, const char *ext)
{
	const struct mime_conf *c = sc->conf;

	if (*ext == 0)
		return 0;
	for (size_t i = 0; i < c->nbanned_ext; i++)
		if (strcmp(c->banned_ext[i], ext) == 0)
			return !mime_policy_allowed(sc, ext);
	return 0;
}

int
mime_policy_kind_banned(const struct mime_scan *sc, enum mime_kind k)
{
	if (k == MIME_KIND_NONE || !(sc->conf->banned_kinds & (1u << k)))
		return 0;
	return !mime_policy_allowed(sc, mime_kind_name(k));
}

static const char *
domain_of(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	return at + 1;
}

/* Does an exception key match a domain? "d" matches d; ".d" matches
   its subdomains. A trailing '>' of the address is ignored. */
static int
domain_match(const char *key, const char *dom)
{
	size_t dl, kl = strlen(key);

	if (dom == NULL)
		return 0;
	dl = strcspn(dom, ">");
	if (key[0] == '.')
		return dl > kl && strncasecmp(dom + dl - kl, key, kl) == 0;
	return dl == kl && strncasecmp(dom, key, kl) == 0;
}

static int
exc_has(const struct mime_exception *e, const char *item)
{
	for (size_t i = 0; i < e->nitems; i++)
		if (strcasecmp(e->items[i], item) == 0)
			return 1;
	return 0;
}

/* Is item allowed for this domain by some exception? */
static int
domain_allows(const struct mime_conf *c, const char *dom, const char *item)
{
	for (size_t i = 0; i < c->nexc; i++)
		if (domain_match(c->exc[i].domain, dom) && exc_has(&c->exc[i], item))
			return 1;
	return 0;
}

void
mime_policy_exceptions(struct mime_scan *sc, const char *sender,
    const char *const *rcpts, size_t nrcpts)
{
	const struct mime_conf *c = sc->conf;

	for (size_t i = 0; i < c->nexc; i++)
		for (size_t j = 0; j < c->exc[i].nitems; j++) {
			const char *item = c->exc[i].items[j];
			int ok;

			if (mime_policy_allowed(sc, item))
				continue;
			ok = domain_allows(c, domain_of(sender), item);
			if (!ok && nrcpts > 0) {
				ok = 1;
				for (size_t r = 0; r < nrcpts && ok; r++)
					ok = domain_allows(c, domain_of(rcpts[r]), item);
			}
			if (ok)
				mime_strv_add(&sc->allow, item);
		}
}

/* Listed already? (all of a short list; the last few of a long one) */
static int
seen(const struct mime_strv *v, const char *s)
{
	size_t from = v->n > 64 ? v->n - 8 : 0;

	for (size_t i = from; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return 1;
	return 0;
}

int
mime_policy_name(struct mime_scan *sc, const char *raw, size_t len,
    const char *where, struct mime_hit *hit, struct mime_name *out)
{
	struct mime_name n;
	char *shown;
	int r = 0;

	mime_name_clean(raw, len, &n);
	if (*n.clean && !seen(&sc->names, n.clean))
		mime_strv_add(&sc->names, n.clean);
	shown = where && *where ? mime_xasprintf("%s: %s", where, n.clean) :
	    mime_xstrdup(n.clean);
	if (n.flags & MIME_NAME_BIDI) {
		mime_hit_set(hit, shown, "bidirectional control character in the "
		    "file name (it reads differently from what it is)");
		r = 1;
	} else if (n.flags & MIME_NAME_CLSID) {
		mime_hit_set(hit, shown, "CLSID file name extension");
		r = 1;
	} else if (mime_policy_ext_banned(sc, n.ext)) {
		mime_hit_set(hit, shown, "banned file name extension .%s%s", n.ext,
		    n.flags & MIME_NAME_PADDED ? " (padded double extension)" : "");
		r = 1;
	}
	free(shown);
	if (out)
		*out = n;
	else
		mime_name_free(&n);
	return r;
}

static void vset(char **slot, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vset(char **slot, const char *fmt, va_list ap)
{
	char buf[512];

	if (*slot)
		return;		/* the first one is the one reported */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	*slot = mime_xstrdup(buf);
}

void
mime_set_limit(struct mime_scan *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(&sc->limit, fmt, ap);
	va_end(ap);
}

void
mime_set_malformed(struct mime_scan *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(&sc->malformed, fmt, ap);
	va_end(ap);
}

int
mime_count_part(struct mime_scan *sc)
{
	if (++sc->parts > sc->conf->max_parts) {
		mime_set_limit(sc, "more than %ld parts and archive members",
		    sc->conf->max_parts);
		return 0;
	}
	return 1;
}

int
mime_count_bytes(struct mime_scan *sc, size_t n)
{
	if (n > sc->conf->max_size || sc->decoded > sc->conf->max_size - n) {
		mime_set_limit(sc, "more than %zu bytes to decode or decompress",
		    sc->conf->max_size);
		sc->decoded = sc->conf->max_size;
		return 0;
	}
	sc->decoded += n;
	if (sc->progress && sc->decoded - sc->progress_mark >= (16u << 20)) {
		sc->progress_mark = sc->decoded;
		sc->progress(sc->progress_arg);
	}
	return 1;
}
