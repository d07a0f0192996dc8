/*
 * NAME
 *	session - one SMTP connection seen through the chain of plugins
 * DESCRIPTION
 *	See session.h. The entry points the MTA side calls, one per SMTP
 *	event: each records the event's facts (client address and class,
 *	HELO, sender, recipients, headers, body) and hands the stage to
 *	stage.c, which runs it through the chain. A message's data lives
 *	in message.c; how it ends, in msgend.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "session.h"

struct session *
session_new(struct conf *c, const struct backend *be, void *bctx)
{
	struct session *s = xcalloc(1, sizeof(*s));

	conf_ref(c);
	s->conf = c;
	s->be = be;
	s->bctx = bctx;
	s->ctx = xcalloc(c->ninst ? c->ninst : 1, sizeof(*s->ctx));
	for (size_t i = 0; i < c->ninst; i++) {
		s->ctx[i].s = s;
		s->ctx[i].inst = c->inst[i];
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->chain = -1;
	s->m = message_new();
	return s;
}

const char *
session_macro(struct session *s, const char *name)
{
	return s->be && s->be->macro ? s->be->macro(s->bctx, name) : NULL;
}

void
session_connect(struct session *s, const char *host, const struct sockaddr *sa,
    struct stage_out *out)
{
	struct hook_args a;
	const char *d;

	free(s->host);
	s->host = xstrdup(host ? host : "unknown");
	s->have_sa = 0;
	s->cls = MM_CLIENT_EXTERNAL;
	strcpy(s->addr, "unknown");
	if (sa && cidr_addr_from_sockaddr(sa, &s->family, s->abytes) == 0) {
		s->have_sa = 1;
		memcpy(&s->sa, sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		inet_ntop(s->family, s->abytes, s->addr, sizeof(s->addr));
		if (cidr_list_match(s->conf->trusted, s->conf->ntrusted, s->family, s->abytes))
			s->cls = MM_CLIENT_TRUSTED_RELAY;
		if (cidr_list_match(s->conf->internal, s->conf->ninternal, s->family, s->abytes))
			s->cls = MM_CLIENT_INTERNAL;
	}
	if ((d = session_macro(s, "{daemon_name}")) != NULL) {
		free(s->daemon);
		s->daemon = xstrdup(d);
	}
	s->seen_connect = 1;
	memset(&a, 0, sizeof(a));
	a.str = s->host;
	a.sa = s->have_sa ? (struct sockaddr *)&s->sa : NULL;
	stage_run(s, MM_STAGE_CONNECT, &a, NULL, out);
}

void
session_helo(struct session *s, const char *helo, struct stage_out *out)
{
	struct hook_args a;

	free(s->helo);
	s->helo = xstrdup(helo ? helo : "");
	memset(&a, 0, sizeof(a));
	a.str = s->helo;
	stage_run(s, MM_STAGE_HELO, &a, NULL, out);
}

void
session_fresh_qid(struct session *s)
{
	const char *q = session_macro(s, "i");

	if (q && *q && (s->m->qid == NULL || strcmp(q, s->m->qid) != 0)) {
		pthread_mutex_lock(&s->lock);
		if (s->m->qid)
			graveyard_add(s->m, s->m->qid);
		s->m->qid = xstrdup(q);
		pthread_mutex_unlock(&s->lock);
	}
}

void
session_envfrom(struct session *s, char **argv, struct stage_out *out)
{
	struct hook_args a;
	const char *au;
	size_t n = 0;

	/* the MTA never told how the last one ended */
	if (s->in_msg)
		message_abort(s, MM_STAGE_ABORT);
	s->in_msg = 1;
	s->m->t0 = mono_now();
	session_fresh_qid(s);
	if ((au = session_macro(s, "{auth_authen}")) != NULL && *au)
		s->m->auth_user = xstrdup(au);
	s->m->from = addr_strip(argv && argv[0] ? argv[0] : "");
	while (argv && argv[n])
		n++;
	s->m->from_argv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		s->m->from_argv[i] = xstrdup(argv[i]);
	if (!s->chain_conn_level && s->chain != -1) {
		s->chain = -1;
		s->ch = NULL;
	}
	if (s->ch)
		stage_chain_chosen(s, s->chain);
	memset(&a, 0, sizeof(a));
	a.argv = s->m->from_argv;
	stage_run(s, MM_STAGE_ENVFROM, &a, NULL, out);
}

