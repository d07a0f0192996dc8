/*
 * NAME
 *	policy - the site policy plugin: PTR, HELO, zombies, forgeries,
 *	three strikes, Subject words, Sender:, auto-whitelist
 * SYNOPSIS
 *	plugins:
 *	  policy: { module: policy, options: {
 *	      reject_bad_ptr: true, reject_numeric_hello: true, require_hello: true,
 *	      hello_blacklist: [mail.corp.example, corp.example],
 *	      internal_domains: [corp.example], reject_noptr: false,
 *	      porn_words: [viagra], spam_words: ["$$$"], supply_sender: true,
 *	      whitelist_senders: ["@corp.example"], auto_whitelist_ttl: 60d,
 *	      dspam_exempt: [getitall@corp.example], dspam_whitelist: [] } }
 * DESCRIPTION
 *	The checks of the bms.py milter, each off unless configured, each
 *	refusing with 550 5.7.1, its own text and a log line naming the
 *	reason. At connect the client is classified (internal, external or
 *	trusted relay by the core's networks; dynamic or without PTR by its
 *	name) and an impossible PTR refused; at HELO numeric names and our
 *	own names from outside; at MAIL FROM a missing HELO, zombies,
 *	forgeries and senders that strike out three times (no SPF, no
 *	valid HELO, no good PTR: refused, or flagged for the cbv plugin
 *	through the fact spf.verify); at end of headers Subject words and
 *	the missing Sender:.
 *
 *	Sender trust for dspam goes through the fact policy.dspam:
 *	"whitelisted" (an auto-whitelisted sender with SPF pass; rescinded
 *	when the mime plugin banned an attachment), "exempt" (dspam_exempt
 *	recipient or dspam_whitelist sender), "rescinded".
 *
 *	The auto-whitelist learns at the end of each message (msg_end): a
 *	message from whitelist_senders on an internal or authenticated
 *	client that was delivered whitelists its accepted recipients.
 *
 *	The chain must run spf before policy (its facts), and mime before
 *	policy before dspam (the banned-attachment fact, the whitelist).
 * DIAGNOSTICS
 *	Each refusal, flag and whitelisting is logged with its reason and
 *	counted (modmilter_policy_checks_total{result}). A store failure is
 *	logged; the message goes on unwhitelisted (or unlearned).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

static void
msg_free(void *p)
{
	struct msg *m = p;

	if (m == NULL)
		return;
	free(m->from_domain);
	free(m->subject);
	free(m->sender);
	free(m);
}

static void policy_fini(void *instance);

static int
policy_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *options,
    void **instance, char **err)
{
	struct policy *p;

	if (!MM_API_HAS(api, set_result)) {
		*err = strdup("the policy plugin needs SDK 1.3");
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*err = strdup("out of memory");
		return -1;
	}
	p->api = api;
	p->ictx = ctx;
	pthread_mutex_init(&p->lock, NULL);
	if (policy_conf_load(api, options, &p->c) < 0) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -1;
	}
	p->checks = api->metric_counter(ctx, "checks_total",
	    "messages and connections refused, flagged or whitelisted, by reason",
	    "result");
	if (!p->c.supply_sender)
		api->narrow(ctx, 0, 0);
	*instance = p;
	return 0;
}

static void
policy_fini(void *instance)
{
	struct policy *p = instance;

	policy_conf_free(&p->c);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static mm_store *
store(struct policy *p, mm_ctx *ctx)
{
	char *err = NULL;
	mm_store *st;

	pthread_mutex_lock(&p->lock);
	if (p->st == NULL &&
	    (p->st = p->api->store_open(p->ictx, p->c.db, &err)) == NULL) {
		p->api->log(ctx, MM_LOG_ERR, "store database %s: %s", p->c.db,
		    err ? err : "cannot open");
		free(err);
	}
	st = p->st;
	pthread_mutex_unlock(&p->lock);
	return st;
}

void
policy_count(struct policy *p, mm_ctx *ctx, const char *what)
{
	p->api->metric_add(p->checks, what, 1);
	p->api->set_result(ctx, "%s", what);
}

/* Refuse with 550 5.7.1: the log names the reason, the reply the text. */
mm_verdict
policy_refuse(struct policy *p, mm_ctx *ctx, const char *what, const char *text,
    const char *detail)
{
	p->api->log(ctx, MM_LOG_NOTICE, "REJECT %s: %s", what, detail);
	p->api->set_reply(ctx, "550", "5.7.1", text);
	p->api->metric_add(p->checks, what, 1);
	p->api->set_result(ctx, "%s", what);	/* outside a message: -1, fine */
	return MM_REJECT;
}

