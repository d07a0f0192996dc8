/*
 * NAME
 *	api - the function table plugins call back into
 * SYNOPSIS
 *	#include "session.h"
 *
 *	extern const struct mm_api core_api;
 * DESCRIPTION
 *	Every entry checks its context: outside a connection (init, fini)
 *	only logging and options work; an instance in monitor mode queues
 *	nothing (the would-be action is logged); a plugin abandoned after a
 *	timeout changes nothing any more: each action, fact and
 *	Authentication-Results clause it still tries is refused (-1), the
 *	first one logged, and mm_abandoned() tells it why. Strings are
 *	copied. Mutations take the session lock and check abandonment under
 *	it, as invoke.c marks it under it, so that a hook still running after
 *	its timeout cannot slip a change past the moment it was given up.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgtree.h"
#include "log.h"
#include "metrics.h"
#include "msgparts.h"
#include "session.h"
#include "store.h"

static void
api_vlog(mm_ctx *c, mm_log_level level, const char *fmt, va_list ap)
{
	log_vmsg((int)level, c && c->msg ? c->msg->qid : NULL,
	    c && c->inst ? c->inst->name : NULL, fmt, ap);
}

static void
api_log(mm_ctx *c, mm_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_level())
		return;
	va_start(ap, fmt);
	api_vlog(c, level, fmt, ap);
	va_end(ap);
}

static const char *
api_instance_name(mm_ctx *c)
{
	return c && c->inst ? c->inst->name : NULL;
}

static void
api_opt_error(const mm_opt *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(node, fmt, ap);
	va_end(ap);
}

/*
 * Was this instance's hook given up after its timeout? Then what it
 * still tries is dropped; the first attempt is logged, as a plugin that
 * overran is usually still busy with work nobody waits for. Called with
 * the session lock held.
 */
static int
abandoned_locked(mm_ctx *c, const char *what)
{
	if (!__atomic_load_n(&c->abandoned, __ATOMIC_ACQUIRE))
		return 0;
	if (!c->abandon_noted) {
		c->abandon_noted = 1;
		log_msg(MM_LOG_WARNING, c->msg ? c->msg->qid : NULL, c->inst->name,
		    "hook abandoned after its timeout tried to %s: dropped, "
		    "as is all it does from now on", what);
	}
	return 1;
}

static int
api_abandoned(mm_ctx *c)
{
	return c && c->s && __atomic_load_n(&c->abandoned, __ATOMIC_ACQUIRE);
}

static void
api_set_conn_data(mm_ctx *c, void *d, void (*destroy)(void *))
{
	if (c == NULL || c->s == NULL)
		return;
	if (c->conn_free && c->conn_data && c->conn_data != d)
		c->conn_free(c->conn_data);
	c->conn_data = d;
	c->conn_free = destroy;
}

static void *
api_conn_data(mm_ctx *c)
{
	return c ? c->conn_data : NULL;
}

static void
api_set_msg_data(mm_ctx *c, void *d, void (*destroy)(void *))
{
	if (c == NULL || c->s == NULL)
		return;
	if (c->msg_free && c->msg_data && c->msg_data != d)
		c->msg_free(c->msg_data);
	c->msg_data = d;
	c->msg_free = destroy;
}

static void *
api_msg_data(mm_ctx *c)
{
	return c ? c->msg_data : NULL;
}

/* Outside a connection, or abandoned after a timeout: nothing to give. */
#define SESSION_OR(c, dflt) do {					\
	if ((c) == NULL || (c)->s == NULL || (c)->msg == NULL || (c)->failed) \
		return dflt;						\
} while (0)

static const char *
api_client_addr(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->addr;
}

static const struct sockaddr *
api_client_sockaddr(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->have_sa ? (const struct sockaddr *)&c->s->sa : NULL;
}

static const char *
api_client_host(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->host;
}

