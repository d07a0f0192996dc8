/*
 * NAME
 *	match - which groups and smart aliases a message matches
 * SYNOPSIS
 *	#include "wiretap.h"
 *
 *	struct wt_plan p;
 *	if (wt_plan_make(conf, from, our_side, rcpts, nrcpts, &p) < 0) ...
 *	if (wt_plan_acts(&p)) ... (something to do at end of message)
 *	wt_plan_free(&p);
 * DESCRIPTION
 *	A group matches a message
 *	- outgoing, when the envelope sender is watched and the message
 *	  comes from our side (our_side: the client is internal or
 *	  SMTP-authenticated);
 *	- incoming, for each envelope recipient that is watched.
 *	A watched sender from a client that is not on our side is a forged
 *	or a relayed sender: it is recorded as WT_FORGED (for the audit
 *	log) and does nothing else.
 *
 *	A smart alias matches each recipient equal to its "to" when the
 *	sender matches its "from" (an address or "@domain").
 *
 *	Addresses are compared as keys (addr.c), made from the core's
 *	normal form, so that a trailing dot, a source route, quotes or
 *	case do not hide a watched address; an envelope address the core
 *	cannot parse matches nothing. Hits are unique per
 *	group, direction and address, in configuration order, so what is
 *	done and logged follows the order the admin wrote.
 * DIAGNOSTICS
 *	wt_plan_make() returns -1 when memory runs out (the plan is then
 *	empty).
 */
#include <stdlib.h>
#include <string.h>

#include "wiretap.h"

static int
watched(const struct wt_group *g, const char *key)
{
	for (size_t i = 0; key && i < g->nwatch; i++)
		if (wt_key_match(g->watch[i], key))
			return 1;
	return 0;
}

static int
add_hit(struct wt_plan *p, size_t group, unsigned dir, const char *key,
    const char *addr)
{
	struct wt_hit *h;

	for (size_t i = 0; i < p->nhits; i++)
		if (p->hits[i].group == group && p->hits[i].dir == dir &&
		    strcmp(p->hits[i].key, key) == 0)
			return 0;
	if ((h = realloc(p->hits, (p->nhits + 1) * sizeof(*h))) == NULL)
		return -1;
	p->hits = h;
	h += p->nhits;
	if ((h->key = strdup(key)) == NULL)
		return -1;
	h->group = group;
	h->dir = dir;
	h->addr = addr;
	p->nhits++;
	return 0;
}

static int
add_alias_hit(struct wt_plan *p, size_t alias, const char *rcpt)
{
	struct wt_alias_hit *a;

	if ((a = realloc(p->ahits, (p->nahits + 1) * sizeof(*a))) == NULL)
		return -1;
	p->ahits = a;
	a[p->nahits].alias = alias;
	a[p->nahits].rcpt = rcpt;
	p->nahits++;
	return 0;
}

/* An envelope address's key; a malformed address has none (*key NULL)
   and matches nothing. -1 when memory runs out. */
static int
envelope_key(const struct wt_conf *c, const char *addr, char **key)
{
	const char *why;

	*key = wt_addr_key(c->api, addr, c->case_sensitive_local,
	    c->delimiters, &why);
	return *key == NULL && why == NULL ? -1 : 0;
}

int
wt_plan_make(const struct wt_conf *c, const char *from, int our_side,
    const char *const *rcpts, size_t nrcpts, struct wt_plan *p)
{
	char *fkey = NULL, *small[16], **rkeys = small;
	size_t nkeys = 0;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (nrcpts > sizeof(small) / sizeof(small[0]) &&
	    (rkeys = calloc(nrcpts, sizeof(char *))) == NULL)
		return -1;
	if (from && *from && envelope_key(c, from, &fkey) < 0)
		goto out;
	for (; nkeys < nrcpts; nkeys++)
		if (envelope_key(c, rcpts[nkeys], &rkeys[nkeys]) < 0)
			goto out;

	for (size_t g = 0; g < c->ngroups; g++) {
		const struct wt_group *grp = &c->groups[g];
		if (fkey && (grp->direction & WT_OUT) && watched(grp, fkey) &&
		    add_hit(p, g, our_side ? WT_OUT : WT_FORGED, fkey, from) < 0)
			goto out;
		if (grp->direction & WT_IN)
			for (size_t i = 0; i < nrcpts; i++)
				if (watched(grp, rkeys[i]) &&
				    add_hit(p, g, WT_IN, rkeys[i], rcpts[i]) < 0)
					goto out;
	}
	for (size_t a = 0; fkey && a < c->naliases; a++) {
		const struct wt_alias *al = &c->aliases[a];
		if (!wt_key_match(al->from, fkey))
			continue;
		for (size_t i = 0; i < nrcpts; i++)
			if (rkeys[i] && strcmp(al->to, rkeys[i]) == 0 &&
			    add_alias_hit(p, a, rcpts[i]) < 0)
				goto out;
	}
	rc = 0;
out:
	free(fkey);
	for (size_t i = 0; i < nkeys; i++)
		free(rkeys[i]);
	if (rkeys != small)
		free(rkeys);
	if (rc < 0)
		wt_plan_free(p);
	return rc;
}

int
wt_plan_acts(const struct wt_plan *p)
{
	if (p->nahits)
		return 1;
	for (size_t i = 0; i < p->nhits; i++)
		if (p->hits[i].dir != WT_FORGED)
			return 1;
	return 0;
}

void
wt_plan_free(struct wt_plan *p)
{
	for (size_t i = 0; i < p->nhits; i++)
		free(p->hits[i].key);
	free(p->hits);
	free(p->ahits);
	memset(p, 0, sizeof(*p));
}
