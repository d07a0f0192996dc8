/*
 * NAME
 *	api_act - the API entries that act: reply, headers, envelope,
 *	body, quarantine, Authentication-Results, progress
 * DESCRIPTION
 *	Actions are queued on the message, never sent at once: the engine
 *	hands them to the MTA side at end of message (msgend.c). Each
 *	needs the action declared in the descriptor (MM_ACT_*); an
 *	instance in monitor mode queues nothing (the would-be action is
 *	logged); in msg_end the message has ended and nothing is taken;
 *	a plugin abandoned after a timeout changes nothing any more
 *	(ctx_enter() refuses it, the first time logged). Strings are
 *	copied.
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

/* Refused when abandoned or failed or the message has ended, a no-op
   (logged) in monitor mode; otherwise returns inside ctx_enter(),
   left by ACT_END (which marks the message as having actions queued). */
#define ACT_BEGIN(c, act, what) do {					\
	if ((c) == NULL || (c)->s == NULL || (c)->msg == NULL)		\
		return -1;						\
	if (ended(c, what)) return -1;					\
	if (!needs(c, act, what)) return -1;				\
	if (ctx_enter(c, what) < 0)					\
		return -1;						\
	if ((c)->inst->monitor) {					\
		ctx_leave(c);						\
		log_msg(MM_LOG_INFO, (c)->msg->qid, (c)->inst->name,	\
		    "monitor mode: would %s", what);			\
		return 0;						\
	}								\
} while (0)
#define ACT_END(c) ctx_leave_queued(c)

/* In msg_end the message has ended: nothing may act on it any more. */
static int
ended(mm_ctx *c, const char *what)
{
	if (c->stage != STAGE_MSG_END)
		return 0;
	log_msg(MM_LOG_WARNING, c->msg ? c->msg->qid : NULL, c->inst->name,
	    "msg_end tried to %s: the message has ended; refused", what);
	return 1;
}

/* An edit that changes what the message parses to retires the parse
   (kept until the message ends: a reader may still hold it). Called
   with the session lock held. */
static void
parts_stale(struct message *m, const char *field)
{
	if (m->parts == NULL || (field && strncasecmp(field, "Content-", 8) != 0 &&
	    strcasecmp(field, "MIME-Version") != 0))
		return;
	m->parts_old = xrealloc(m->parts_old, (m->nparts_old + 1) * sizeof(*m->parts_old));
	m->parts_old[m->nparts_old++] = m->parts;
	m->parts = NULL;
}

int
api_set_reply(mm_ctx *c, const char *rcode, const char *xcode, const char *text)
{
	SESSION_OR(c, -1);
	if (ended(c, "set a reply"))
		return -1;
	if (ctx_enter(c, "set a reply") < 0)
		return -1;
	if (!c->in_hook) {
		/* the core has answered already */
		ctx_leave(c);
		return -1;
	}
	reply_free(&c->reply);
	memset(&c->reply, 0, sizeof(c->reply));
	if (rcode && strlen(rcode) < sizeof(c->reply.rcode))
		strcpy(c->reply.rcode, rcode);
	if (xcode && strlen(xcode) < sizeof(c->reply.xcode))
		strcpy(c->reply.xcode, xcode);
	c->reply.text = text ? xstrdup(text) : NULL;
	c->has_reply = 1;
	ctx_leave(c);
	return 0;
}

/* A header name is printable ASCII without ':' (RFC 5322 §2.2). */
static int
valid_header(const char *name, const char *value)
{
	if (name == NULL || *name == 0 || value == NULL)
		return 0;
	for (const char *p = name; *p; p++)
		if (*p <= 32 || *p >= 127 || *p == ':')
			return 0;
	/* a line break must be followed by whitespace (folding) */
	for (const char *p = value; *p; p++)
		if ((*p == '\n' && p[1] != ' ' && p[1] != '\t') ||
		    (*p == '\r' && p[1] != '\n'))
			return 0;
	return 1;
}

static int
needs(mm_ctx *c, unsigned act, const char *what)
{
	if (!(c->inst->actions & act)) {
		log_msg(MM_LOG_WARNING, c->msg->qid, c->inst->name,
		    "%s without declaring the action; ignored", what);
		return 0;
	}
	return 1;
}

int
api_add_header(mm_ctx *c, const char *name, const char *value)
{
	if (!valid_header(name, value))
		return -1;
	ACT_BEGIN(c, MM_ACT_ADDHDRS, "add a header");
	hdrlist_add(&c->msg->hdrs, name, value);
	parts_stale(c->msg, name);
	ACT_END(c);
	return 0;
}

