/*
 * NAME
 *	cbv - callback verification and DSN notices, the modmilter plugin
 * SYNOPSIS
 *	plugins:
 *	  cbv: { module: cbv, options: { verify: flagged,
 *	         local_domains: [example.com], helo_name: mx.example.com } }
 * DESCRIPTION
 *	For a sender that another plugin flagged (fact spf.verify), or that
 *	the options name, asks the sender's mail exchanger whether the MAIL
 *	FROM address exists (action verify), or sends it a short RFC 3464
 *	notice (action dsn); 2xx lets the message through, 5xx rejects it
 *	(550 5.1.7, the remote answer quoted), anything else is a temporary
 *	failure (451 4.4.3) unless on_tempfail: accept.
 *
 *	Never for the null sender, internal, trusted-relay or authenticated
 *	clients, our own domains (local_domains) or skip_domains; never to
 *	an address other than the MAIL FROM address.
 *
 *	Results are cached in the core's store (cache.c: Postfix verify(8)
 *	semantics); a stale entry is served while one worker thread per
 *	instance refreshes it (prober.c). A probe already in flight for the same
 *	address is waited for, not repeated; probes per domain are rate
 *	limited with a backoff (ratelimit.c, state in the store, so shared
 *	by the hosts that share it). At end of message the MTA is
 *	kept waiting with api->progress.
 *
 *	A notice is a message to an address anyone can forge, so it goes
 *	only to an authenticated sender (dsnguard.c: SPF pass for its own
 *	domain, an internal or SMTP AUTH client) unless dsn_senders: any,
 *	within dsn_limit (per period, in all and per domain, counted in the
 *	store), and quotes only the original's first header fields, whole,
 *	up to dsn_headers_max bytes. Each notice not sent is logged with
 *	the reason, and the message goes on without one.
 * DIAGNOSTICS
 *	Every verdict is logged with its reason. A store failure, DNS
 *	failure, timeout or rate limit is a temporary failure (or accept,
 *	by option), never a crash or a silent accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <modmilter/plugin.h>

#include "cbv_plugin.h"
#include "cbv_opts.h"

#define SUBJECT_MAX 512		/* of the original, for %(subject)s */

struct cbv_msg {
	int decided;
	mm_verdict v;
	char code[4], xcode[8];
	char text[512];
	double arrival;
	struct mm_buf headers;		/* dsn: the original's first headers */
	int headers_full;		/* a field did not fit: quote no more */
	char *subject;
};

/* ---- verdicts ---- */

static mm_verdict
verdict(struct cbv *c, mm_ctx *ctx, struct cbv_msg *m, const char *addr,
    enum cbv_status st, const char *why, const char *how)
{
	char text[CBV_TEXT_MAX];

	smtp_sanitize(why, text, sizeof(text));
	m->decided = 1;
	/* "OK/cached", "BOUNCE/probe", ... for the summary line */
	c->api->set_result(ctx, "%s/%s", cache_status_name(st), how);
	switch (st) {
	case CBV_OK:
		m->v = MM_CONTINUE;
		c->api->log(ctx, MM_LOG_INFO, "%s: verified (%s)", addr, how);
		return m->v;
	case CBV_BOUNCE:
		m->v = MM_REJECT;
		snprintf(m->code, sizeof(m->code), "550");
		snprintf(m->xcode, sizeof(m->xcode), "5.1.7");
		snprintf(m->text, sizeof(m->text), "Sender address <%s> rejected: %s",
		    addr, text);
		break;
	default:
		if (c->temp_accept) {
			m->v = MM_CONTINUE;
			c->api->log(ctx, MM_LOG_NOTICE, "%s: not verified, accepted by "
			    "on_tempfail (%s): %s", addr, how, text);
			return m->v;
		}
		m->v = MM_TEMPFAIL;
		snprintf(m->code, sizeof(m->code), "451");
		snprintf(m->xcode, sizeof(m->xcode), "4.4.3");
		snprintf(m->text, sizeof(m->text), "Sender address <%s> could not be "
		    "verified: %s", addr, text);
		break;
	}
	c->api->log(ctx, MM_LOG_NOTICE, "%s: %s %s %s (%s)", addr, m->code, m->xcode,
	    m->text, how);
	return m->v;
}

