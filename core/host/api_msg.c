/*
 * NAME
 *	api_msg - the API entries that read: client, envelope, facts,
 *	headers (as they stand, and as received), body, results
 * DESCRIPTION
 *	Outside a connection (init, fini), or for an instance that failed
 *	or was abandoned, there is nothing to read (NULL, 0 or -1). The
 *	strings handed out stay valid for the message (a replaced fact
 *	value is kept in the message's graveyard). Facts and results are
 *	written inside ctx_enter(), so a hook abandoned after its timeout
 *	cannot slip one past the moment it was given up.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_parts.h"
#include "ctx.h"
#include "log.h"
#include "msgparts.h"
#include "session.h"

const char *
api_client_addr(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->addr;
}

const struct sockaddr *
api_client_sockaddr(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->have_sa ? (const struct sockaddr *)&c->s->sa : NULL;
}

const char *
api_client_host(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->host;
}

mm_client_class
api_client_class(mm_ctx *c)
{
	SESSION_OR(c, MM_CLIENT_EXTERNAL);
	return c->s->cls;
}

const char *
api_helo(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->helo;
}

const char *
api_auth_user(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->msg->auth_user;
}

const char *
api_macro(mm_ctx *c, const char *name)
{
	SESSION_OR(c, NULL);
	return session_macro(c->s, name);
}

const char *
api_queue_id(mm_ctx *c)
{
	SESSION_OR(c, "NOQUEUE");
	return c->msg->qid ? c->msg->qid : "NOQUEUE";
}

const char *
api_mail_from(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->msg->from;
}

size_t
api_rcpt_count(mm_ctx *c)
{
	SESSION_OR(c, 0);
	return c->msg->nrcpts;
}

const char *
api_rcpt_at(mm_ctx *c, size_t i)
{
	SESSION_OR(c, NULL);
	return i < c->msg->nrcpts ? c->msg->rcpts[i] : NULL;
}

int
api_set_result(mm_ctx *c, const char *fmt, ...)
{
	char buf[64];
	struct message *m;
	va_list ap;

	if (c == NULL || c->s == NULL || c->msg == NULL || fmt == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			*p = '_';
	if (ctx_enter(c, "set its result") < 0)
		return -1;
	m = c->msg;
	if (m->results == NULL) {
		m->nresults = c->s->conf->ninst;
		m->results = xcalloc(m->nresults, sizeof(char *));
	}
	if ((size_t)c->inst->index < m->nresults) {
		/* a reader (the summary) runs on this connection's thread
		   only, never during a hook: the old string can go */
		free(m->results[c->inst->index]);
		m->results[c->inst->index] = xstrdup(buf);
	}
	ctx_leave(c);
	return 0;
}

int
api_fact_set(mm_ctx *c, const char *key, const char *value)
{
	struct message *m;

	if (c == NULL || c->s == NULL || c->msg == NULL || key == NULL ||
	    value == NULL)
		return -1;
	if (ctx_enter(c, "set a fact") < 0)
		return -1;
	/* the message this hook serves, as for actions */
	m = c->msg;
	for (size_t i = 0; i < m->nfacts; i++)
		if (strcmp(m->facts[i].key, key) == 0) {
			/* the old value may still be held by a reader */
			graveyard_add(m, m->facts[i].value);
			m->facts[i].value = xstrdup(value);
			ctx_leave(c);
			return 0;
		}
	m->facts = xrealloc(m->facts, (m->nfacts + 1) * sizeof(*m->facts));
	m->facts[m->nfacts].key = xstrdup(key);
	m->facts[m->nfacts].value = xstrdup(value);
	m->nfacts++;
	ctx_leave(c);
	log_msg(MM_LOG_DEBUG, m->qid, c->inst->name, "fact %s = %s", key, value);
	return 0;
}

const char *
api_fact_get(mm_ctx *c, const char *key)
{
	SESSION_OR(c, NULL);
	for (size_t i = 0; i < c->msg->nfacts; i++)
		if (strcmp(c->msg->facts[i].key, key) == 0)
			return c->msg->facts[i].value;
	return NULL;
}

size_t
api_header_count(mm_ctx *c)
{
	SESSION_OR(c, 0);
	return c->msg->hdrs.n;
}

int
api_header_at(mm_ctx *c, size_t i, const char **name, const char **value)
{
	SESSION_OR(c, -1);
	if (i >= c->msg->hdrs.n)
		return -1;
	*name = c->msg->hdrs.h[i].name;
	*value = c->msg->hdrs.h[i].value;
	return 0;
}

size_t
api_received_header_count(mm_ctx *c)
{
	SESSION_OR(c, 0);
	return c->msg->hdrs.norig;
}

int
api_received_header_at(mm_ctx *c, size_t i, const char **name, const char **value)
{
	SESSION_OR(c, -1);
	if (i >= c->msg->hdrs.norig)
		return -1;
	*name = c->msg->hdrs.orig[i].name;
	*value = c->msg->hdrs.orig[i].value;
	return 0;
}

const char *
api_header_get(mm_ctx *c, const char *name, size_t nth)
{
	SESSION_OR(c, NULL);
	return hdrlist_get(&c->msg->hdrs, name, nth ? nth : 1);
}

int
api_body(mm_ctx *c, const unsigned char **data, size_t *len)
{
	SESSION_OR(c, -1);
	return session_body_get(c->s, data, len);
}

/* The message as this plugin sees it, parsed on the first call. */
mm_parts *
api_parts(mm_ctx *c)
{
	struct message *m;
	struct msgparts_field *f;
	const unsigned char *body;
	size_t blen, nh;
	struct mm_parts *p;

	SESSION_OR(c, NULL);
	m = c->msg;
	pthread_mutex_lock(&c->s->lock);
	p = m->parts;
	pthread_mutex_unlock(&c->s->lock);
	if (p)
		return p;
	if (session_body_get(c->s, &body, &blen) < 0) {
		body = (const unsigned char *)"";
		blen = 0;
	}
	/* parsed without the lock: the list may only change under it, so
	   its entries are taken under it (the strings stay allocated until
	   the message ends, whatever a later edit does) */
	pthread_mutex_lock(&c->s->lock);
	nh = m->hdrs.n;
	f = xmalloc((nh ? nh : 1) * sizeof(*f));
	for (size_t i = 0; i < nh; i++) {
		f[i].name = m->hdrs.h[i].name;
		f[i].value = m->hdrs.h[i].value ? m->hdrs.h[i].value : "";
	}
	pthread_mutex_unlock(&c->s->lock);
	p = msgparts_from(f, nh, body, blen);
	free(f);
	pthread_mutex_lock(&c->s->lock);
	if (m->parts == NULL) {
		m->parts = p;
	} else {
		msgparts_free(p);	/* another reader was first */
		p = m->parts;
	}
	pthread_mutex_unlock(&c->s->lock);
	return p;
}
