/*
 * NAME
 *	cache - callback verification results with Postfix verify(8) semantics
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	cache_key("v:", addr, key, sizeof(key));
 *	switch (cache_lookup(kv, ttl, key, now, &e)) { ... }
 *	cache_update(kv, ttl, key, now, CBV_OK, "250 2.1.5 Ok");
 * DESCRIPTION
 *	One entry per address: a status (OK, BOUNCE, DEFER), when it was
 *	learnt, when a refresh was last started, and the remote answer.
 *	Stored as one text line, "STATUS UPDATED PROBED TEXT", so that an
 *	admin can read it with modmilter-cbv.
 *
 *	As in Postfix's address verification service:
 *	an OK entry is served for pos_refresh seconds, then served while a
 *	refresh probe runs (CACHE_STALE), and forgotten after pos_expire;
 *	a BOUNCE entry likewise with neg_refresh / neg_expire; a DEFER entry
 *	is served for defer_expire seconds and never refreshed.
 *	A probe that does not come back OK never overwrites a cached OK
 *	before that entry expires: the old answer stays, still stale, so
 *	the address is probed again on a later message (verify.c: "don't
 *	allow a failed probe to clobber an OK address before it expires").
 *	A refresh is started at most once per defer_expire seconds.
 *
 *	The clock is the caller's "now", so the semantics are tested with
 *	an injected clock; the store's own TTL only collects garbage.
 * DIAGNOSTICS
 *	cache_lookup() returns CACHE_ERROR and cache_update() -1 when the
 *	store fails; an entry that does not parse reads as absent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbv.h"

static const char *const names[] = { "NONE", "OK", "BOUNCE", "DEFER" };

const char *
cache_status_name(enum cbv_status s)
{
	return (unsigned)s < 4 ? names[s] : "NONE";
}

/* The key: a prefix (one per action) and the address, lower case. */
void
cache_key(const char *prefix, const char *addr, char *buf, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return;
	for (; *prefix && i + 1 < len; prefix++)
		buf[i++] = *prefix;
	for (; *addr && i + 1 < len; addr++)
		buf[i++] = (char)tolower((unsigned char)*addr);
	buf[i] = 0;
}

int
cache_format(const struct cbv_entry *e, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %.0f %.0f %s", cache_status_name(e->status),
	    e->updated, e->probed, e->text);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
cache_parse(const char *s, struct cbv_entry *e)
{
	char st[8];
	double up, pr;
	int off = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(s, "%7s %lf %lf %n", st, &up, &pr, &off) != 3 || off == 0)
		return -1;
	for (int i = 1; i < 4; i++)
		if (strcmp(st, names[i]) == 0)
			e->status = (enum cbv_status)i;
	if (e->status == CBV_NONE)
		return -1;
	e->updated = up;
	e->probed = pr;
	snprintf(e->text, sizeof(e->text), "%s", s + off);
	return 0;
}

/* When the entry is forgotten. */
double
cache_expire(const struct cbv_ttl *t, const struct cbv_entry *e)
{
	switch (e->status) {
	case CBV_OK:
		return e->updated + t->pos_expire;
	case CBV_BOUNCE:
		return e->updated + t->neg_expire;
	case CBV_DEFER:
		return e->updated + t->defer_expire;
	default:
		return 0;
	}
}

static double
refresh_at(const struct cbv_ttl *t, const struct cbv_entry *e)
{
	switch (e->status) {
	case CBV_OK:
		return e->updated + t->pos_refresh;
	case CBV_BOUNCE:
		return e->updated + t->neg_refresh;
	default:
		return cache_expire(t, e);	/* DEFER: never refreshed */
	}
}

static int
get_entry(const struct cbv_kv *kv, const char *key, struct cbv_entry *e)
{
	char *v = NULL;
	int r = kv->get(kv->arg, key, &v);

	if (r <= 0)
		return r;
	r = cache_parse(v, e) == 0 ? 1 : 0;
	kv->release(kv->arg, v);
	return r;
}

static int
put_entry(const struct cbv_kv *kv, const struct cbv_ttl *t, const char *key,
    double now, const struct cbv_entry *e)
{
	char buf[CBV_TEXT_MAX + 64];
	double ttl = cache_expire(t, e) - now;

	if (ttl < 1)
		ttl = 1;
	if (cache_format(e, buf, sizeof(buf)) < 0)
		return -1;
	return kv->put(kv->arg, key, buf, ttl);
}

enum cbv_lookup
cache_lookup(const struct cbv_kv *kv, const struct cbv_ttl *t, const char *key,
    double now, struct cbv_entry *e)
{
	int r = get_entry(kv, key, e);

	if (r < 0)
		return CACHE_ERROR;
	if (r == 0 || now >= cache_expire(t, e)) {
		memset(e, 0, sizeof(*e));
		return CACHE_MISS;
	}
	if (now >= refresh_at(t, e) && now >= e->probed + t->defer_expire)
		return CACHE_STALE;
	return CACHE_FRESH;
}

/* 1 stored, 0 an OK entry was kept, -1 the store failed */
int
cache_update(const struct cbv_kv *kv, const struct cbv_ttl *t, const char *key,
    double now, enum cbv_status st, const char *text)
{
	struct cbv_entry old, e;
	int r;

	if (st != CBV_OK) {
		if ((r = get_entry(kv, key, &old)) < 0)
			return -1;
		if (r == 1 && old.status == CBV_OK && now < cache_expire(t, &old))
			return 0;
	}
	memset(&e, 0, sizeof(e));
	e.status = st;
	e.updated = now;
	e.probed = now;
	snprintf(e.text, sizeof(e.text), "%s", text ? text : "");
	return put_entry(kv, t, key, now, &e) < 0 ? -1 : 1;
}

/* Note that a refresh of a stale entry starts now, so that other
   messages serve the entry without starting their own. */
int
cache_mark_probed(const struct cbv_kv *kv, const struct cbv_ttl *t,
    const char *key, double now, struct cbv_entry *e)
{
	e->probed = now;
	return put_entry(kv, t, key, now, e);
}