static mm_verdict
replay(struct cbv *c, mm_ctx *ctx, struct cbv_msg *m)
{
	if (m->v == MM_REJECT || m->v == MM_TEMPFAIL)
		c->api->set_reply(ctx, m->code, m->xcode, m->text);
	return m->v;
}

/* Should this message's sender be verified at all? */
static int
wanted(struct cbv *c, mm_ctx *ctx, const char *from)
{
	const char *dom, *flag;
	char *norm;
	int r = -1;

	if (from == NULL || *from == 0 || strlen(from) >= CBV_ADDR_MAX ||
	    strpbrk(from, " <>\r\n\t"))
		return 0;
	if (c->api->client_class(ctx) != MM_CLIENT_EXTERNAL ||
	    c->api->auth_user(ctx) != NULL)
		return 0;
	/* the domain in the core's normal form: "alice@example.com." or
	   "@relay:alice@EXAMPLE.COM" is one of our local domains */
	if ((norm = c->api->addr_normalize(from, NULL)) == NULL ||
	    (dom = strrchr(norm, '@')) == NULL) {
		c->api->free(norm);
		return 0;	/* no mailbox a probe could ask about */
	}
	dom++;
	if (cbv_domain_in(c->api, c->local_domains, dom) ||
	    cbv_domain_in(c->api, c->skip_domains, dom))
		r = 0;
	else if (c->always || cbv_domain_in(c->api, c->domains, dom))
		r = 1;
	c->api->free(norm);
	if (r >= 0)
		return r;
	flag = c->api->fact_get(ctx, "spf.verify");
	return flag != NULL && *flag != 0;
}

/* ---- the DSN ---- */

struct vars {
	struct cbv *c;
	mm_ctx *ctx;
	struct cbv_msg *m;
	char *rcpts;
	char spf[CBV_ADDR_MAX + 64];
};

static const char *
var(void *arg, const char *name)
{
	struct vars *v = arg;
	const struct mm_api *api = v->c->api;
	const char *s;

	if (strcmp(name, "sender") == 0)
		return api->mail_from(v->ctx);
	if (strcmp(name, "receiver") == 0)
		return v->c->helo_name;
	if (strcmp(name, "heloname") == 0)
		return api->helo(v->ctx);
	if (strcmp(name, "connectip") == 0)
		return api->client_addr(v->ctx);
	if (strcmp(name, "sender_domain") == 0)
		return cbv_domain_of(api->mail_from(v->ctx));
	if (strcmp(name, "result") == 0)
		return (s = api->fact_get(v->ctx, "spf.result")) ? s : "none";
	if (strcmp(name, "perm_error") == 0)
		return api->fact_get(v->ctx, "spf.perm_error");
	if (strcmp(name, "rcpt") == 0)
		return v->rcpts;
	if (strcmp(name, "subject") == 0)
		return v->m->subject ? v->m->subject : "(none)";
	if (strcmp(name, "spf_result") == 0) {
		snprintf(v->spf, sizeof(v->spf), "spf=%s smtp.mailfrom=%s",
		    (s = api->fact_get(v->ctx, "spf.result")) ? s : "none",
		    api->mail_from(v->ctx));
		return v->spf;
	}
	return "";
}

static const struct cbv_template *
pick_template(struct cbv *c, mm_ctx *ctx)
{
	const char *res = c->api->fact_get(ctx, "spf.result");

	for (size_t i = 0; res && i < c->ntmap; i++)
		if (strcasecmp(c->tmap[i].result, res) == 0)
			return c->tmap[i].t;
	return c->deftpl;
}

