/*
 * NAME
 *	session - one SMTP connection seen through the chain of plugins
 * DESCRIPTION
 *	See session.h. The flow of one stage:
 *	1. a decided message verdict (a replayed event rejected) answers
 *	   at once;
 *	2. if the chain is still undecided, the stage's new facts may decide
 *	   it; plugins of the chosen chain join (conn_open) and are replayed
 *	   what they missed (connect, helo, envfrom);
 *	3. each plugin of the chain that still takes part is called in
 *	   order, and the verdicts are merged (merge.c); a DISCARD stops;
 *	4. a decisive verdict at a message stage drops the queued actions
 *	   and calls every plugin's abort hook (DESIGN.md rule 5).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "authres.h"
#include "log.h"
#include "msgparts.h"
#include "session.h"

static void msg_reset(struct session *s);
static void msg_free(struct message *m);

static struct message *
msg_new(void)
{
	struct message *m = xcalloc(1, sizeof(*m));

	m->body.fd = -1;
	return m;
}

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
	s->m = msg_new();
	return s;
}

const char *
session_macro(struct session *s, const char *name)
{
	return s->be && s->be->macro ? s->be->macro(s->bctx, name) : NULL;
}

void
session_note_monitor(struct session *s, struct mm_ctx *c, const char *what)
{
	log_msg(MM_LOG_NOTICE, s->m->qid, c->inst->name, "monitor mode: would %s", what);
	if (s->m->monitor.len)
		buf_adds(&s->m->monitor, "; ");
	buf_printf(&s->m->monitor, "%s: %s", c->inst->name, what);
	s->m->actions_queued = 1;
}

void
stage_out_free(struct stage_out *o)
{
	reply_free(&o->reply);
}

static void
out_set(struct stage_out *out, mm_verdict v, const struct reply *r)
{
	memset(out, 0, sizeof(*out));
	out->verdict = v;
	if (r && (v == MM_REJECT || v == MM_TEMPFAIL))
		reply_copy(&out->reply, r);
}

static int
takes_part(const struct mm_ctx *c, mm_stage st)
{
	if (c->failed || c->conn_done)
		return 0;
	if (st >= MM_STAGE_ENVFROM && st <= MM_STAGE_EOM && c->msg_done)
		return 0;
	if (st == MM_STAGE_BODY && c->body_done)
		return 0;
	return 1;
}

static int
has_hook(const struct mm_plugin *p, mm_stage st)
{
	switch (st) {
	case MM_STAGE_CONNECT: return p->connect != NULL;
	case MM_STAGE_HELO: return p->helo != NULL;
	case MM_STAGE_ENVFROM: return p->envfrom != NULL;
	case MM_STAGE_ENVRCPT: return p->envrcpt != NULL;
	case MM_STAGE_DATA: return p->data != NULL;
	case MM_STAGE_HEADER: return p->header != NULL;
	case MM_STAGE_EOH: return p->eoh != NULL;
	case MM_STAGE_BODY: return p->body != NULL;
	case MM_STAGE_EOM: return p->eom != NULL;
	case MM_STAGE_ABORT: return p->abort != NULL;
	case MM_STAGE_UNKNOWN: return p->unknown != NULL;
	default: return 0;
	}
}

/* The verdict a failed instance stands for, from its on_error. */
static void
failed_verdict(struct mm_ctx *c, int who, struct merge *m)
{
	struct reply r;
	mm_verdict v;

	if (c->inst->monitor || c->inst->on_error == ONERR_CONTINUE)
		return;
	v = c->inst->on_error == ONERR_REJECT ? MM_REJECT : MM_TEMPFAIL;
	reply_make(&r, v, v == MM_REJECT ? "550" : "451",
	    v == MM_REJECT ? "5.3.0" : "4.3.0",
	    v == MM_REJECT ? "Message refused by local policy" :
	    "Temporary local problem, please try again later");
	merge_add(m, who, v, &r);
	reply_free(&r);
}

static void
call_into(struct session *s, struct mm_ctx *c, int who, mm_stage st,
    const struct hook_args *a, struct merge *m)
{
	mm_verdict v;

	if (c->failed) {
		/* a plugin that failed this connection cannot be called
		   again; each new message gets its on_error verdict */
		if (st == MM_STAGE_ENVFROM)
			failed_verdict(c, who, m);
		return;
	}
	if (!takes_part(c, st) || !has_hook(c->inst->p, st))
		return;
	v = invoke_hook(s, c, st, a);
	merge_add(m, who, v, c->has_reply ? &c->reply : NULL);
}

