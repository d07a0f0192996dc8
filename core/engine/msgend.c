/*
 * NAME
 *	msgend - the end of a message, owned by one function
 * SYNOPSIS
 *	#include "engine.h"
 *
 *	message_drop_forged_authres(s);	(before the EOM stage)
 *	message_eom(s, &out, copy);	(after it: apply, end)
 *	message_end(s, &fate);		(every other end)
 *	message_abort(s, MM_STAGE_CLOSE);	(ended unfinished)
 * DESCRIPTION
 *	However a message ends - accepted at end of message, refused or
 *	discarded at any stage, an SMTP abort, MAIL FROM of the next
 *	message without an end for this one, the connection dropped
 *	(session_free) - message_end() does the same things in the same
 *	order:
 *	1. the outcome (struct mm_outcome) is settled: a verdict decided
 *	   earlier (a sticky one, an early ACCEPT) stands; without one an
 *	   unfinished message is aborted (TEMPFAIL, aborted = 1);
 *	2. a message not accepted calls every plugin's abort hook (once);
 *	3. every instance of the chain that joined the connection, is
 *	   still called (neither failed nor done with the connection) and
 *	   has a msg_end hook gets it, under its timeout (invoke.c); it
 *	   may read the message, but not change it (host/api_act.c);
 *	4. the backend hears of it (the daemon: metrics, summary line);
 *	5. the per-message state is freed (plugins' message data
 *	   destructors run), or parked while an abandoned hook may read it.
 *
 *	session_eom() (session.c) is the end-of-message sequence every
 *	driver uses (mta/milter.c, modmilter-test, the tests): the EOM
 *	stage (stage.c), then message_eom() here: the
 *	Authentication-Results and monitor headers, the modifications in
 *	the DESIGN.md order handed to the backend's apply() (a refusal
 *	tempfails the message, and plugins are told it was not accepted),
 *	and the end. The caller may ask for a copy of the modifications.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "engine.h"
#include "log.h"
#include "session.h"

/* The verdict a message ended with, and what was done to it. */
static void
settle(struct session *s, const struct fate *f, struct mm_outcome *o,
    const struct reply **r)
{
	struct message *m = s->m;

	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->verdict = f->verdict;
	o->stage = f->stage;
	o->decided_by = f->by;
	*r = f->reply;
	if (f->aborted) {
		if (s->sticky != MM_CONTINUE) {
			/* refused earlier; the MTA ended it without EOM */
			o->verdict = s->sticky;
			o->stage = s->sticky_at;
			o->decided_by = s->sticky_by;
			*r = &s->sticky_reply;
		} else if (s->conn_sticky != MM_CONTINUE) {
			/* the connection was refused */
			o->verdict = s->conn_sticky;
			o->stage = s->conn_sticky_at;
			o->decided_by = s->conn_sticky_by;
			*r = &s->conn_sticky_reply;
		} else if (m->accepted_early) {
			/* we said ACCEPT: the MTA sends nothing more of it */
			o->verdict = MM_ACCEPT;
			o->stage = m->accepted_at;
			*r = NULL;
		} else {
			o->verdict = MM_TEMPFAIL;
			o->aborted = 1;
			*r = NULL;
		}
	}
	if (o->verdict == MM_CONTINUE)
		o->verdict = MM_ACCEPT;
	if (o->verdict == MM_ACCEPT) {
		o->changed = m->changed;
		o->quarantined = (m->changed & MM_ACT_QUARANTINE) != 0;
	}
	o->discarded = o->verdict == MM_DISCARD;
	o->rcpts = m->routs;
	o->nrcpts = m->nrouts;
}

void
message_end(struct session *s, const struct fate *f)
{
	struct message *m = s->m;
	const struct reply *r;

	if (!s->in_msg) {
		message_reset(s);
		return;
	}
	settle(s, f, &m->outcome, &r);
	if (m->outcome.verdict != MM_ACCEPT)
		message_abort_hooks(s);
	for (size_t i = 0; s->ch && i < s->ch->n; i++) {
		struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
		if (c->joined && !c->failed && !c->conn_done && c->inst->p->msg_end)
			invoke_msg_end(s, c, &m->outcome);
	}
	if (s->be && s->be->msg_end)
		s->be->msg_end(s->bctx, &m->outcome, r);
	message_reset(s);
}

/* The MTA ended the message without a verdict of ours (at: ABORT for an
   SMTP abort or a MAIL FROM without an end, CLOSE for a dropped
   connection): a decision taken earlier stands, else it is aborted. */