struct conn *
policy_conn(struct policy *p, mm_ctx *ctx)
{
	struct conn *c = p->api->conn_data(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		const char *host = p->api->client_host(ctx);
		c->noptr = policy_no_ptr(host);
		c->dynamic = policy_dynamic_ptr(host, p->api->client_addr(ctx));
		c->ptr_good = c->helo_valid = -1;
		p->api->set_conn_data(ctx, c, free);
	}
	return c;
}

static struct msg *
msg_of(struct policy *p, mm_ctx *ctx)
{
	struct msg *m = p->api->msg_data(ctx);

	if (m == NULL && (m = calloc(1, sizeof(*m))) != NULL)
		p->api->set_msg_data(ctx, m, msg_free);
	return m;
}

static const char *
class_name(mm_client_class cls)
{
	return cls == MM_CLIENT_INTERNAL ? "internal" :
	    cls == MM_CLIENT_TRUSTED_RELAY ? "trusted relay" : "external";
}

static mm_verdict
policy_connect(mm_ctx *ctx, void *instance, const char *host,
    const struct sockaddr *sa)
{
	struct policy *p = instance;
	const char *addr = p->api->client_addr(ctx);
	struct conn *c = policy_conn(p, ctx);
	char why[300];

	(void)sa;
	if (c == NULL)
		return MM_ERROR;
	p->api->log(ctx, MM_LOG_INFO, "connect from %s [%s]: %s%s", host ? host : "?",
	    addr ? addr : "?", class_name(p->api->client_class(ctx)),
	    c->noptr ? ", no PTR" : c->dynamic ? ", dynamic PTR" : "");
	if (p->c.reject_bad_ptr && policy_bad_ptr(host, addr)) {
		snprintf(why, sizeof(why), "\"%s\" is not a reasonable PTR name", host);
		return policy_refuse(p, ctx, "bad_ptr", why, why);
	}
	return MM_CONTINUE;
}

static mm_verdict
policy_helo(mm_ctx *ctx, void *instance, const char *helo)
{
	struct policy *p = instance;
	char text[400];

	if (p->c.reject_numeric_hello && policy_numeric_hello(helo)) {
		snprintf(text, sizeof(text), "HELO %s: a numeric name needs brackets "
		    "([192.0.2.1])", helo);
		return policy_refuse(p, ctx, "numeric_hello", text, helo);
	}
	if (p->c.hello_blacklist && p->api->client_class(ctx) == MM_CLIENT_EXTERNAL &&
	    policy_name_in(p->api, p->c.hello_blacklist, helo)) {
		snprintf(text, sizeof(text), "HELO %s names this site, not your "
		    "mail server", helo);
		return policy_refuse(p, ctx, "self_hello", text, helo);
	}
	return MM_CONTINUE;
}

static int
spf_passed(const struct mm_api *api, mm_ctx *ctx, const char *domain)
{
	const char *dom = api->fact_get(ctx, "spf.domain");

	return domain != NULL && dom != NULL &&
	    policy_fact_is(api->fact_get(ctx, "spf.result"), "pass") &&
	    !policy_fact_is(api->fact_get(ctx, "spf.guessed"), "yes") &&
	    api->domain_match(domain, dom);
}

static void
mark(struct policy *p, mm_ctx *ctx, struct msg *m, const char *what)
{
	if (m->exempt)
		return;		/* exempt stays exempt */
	if (p->api->fact_set(ctx, POLICY_FACT_DSPAM, what) < 0)
		p->api->log(ctx, MM_LOG_WARNING, "cannot set fact %s", POLICY_FACT_DSPAM);
}