/* The notice as a malloc'ed message, or NULL (logged). */
static char *
make_dsn(struct cbv *c, mm_ctx *ctx, struct cbv_msg *m,
    const struct cbv_template *t, size_t *len)
{
	struct vars v = { c, ctx, m, NULL, "" };
	struct cbv_rendered r;
	struct dsn_info di;
	size_t n = c->api->rcpt_count(ctx), rl = 1;
	char **rc = calloc(n + 1, sizeof(char *)), *msg = NULL;

	for (size_t i = 0; i < n; i++)
		rl += strlen(c->api->rcpt_at(ctx, i)) + 2;
	if (rc == NULL || (v.rcpts = calloc(1, rl)) == NULL) {
		free(rc);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		rc[i] = (char *)c->api->rcpt_at(ctx, i);
		if (i)
			strcat(v.rcpts, ", ");
		strcat(v.rcpts, rc[i]);
	}
	if (template_render(t, var, &v, &r) == 0) {
		memset(&di, 0, sizeof(di));
		di.reporting_mta = c->helo_name;
		di.from = c->dsn_from;
		di.to = c->api->mail_from(ctx);
		di.client_helo = c->api->helo(ctx);
		di.client_ip = c->api->client_addr(ctx);
		di.arrival = m->arrival;
		di.now = c->api->now(ctx);
		di.rcpts = rc;
		di.nrcpt = n;
		di.action = r.action;
		di.status = r.status;
		di.diagnostic = c->api->fact_get(ctx, "spf.result");
		di.subject = r.subject;
		di.text = r.body;
		/* after a failed allocation the block may end inside a field */
		di.headers = m->headers.oom ? NULL : m->headers.data;
		msg = dsn_build(&di, len);
		template_rendered_free(&r);
	}
	if (msg == NULL)
		c->api->log(ctx, MM_LOG_ERR, "cannot build the notice from template %s",
		    template_name(t));
	free(v.rcpts);
	free(rc);
	return msg;
}

/* ---- whom a notice may go to, and how many ---- */

/* An authenticated sender (dsn_senders: authenticated), or logged. */
static int
sender_genuine(struct cbv *c, mm_ctx *ctx, const char *from)
{
	struct dsn_sender s = {
		.domain = cbv_domain_of(from),
		.spf_result = c->api->fact_get(ctx, "spf.result"),
		.spf_domain = c->api->fact_get(ctx, "spf.domain"),
		.internal = c->api->client_class(ctx) == MM_CLIENT_INTERNAL,
		.auth = c->api->auth_user(ctx) != NULL,
	};
	char why[256];

	if (dsn_sender_ok(&s, why, sizeof(why)))
		return 1;
	c->api->log(ctx, MM_LOG_NOTICE, "no notice to %s: %s", from, why);
	return 0;
}

/* Counted against dsn_limit, or logged; never sent uncounted. */
static int
within_caps(struct cbv *c, mm_ctx *ctx, const struct cbv_kv *kv,
    const char *from)
{
	char why[512];
	int r = dsn_caps_admit(kv, &c->caps, cbv_domain_of(from), c->api->now(ctx),
	    why, sizeof(why));

	if (r == 1)
		return 1;
	c->api->log(ctx, r < 0 ? MM_LOG_WARNING : MM_LOG_NOTICE,
	    "no notice to %s: %s", from, why);
	return 0;
}

/* ---- the decision, once per message ---- */