static mm_client_class
api_client_class(mm_ctx *c)
{
	SESSION_OR(c, MM_CLIENT_EXTERNAL);
	return c->s->cls;
}

static const char *
api_helo(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->s->helo;
}

static const char *
api_auth_user(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->msg->auth_user;
}

static const char *
api_macro(mm_ctx *c, const char *name)
{
	SESSION_OR(c, NULL);
	return session_macro(c->s, name);
}

static const char *
api_queue_id(mm_ctx *c)
{
	SESSION_OR(c, "NOQUEUE");
	return c->msg->qid ? c->msg->qid : "NOQUEUE";
}

static const char *
api_mail_from(mm_ctx *c)
{
	SESSION_OR(c, NULL);
	return c->msg->from;
}

static size_t
api_rcpt_count(mm_ctx *c)
{
	SESSION_OR(c, 0);
	return c->msg->nrcpts;
}

static const char *
api_rcpt_at(mm_ctx *c, size_t i)
{
	SESSION_OR(c, NULL);
	return i < c->msg->nrcpts ? c->msg->rcpts[i] : NULL;
}

static int
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
	pthread_mutex_lock(&c->s->lock);
	if (abandoned_locked(c, "set its result") || c->failed) {
		pthread_mutex_unlock(&c->s->lock);
		return -1;
	}
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
	pthread_mutex_unlock(&c->s->lock);
	return 0;
}

static int
api_fact_set(mm_ctx *c, const char *key, const char *value)
{
	struct message *m;

	if (c == NULL || c->s == NULL || c->msg == NULL || key == NULL ||
	    value == NULL)
		return -1;
	pthread_mutex_lock(&c->s->lock);
	if (abandoned_locked(c, "set a fact") || c->failed) {
		pthread_mutex_unlock(&c->s->lock);
		return -1;
	}
	/* the message this hook serves, as for actions */
	m = c->msg;
	for (size_t i = 0; i < m->nfacts; i++)
		if (strcmp(m->facts[i].key, key) == 0) {
			/* the old value may still be held by a reader */
			graveyard_add(m, m->facts[i].value);
			m->facts[i].value = xstrdup(value);
			pthread_mutex_unlock(&c->s->lock);
			return 0;
		}
	m->facts = xrealloc(m->facts, (m->nfacts + 1) * sizeof(*m->facts));
	m->facts[m->nfacts].key = xstrdup(key);
	m->facts[m->nfacts].value = xstrdup(value);
	m->nfacts++;
	pthread_mutex_unlock(&c->s->lock);
	log_msg(MM_LOG_DEBUG, m->qid, c->inst->name, "fact %s = %s", key, value);
	return 0;
}

static const char *
api_fact_get(mm_ctx *c, const char *key)
{
	SESSION_OR(c, NULL);
	for (size_t i = 0; i < c->msg->nfacts; i++)
		if (strcmp(c->msg->facts[i].key, key) == 0)
			return c->msg->facts[i].value;
	return NULL;
}

static size_t
api_header_count(mm_ctx *c)
{
	SESSION_OR(c, 0);
	return c->msg->hdrs.n;
}

static int
api_header_at(mm_ctx *c, size_t i, const char **name, const char **value)
{
	SESSION_OR(c, -1);
	if (i >= c->msg->hdrs.n)
		return -1;
	*name = c->msg->hdrs.h[i].name;
	*value = c->msg->hdrs.h[i].value;
	return 0;
}

static const char *
api_header_get(mm_ctx *c, const char *name, size_t nth)
{
	SESSION_OR(c, NULL);
	return hdrlist_get(&c->msg->hdrs, name, nth ? nth : 1);
}

