/*
 * NAME
 *	milter - the libmilter side of modmilterd
 * DESCRIPTION
 *	See milter.h. Negotiation asks only for the stages, actions and
 *	macros the loaded plugins declared (DESIGN.md rule 7): a stage no
 *	plugin hooks and the core does not need is switched off (SMFIP_NO*);
 *	a stage the core only observes gets no reply (SMFIP_NR_*), so the
 *	MTA does not wait for one. Replies stay on wherever a plugin can
 *	decide.
 *
 *	An MTA that reuses milter connections (SMFIC_QUIT_NC) gets, as in
 *	libmilter's model, the close callback and then a new connect on the
 *	same milter connection: the close ends the session (every plugin's
 *	conn_close, all per-connection state), and the connect starts a
 *	fresh one (new chain selection, conn_open again) on what was
 *	negotiated, kept meanwhile in connpark.c. It takes the current
 *	configuration generation when that asks the MTA for the same
 *	stages, actions and macros; otherwise the SMTP connection is
 *	tempfailed, as the MTA would not send what it needs.
 *
 *	An accepted message's modifications are applied by apply.c.
 * DIAGNOSTICS
 *	A modification the MTA refuses at end of message turns the message
 *	into a TEMPFAIL (the MTA then drops every modification), logged.
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "connpark.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "session.h"
#include "summary.h"

struct mconn {
	SMFICTX *ctx;
	struct session *s;		/* NULL between QUIT_NC and connect */
	unsigned long proto;		/* negotiated SMFIP_* bits */
	struct backend be;
	const char *conn_outcome;	/* set when the connection was decided */
	/* for a new SMTP connection after QUIT_NC */
	unsigned long offered_actions, offered_proto;	/* the MTA's offer */
	unsigned long actions;		/* negotiated SMFIF_* bits */
	char *macros[MM_STAGE_COUNT];	/* asked for with smfi_setsymlist */
};

static void be_msg_end(void *b, const struct mm_outcome *o, const struct reply *r);
static int be_apply(void *b, const struct eom_out *e);

/* What kind of stage a reply answers, for the metrics (messages are
   counted as they end: be_msg_end). */
enum kind { K_NONE, K_CONN, K_RCPT, K_MSG };

/* The smfi_setsymlist stage of each hook stage that has one. */
static const int symstage[MM_STAGE_COUNT] = {
	[MM_STAGE_CONNECT] = SMFIM_CONNECT, [MM_STAGE_HELO] = SMFIM_HELO,
	[MM_STAGE_ENVFROM] = SMFIM_ENVFROM, [MM_STAGE_ENVRCPT] = SMFIM_ENVRCPT,
	[MM_STAGE_DATA] = SMFIM_DATA, [MM_STAGE_EOH] = SMFIM_EOH,
	[MM_STAGE_EOM] = SMFIM_EOM,
};

/* The macro list c asks for at stage st, or NULL. */
static const char *
symlist(const struct conf *c, int st)
{
	return c->macros[st] && (st == MM_STAGE_CONNECT || symstage[st]) ?
	    c->macros[st] : NULL;
}

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf *current;
static unsigned active;		/* milter connections open now */
static unsigned long long messages;	/* ends of message answered */
static unsigned busy;			/* callbacks running now */
static unsigned long returns;		/* callbacks that have returned */

/* Every callback opens with BUSY(): the count of callbacks running, and
   of those that returned, tell the drain at shutdown whether libmilter
   is still working on a connection. */
