/*
 * NAME
 *	act - recipients and Cc of a matched message, with the audit log
 * SYNOPSIS
 *	#include "wiretap.h"
 *
 *	wt_log_matches(conf, ctx, &plan);
 *	if (wt_act(conf, ctx, &plan) < 0) ... tempfail
 * DESCRIPTION
 *	wt_log_matches() logs each match: "group=G outgoing from=<a>" or
 *	"group=G incoming rcpt=<b>".
 *
 *	wt_act() queues, at end of message, what the plan asks for, in
 *	this order (the core applies deletions before additions, so an
 *	address both deleted and added ends up delivered once):
 *	1. discard: a group that matched outgoing removes every original
 *	   recipient; one that matched incoming only removes the watched
 *	   recipients (the other recipients are not gagged);
 *	   a smart alias removes the recipient it replaces;
 *	2. copy_to of every matching group and deliver_to of every
 *	   matching smart alias are added, each address once (the core
 *	   also skips addresses that already are recipients, and copies
 *	   queued by other instances);
 *	3. groups with blind: false name their copies in the Cc header
 *	   (appended to the existing one, or a new one), unless To or Cc
 *	   already names them.
 *	Every line carries the queue id and instance name (api->log), and
 *	the group or "smart_alias": the audit trail of what was done.
 * DIAGNOSTICS
 *	A change the core refuses (it only does for an invalid address,
 *	which options.c does not let through) is logged as an error and
 *	wt_act() returns -1: the caller tempfails rather than deliver
 *	without the copy.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wiretap.h"

struct done {
	const char **addr;
	const char **why;	/* group name or "smart_alias" */
	size_t n;
};

static const char *
done_by(const struct done *d, const char *addr)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcasecmp(d->addr[i], addr) == 0)
			return d->why[i];
	return NULL;
}

static int
done_add(struct done *d, const char *addr, const char *why)
{
	const char **a, **w;

	if ((a = realloc(d->addr, (d->n + 1) * sizeof(*a))) == NULL)
		return -1;
	d->addr = a;
	if ((w = realloc(d->why, (d->n + 1) * sizeof(*w))) == NULL)
		return -1;
	d->why = w;
	a[d->n] = addr;
	w[d->n] = why;
	d->n++;
	return 0;
}

static void
done_free(struct done *d)
{
	free(d->addr);
	free(d->why);
}

static int
del(const struct wt_conf *c, mm_ctx *ctx, struct done *d, const char *rcpt,
    const char *group)
{
	if (done_by(d, rcpt))
		return 0;
	if (c->api->del_rcpt(ctx, rcpt) < 0) {
		c->api->log(ctx, MM_LOG_ERR, "group=%s cannot remove rcpt=<%s>; "
		    "message tempfailed", group, rcpt);
		return -1;
	}
	if (done_add(d, rcpt, group) < 0)
		return -1;
	c->api->log(ctx, MM_LOG_INFO, "group=%s discard rcpt=<%s>", group, rcpt);
	c->api->set_result(ctx, "%s", group);
	return 0;
}

static int
add(const struct wt_conf *c, mm_ctx *ctx, struct done *d, const char *addr,
    const char *why, const char *what)
{
	const char *by = done_by(d, addr);

	if (by) {
		c->api->log(ctx, MM_LOG_INFO, "group=%s %s to=<%s> (already added "
		    "for %s)", why, what, addr, by);
		return 0;
	}
	if (c->api->add_rcpt(ctx, addr) < 0) {
		c->api->log(ctx, MM_LOG_ERR, "group=%s cannot add to=<%s>; "
		    "message tempfailed", why, addr);
		return -1;
	}
	if (done_add(d, addr, why) < 0)
		return -1;
	c->api->log(ctx, MM_LOG_INFO, "group=%s %s to=<%s>", why, what, addr);
	c->api->set_result(ctx, "%s", why);	/* the group that acted */
	return 0;
}

static int
addr_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch && strchr(".-_+", ch) != NULL);
}

/* Does the header value name addr (as a whole address)? */
static int
names(const char *value, const char *addr)
{
	size_t n = strlen(addr);

	if (value == NULL)
		return 0;
	for (const char *p = value; *p; p++)
		if (strncasecmp(p, addr, n) == 0 &&
		    (p == value || !addr_char(p[-1])) && !addr_char(p[n]))
			return 1;
	return 0;
}

static int
named(const struct mm_api *api, mm_ctx *ctx, const char *addr)
{
	static const char *const hdrs[] = { "To", "Cc" };

	for (size_t h = 0; h < 2; h++) {
		const char *v;
		for (size_t nth = 1; (v = api->header_get(ctx, hdrs[h], nth)) != NULL; nth++)
			if (names(v, addr))
				return 1;
	}
	return 0;
}