/*
 * A plugin joins the connection: conn_open, then what it missed.
 * Verdicts about the connection (conn_open, connect, helo) go to rconn,
 * about the message (envfrom) to rmsg.
 */
static void
join(struct session *s, struct mm_ctx *c, int who, mm_stage now,
    struct merge *rconn, struct merge *rmsg)
{
	struct hook_args a;

	c->joined = 1;
	if (c->inst->p->conn_open) {
		int late;
		mm_verdict v = invoke_conn_open(s, c, &late);
		if (v == MM_ERROR || (unsigned)v > MM_ERROR) {
			log_msg(MM_LOG_WARNING, s->m->qid, c->inst->name,
			    "conn_open %s; on_error %s: plugin left out of this connection",
			    late ? "timed out" : "failed",
			    c->inst->on_error == ONERR_CONTINUE ? "continue" :
			    c->inst->on_error == ONERR_REJECT ? "reject" : "tempfail");
			c->failed = 1;
			failed_verdict(c, who, rconn);
			return;
		}
		if (verdict_severity(v) > 0 && !c->inst->monitor)
			merge_add(rconn, who, v, c->has_reply ? &c->reply : NULL);
	}
	memset(&a, 0, sizeof(a));
	if (now > MM_STAGE_CONNECT && s->seen_connect) {
		a.str = s->host;
		a.sa = s->have_sa ? (struct sockaddr *)&s->sa : NULL;
		call_into(s, c, who, MM_STAGE_CONNECT, &a, rconn);
	}
	if (now > MM_STAGE_HELO && s->helo) {
		memset(&a, 0, sizeof(a));
		a.str = s->helo;
		call_into(s, c, who, MM_STAGE_HELO, &a, rconn);
	}
	if (now > MM_STAGE_ENVFROM && s->in_msg && s->m->from_argv) {
		memset(&a, 0, sizeof(a));
		a.argv = s->m->from_argv;
		call_into(s, c, who, MM_STAGE_ENVFROM, &a, rmsg);
	}
}

/* The chain is known: decide what the core keeps for this message. */
static void
chain_chosen(struct session *s, int idx)
{
	s->chain = idx;
	s->ch = idx >= 0 ? &s->conf->chains[idx] : NULL;
	if (s->ch) {
		s->record_headers = (s->ch->flags & MM_F_MESSAGE) ||
		    (s->ch->actions & MM_ACT_CHGHDRS) ||
		    ((s->ch->actions & MM_ACT_AUTHRES) && s->conf->authserv_id);
		s->buffer_body = (s->ch->flags & MM_F_MESSAGE) != 0;
		s->m->hdrs.blind = !s->record_headers;
	}
}

static void
abort_all(struct session *s)
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

static int
all_done(const struct session *s)
{
	if (s->ch == NULL)
		return 1;
	for (size_t i = 0; i < s->ch->n; i++) {
		const struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
		if (takes_part(c, MM_STAGE_EOM))
			return 0;
	}
	return 1;
}

static void
log_decision(struct session *s, const struct merge *m, mm_stage st)
{
	if (m->who >= 0 && s->ch && s->in_msg && s->m->decider == NULL &&
	    (m->verdict == MM_REJECT || m->verdict == MM_TEMPFAIL ||
	    m->verdict == MM_DISCARD))
		s->m->decider = xstrdup(s->ch->plugins[m->who]->name);
	if (m->who >= 0 && s->ch)
		log_msg(MM_LOG_INFO, s->m->qid, s->ch->plugins[m->who]->name,
		    "%s at %s%s%s%s%s", verdict_name(m->verdict), stage_name(st),
		    m->reply.text ? ": " : "", m->reply.rcode,
		    m->reply.text ? " " : "", m->reply.text ? m->reply.text : "");
}

/* Keep a decision for the rest of the connection (conn) or message. */
static void
stick(mm_verdict *where, struct reply *wr, const struct merge *m)
{
	if (verdict_severity(m->verdict) <= verdict_severity(*where))
		return;
	*where = m->verdict;
	reply_free(wr);
	reply_copy(wr, &m->reply);
}