void
message_abort(struct session *s, mm_stage at)
{
	struct fate f;

	memset(&f, 0, sizeof(f));
	f.verdict = MM_TEMPFAIL;
	f.stage = at;
	f.aborted = 1;
	message_end(s, &f);
}

/* every plugin's abort hook, once per message */
void
message_abort_hooks(struct session *s)
{
	struct hook_args a;

	memset(&a, 0, sizeof(a));
	if (s->ch == NULL || s->aborted)
		return;
	s->aborted = 1;
	for (size_t i = 0; i < s->ch->n; i++) {
		struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
		if (c->joined && !c->failed && c->inst->p->abort)
			invoke_hook(s, c, MM_STAGE_ABORT, &a);
	}
}

/* Forget the message: plugins' message data, the decisions about it,
   a chain chosen for it; the message itself is freed, or parked while
   a hook abandoned after its timeout may still read it. */
void
message_reset(struct session *s)
{
	struct message *old;

	for (size_t i = 0; i < s->conf->ninst; i++) {
		struct mm_ctx *c = &s->ctx[i];
		if (c->failed)
			continue;	/* its hook may still run: freed at the end */
		if (c->msg_free && c->msg_data)
			c->msg_free(c->msg_data);
		c->msg_data = NULL;
		c->msg_free = NULL;
		c->msg_done = c->body_done = 0;
	}
	s->in_msg = 0;
	s->aborted = 0;
	s->sticky = MM_CONTINUE;
	reply_free(&s->sticky_reply);
	if (!s->chain_conn_level && s->chain != -1) {
		s->chain = -1;
		s->ch = NULL;
	}
	pthread_mutex_lock(&s->lock);
	old = s->m;
	s->m = message_new();
	if (s->outstanding > 0) {
		/* a hook that overran may still read it */
		old->next = s->parked;
		s->parked = old;
		old = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (old)
		message_free(old);
}

/*
 * Authentication-Results headers claiming our authserv-id are forged
 * (RFC 8601 5): however the id is written (comments, quotes, case, a
 * trailing dot), and wherever the headers stand.
 */
void
message_drop_forged_authres(struct session *s)
{
	const char *id = s->conf->authserv_id;
	size_t nth = 1;
	const char *v;

	if (!s->record_headers || id == NULL || s->ch == NULL ||
	    !(s->ch->actions & MM_ACT_AUTHRES))
		return;
	while ((v = hdrlist_get(&s->m->hdrs, "Authentication-Results", nth)) != NULL) {
		if (authres_claims(v, id)) {
			log_msg(MM_LOG_INFO, s->m->qid, NULL,
			    "removing Authentication-Results header claiming %s", id);
			hdrlist_change(&s->m->hdrs, "Authentication-Results", nth, NULL);
		} else
			nth++;
	}
}

/* The modifications, borrowed from the message, in the DESIGN.md order. */
static void
eom_fill(struct session *s, struct eom_out *e)
{
	struct message *m = s->m;

	if (m->nauthres) {
		struct mm_buf v = { 0 };
		buf_adds(&v, s->conf->authserv_id ? s->conf->authserv_id : "localhost");
		for (size_t i = 0; i < m->nauthres; i++)
			buf_printf(&v, ";\n\t%s", m->authres[i]);
		hdrlist_insert(&m->hdrs, 0, "Authentication-Results", v.data);
		buf_free(&v);
	}
	if (m->monitor.len)
		hdrlist_add(&m->hdrs, "X-Modmilter-Monitor", m->monitor.data);

	e->chgfrom = m->chgfrom;
	e->chgfrom_args = m->chgfrom_args;
	e->delrcpt = m->delrcpt;
	e->ndelrcpt = m->ndelrcpt;
	e->addrcpt = m->addrcpt;
	e->naddrcpt = m->naddrcpt;
	e->nhdrops = hdrlist_diff(&m->hdrs, &e->hdrops);
	e->body = m->newbody;
	e->bodylen = m->newbodylen;
	e->quarantine = m->quarantine.len ? m->quarantine.data : NULL;

	m->changed = (e->chgfrom ? MM_ACT_CHGFROM : 0) |
	    (e->ndelrcpt ? MM_ACT_DELRCPT : 0) |
	    (e->naddrcpt ? MM_ACT_ADDRCPT : 0) |
	    (e->body ? MM_ACT_CHGBODY : 0) |
	    (e->quarantine ? MM_ACT_QUARANTINE : 0) |
	    (m->nauthres ? MM_ACT_AUTHRES : 0);
	for (size_t i = 0; i < e->nhdrops; i++)
		m->changed |= e->hdrops[i].kind == HDROP_CHANGE ||
		    e->hdrops[i].kind == HDROP_DELETE ? MM_ACT_CHGHDRS : MM_ACT_ADDHDRS;
}

static char *
dup_or_null(const char *p)
{
	return p ? xstrdup(p) : NULL;
}

static char **
strv_copy(char **v, size_t n)
{
	char **c = n ? xcalloc(n, sizeof(char *)) : NULL;

	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

/* A copy the caller owns (eom_out_free), valid after the message ended. */
static void
eom_copy(struct eom_out *d, const struct eom_out *e)
{
	memset(d, 0, sizeof(*d));
	d->owned = 1;
	d->chgfrom = dup_or_null(e->chgfrom);
	d->chgfrom_args = dup_or_null(e->chgfrom_args);
	d->delrcpt = strv_copy(e->delrcpt, e->ndelrcpt);
	d->ndelrcpt = e->ndelrcpt;
	d->addrcpt = strv_copy(e->addrcpt, e->naddrcpt);
	d->naddrcpt = e->naddrcpt;
	if (e->nhdrops) {
		d->hdrops = xcalloc(e->nhdrops, sizeof(*d->hdrops));
		for (size_t i = 0; i < e->nhdrops; i++) {
			d->hdrops[i] = e->hdrops[i];
			d->hdrops[i].name = dup_or_null(e->hdrops[i].name);
			d->hdrops[i].value = dup_or_null(e->hdrops[i].value);
		}
	}
	d->nhdrops = e->nhdrops;
	if (e->body) {
		unsigned char *b = xmalloc(e->bodylen + 1);
		memcpy(b, e->body, e->bodylen);
		d->body = b;
	}
	d->bodylen = e->bodylen;
	d->quarantine = dup_or_null(e->quarantine);
}

/*
 * After the EOM stage (out): a message refused now or earlier ends so;
 * an accepted one has its modifications, in the DESIGN.md order, handed
 * to the backend's apply() (a refusal tempfails it, and plugins are told
 * it was not accepted) and ends; copy, if not NULL, gets a copy of them.
 */
void
message_eom(struct session *s, struct stage_out *out, struct eom_out *copy)
{
	struct eom_out e;
	struct fate f;
	struct reply r;

	memset(&f, 0, sizeof(f));
	f.stage = MM_STAGE_EOM;
	if (out->verdict != MM_CONTINUE && out->verdict != MM_ACCEPT) {
		/* refused: the engine ended a message decided now; one
		   decided earlier (sticky) ends here */
		f.verdict = out->verdict;
		f.reply = &out->reply;
		f.aborted = 1;
		message_end(s, &f);
		return;
	}
	out->verdict = MM_CONTINUE;
	memset(&e, 0, sizeof(e));
	eom_fill(s, &e);
	if (s->be && s->be->apply && s->be->apply(s->bctx, &e) < 0) {
		/* the MTA refused a modification: it drops them all, and
		   the message is not accepted after all - plugins must not
		   keep what they did for it (archived copies and the like) */
		log_msg(MM_LOG_ERR, s->m->qid, NULL,
		    "the MTA refused a modification; message tempfailed");
		reply_make(&r, MM_TEMPFAIL, "451", "4.3.0",
		    "Temporary local problem, please try again later");
		out->verdict = MM_TEMPFAIL;
		reply_copy(&out->reply, &r);
		reply_free(&r);
		f.verdict = MM_TEMPFAIL;
		f.reply = &out->reply;
		s->m->changed = 0;
	} else {
		if (copy)
			eom_copy(copy, &e);
		f.verdict = MM_ACCEPT;
	}
	free(e.hdrops);
	message_end(s, &f);
}

void
eom_out_free(struct eom_out *e)
{
	if (e->owned) {
		free(e->chgfrom);
		free(e->chgfrom_args);
		for (size_t i = 0; i < e->ndelrcpt; i++)
			free(e->delrcpt[i]);
		free(e->delrcpt);
		for (size_t i = 0; i < e->naddrcpt; i++)
			free(e->addrcpt[i]);
		free(e->addrcpt);
		for (size_t i = 0; i < e->nhdrops; i++) {
			free((char *)e->hdrops[i].name);
			free((char *)e->hdrops[i].value);
		}
		free((void *)e->body);
		free(e->quarantine);
	}
	free(e->hdrops);
	memset(e, 0, sizeof(*e));
}