static int
busy_enter(void)
{
	__atomic_add_fetch(&busy, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static void
busy_leave(int *guard)
{
	(void)guard;
	__atomic_add_fetch(&returns, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&busy, 1, __ATOMIC_ACQ_REL);
}

#define BUSY() int busy_guard_ __attribute__((cleanup(busy_leave), unused)) = busy_enter()

/* One caller (the drain): the count of returns it last saw, and since
   when it has not moved. */
int
milter_quiet(double grace)
{
	static unsigned long seen;
	static double since;
	unsigned long r = __atomic_load_n(&returns, __ATOMIC_ACQUIRE);
	double now = mono_now();

	if (__atomic_load_n(&busy, __ATOMIC_ACQUIRE) > 0 || r != seen ||
	    since == 0) {
		seen = r;
		since = now;
		return 0;
	}
	return now - since >= grace;
}

unsigned
milter_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

unsigned long long
milter_messages(void)
{
	return __atomic_load_n(&messages, __ATOMIC_RELAXED);
}

void
milter_set_conf(struct conf *c)
{
	struct conf *old;

	pthread_mutex_lock(&conf_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&conf_lock);
	if (old)
		conf_unref(old);
}

struct conf *
milter_conf(void)
{
	struct conf *c;

	pthread_mutex_lock(&conf_lock);
	c = current;
	if (c)
		conf_ref(c);
	pthread_mutex_unlock(&conf_lock);
	return c;
}

static const char *
be_macro(void *b, const char *name)
{
	return smfi_getsymval(((struct mconn *)b)->ctx, (char *)name);
}

static int
be_progress(void *b)
{
	return smfi_progress(((struct mconn *)b)->ctx) == MI_SUCCESS ? 0 : -1;
}

void
milter_negotiation(const struct conf *c, unsigned long f0, unsigned long f1,
    unsigned long *actions, unsigned long *proto)
{
	unsigned long a = 0, p = 0;
	unsigned h = c->hooks;
	int need_headers = (c->flags & MM_F_MESSAGE) ||
	    (c->actions & MM_ACT_CHGHDRS) ||
	    ((c->actions & MM_ACT_AUTHRES) && c->authserv_id);

	if (c->actions & (MM_ACT_ADDHDRS | MM_ACT_AUTHRES) || c->any_monitor)
		a |= SMFIF_ADDHDRS;
	if (c->actions & MM_ACT_CHGHDRS || need_headers)
		a |= SMFIF_CHGHDRS;
	if (c->actions & MM_ACT_CHGBODY)
		a |= SMFIF_CHGBODY;
	if (c->actions & MM_ACT_ADDRCPT)
		a |= SMFIF_ADDRCPT;
	if (c->actions & MM_ACT_DELRCPT)
		a |= SMFIF_DELRCPT;
	if (c->actions & MM_ACT_QUARANTINE)
		a |= SMFIF_QUARANTINE;
	if (c->actions & MM_ACT_CHGFROM)
		a |= SMFIF_CHGFROM;
	a |= SMFIF_SETSYMLIST;

	/* the core always needs connect, HELO, MAIL, RCPT and EOM facts */
	if (!(h & (1u << MM_STAGE_CONNECT)) && !c->any_conn_open)
		p |= SMFIP_NR_CONN;
	if (!(h & (1u << MM_STAGE_HELO)))
		p |= SMFIP_NR_HELO;
	if (!(h & (1u << MM_STAGE_ENVRCPT)) && !c->rcpt_chains)
		p |= SMFIP_NR_RCPT;
	if (!(h & (1u << MM_STAGE_DATA)))
		p |= SMFIP_NODATA;
	if (!(h & (1u << MM_STAGE_HEADER)))
		p |= need_headers ? SMFIP_NR_HDR : SMFIP_NOHDRS;
	if (!(h & (1u << MM_STAGE_EOH)))
		p |= SMFIP_NOEOH;
	if (!(h & (1u << MM_STAGE_BODY)))
		/* the core only buffers the body: the MTA need not wait */
		p |= (c->flags & MM_F_MESSAGE) ? SMFIP_NR_BODY : SMFIP_NOBODY;
	if (!(h & (1u << MM_STAGE_UNKNOWN)))
		p |= SMFIP_NOUNKNOWN;
	p |= SMFIP_SKIP;

	*actions = a & f0;
	*proto = p & f1;
}

static sfsistat
mm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	BUSY();
	struct conf *c = milter_conf();
	struct mconn *m;

	(void)f2;
	(void)f3;
	/* a new milter connection: anything parked under this context
	   belonged to one that has ended */
	connpark_drop(ctx);
	if (c == NULL)
		return SMFIS_REJECT;
	m = xcalloc(1, sizeof(*m));
	m->ctx = ctx;
	__atomic_add_fetch(&active, 1, __ATOMIC_ACQ_REL);
	milter_negotiation(c, f0, f1, pf0, pf1);
	*pf2 = *pf3 = 0;
	m->proto = *pf1;
	m->offered_actions = f0;
	m->offered_proto = f1;
	m->actions = *pf0;
	m->be.macro = be_macro;
	m->be.progress = be_progress;
	m->be.msg_end = be_msg_end;
	m->be.apply = be_apply;
	m->be.can_skip = (*pf1 & SMFIP_SKIP) != 0;
	m->s = session_new(c, &m->be, m);
	conf_unref(c);		/* the session holds its own reference */
	smfi_setpriv(ctx, m);
	if (*pf0 & SMFIF_SETSYMLIST)
		for (int st = 0; st < MM_STAGE_COUNT; st++)
			if (symlist(c, st)) {
				m->macros[st] = xstrdup(c->macros[st]);
				if (smfi_setsymlist(ctx, symstage[st], c->macros[st]) != MI_SUCCESS)
					log_warn("cannot request macros '%s'", c->macros[st]);
			}
	return SMFIS_CONTINUE;
}

static const char *
chain_of(const struct mconn *m)
{
	return m->s->ch ? m->s->ch->name : NULL;
}

/* A message ended, however it did (the engine calls this once per
   message): counted, and its summary line logged. */
static void
be_msg_end(void *b, const struct mm_outcome *o, const struct reply *r)
{
	struct mconn *m = b;
	const char *verdict = o->aborted ? "aborted" : verdict_name(o->verdict);

	metrics_message(chain_of(m), verdict);
	summary_log(m->s, verdict,
	    o->verdict == MM_REJECT || o->verdict == MM_TEMPFAIL ? r : NULL);
}

static void
count(struct mconn *m, enum kind k, mm_verdict v)
{
	const char *name = NULL;

	switch (v) {
	case MM_ACCEPT: name = "accept"; break;
	case MM_REJECT: name = "reject"; break;
	case MM_TEMPFAIL: name = "tempfail"; break;
	case MM_DISCARD: name = "discard"; break;
	case MM_CONTINUE: case MM_SKIP: name = NULL; break;
	default: break;
	}
	if (name == NULL || k == K_NONE)
		return;
	switch (k) {
	case K_CONN:
		m->conn_outcome = name;
		break;
	case K_RCPT:
		if (v == MM_REJECT || v == MM_TEMPFAIL)
			metrics_recipient(chain_of(m), name);
		break;
	default:
		break;
	}
}

static void
mconn_free(void *p)
{
	struct mconn *m = p;

	if (m->s)
		session_free(m->s);
	for (int st = 0; st < MM_STAGE_COUNT; st++)
		free(m->macros[st]);
	free(m);
}

/* Does c need nothing from the MTA beyond what m negotiated? */
static int
same_negotiation(const struct mconn *m, const struct conf *c)
{
	unsigned long a, p;

	milter_negotiation(c, m->offered_actions, m->offered_proto, &a, &p);
	if (a != m->actions || p != m->proto)
		return 0;
	if (m->actions & SMFIF_SETSYMLIST)
		for (int st = 0; st < MM_STAGE_COUNT; st++) {
			const char *want = symlist(c, st);
			if ((want == NULL) != (m->macros[st] == NULL) ||
			    (want && strcmp(want, m->macros[st]) != 0))
				return 0;
		}
	return 1;
}

/*
 * A connect after QUIT_NC: the MTA kept the milter connection for a new
 * SMTP connection. A fresh session, on what was negotiated.
 */
static struct mconn *
reuse(SMFICTX *ctx)
{
	struct mconn *m = connpark_take(ctx);
	struct conf *c;

	if (m == NULL)
		return NULL;
	c = milter_conf();
	if (c == NULL || !same_negotiation(m, c)) {
		log_warn("the configuration now needs other stages, actions or "
		    "macros than this reused milter connection negotiated: "
		    "SMTP connection tempfailed until the MTA reconnects");
		if (c)
			conf_unref(c);
		mconn_free(m);
		return NULL;
	}
	m->s = session_new(c, &m->be, m);
	conf_unref(c);
	m->conn_outcome = NULL;
	smfi_setpriv(ctx, m);
	__atomic_add_fetch(&active, 1, __ATOMIC_ACQ_REL);
	return m;
}

static sfsistat
answer(struct mconn *m, struct stage_out *o, unsigned long nr, enum kind k)
{
	sfsistat r;

	if (nr && (m->proto & nr)) {
		/* the MTA expects no reply here: a decision waits for the
		   next stage that has one */
		if (o->verdict == MM_REJECT || o->verdict == MM_TEMPFAIL ||
		    o->verdict == MM_DISCARD)
			session_defer_verdict(m->s, o->verdict, &o->reply);
		stage_out_free(o);
		return SMFIS_NOREPLY;
	}
	count(m, k, o->verdict);
	switch (o->verdict) {
	case MM_ACCEPT:
		r = SMFIS_ACCEPT;
		break;
	case MM_REJECT:
	case MM_TEMPFAIL:
		if (o->reply.text &&
		    smfi_setreply(m->ctx, o->reply.rcode, o->reply.xcode,
		    o->reply.text) != MI_SUCCESS)
			log_msg(MM_LOG_WARNING, m->s->m->qid, NULL,
			    "MTA refused the reply text; it sends its default");
		r = o->verdict == MM_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
		break;
	case MM_DISCARD:
		r = SMFIS_DISCARD;
		break;
	case MM_SKIP:
		r = SMFIS_SKIP;
		break;
	default:
		r = SMFIS_CONTINUE;
		break;
	}
	stage_out_free(o);
	return r;
}

#define CONN(ctx) ((struct mconn *)smfi_getpriv(ctx))
/* A connection that skipped negotiation has no session: refuse it. */
#define NEED(m) do { if ((m) == NULL) return SMFIS_TEMPFAIL; } while (0)

static sfsistat
mm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	if (m == NULL && (m = reuse(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	session_connect(m->s, host, sa, &o);
	return answer(m, &o, SMFIP_NR_CONN, K_CONN);
}

static sfsistat
mm_helo(SMFICTX *ctx, char *helo)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_helo(m->s, helo, &o);
	return answer(m, &o, SMFIP_NR_HELO, K_CONN);
}

static sfsistat
mm_envfrom(SMFICTX *ctx, char **argv)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_envfrom(m->s, argv, &o);
	return answer(m, &o, SMFIP_NR_MAIL, K_MSG);
}

static sfsistat
mm_envrcpt(SMFICTX *ctx, char **argv)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_envrcpt(m->s, argv, &o);
	return answer(m, &o, SMFIP_NR_RCPT, K_RCPT);
}