/* Answer with a decision taken earlier; 1 if there was one. */
static int
answer_sticky(struct session *s, mm_stage st, struct stage_out *out)
{
	int message_stage = st >= MM_STAGE_ENVFROM && st <= MM_STAGE_EOM;

	if (s->conn_sticky != MM_CONTINUE) {
		if (s->conn_sticky == MM_DISCARD && !message_stage)
			out_set(out, MM_CONTINUE, NULL);	/* DISCARD needs a message */
		else
			out_set(out, s->conn_sticky, &s->conn_sticky_reply);
		return 1;
	}
	if (s->sticky != MM_CONTINUE && message_stage) {
		out_set(out, s->sticky, &s->sticky_reply);
		if (st != MM_STAGE_ENVRCPT || s->sticky == MM_DISCARD)
			abort_all(s);
		return 1;
	}
	return 0;
}

/*
 * Run one stage through the chain. rcpt_domain is the domain of the
 * recipient at RCPT (for chain selection), else NULL.
 */
static void
run_stage(struct session *s, mm_stage st, const struct hook_args *a,
    const char *rcpt_domain, struct stage_out *out)
{
	struct merge m, rconn, rmsg;
	int message_stage = st >= MM_STAGE_ENVFROM && st <= MM_STAGE_EOM;
	int chosen_now = 0;

	if (answer_sticky(s, st, out))
		return;
	if (s->chain == -1) {
		int idx = chain_select(s, rcpt_domain);
		if (idx != -1) {
			chain_chosen(s, idx);
			log_msg(MM_LOG_DEBUG, s->m->qid, NULL, "chain %s",
			    s->ch ? s->ch->name : "none matches: passing through");
			s->chain_conn_level = !s->in_msg;
			s->chain_by_rcpt = rcpt_domain != NULL && st == MM_STAGE_ENVRCPT;
			chosen_now = 1;
		}
	}
	merge_init(&m);
	merge_init(&rconn);
	merge_init(&rmsg);
	if (s->ch) {
		for (size_t i = 0; i < s->ch->n; i++) {
			struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
			if (!c->joined)
				join(s, c, (int)i, st, &rconn, &rmsg);
			else if (chosen_now && st > MM_STAGE_ENVFROM && s->in_msg &&
			    s->m->from_argv) {
				/* joined for an earlier message of this
				   connection: it still missed this MAIL FROM */
				struct hook_args ea;
				memset(&ea, 0, sizeof(ea));
				ea.argv = s->m->from_argv;
				call_into(s, c, (int)i, MM_STAGE_ENVFROM, &ea, &rmsg);
			}
			if (merge_decided(&rconn) || merge_decided(&rmsg))
				break;
		}
		if (rconn.verdict == MM_CONTINUE && rmsg.verdict == MM_CONTINUE)
			for (size_t i = 0; i < s->ch->n && !merge_decided(&m); i++)
				call_into(s, &s->ctx[s->ch->plugins[i]->index], (int)i,
				    st, a, &m);
	}
	if (rconn.verdict != MM_CONTINUE ||
	    ((st == MM_STAGE_CONNECT || st == MM_STAGE_HELO) && m.verdict != MM_CONTINUE)) {
		/* a decision about the connection holds for all its messages */
		struct merge *d = rconn.verdict != MM_CONTINUE ? &rconn : &m;
		log_decision(s, d, st);
		stick(&s->conn_sticky, &s->conn_sticky_reply, d);
		merge_free(&m);
		merge_free(&rconn);
		merge_free(&rmsg);
		answer_sticky(s, st, out);
		if (message_stage && st != MM_STAGE_ENVRCPT) {
			if (s->be->msg_end && s->in_msg)
				s->be->msg_end(s->bctx, out->verdict, &out->reply);
			abort_all(s);
			msg_reset(s);
		}
		return;
	}
	merge_free(&rconn);
	if (rmsg.verdict != MM_CONTINUE) {
		/* what a late plugin said about this message's MAIL FROM
		   holds for the rest of the message */
		merge_free(&m);
		m = rmsg;
		stick(&s->sticky, &s->sticky_reply, &m);
	} else
		merge_free(&rmsg);

	if (m.verdict != MM_CONTINUE) {
		out_set(out, m.verdict, &m.reply);
		log_decision(s, &m, st);
		if (message_stage && !(st == MM_STAGE_ENVRCPT && m.verdict != MM_DISCARD)) {
			if (s->be->msg_end && s->in_msg)
				s->be->msg_end(s->bctx, m.verdict, &m.reply);
			abort_all(s);
			msg_reset(s);
		}
		merge_free(&m);
		return;
	}
	merge_free(&m);
	out_set(out, MM_CONTINUE, NULL);
	if (message_stage && s->chain != -1 && all_done(s) && !s->m->actions_queued &&
	    st != MM_STAGE_EOM &&
	    /* while a later recipient may still pick another chain, the MTA
	       must keep talking to us (452 rule) */
	    !(s->conf->rcpt_chains && st <= MM_STAGE_ENVRCPT))
		out->verdict = MM_ACCEPT;
	else if (st == MM_STAGE_BODY && s->be->can_skip && !s->buffer_body) {
		int want = 0;
		for (size_t i = 0; s->ch && i < s->ch->n && !want; i++) {
			const struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
			want = takes_part(c, MM_STAGE_BODY) && c->inst->p->body;
		}
		if (!want)
			out->verdict = MM_SKIP;
	}
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
	run_stage(s, MM_STAGE_CONNECT, &a, NULL, out);
}