/* Note a RCPT TO for the outcome; returns its index. */
static size_t
rcpt_outcome(struct message *m, const char *addr, mm_verdict v, const char *by)
{
	struct mm_rcpt_outcome *r;

	m->routs = xrealloc(m->routs, (m->nrouts + 1) * sizeof(*m->routs));
	r = &m->routs[m->nrouts];
	r->addr = xstrdup(addr);
	r->verdict = v;
	r->decided_by = by;
	return m->nrouts++;
}

void
session_envrcpt(struct session *s, char **argv, struct stage_out *out)
{
	struct message *m;
	size_t k;
	struct hook_args a;
	const char *arg = argv && argv[0] ? argv[0] : "", *why;
	char *rcpt = addr_strip(arg);
	/* chains match the normalised domain: "x@Example.ORG." is example.org */
	char *norm = addr_normalize(arg, &why);
	const char *dom = norm ? addr_domain(norm) : NULL;

	session_fresh_qid(s);
	if (norm == NULL && s->conf->rcpt_chains)
		log_msg(MM_LOG_INFO, s->m->qid, NULL, "recipient <%s>: %s; it has no "
		    "domain for rcpt_domain", rcpt, why);
	if (s->chain_by_rcpt && s->chain != -1 && s->sticky == MM_CONTINUE &&
	    chain_select(s, dom ? dom : "") != s->chain) {
		struct reply r;
		reply_make(&r, MM_TEMPFAIL, "452", "4.5.3",
		    "Too many recipients for one message; send this one separately");
		stage_out_set(out, MM_TEMPFAIL, &r);
		reply_free(&r);
		log_msg(MM_LOG_INFO, s->m->qid, NULL,
		    "recipient <%s> belongs to another chain: 452 4.5.3", rcpt);
		rcpt_outcome(s->m, rcpt, MM_TEMPFAIL, NULL);
		free(rcpt);
		free(norm);
		return;
	}
	m = s->m;
	k = rcpt_outcome(m, rcpt, MM_CONTINUE, NULL);
	memset(&a, 0, sizeof(a));
	a.argv = argv;
	stage_run(s, MM_STAGE_ENVRCPT, &a, s->chain == -1 ? (dom ? dom : "") : NULL, out);
	free(norm);
	if (s->m == m && (out->verdict == MM_REJECT || out->verdict == MM_TEMPFAIL)) {
		m->routs[k].verdict = out->verdict;
		m->routs[k].decided_by = s->stage_by;
	}
	if (out->verdict == MM_CONTINUE || out->verdict == MM_ACCEPT) {
		s->m->rcpts = xrealloc(s->m->rcpts, (s->m->nrcpts + 1) * sizeof(char *));
		s->m->rcpts[s->m->nrcpts++] = rcpt;
	} else
		free(rcpt);
}

void
session_data(struct session *s, struct stage_out *out)
{
	struct hook_args a;

	memset(&a, 0, sizeof(a));
	stage_run(s, MM_STAGE_DATA, &a, NULL, out);
}

void
session_header(struct session *s, const char *name, const char *value,
    struct stage_out *out)
{
	struct hook_args a;

	if (s->record_headers)
		hdrlist_received(&s->m->hdrs, name, value);
	memset(&a, 0, sizeof(a));
	a.str = name;
	a.str2 = value;
	stage_run(s, MM_STAGE_HEADER, &a, NULL, out);
}

void
session_eoh(struct session *s, struct stage_out *out)
{
	struct hook_args a;

	session_fresh_qid(s);
	memset(&a, 0, sizeof(a));
	stage_run(s, MM_STAGE_EOH, &a, NULL, out);
}

void
session_body(struct session *s, const unsigned char *data, size_t len,
    struct stage_out *out)
{
	struct hook_args a;