static sfsistat
mm_data(SMFICTX *ctx)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_data(m->s, &o);
	return answer(m, &o, SMFIP_NR_DATA, K_MSG);
}

static sfsistat
mm_header(SMFICTX *ctx, char *name, char *value)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_header(m->s, name, value, &o);
	return answer(m, &o, SMFIP_NR_HDR, K_MSG);
}

static sfsistat
mm_eoh(SMFICTX *ctx)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_eoh(m->s, &o);
	return answer(m, &o, SMFIP_NR_EOH, K_MSG);
}

static sfsistat
mm_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_body(m->s, data, len, &o);
	return answer(m, &o, SMFIP_NR_BODY, K_MSG);
}

/* The engine hands over an accepted message's modifications (apply.c). */
static int
be_apply(void *b, const struct eom_out *e)
{
	struct mconn *m = b;

	return milter_apply(m->ctx, m->s->m->qid, e);
}

static sfsistat
mm_eom(SMFICTX *ctx)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;
	sfsistat r;

	NEED(m);
	/* the engine applies (be_apply) and ends the message */
	session_eom(m->s, &o, NULL);
	r = answer(m, &o, 0, K_MSG);
	__atomic_add_fetch(&messages, 1, __ATOMIC_RELAXED);
	return r;
}

static sfsistat
mm_abort(SMFICTX *ctx)
{
	BUSY();
	struct mconn *m = CONN(ctx);

	if (m)
		session_abort(m->s);
	return SMFIS_CONTINUE;
}