static mm_verdict
decide(struct cbv *c, mm_ctx *ctx, struct cbv_msg *m)
{
	const char *from = c->api->mail_from(ctx);
	const struct cbv_template *t = NULL;
	const struct cbv_kv *kv;
	struct cbv_entry e;
	struct probe_result res;
	char key[CBV_ADDR_MAX + 8];
	struct progress_arg pa = { c->api, ctx };

	if (m->decided)
		return replay(c, ctx, m);
	if (!wanted(c, ctx, from)) {
		m->decided = 1;
		m->v = MM_CONTINUE;
		return m->v;
	}
	if (c->dsn && (t = pick_template(c, ctx)) == NULL) {
		m->decided = 1;
		m->v = MM_CONTINUE;
		c->api->log(ctx, MM_LOG_INFO, "%s: no template for SPF result %s", from,
		    c->api->fact_get(ctx, "spf.result") ? c->api->fact_get(ctx,
		    "spf.result") : "(none)");
		return m->v;
	}
	if (c->dsn && !c->dsn_any_sender && !sender_genuine(c, ctx, from)) {
		m->decided = 1;
		m->v = MM_CONTINUE;
		return m->v;
	}
	cache_key(c->dsn ? "d:" : "v:", from, key, sizeof(key));
	if ((kv = cbv_store(c, ctx)) == NULL) {
		verdict(c, ctx, m, from, CBV_DEFER, "verification cache unavailable",
		    "store error");
		return replay(c, ctx, m);
	}
	for (;;) {
		enum cbv_lookup lk = cache_lookup(kv, &c->ttl, key, c->api->now(ctx), &e);
		c->api->metric_add(c->m_cache, lk == CACHE_ERROR ? "error" :
		    lk == CACHE_STALE ? "stale" : lk == CACHE_MISS ? "miss" : "hit", 1);
		if (lk == CACHE_ERROR) {
			verdict(c, ctx, m, from, CBV_DEFER,
			    "verification cache unavailable", "store error");
			return replay(c, ctx, m);
		}
		if (lk == CACHE_STALE && !c->dsn)
			cbv_schedule_refresh(c, ctx, kv, key, from, &e);
		if (lk != CACHE_MISS) {
			verdict(c, ctx, m, from, e.status, e.text, "cached");
			return replay(c, ctx, m);
		}
		pthread_mutex_lock(&c->lock);
		if (cbv_inflight_claim(c, key)) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		/* another connection probes this address: wait for its answer */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)c->progress_interval + 1;
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		pthread_mutex_unlock(&c->lock);
		if (c->stage == CBV_STAGE_EOM)
			cbv_progress_cb(&pa);
	}
	if (c->dsn && !within_caps(c, ctx, kv, from)) {
		cbv_inflight_release(c, key);
		m->decided = 1;
		m->v = MM_CONTINUE;
		return m->v;
	}
	if (c->dsn) {
		size_t len = 0;
		char *msg = make_dsn(c, ctx, m, t, &len);
		if (msg == NULL) {
			cbv_inflight_release(c, key);
			verdict(c, ctx, m, from, CBV_DEFER, "cannot build the notice",
			    "local error");
			return replay(c, ctx, m);
		}
		cbv_probe_and_cache(c, ctx, key, from, msg, len, &res);
		free(msg);
	} else
		cbv_probe_and_cache(c, ctx, key, from, NULL, 0, &res);
	cbv_inflight_release(c, key);
	verdict(c, ctx, m, from, res.status, res.text, c->dsn ? "notice" : "probed");
	return replay(c, ctx, m);
}

/* ---- per-message state ---- */

static void
msg_free(void *p)
{
	struct cbv_msg *m = p;

	free(m->headers.data);
	free(m->subject);
	free(m);
}

static struct cbv_msg *
msg_state(struct cbv *c, mm_ctx *ctx)
{
	struct cbv_msg *m = c->api->msg_data(ctx);

	if (m == NULL && (m = calloc(1, sizeof(*m))) != NULL) {
		m->headers.soft = 1;
		m->arrival = c->api->now(ctx);
		c->api->set_msg_data(ctx, m, msg_free);
	}
	return m;
}

/* ---- hooks ---- */

static mm_verdict
cbv_envfrom(mm_ctx *ctx, void *inst, char *const *argv)
{
	(void)argv;
	return msg_state(inst, ctx) ? MM_CONTINUE : MM_ERROR;
}