static int
cc(const struct wt_conf *c, mm_ctx *ctx, const unsigned *gdir)
{
	const struct mm_api *api = c->api;
	const char *old = api->header_get(ctx, "Cc", 1);
	char *v;
	size_t len = old ? strlen(old) : 0, n = 0, added = 0;
	int rc;

	for (size_t g = 0; g < c->ngroups; g++)
		if (gdir[g] && !c->groups[g].blind)
			for (size_t i = 0; i < c->groups[g].ncopy; i++)
				len += strlen(c->groups[g].copy_to[i]) + 2;
	if ((v = malloc(len + 1)) == NULL)
		return -1;
	if (old) {
		n = strlen(old);
		memcpy(v, old, n);
		while (n > 0 && strchr(" \t\r\n", v[n - 1]))
			n--;
	}
	v[n] = 0;
	for (size_t g = 0; g < c->ngroups; g++) {
		if (!gdir[g] || c->groups[g].blind)
			continue;
		for (size_t i = 0; i < c->groups[g].ncopy; i++) {
			const char *a = c->groups[g].copy_to[i];
			if (named(api, ctx, a) || names(v, a))
				continue;
			if (n > 0) {
				memcpy(v + n, ", ", 2);
				n += 2;
			}
			memcpy(v + n, a, strlen(a) + 1);
			n += strlen(a);
			added++;
			api->log(ctx, MM_LOG_INFO, "group=%s Cc: %s", c->groups[g].name, a);
		}
	}
	if (added == 0)
		rc = 0;		/* everybody is named already */
	else if (old)
		rc = api->change_header(ctx, "Cc", 1, v);
	else
		rc = api->add_header(ctx, "Cc", v);
	if (rc < 0)
		api->log(ctx, MM_LOG_ERR, "cannot set the Cc header; message tempfailed");
	free(v);
	return rc;
}

void
wt_log_matches(const struct wt_conf *c, mm_ctx *ctx, const struct wt_plan *p)
{
	for (size_t i = 0; i < p->nhits; i++) {
		const struct wt_hit *h = &p->hits[i];
		if (h->dir == WT_FORGED)
			continue;
		c->api->log(ctx, MM_LOG_INFO, "group=%s %s %s=<%s>",
		    c->groups[h->group].name, h->dir == WT_OUT ? "outgoing" : "incoming",
		    h->dir == WT_OUT ? "from" : "rcpt", h->addr);
	}
}

int
wt_act(const struct wt_conf *c, mm_ctx *ctx, const struct wt_plan *p)
{
	const struct mm_api *api = c->api;
	size_t nr = api->rcpt_count(ctx);
	struct done gone = { 0 }, added = { 0 };
	unsigned *gdir;
	int rc = -1, any_cc = 0;

	if ((gdir = calloc(c->ngroups ? c->ngroups : 1, sizeof(*gdir))) == NULL)
		return -1;
	for (size_t i = 0; i < p->nhits; i++)
		if (p->hits[i].dir != WT_FORGED)
			gdir[p->hits[i].group] |= p->hits[i].dir;

	for (size_t g = 0; g < c->ngroups; g++) {
		const struct wt_group *grp = &c->groups[g];
		if (!gdir[g] || !grp->discard)
			continue;
		if (gdir[g] & WT_OUT) {
			for (size_t i = 0; i < nr; i++)
				if (del(c, ctx, &gone, api->rcpt_at(ctx, i), grp->name) < 0)
					goto out;
		} else
			for (size_t i = 0; i < p->nhits; i++)
				if (p->hits[i].group == g && p->hits[i].dir == WT_IN &&
				    del(c, ctx, &gone, p->hits[i].addr, grp->name) < 0)
					goto out;
	}
	for (size_t i = 0; i < p->nahits; i++) {
		const struct wt_alias_hit *ah = &p->ahits[i];
		const struct wt_alias *al = &c->aliases[ah->alias];

		api->log(ctx, MM_LOG_INFO, "group=smart_alias from=<%s> replace "
		    "rcpt=<%s> by deliver_to=<%s>%s", api->mail_from(ctx), ah->rcpt,
		    al->deliver_to[0], al->ndeliver > 1 ? " and more" : "");
		if (!done_by(&gone, ah->rcpt)) {
			if (api->del_rcpt(ctx, ah->rcpt) < 0 ||
			    done_add(&gone, ah->rcpt, "smart_alias") < 0) {
				api->log(ctx, MM_LOG_ERR, "group=smart_alias cannot remove "
				    "rcpt=<%s>; message tempfailed", ah->rcpt);
				goto out;
			}
		}
	}

	for (size_t g = 0; g < c->ngroups; g++) {
		const struct wt_group *grp = &c->groups[g];
		if (!gdir[g])
			continue;
		any_cc |= !grp->blind && grp->ncopy;
		for (size_t i = 0; i < grp->ncopy; i++)
			if (add(c, ctx, &added, grp->copy_to[i], grp->name, "copy") < 0)
				goto out;
	}
	for (size_t i = 0; i < p->nahits; i++) {
		const struct wt_alias *al = &c->aliases[p->ahits[i].alias];
		for (size_t k = 0; k < al->ndeliver; k++)
			if (add(c, ctx, &added, al->deliver_to[k], "smart_alias",
			    "deliver") < 0)
				goto out;
	}
	if (any_cc && cc(c, ctx, gdir) < 0)
		goto out;
	rc = 0;
out:
	done_free(&gone);
	done_free(&added);
	free(gdir);
	return rc;
}