	if (s->buffer_body && message_body_append(s->m, s->conf, data, len) < 0 &&
	    s->sticky == MM_CONTINUE) {
		log_msg(MM_LOG_ERR, s->m->qid, NULL, "body spill write failed");
		s->sticky = MM_TEMPFAIL;
		reply_make(&s->sticky_reply, MM_TEMPFAIL, "451", "4.3.0",
		    "Temporary local problem, please try again later");
	}
	s->m->size += len;
	memset(&a, 0, sizeof(a));
	a.data = data;
	a.len = len;
	stage_run(s, MM_STAGE_BODY, &a, NULL, out);
}

void
session_eom(struct session *s, struct stage_out *out, struct eom_out *copy)
{
	struct hook_args a;

	if (copy)
		memset(copy, 0, sizeof(*copy));
	session_fresh_qid(s);
	message_drop_forged_authres(s);
	memset(&a, 0, sizeof(a));
	stage_run(s, MM_STAGE_EOM, &a, NULL, out);
	message_eom(s, out, copy);
}

void
session_abort(struct session *s)
{
	message_abort(s, MM_STAGE_ABORT);
}

void
session_unknown(struct session *s, const char *cmd, struct stage_out *out)
{
	struct hook_args a;

	memset(&a, 0, sizeof(a));
	a.str = cmd;
	stage_run(s, MM_STAGE_UNKNOWN, &a, NULL, out);
}

void
session_defer_verdict(struct session *s, mm_verdict v, const struct reply *r)
{
	mm_verdict *where = s->in_msg ? &s->sticky : &s->conn_sticky;
	struct reply *wr = s->in_msg ? &s->sticky_reply : &s->conn_sticky_reply;

	if (verdict_severity(v) <= verdict_severity(*where))
		return;
	reply_free(wr);
	*where = v;
	reply_copy(wr, r);
}

double session_grace = 30;

void
session_free(struct session *s)
{
	struct timespec dl;
	double end;

	if (s == NULL)
		return;
	/* the connection ended in the middle of a message */
	if (s->in_msg)
		message_abort(s, MM_STAGE_CLOSE);
	clock_gettime(CLOCK_REALTIME, &dl);
	end = (double)dl.tv_sec + (double)dl.tv_nsec / 1e9 + session_grace;
	dl.tv_sec = (time_t)end;
	dl.tv_nsec = (long)((end - (double)dl.tv_sec) * 1e9);
	pthread_mutex_lock(&s->lock);
	while (s->outstanding > 0)
		if (pthread_cond_timedwait(&s->idle, &s->lock, &dl) == ETIMEDOUT)
			break;
	if (s->outstanding > 0) {
		int n = s->outstanding;
		/* the MTA side goes away now; the last hook to return
		   frees the rest (invoke.c) */
		s->be = NULL;
		s->orphaned = 1;
		pthread_mutex_unlock(&s->lock);
		log_msg(MM_LOG_WARNING, NULL, NULL, "%d hook%s still running %.0f s "
		    "after %s timeout: the connection ends without waiting; its "
		    "state is freed when %s", n, n == 1 ? "" : "s", session_grace,
		    n == 1 ? "its" : "their", n == 1 ? "it returns" : "they return");
		return;
	}
	pthread_mutex_unlock(&s->lock);
	session_teardown(s);
}

void
session_teardown(struct session *s)
{
	for (size_t i = 0; i < s->conf->ninst; i++)
		s->ctx[i].failed = 0;	/* every hook has returned now */
	message_reset(s);
	for (size_t i = 0; i < s->conf->ninst; i++) {
		struct mm_ctx *c = &s->ctx[i];
		c->msg = s->m;
		if (c->joined && c->inst->p->conn_close)
			c->inst->p->conn_close(c, c->inst->data);
		if (c->conn_free && c->conn_data)
			c->conn_free(c->conn_data);
		reply_free(&c->reply);
	}
	message_free(s->m);
	while (s->parked) {
		struct message *next = s->parked->next;
		message_free(s->parked);
		s->parked = next;
	}
	reply_free(&s->conn_sticky_reply);
	free(s->ctx);
	free(s->host);
	free(s->daemon);
	free(s->helo);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	conf_unref(s->conf);
	free(s);
}