static mm_verdict
cbv_envrcpt(mm_ctx *ctx, void *inst, char *const *argv)
{
	struct cbv *c = inst;
	struct cbv_msg *m;

	(void)argv;
	if (c->stage != CBV_STAGE_RCPT)
		return MM_CONTINUE;
	if ((m = msg_state(c, ctx)) == NULL)
		return MM_ERROR;
	return decide(c, ctx, m);
}

/* The original's Subject for %(subject)s: bounded, cut between characters. */
static char *
subject_copy(const char *value)
{
	size_t n = strlen(value);

	if (n > SUBJECT_MAX) {
		n = SUBJECT_MAX;
		while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
			n--;
	}
	return strndup(value, n);
}

static mm_verdict
cbv_header(mm_ctx *ctx, void *inst, const char *name, const char *value)
{
	struct cbv *c = inst;
	struct cbv_msg *m;

	if (!c->dsn)
		return MM_CONTINUE;
	if ((m = msg_state(c, ctx)) == NULL)
		return MM_ERROR;
	if (m->subject == NULL && strcasecmp(name, "Subject") == 0)
		m->subject = subject_copy(value);
	/* whole fields, in order, up to dsn_headers_max: a prefix of the
	   header block, never part of a field */
	if (!m->headers_full && dsn_quote_header(&m->headers, c->headers_max,
	    name, value) != 1)
		m->headers_full = 1;
	return MM_CONTINUE;
}

static mm_verdict
cbv_eom(mm_ctx *ctx, void *inst)
{
	struct cbv *c = inst;
	struct cbv_msg *m;

	if (c->stage != CBV_STAGE_EOM)
		return MM_CONTINUE;
	if ((m = msg_state(c, ctx)) == NULL)
		return MM_ERROR;
	return decide(c, ctx, m);
}

/* ---- instance ---- */

static void cbv_fini(void *);

static int
cbv_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts, void **inst,
    char **err)
{
	struct cbv *c;

	if (!MM_API_HAS(api, domain_match)) {
		*err = strdup("cbv needs a core with SDK 1.3 (address normalisation)");
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*err = strdup("out of memory");
		return -1;
	}
	c->api = api;
	c->ictx = ctx;
	{
		static const double b[] = { 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30 };
		c->m_cache = api->metric_counter(ctx, "cache_total",
		    "Verification cache lookups: hit, stale (served, refreshed), miss, error",
		    "outcome");
		c->m_probes = api->metric_counter(ctx, "probes_total",
		    "Probes and notices by outcome (OK, BOUNCE, DEFER) or why not made",
		    "result");
		c->m_probe_secs = api->metric_histogram(ctx, "probe_seconds",
		    "Time of a probe or notice, all MX tried", NULL, b, 9);
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_cond_init(&c->work, NULL);
	cbv_kv_init(c);
	if (cbv_options(c, api, opts, err) < 0) {
		cbv_fini(c);
		return -1;
	}
	if (!c->dsn) {
		if (pthread_create(&c->worker, NULL, cbv_worker, c) != 0) {
			*err = strdup("cannot start the refresh thread");
			cbv_fini(c);
			return -1;
		}
		c->have_worker = 1;
	}
	*inst = c;
	return 0;
}

static void
cbv_fini(void *inst)
{
	struct cbv *c = inst;

	if (c->have_worker) {
		pthread_mutex_lock(&c->lock);
		c->stop = 1;
		pthread_cond_broadcast(&c->work);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->worker, NULL);
	}
	while (c->queue) {
		struct refresh *r = c->queue;
		c->queue = r->next;
		free(r->key);
		free(r->addr);
		free(r);
	}
	while (c->inflight) {
		struct inflight *f = c->inflight;
		c->inflight = f->next;
		free(f->key);
		free(f);
	}
	cbv_options_free(c);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

MM_PLUGIN(cbv, "1.0", "callback verification of senders, DSN notices",
	.options = cbv_option_table,
	.init = cbv_init,
	.fini = cbv_fini,
	.envfrom = cbv_envfrom,
	.envrcpt = cbv_envrcpt,
	.header = cbv_header,
	.eom = cbv_eom);