void
session_helo(struct session *s, const char *helo, struct stage_out *out)
{
	struct hook_args a;

	free(s->helo);
	s->helo = xstrdup(helo ? helo : "");
	memset(&a, 0, sizeof(a));
	a.str = s->helo;
	run_stage(s, MM_STAGE_HELO, &a, NULL, out);
}

/* Keep a replaced string until the message is freed. */
void
graveyard_add(struct message *m, char *p)
{
	m->graveyard = xrealloc(m->graveyard, (m->ngraveyard + 1) * sizeof(char *));
	m->graveyard[m->ngraveyard++] = p;
}

static void
fresh_qid(struct session *s)
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

	if (s->in_msg)
		session_end_message(s);
	s->in_msg = 1;
	s->m->t0 = mono_now();
	fresh_qid(s);
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
		chain_chosen(s, s->chain);
	memset(&a, 0, sizeof(a));
	a.argv = s->m->from_argv;
	run_stage(s, MM_STAGE_ENVFROM, &a, NULL, out);
}

void
session_envrcpt(struct session *s, char **argv, struct stage_out *out)
{
	struct hook_args a;
	const char *arg = argv && argv[0] ? argv[0] : "", *why;
	char *rcpt = addr_strip(arg);
	/* chains match the normalised domain: "x@Example.ORG." is example.org */
	char *norm = addr_normalize(arg, &why);
	const char *dom = norm ? addr_domain(norm) : NULL;

	fresh_qid(s);
	if (norm == NULL && s->conf->rcpt_chains)
		log_msg(MM_LOG_INFO, s->m->qid, NULL, "recipient <%s>: %s; it has no "
		    "domain for rcpt_domain", rcpt, why);
	if (s->chain_by_rcpt && s->chain != -1 && s->sticky == MM_CONTINUE &&
	    chain_select(s, dom ? dom : "") != s->chain) {
		struct reply r;
		reply_make(&r, MM_TEMPFAIL, "452", "4.5.3",
		    "Too many recipients for one message; send this one separately");
		out_set(out, MM_TEMPFAIL, &r);
		reply_free(&r);
		log_msg(MM_LOG_INFO, s->m->qid, NULL,
		    "recipient <%s> belongs to another chain: 452 4.5.3", rcpt);
		free(rcpt);
		free(norm);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.argv = argv;
	run_stage(s, MM_STAGE_ENVRCPT, &a, s->chain == -1 ? (dom ? dom : "") : NULL, out);
	free(norm);
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
	run_stage(s, MM_STAGE_DATA, &a, NULL, out);
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
	run_stage(s, MM_STAGE_HEADER, &a, NULL, out);
}

void
session_eoh(struct session *s, struct stage_out *out)
{
	struct hook_args a;

	fresh_qid(s);
	memset(&a, 0, sizeof(a));
	run_stage(s, MM_STAGE_EOH, &a, NULL, out);
}

static void
body_append(struct session *s, const unsigned char *data, size_t len)
{
	struct body_buf *b = &s->m->body;

	if (b->fd < 0 && b->mem.len + len > (size_t)s->conf->memory_limit) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/modmilter-body.XXXXXX", s->conf->tmpdir);
		b->fd = mkstemp(path);
		if (b->fd >= 0) {
			unlink(path);
			if (write(b->fd, b->mem.data, b->mem.len) != (ssize_t)b->mem.len) {
				close(b->fd);
				b->fd = -1;
			} else
				buf_free(&b->mem);
		}
		if (b->fd < 0)
			log_msg(MM_LOG_WARNING, s->m->qid, NULL,
			    "cannot spill body to %s; keeping it in memory", s->conf->tmpdir);
	}
	if (b->fd >= 0) {
		if (write(b->fd, data, len) != (ssize_t)len && s->sticky == MM_CONTINUE) {
			log_msg(MM_LOG_ERR, s->m->qid, NULL, "body spill write failed");
			s->sticky = MM_TEMPFAIL;
			reply_make(&s->sticky_reply, MM_TEMPFAIL, "451", "4.3.0",
			    "Temporary local problem, please try again later");
		}
	} else
		buf_add(&b->mem, data, len);
	b->len += len;
}