int
api_insert_header(mm_ctx *c, size_t idx, const char *name, const char *value)
{
	if (!valid_header(name, value))
		return -1;
	ACT_BEGIN(c, MM_ACT_ADDHDRS, "insert a header");
	hdrlist_insert(&c->msg->hdrs, idx, name, value);
	parts_stale(c->msg, name);
	ACT_END(c);
	return 0;
}

int
api_change_header(mm_ctx *c, const char *name, size_t nth, const char *value)
{
	int r;

	if (!valid_header(name, value ? value : ""))
		return -1;
	ACT_BEGIN(c, MM_ACT_CHGHDRS, "change a header");
	r = hdrlist_change(&c->msg->hdrs, name, nth, value);
	parts_stale(c->msg, name);
	ACT_END(c);
	return r;
}

static int
strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
}

int
api_add_rcpt(mm_ctx *c, const char *addr)
{
	char *a;

	if (addr == NULL || *addr == 0)
		return -1;
	ACT_BEGIN(c, MM_ACT_ADDRCPT, "add a recipient");
	a = addr_strip(addr);
	if (!strv_has(c->msg->addrcpt, c->msg->naddrcpt, a) &&
	    !(strv_has(c->msg->rcpts, c->msg->nrcpts, a) &&
	    !strv_has(c->msg->delrcpt, c->msg->ndelrcpt, a)))
		strv_push(&c->msg->addrcpt, &c->msg->naddrcpt, a);
	free(a);
	ACT_END(c);
	return 0;
}

int
api_del_rcpt(mm_ctx *c, const char *addr)
{
	char *a;

	if (addr == NULL || *addr == 0)
		return -1;
	ACT_BEGIN(c, MM_ACT_DELRCPT, "delete a recipient");
	a = addr_strip(addr);
	if (!strv_has(c->msg->delrcpt, c->msg->ndelrcpt, a))
		strv_push(&c->msg->delrcpt, &c->msg->ndelrcpt, a);
	free(a);
	ACT_END(c);
	return 0;
}

int
api_change_from(mm_ctx *c, const char *addr, const char *args)
{
	if (addr == NULL)
		return -1;
	ACT_BEGIN(c, MM_ACT_CHGFROM, "change the sender");
	if (c->msg->chgfrom)
		log_msg(MM_LOG_NOTICE, c->msg->qid, c->inst->name,
		    "sender change to <%s> replaces an earlier one to <%s>", addr,
		    c->msg->chgfrom);
	free(c->msg->chgfrom);
	free(c->msg->chgfrom_args);
	c->msg->chgfrom = addr_strip(addr);
	c->msg->chgfrom_args = args ? xstrdup(args) : NULL;
	ACT_END(c);
	return 0;
}

int
api_replace_body(mm_ctx *c, const unsigned char *data, size_t len)
{
	unsigned char *copy;

	if (data == NULL && len)
		return -1;
	ACT_BEGIN(c, MM_ACT_CHGBODY, "replace the body");
	copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, data, len);
	if (++c->msg->body_replacements > 1)
		log_msg(MM_LOG_NOTICE, c->msg->qid, c->inst->name,
		    "body replaced again (replacement %d); the last one is sent",
		    c->msg->body_replacements);
	free(c->msg->newbody);
	c->msg->newbody = copy;
	c->msg->newbodylen = len;
	parts_stale(c->msg, NULL);
	ACT_END(c);
	return 0;
}

int
api_quarantine(mm_ctx *c, const char *reason)
{
	ACT_BEGIN(c, MM_ACT_QUARANTINE, "quarantine the message");
	if (c->msg->quarantine.len)
		buf_adds(&c->msg->quarantine, "; ");
	buf_printf(&c->msg->quarantine, "%s: %s", c->inst->name,
	    reason && *reason ? reason : "quarantined");
	ACT_END(c);
	return 0;
}

int
api_auth_result(mm_ctx *c, const char *clause)
{
	if (clause == NULL || *clause == 0 || strpbrk(clause, "\r\n"))
		return -1;
	ACT_BEGIN(c, MM_ACT_AUTHRES, "add an Authentication-Results clause");
	strv_push(&c->msg->authres, &c->msg->nauthres, clause);
	ACT_END(c);
	return 0;
}

int
api_progress(mm_ctx *c)
{
	SESSION_OR(c, -1);
	if (ended(c, "ask the MTA for more time"))
		return -1;
	return ctx_progress(c);
}