static void
whitelist_lookup(struct policy *p, mm_ctx *ctx, struct msg *m,
    const char *domain)
{
	mm_store *st = store(p, ctx);
	int r;

	if (st == NULL || (r = policy_wl_has(p->api, st, m->sender)) < 0) {
		p->api->log(ctx, MM_LOG_WARNING, "auto-whitelist not read: store error");
		return;
	}
	if (r == 0)
		return;
	if (!spf_passed(p->api, ctx, domain)) {
		p->api->log(ctx, MM_LOG_INFO, "<%s> is auto-whitelisted but SPF did "
		    "not pass for it: not trusted", m->sender);
		return;
	}
	m->whitelisted = 1;
	mark(p, ctx, m, "whitelisted");
	p->api->log(ctx, MM_LOG_INFO, "<%s> auto-whitelisted, SPF pass: whitelisted",
	    m->sender);
	policy_count(p, ctx, "whitelisted");
}

static mm_verdict
policy_envfrom(mm_ctx *ctx, void *instance, char *const *argv)
{
	struct policy *p = instance;
	const struct mm_api *api = p->api;
	const char *from = api->mail_from(ctx), *domain = NULL;
	mm_client_class cls = api->client_class(ctx);
	int internal = cls == MM_CLIENT_INTERNAL || api->auth_user(ctx) != NULL;
	int relay = cls == MM_CLIENT_TRUSTED_RELAY;
	struct msg *m = msg_of(p, ctx);
	char text[600];
	mm_verdict v;

	(void)argv;
	if (m == NULL)
		return MM_ERROR;
	from = from ? from : "";
	if (p->c.require_hello && (api->helo(ctx) == NULL || *api->helo(ctx) == '\0'))
		return policy_refuse(p, ctx, "no_hello", "Say HELO first", "MAIL without HELO");
	if (*from) {
		char *n = api->addr_normalize(from, NULL), *at;
		if (n != NULL) {
			m->sender = strdup(n);
			api->free(n);
			if (m->sender == NULL)
				return MM_ERROR;
			for (char *q = m->sender; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
			if ((at = strrchr(m->sender, '@')) != NULL)
				domain = at + 1;
		}
	}
	switch (policy_sender_check(api, p->c.internal_domains, internal, relay,
	    domain, spf_passed(api, ctx, domain))) {
	case POLICY_SENDER_ZOMBIE:
		snprintf(text, sizeof(text), "zombie at %s sending MAIL FROM <%s>",
		    api->client_addr(ctx), m->sender);
		return policy_refuse(p, ctx, "zombie", "Your computer uses a MAIL FROM "
		    "outside this site's domains: it is misconfigured or infected",
		    text);
	case POLICY_SENDER_FORGED:
		snprintf(text, sizeof(text), "%s is a domain of this site: mail "
		    "from <%s> cannot come from outside", domain, m->sender);
		return policy_refuse(p, ctx, "forged", text, text);
	default:
		break;
	}
	if (p->c.three_strikes && cls == MM_CLIENT_EXTERNAL && !internal &&
	    (v = policy_strikes(p, ctx, m, from)) != MM_CONTINUE)
		return v;
	if (m->sender && p->c.dspam_whitelist &&
	    policy_addr_in(api, p->c.dspam_whitelist, m->sender)) {
		mark(p, ctx, m, "exempt");
		m->exempt = 1;
		api->log(ctx, MM_LOG_INFO, "<%s> in dspam_whitelist: not scanned",
		    m->sender);
	}
	if (m->sender && internal && p->c.whitelist_senders &&
	    policy_addr_in(api, p->c.whitelist_senders, m->sender))
		m->wl_sender = 1;
	if (m->sender && p->c.auto_whitelist && !internal && !m->exempt)
		whitelist_lookup(p, ctx, m, domain);
	/* nothing later applies to this message: the core need not call
	   us for its recipients, headers and end */
	if (!m->wl_sender && !m->whitelisted && p->c.dspam_exempt == NULL &&
	    (internal || (p->c.porn_words == NULL && p->c.spam_words == NULL)) &&
	    (internal || !p->c.supply_sender || m->sender == NULL))
		return MM_ACCEPT;
	return MM_CONTINUE;
}

static mm_verdict
policy_envrcpt(mm_ctx *ctx, void *instance, char *const *argv)
{
	struct policy *p = instance;
	struct msg *m;
	char *n;

	if (p->c.dspam_exempt == NULL || argv[0] == NULL ||
	    (m = msg_of(p, ctx)) == NULL || m->exempt)
		return MM_CONTINUE;
	if ((n = p->api->addr_normalize(argv[0], NULL)) == NULL)
		return MM_CONTINUE;
	if (policy_addr_in(p->api, p->c.dspam_exempt, n)) {
		mark(p, ctx, m, "exempt");
		m->exempt = 1;
		p->api->log(ctx, MM_LOG_INFO, "recipient <%s> in dspam_exempt: no "
		    "dspam screening", n);
	}
	p->api->free(n);
	return MM_CONTINUE;
}

/* The domain of the (first) address in a From: or Sender: value. */
static char *
header_domain(const char *v)
{
	const char *lt = strrchr(v, '<'), *s = lt ? lt + 1 : v, *at, *e;
	char *d;

	if ((at = strchr(s, '@')) == NULL)
		return NULL;
	at++;
	for (e = at; *e && !strchr(">,; \t\r\n()", *e); e++)
		;
	if (e == at || (d = strndup(at, (size_t)(e - at))) == NULL)
		return NULL;
	for (char *q = d; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return d;
}

static mm_verdict
policy_header(mm_ctx *ctx, void *instance, const char *name, const char *value)
{
	struct policy *p = instance;
	struct msg *m = p->api->msg_data(ctx);

	if (m == NULL)
		return MM_CONTINUE;
	if (strcasecmp(name, "Subject") == 0 && m->subject == NULL &&
	    (p->c.porn_words || p->c.spam_words || m->wl_sender)) {
		if ((m->subject = policy_fold_header(p->api, value)) == NULL)
			return MM_ERROR;
		if (m->wl_sender && policy_autoreply_subject(m->subject))
			m->autoreply = 1;
	} else if (p->c.supply_sender && strcasecmp(name, "From") == 0 &&
	    m->from_domain == NULL) {
		m->from_domain = header_domain(value);
	} else if (strcasecmp(name, "Sender") == 0) {
		m->has_sender = 1;
	}
	return MM_CONTINUE;
}

static mm_verdict
policy_eoh(mm_ctx *ctx, void *instance)
{
	struct policy *p = instance;
	const struct mm_api *api = p->api;
	struct msg *m = api->msg_data(ctx);
	const char *w, *at, *what = NULL;
	int internal = api->client_class(ctx) == MM_CLIENT_INTERNAL ||
	    api->auth_user(ctx) != NULL;

	if (m == NULL)
		return MM_CONTINUE;
	if (m->subject && !internal && !m->whitelisted) {
		if ((w = policy_word_in(p->c.porn_words, m->subject)) != NULL)
			what = "porn word";
		else if ((w = policy_word_in(p->c.spam_words, m->subject)) != NULL)
			what = "spam word";
		if (what) {
			char detail[600];
			snprintf(detail, sizeof(detail), "%s \"%s\" in Subject: %.400s",
			    what, w, m->subject);
			return policy_refuse(p, ctx, "subject", "That subject is not allowed here",
			    detail);
		}
	}
	if (p->c.supply_sender && !internal && m->sender && m->from_domain &&
	    !m->has_sender && (at = strrchr(m->sender, '@')) != NULL) {
		char dot[300];
		snprintf(dot, sizeof(dot), ".%s", m->from_domain);
		if (!api->domain_match(at + 1, m->from_domain) &&
		    !api->domain_match(at + 1, dot)) {
			char val[600];
			snprintf(val, sizeof(val), "<%s>", api->mail_from(ctx));
			if (api->add_header(ctx, "Sender", val) < 0)
				return MM_ERROR;
			api->log(ctx, MM_LOG_INFO, "From: domain %s is not MAIL FROM's: "
			    "Sender: %s supplied", m->from_domain, val);
			policy_count(p, ctx, "sender_supplied");
		}
	}
	return MM_CONTINUE;
}

static mm_verdict
policy_eom(mm_ctx *ctx, void *instance)
{
	struct policy *p = instance;
	struct msg *m = p->api->msg_data(ctx);
	const char *banned = p->api->fact_get(ctx, "mime.banned");

	if (m == NULL)
		return MM_CONTINUE;
	if (m->whitelisted && banned != NULL && *banned) {
		m->whitelisted = 0;
		mark(p, ctx, m, "rescinded");
		p->api->log(ctx, MM_LOG_NOTICE, "banned attachment (%s): whitelist of "
		    "<%s> rescinded for this message", banned, m->sender);
		policy_count(p, ctx, "rescinded");
	}
	return MM_CONTINUE;
}

/* The auto-whitelist learns from a delivered message of a whitelist sender. */
static void
policy_msg_end(mm_ctx *ctx, void *instance, const struct mm_outcome *o)
{
	struct policy *p = instance;
	const struct mm_api *api = p->api;
	struct msg *m = api->msg_data(ctx);
	const char *banned;
	struct policy_rcpt *r;
	mm_store *st;
	int n;

	if (m == NULL || !m->wl_sender || o->verdict != MM_ACCEPT || o->aborted ||
	    o->discarded || o->quarantined || o->nrcpts == 0)
		return;
	if (m->autoreply) {
		api->log(ctx, MM_LOG_INFO, "auto-reply from <%s>: recipients not "
		    "whitelisted", m->sender);
		return;
	}
	if ((banned = api->fact_get(ctx, "mime.banned")) != NULL && *banned) {
		api->log(ctx, MM_LOG_NOTICE, "banned attachment (%s) from <%s>: "
		    "recipients not whitelisted", banned, m->sender);
		return;
	}
	if ((st = store(p, ctx)) == NULL ||
	    (r = calloc(o->nrcpts, sizeof(*r))) == NULL)
		return;
	for (size_t i = 0; i < o->nrcpts; i++) {
		r[i].addr = o->rcpts[i].addr;
		r[i].accepted = o->rcpts[i].verdict == MM_CONTINUE;
	}
	if (api->abandoned(ctx))
		n = 0;
	else
		n = policy_wl_learn(api, st, p->c.internal_domains, r, o->nrcpts,
		    api->now(ctx), p->c.auto_whitelist_ttl, m->sender);
	free(r);
	if (n < 0) {
		api->log(ctx, MM_LOG_WARNING, "auto-whitelist not written: store error");
		return;
	}
	if (n > 0) {
		api->log(ctx, MM_LOG_INFO, "auto-whitelist: %d recipient%s of <%s> "
		    "added or renewed for %.0f days", n, n == 1 ? "" : "s", m->sender,
		    p->c.auto_whitelist_ttl / 86400);
		api->metric_add(p->checks, "learned", n);
	}
}

static const struct mm_macro_req policy_macros[] = {
	{ MM_STAGE_CONNECT, "{client_resolve}" },
	{ 0, NULL }
};

MM_PLUGIN(policy, "1.0", "site policy: PTR, HELO, zombies, forgeries, three "
    "strikes, Subject words, Sender:, auto-whitelist",
	.actions = MM_ACT_ADDHDRS,
	.macros = policy_macros,
	.options = policy_option_table,
	.init = policy_init,
	.fini = policy_fini,
	.connect = policy_connect,
	.helo = policy_helo,
	.envfrom = policy_envfrom,
	.envrcpt = policy_envrcpt,
	.header = policy_header,
	.eoh = policy_eoh,
	.eom = policy_eom,
	.msg_end = policy_msg_end);