int
session_body_get(struct session *s, const unsigned char **data, size_t *len)
{
	struct body_buf *b = &s->m->body;

	if (s->m->newbody) {
		*data = s->m->newbody;
		*len = s->m->newbodylen;
		return 0;
	}
	if (!s->buffer_body)
		return -1;
	if (b->fd < 0) {
		*data = (const unsigned char *)(b->mem.data ? b->mem.data : "");
		*len = b->mem.len;
		return 0;
	}
	if (b->len > 0 && (b->map == NULL || b->maplen != b->len)) {
		/* the body grew since it was last mapped; the old mapping
		   stays (a plugin may hold it) until the message ends */
		void *p = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE, b->fd, 0);
		if (p == MAP_FAILED)
			return -1;
		if (b->map) {
			b->oldmaps = xrealloc(b->oldmaps, (b->noldmaps + 1) * sizeof(*b->oldmaps));
			b->oldmaps[b->noldmaps].p = b->map;
			b->oldmaps[b->noldmaps++].len = b->maplen;
		}
		b->map = p;
		b->maplen = b->len;
	}
	*data = b->map ? b->map : (const unsigned char *)"";
	*len = b->len;
	return 0;
}

void
session_body(struct session *s, const unsigned char *data, size_t len,
    struct stage_out *out)
{
	struct hook_args a;

	if (s->buffer_body)
		body_append(s, data, len);
	s->m->size += len;
	memset(&a, 0, sizeof(a));
	a.data = data;
	a.len = len;
	run_stage(s, MM_STAGE_BODY, &a, NULL, out);
}

/*
 * Authentication-Results headers claiming our authserv-id are forged
 * (RFC 8601 5): however the id is written (comments, quotes, case, a
 * trailing dot), and wherever the headers stand.
 */
static void
remove_forged_authres(struct session *s)
{
	const char *id = s->conf->authserv_id;
	size_t nth = 1;
	const char *v;

	while ((v = hdrlist_get(&s->m->hdrs, "Authentication-Results", nth)) != NULL) {
		if (authres_claims(v, id)) {
			log_msg(MM_LOG_INFO, s->m->qid, NULL,
			    "removing Authentication-Results header claiming %s", id);
			hdrlist_change(&s->m->hdrs, "Authentication-Results", nth, NULL);
		} else
			nth++;
	}
}