static int
api_body(mm_ctx *c, const unsigned char **data, size_t *len)
{
	SESSION_OR(c, -1);
	return session_body_get(c->s, data, len);
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

/* The message as this plugin sees it, parsed on the first call. */
static mm_parts *
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

static int
api_set_reply(mm_ctx *c, const char *rcode, const char *xcode, const char *text)
{
	SESSION_OR(c, -1);
	pthread_mutex_lock(&c->s->lock);
	if (abandoned_locked(c, "set a reply") || !c->in_hook || c->failed) {
		/* the core has answered already */
		pthread_mutex_unlock(&c->s->lock);
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
	pthread_mutex_unlock(&c->s->lock);
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

/* Refused when abandoned or failed, a no-op (logged) in monitor mode;
   otherwise returns holding the session lock, released by ACT_END. */
#define ACT_BEGIN(c, act, what) do {					\
	if ((c) == NULL || (c)->s == NULL || (c)->msg == NULL)		\
		return -1;						\
	if (!needs(c, act, what)) return -1;				\
	pthread_mutex_lock(&(c)->s->lock);				\
	if (abandoned_locked(c, what) || (c)->failed) {			\
		pthread_mutex_unlock(&(c)->s->lock);			\
		return -1;						\
	}								\
	if ((c)->inst->monitor) {					\
		pthread_mutex_unlock(&(c)->s->lock);			\
		log_msg(MM_LOG_INFO, (c)->msg->qid, (c)->inst->name,	\
		    "monitor mode: would %s", what);			\
		return 0;						\
	}								\
} while (0)
#define ACT_END(c) do { (c)->msg->actions_queued = 1;			\
	pthread_mutex_unlock(&(c)->s->lock); } while (0)

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
api_auth_result(mm_ctx *c, const char *clause)
{
	if (clause == NULL || *clause == 0 || strpbrk(clause, "\r\n"))
		return -1;
	ACT_BEGIN(c, MM_ACT_AUTHRES, "add an Authentication-Results clause");
	strv_push(&c->msg->authres, &c->msg->nauthres, clause);
	ACT_END(c);
	return 0;
}

static int
api_progress(mm_ctx *c)
{
	int r;

	SESSION_OR(c, -1);
	/* only the hook the connection is waiting for may speak to the MTA */
	pthread_mutex_lock(&c->s->lock);
	r = c->in_hook && !c->failed && !c->abandoned && c->s->be && c->s->be->progress ?
	    c->s->be->progress(c->s->bctx) : -1;
	pthread_mutex_unlock(&c->s->lock);
	return r;
}

static mm_store *
api_store_open(mm_ctx *c, const char *dbname, char **err)
{
	struct conf *conf = c && c->inst ? c->inst->conf : NULL;

	if (conf == NULL) {
		if (err)
			*err = xstrdup("no configuration");
		return NULL;
	}
	return store_open(&conf->store, dbname, err);
}

static int
api_narrow(mm_ctx *c, unsigned actions, unsigned flags)
{
	struct instance *in = c ? c->inst : NULL;

	if (in == NULL || c->s != NULL || in->p == NULL ||
	    (actions & ~in->p->actions) || (flags & ~in->p->flags))
		return -1;
	in->actions = actions;
	in->flags = flags;
	return 0;
}

static mm_metric *
api_metric(mm_ctx *c, const char *name, const char *help, const char *label,
    const double *bounds, size_t nb)
{
	struct instance *in = c ? c->inst : NULL;
	struct mm_metric *m;
	char err[256];

	if (in == NULL || in->p == NULL || c->s != NULL) {
		log_msg(MM_LOG_ERR, NULL, in ? in->name : NULL,
		    "metrics are registered at init, with the init context");
		return NULL;
	}
	m = metrics_plugin(in->p->name, in->name, name, help, label, bounds, nb,
	    err, sizeof(err));
	if (m == NULL)
		log_msg(MM_LOG_ERR, NULL, in->name, "%s", err);
	return m;
}

static mm_metric *
api_metric_counter(mm_ctx *c, const char *name, const char *help, const char *label)
{
	return api_metric(c, name, help, label, NULL, 0);
}

static mm_metric *
api_metric_histogram(mm_ctx *c, const char *name, const char *help,
    const char *label, const double *bounds, size_t nb)
{
	if (bounds == NULL) {
		log_msg(MM_LOG_ERR, NULL, c && c->inst ? c->inst->name : NULL,
		    "metric %s: a histogram needs bounds", name ? name : "(null)");
		return NULL;
	}
	return api_metric(c, name, help, label, bounds, nb);
}

static void
api_free(void *p)
{
	free(p);
}

static double
api_now(mm_ctx *c)
{
	(void)c;
	return wall_now();
}

const struct mm_api core_api = {
	.size = sizeof(struct mm_api),
	.sdk_major = MM_SDK_MAJOR,
	.sdk_minor = MM_SDK_MINOR,
	.log = api_log,
	.vlog = api_vlog,
	.instance_name = api_instance_name,
	.opt_type = cfg_type,
	.opt_get = cfg_get,
	.opt_len = cfg_len,
	.opt_at = cfg_at,
	.opt_key_at = cfg_key_at,
	.opt_scalar = cfg_scalar,
	.opt_str = cfg_str,
	.opt_int = cfg_int,
	.opt_bool = cfg_bool,
	.opt_duration = cfg_duration,
	.opt_error = api_opt_error,
	.set_conn_data = api_set_conn_data,
	.conn_data = api_conn_data,
	.set_msg_data = api_set_msg_data,
	.msg_data = api_msg_data,
	.client_addr = api_client_addr,
	.client_sockaddr = api_client_sockaddr,
	.client_host = api_client_host,
	.client_class = api_client_class,
	.helo = api_helo,
	.auth_user = api_auth_user,
	.macro = api_macro,
	.queue_id = api_queue_id,
	.mail_from = api_mail_from,
	.rcpt_count = api_rcpt_count,
	.rcpt_at = api_rcpt_at,
	.fact_set = api_fact_set,
	.fact_get = api_fact_get,
	.header_count = api_header_count,
	.header_at = api_header_at,
	.header_get = api_header_get,
	.body = api_body,
	.set_reply = api_set_reply,
	.add_header = api_add_header,
	.insert_header = api_insert_header,
	.change_header = api_change_header,
	.add_rcpt = api_add_rcpt,
	.del_rcpt = api_del_rcpt,
	.change_from = api_change_from,
	.replace_body = api_replace_body,
	.quarantine = api_quarantine,
	.auth_result = api_auth_result,
	.progress = api_progress,
	.store_open = api_store_open,
	.store_get = store_get,
	.store_put = store_put,
	.store_del = store_del,
	.free = api_free,
	.now = api_now,
	.narrow = api_narrow,
	.store_batch = store_batch,
	.store_batch_get = store_batch_get,
	.store_batch_put = store_batch_put,
	.store_batch_del = store_batch_del,
	.store_batch_add = store_batch_add,
	.store_batch_expect = store_batch_expect,
	.store_batch_run = store_batch_run,
	.store_result = store_result,
	.store_batch_free = store_batch_free,
	.store_counter = store_counter,
	.store_scan = store_scan,
	.store_expire = store_expire,
	.metric_counter = api_metric_counter,
	.metric_histogram = api_metric_histogram,
	.metric_add = metrics_plugin_add,
	.metric_observe = metrics_plugin_observe,
	.addr_normalize = addr_normalize,
	.domain_normalize = domain_normalize,
	.domain_match = domain_match,
	.abandoned = api_abandoned,
	.set_result = api_set_result,
	.parts = api_parts,
	.parts_parse = msgparts_parse,
	.parts_free = msgparts_free,
	.parts_count = msgparts_count,
	.part_at = msgparts_at,
	.part_data = msgparts_data,
	.part_text = msgparts_text,
	.part_raw = msgparts_raw,
	.parts_problems = msgparts_problems,
	.header_decode = msgparts_header_decode,
};