static sfsistat
mm_close(SMFICTX *ctx)
{
	BUSY();
	struct mconn *m = CONN(ctx);

	if (m) {
		/* a message in progress ends as aborted (session_free) */
		metrics_connection(chain_of(m), m->conn_outcome ? m->conn_outcome : "closed");
		session_free(m->s);
		m->s = NULL;
		smfi_setpriv(ctx, NULL);
		__atomic_sub_fetch(&active, 1, __ATOMIC_ACQ_REL);
		/* after QUIT_NC a connect follows and takes it back */
		connpark_put(ctx, m, mconn_free);
	} else
		/* libmilter closes again when the milter connection ends
		   after a QUIT_NC */
		connpark_drop(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
mm_unknown(SMFICTX *ctx, const char *cmd)
{
	BUSY();
	struct mconn *m = CONN(ctx);
	struct stage_out o;

	NEED(m);
	session_unknown(m->s, cmd, &o);
	return answer(m, &o, SMFIP_NR_UNKN, K_NONE);
}

int
milter_register(void)
{
	static struct smfiDesc desc = {
		.xxfi_name = "modmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY |
		    SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_QUARANTINE |
		    SMFIF_CHGFROM | SMFIF_SETSYMLIST,
		.xxfi_connect = mm_connect,
		.xxfi_helo = mm_helo,
		.xxfi_envfrom = mm_envfrom,
		.xxfi_envrcpt = mm_envrcpt,
		.xxfi_header = mm_header,
		.xxfi_eoh = mm_eoh,
		.xxfi_body = mm_body,
		.xxfi_eom = mm_eom,
		.xxfi_abort = mm_abort,
		.xxfi_close = mm_close,
		.xxfi_unknown = mm_unknown,
		.xxfi_data = mm_data,
		.xxfi_negotiate = mm_negotiate,
	};

	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