void
session_eom(struct session *s, struct stage_out *out, struct eom_out *eom)
{
	struct hook_args a;

	memset(eom, 0, sizeof(*eom));
	fresh_qid(s);
	if (s->record_headers && s->conf->authserv_id && s->ch &&
	    (s->ch->actions & MM_ACT_AUTHRES))
		remove_forged_authres(s);
	memset(&a, 0, sizeof(a));
	run_stage(s, MM_STAGE_EOM, &a, NULL, out);
	if (out->verdict != MM_CONTINUE && out->verdict != MM_ACCEPT) {
		session_end_message(s);
		return;
	}
	out->verdict = MM_CONTINUE;

	if (s->m->nauthres) {
		struct buf v = { 0 };
		buf_adds(&v, s->conf->authserv_id ? s->conf->authserv_id : "localhost");
		for (size_t i = 0; i < s->m->nauthres; i++)
			buf_printf(&v, ";\n\t%s", s->m->authres[i]);
		hdrlist_insert(&s->m->hdrs, 0, "Authentication-Results", v.data);
		buf_free(&v);
	}
	if (s->m->monitor.len)
		hdrlist_add(&s->m->hdrs, "X-Modmilter-Monitor", s->m->monitor.data);

	/* hand over, in the DESIGN.md order; the strings stay owned by s
	   until session_end_message() */
	eom->chgfrom = s->m->chgfrom;
	eom->chgfrom_args = s->m->chgfrom_args;
	eom->delrcpt = s->m->delrcpt;
	eom->ndelrcpt = s->m->ndelrcpt;
	eom->addrcpt = s->m->addrcpt;
	eom->naddrcpt = s->m->naddrcpt;
	eom->nhdrops = hdrlist_diff(&s->m->hdrs, &eom->hdrops);
	eom->body = s->m->newbody;
	eom->bodylen = s->m->newbodylen;
	eom->quarantine = s->m->quarantine.len ? s->m->quarantine.data : NULL;
}

void
eom_out_free(struct eom_out *e)
{
	free(e->hdrops);
	memset(e, 0, sizeof(*e));
}

void
session_abort(struct session *s)
{
	if (s->in_msg)
		abort_all(s);
	msg_reset(s);
}

void
session_unknown(struct session *s, const char *cmd, struct stage_out *out)
{
	struct hook_args a;

	memset(&a, 0, sizeof(a));
	a.str = cmd;
	run_stage(s, MM_STAGE_UNKNOWN, &a, NULL, out);
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
msg_free(struct message *m)
{
	free(m->qid);
	free(m->auth_user);
	free(m->from);
	if (m->from_argv)
		for (size_t i = 0; m->from_argv[i]; i++)
			free(m->from_argv[i]);
	free(m->from_argv);
	free_strv(m->rcpts, m->nrcpts);
	for (size_t i = 0; i < m->nfacts; i++) {
		free(m->facts[i].key);
		free(m->facts[i].value);
	}
	free(m->facts);
	free_strv(m->graveyard, m->ngraveyard);
	hdrlist_reset(&m->hdrs);
	buf_free(&m->body.mem);
	if (m->body.map)
		munmap(m->body.map, m->body.maplen);
	for (size_t i = 0; i < m->body.noldmaps; i++)
		munmap(m->body.oldmaps[i].p, m->body.oldmaps[i].len);
	free(m->body.oldmaps);
	if (m->body.fd >= 0)
		close(m->body.fd);
	free(m->newbody);
	free(m->chgfrom);
	free(m->chgfrom_args);
	free_strv(m->addrcpt, m->naddrcpt);
	free_strv(m->delrcpt, m->ndelrcpt);
	buf_free(&m->quarantine);
	free_strv(m->authres, m->nauthres);
	buf_free(&m->monitor);
	free_strv(m->results, m->nresults);
	free(m->decider);
	msgparts_free(m->parts);
	for (size_t i = 0; i < m->nparts_old; i++)
		msgparts_free(m->parts_old[i]);
	free(m->parts_old);
	free(m);
}

static void
msg_reset(struct session *s)
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
	s->m = msg_new();
	if (s->outstanding > 0) {
		/* a hook that overran may still read it */
		old->next = s->parked;
		s->parked = old;
		old = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (old)
		msg_free(old);
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

void
session_end_message(struct session *s)
{
	msg_reset(s);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->outstanding > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->conf->ninst; i++)
		s->ctx[i].failed = 0;	/* every hook has returned now */
	msg_reset(s);
	for (size_t i = 0; i < s->conf->ninst; i++) {
		struct mm_ctx *c = &s->ctx[i];
		c->msg = s->m;
		if (c->joined && c->inst->p->conn_close)
			c->inst->p->conn_close(c, c->inst->data);
		if (c->conn_free && c->conn_data)
			c->conn_free(c->conn_data);
		reply_free(&c->reply);
	}
	msg_free(s->m);
	while (s->parked) {
		struct message *next = s->parked->next;
		msg_free(s->parked);
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
