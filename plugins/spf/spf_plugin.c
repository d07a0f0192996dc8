/*
 * NAME
 *	spf - the SPF plugin: HELO and MAIL FROM checked per RFC 7208
 * SYNOPSIS
 *	plugins:
 *	  spf: { module: spf, options: {
 *	      policy: { pass: accept, neutral: accept, none: accept, softfail: verify,
 *	                fail: reject, permerror: reject, temperror: tempfail },
 *	      helo_policy: { fail: reject },
 *	      overrides: { "aol.com": { neutral: reject, softfail: reject } },
 *	      best_guess: "v=spf1 a/24 mx/24 ptr",
 *	      received_spf: true, authentication_results: true } }
 * DESCRIPTION
 *	At MAIL FROM, for an external client that did not authenticate
 *	and is not skipped by address or sender: checks the HELO identity
 *	and the MAIL FROM identity (postmaster@HELO for the null sender),
 *	falls back to the best guess record when the sender's domain has
 *	none, chooses an action from the policy, publishes the facts
 *	spf.result, spf.helo_result, spf.domain, spf.guessed (and
 *	spf.verify for the verify action, spf.perm_error with the problem
 *	of a permerror), inserts Received-SPF at the
 *	top and contributes spf=... to Authentication-Results.
 *
 *	A client that passes SPF for one of trusted_forwarders is not
 *	checked further (fact spf.trusted_forwarder).
 *
 *	With access_file (bms.py's option: SPF-<Result>: entries in
 *	Sendmail's access format, spf_access.c), an entry for the sender,
 *	its domain or every sender overrides the policy's action for the
 *	MAIL FROM result; the file is read again when it changes.
 *
 *	The instance owns one DNS stack shared by all its connections:
 *	libspf2's SPF_dns_cache over the spf_resolv layer. All checks of a
 *	message share one deadline (time_limit).
 * DIAGNOSTICS
 *	One log line per checked message (result, HELO result, action);
 *	a notice for temperror and permerror with the problem. A failure
 *	of the plugin itself (memory) returns MM_ERROR, which the
 *	instance's on_error turns into a verdict (tempfail by default).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_cache.h>

#include <modmilter/plugin.h>

#include "spf_access.h"
#include "spf_eval.h"
#include "spf_guard.h"
#include "spf_options.h"
#include "spf_policy.h"
#include "spf_report.h"
#include "spf_resolv.h"

#define CACHE_BITS	14	/* 16384 hash chains */

struct spf_plugin {
	const struct mm_api *api;
	struct spf_conf conf;
	SPF_dns_server_t *dns;
	mm_metric *results, *timeouts;	/* NULL with a core before SDK 1.3 */
	struct spf_access_file *access;	/* access_file, or NULL */
};

static void
count_timeout(void *arg)
{
	struct spf_plugin *p = arg;

	p->api->metric_add(p->timeouts, NULL, 1);
}

/* What was found out about one message. */
struct verdict {
	struct spf_check *helo, *mfrom, *guess;
	spf_result hres, mres, eff;	/* eff: what the policy saw */
	int guessed, by_helo;
	enum spf_action act;
	char sender[1100];		/* MAIL FROM, or postmaster@HELO */
	const char *domain;
};

struct logarg {
	const struct mm_api *api;
	mm_ctx *ctx;
};

static void
log_libspf2(void *arg, const char *msg)
{
	struct logarg *l = arg;

	l->api->log(l->ctx, MM_LOG_WARNING, "%s", msg);
}

static void spf_fini(void *instance);

struct optarg {
	const struct mm_api *api;
	const mm_opt *node;
};

/* a bad line of the access file at start: a configuration error */
static void
access_error(void *arg, const char *msg)
{
	struct optarg *o = arg;

	o->api->opt_error(o->node, "access_file: %s", msg);
}

/* a bad line after the file changed: the good lines apply */
static void
access_warning(void *arg, const char *msg)
{
	struct logarg *l = arg;

	l->api->log(l->ctx, MM_LOG_WARNING, "access_file: %s", msg);
}

static int
spf_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *options,
    void **instance, char **err)
{
	struct spf_plugin *p = calloc(1, sizeof(*p));
	SPF_dns_server_t *resolv;
	struct spf_guard g;

	if (p == NULL) {
		*err = strdup("out of memory");
		return -1;
	}
	p->api = api;
	spf_guard_install();
	if (spf_conf_load(api, options, &p->conf) < 0) {
		free(p);
		return -1;
	}
	if (p->conf.access_file) {
		struct optarg oa = { api, api->opt_get(options, "access_file") };
		int bad = 0;
		p->access = spf_access_open(p->conf.access_file, access_error, &oa, &bad);
		if (p->access == NULL || bad) {
			spf_fini(p);
			return -1;
		}
	}
	if (MM_API_HAS(api, metric_observe)) {
		p->results = api->metric_counter(ctx, "results_total",
		    "SPF results of the MAIL FROM identity (after best guess)", "result");
		p->timeouts = api->metric_counter(ctx, "dns_timeouts_total",
		    "DNS queries that got no answer in time", NULL);
	}
	if ((resolv = spf_resolv_new(p->conf.dns_timeout, p->conf.dns_retries,
	    p->timeouts ? count_timeout : NULL, p, err)) == NULL) {
		spf_fini(p);
		return -1;
	}
	p->dns = resolv;
	memset(&g, 0, sizeof(g));
	if (setjmp(g.env) == 0) {
		spf_guard_push(&g);
		if (p->conf.dns_cache) {
			SPF_dns_server_t *cache = SPF_dns_cache_new(resolv, "spf-cache", 0,
			    CACHE_BITS);
			if (cache) {
				/* no TTL floors: the resolver layer's TTLs hold */
				SPF_dns_cache_set_ttl(cache, 0, 0, 0, 0);
				p->dns = cache;
			}
		}
		spf_guard_pop(&g);
	}
	if (p->conf.dns_cache && p->dns == resolv) {
		*err = strdup(g.msg[0] ? g.msg : "cannot create libspf2's DNS cache");
		spf_fini(p);
		return -1;
	}
	/* without Authentication-Results the core need not read the
	   headers (to remove forged ones) on our behalf */
	if (!p->conf.authres && MM_API_HAS(api, narrow))
		api->narrow(ctx, MM_ACT_ADDHDRS, 0);
	*instance = p;
	return 0;
}

static void
spf_fini(void *instance)
{
	struct spf_plugin *p = instance;
	struct spf_guard g;

	memset(&g, 0, sizeof(g));
	if (p->dns) {
		if (setjmp(g.env) == 0) {
			spf_guard_push(&g);
			SPF_dns_free(p->dns);	/* the cache, then the resolver below */
			spf_guard_pop(&g);
		}
	}
	spf_access_close(p->access);
	spf_conf_free(&p->conf);
	free(p);
}

static int
sender_skipped(const struct spf_conf *c, const char *from)
{
	const char *at = strrchr(from, '@');

	for (size_t i = 0; i < c->nskip_senders; i++) {
		const char *s = c->skip_senders[i];
		if (strchr(s, '@') ? strcasecmp(s, from) == 0 :
		    at && strcasecmp(s, at + 1) == 0)
			return 1;
	}
	return 0;
}

/* Why this message is not checked, or NULL. */
static const char *
skip_reason(const struct spf_plugin *p, mm_ctx *ctx, struct spf_ip *ip)
{
	const struct mm_api *api = p->api;
	const char *from = api->mail_from(ctx);

	switch (api->client_class(ctx)) {
	case MM_CLIENT_INTERNAL:
		return "internal client";
	case MM_CLIENT_TRUSTED_RELAY:
		return "trusted relay";
	default:
		break;
	}
	if (api->auth_user(ctx))
		return "authenticated client";
	if (spf_ip_from_sockaddr(api->client_sockaddr(ctx), ip) < 0)
		return "no client IP address";
	for (size_t i = 0; i < p->conf.nskip_clients; i++) {
		const struct spf_net *n = &p->conf.skip_clients[i];
		if (spf_ip_in(ip, n->ip.family, n->ip.a, n->bits))
			return "client in skip.clients";
	}
	if (from && *from && sender_skipped(&p->conf, from))
		return "sender in skip.senders";
	return NULL;
}

static struct spf_check *
check(const struct spf_env *env, const struct spf_ip *ip, const char *sender,
    const char *domain, const char *helo, const char *record)
{
	struct spf_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.ip = *ip;
	rq.sender = sender;
	rq.domain = domain;
	rq.helo = helo;
	rq.record = record;
	return spf_check_run(env, &rq);
}

/* The client passes SPF for one of the trusted forwarders: its name. */
static const char *
forwarder(const struct spf_plugin *p, const struct spf_env *env,
    const struct spf_ip *ip, const char *helo, int *oom)
{
	char sender[300];

	for (size_t i = 0; i < p->conf.nforwarders; i++) {
		const char *d = p->conf.forwarders[i];
		struct spf_check *c;
		int pass;

		snprintf(sender, sizeof(sender), "postmaster@%s", d);
		if ((c = check(env, ip, sender, d, helo, NULL)) == NULL) {
			*oom = 1;
			return NULL;
		}
		pass = spf_check_result(c) == SPFR_PASS;
		spf_check_free(c);
		if (pass)
			return d;
	}
	return NULL;
}

/* Run the checks and choose the action. -1: out of memory. */
static int
decide(const struct spf_plugin *p, const struct spf_env *env,
    const struct spf_ip *ip, const char *from, const char *helo,
    struct verdict *v)
{
	const struct spf_conf *c = &p->conf;
	enum spf_action hact;

	snprintf(v->sender, sizeof(v->sender), "postmaster@%s", helo);
	if ((v->helo = check(env, ip, v->sender, helo, helo, NULL)) == NULL)
		return -1;
	v->hres = spf_check_result(v->helo);
	if (*from) {
		const char *at = strrchr(from, '@');
		snprintf(v->sender, sizeof(v->sender), "%s", from);
		v->domain = at ? at + 1 : from;
		if ((v->mfrom = check(env, ip, from, v->domain, helo, NULL)) == NULL)
			return -1;
		v->mres = spf_check_result(v->mfrom);
	} else {
		v->domain = helo;
		v->mres = v->hres;
	}
	v->eff = v->mres;
	if (v->mres == SPFR_NONE && c->best_guess && spf_domain_valid(v->domain, 1)) {
		spf_result g;
		if ((v->guess = check(env, ip, v->sender, v->domain, helo,
		    c->best_guess)) == NULL)
			return -1;
		g = spf_check_result(v->guess);
		/* an error in our own guess is not the sender's problem */
		if (g != SPFR_TEMPERROR && g != SPFR_PERMERROR && g != SPFR_NONE) {
			v->guessed = 1;
			v->eff = g;
		}
	}
	v->act = spf_policy_mailfrom(&c->policy, v->sender, v->domain, v->eff);
	if (v->eff != SPFR_PASS) {
		hact = spf_policy_helo(&c->policy, v->hres);
		if (spf_action_worse(hact, v->act)) {
			v->act = hact;
			v->by_helo = 1;
		}
	}
	return 0;
}

static void
report_of(const struct verdict *v, int helo, const struct spf_ip *ip,
    const char *receiver, const char *from, const char *helo_name,
    struct spf_report *r)
{
	const struct spf_check *c = helo || v->mfrom == NULL ? v->helo : v->mfrom;

	memset(r, 0, sizeof(*r));
	r->result = helo ? v->hres : v->mres;
	r->helo_identity = helo || !*from;
	r->receiver = receiver;
	r->ip = ip;
	r->envelope_from = from;
	r->helo = helo_name;
	r->domain = helo ? helo_name : v->domain;
	r->mechanism = spf_check_mechanism(c);
	r->problem = spf_check_problem(c);
	if (!helo && v->guessed) {
		r->guessed = 1;
		r->guess = v->eff;
	}
}

static int
publish(const struct spf_plugin *p, mm_ctx *ctx, const struct verdict *v,
    const struct spf_report *r)
{
	const struct mm_api *api = p->api;
	char *hdr;

	if (p->results) {
		api->metric_add(p->results, spf_result_name(v->eff), 1);
		api->set_result(ctx, "%s%s", spf_result_name(v->eff),
		    v->guessed ? "(guess)" : "");
	}
	if (api->fact_set(ctx, "spf.result", spf_result_name(v->eff)) < 0 ||
	    api->fact_set(ctx, "spf.helo_result", spf_result_name(v->hres)) < 0 ||
	    api->fact_set(ctx, "spf.domain", v->domain) < 0 ||
	    api->fact_set(ctx, "spf.guessed", v->guessed ? "yes" : "no") < 0)
		return -1;
	if (v->act == SPF_ACT_VERIFY && api->fact_set(ctx, "spf.verify", "yes") < 0)
		return -1;
	if (v->eff == SPFR_PERMERROR && api->fact_set(ctx, "spf.perm_error",
	    spf_check_problem(v->mfrom ? v->mfrom : v->helo)) < 0)
		return -1;
	if (v->act == SPF_ACT_REJECT || v->act == SPF_ACT_TEMPFAIL)
		return 0;	/* the message goes no further */
	if (p->conf.received_spf || v->act == SPF_ACT_TAG) {
		if ((hdr = spf_received_spf(r)) == NULL)
			return -1;
		if (api->insert_header(ctx, 0, "Received-SPF", hdr) < 0)
			api->log(ctx, MM_LOG_WARNING, "cannot insert Received-SPF");
		free(hdr);
	}
	if (p->conf.authres) {
		if ((hdr = spf_authres(r)) == NULL)
			return -1;
		if (api->auth_result(ctx, hdr) < 0)
			api->log(ctx, MM_LOG_WARNING, "cannot add Authentication-Results clause");
		free(hdr);
	}
	return 0;
}

static mm_verdict
refuse(const struct spf_plugin *p, mm_ctx *ctx, struct verdict *v,
    const struct spf_ip *ip, const char *receiver, const char *from,
    const char *helo)
{
	struct spf_report r;
	struct spf_reply rp;
	struct spf_check *c = v->by_helo ? v->helo :
	    v->guessed ? v->guess : v->mfrom ? v->mfrom : v->helo;
	const char *exp;

	report_of(v, v->by_helo, ip, receiver, from, helo, &r);
	if (!v->by_helo)
		r.result = v->eff;
	if (r.result == SPFR_FAIL)
		exp = spf_check_explanation(c);
	else
		exp = NULL;
	if (spf_reply_for(&r, v->act, exp, &rp) < 0)
		return MM_ERROR;
	p->api->set_reply(ctx, rp.rcode, rp.xcode, rp.text);
	free(rp.text);
	return v->act == SPF_ACT_REJECT ? MM_REJECT : MM_TEMPFAIL;
}

static void
log_verdict(const struct spf_plugin *p, mm_ctx *ctx, const struct verdict *v,
    const char *from, const char *helo)
{
	const struct spf_check *c = v->mfrom ? v->mfrom : v->helo;
	char *f = spf_reply_sanitize(from), *h = spf_reply_sanitize(helo);
	const char *prob = spf_check_problem(c);

	p->api->log(ctx, v->mres >= SPFR_TEMPERROR || v->hres >= SPFR_TEMPERROR ?
	    MM_LOG_NOTICE : MM_LOG_INFO,
	    "from=<%s> domain=%s result=%s%s mechanism=%s helo=%s helo_result=%s "
	    "action=%s%s%s%s", f ? f : "?", v->domain, spf_result_name(v->eff),
	    v->guessed ? " (best guess)" : "", *spf_check_mechanism(c) ?
	    spf_check_mechanism(c) : "-", h ? h : "?", spf_result_name(v->hres),
	    spf_action_name(v->act), v->by_helo ? " (by HELO)" : "",
	    *prob ? " problem=" : "", prob);
	if (v->hres >= SPFR_TEMPERROR && v->mfrom)
		p->api->log(ctx, MM_LOG_NOTICE, "HELO %s: %s: %s", h ? h : "?",
		    spf_result_name(v->hres), spf_check_problem(v->helo));
	free(f);
	free(h);
}

static mm_verdict
spf_envfrom(mm_ctx *ctx, void *instance, char *const *argv)
{
	struct spf_plugin *p = instance;
	const struct mm_api *api = p->api;
	const char *from, *helo, *why, *receiver, *fwd;
	struct spf_ip ip;
	struct spf_env env;
	struct verdict v;
	struct spf_report r;
	struct logarg la = { api, ctx };
	mm_verdict ret = MM_ACCEPT;
	int oom = 0;

	(void)argv;
	if ((why = skip_reason(p, ctx, &ip)) != NULL) {
		api->log(ctx, MM_LOG_DEBUG, "not checked: %s", why);
		return MM_ACCEPT;
	}
	from = api->mail_from(ctx);
	helo = api->helo(ctx);
	from = from ? from : "";
	helo = helo ? helo : "";
	receiver = p->conf.receiver ? p->conf.receiver : api->macro(ctx, "j");
	if (receiver == NULL || *receiver == 0)
		receiver = "unknown";

	memset(&env, 0, sizeof(env));
	env.dns = p->dns;
	env.deadline = mm_clock_mono() + p->conf.time_limit;
	env.void_limit = p->conf.void_limit > 0 ? p->conf.void_limit : -1;
	env.default_exp = p->conf.explanation;
	env.receiver = receiver;
	env.log = log_libspf2;
	env.logarg = &la;

	if ((fwd = forwarder(p, &env, &ip, helo, &oom)) != NULL) {
		api->log(ctx, MM_LOG_INFO, "client passes SPF for trusted forwarder %s: "
		    "sender not checked", fwd);
		return api->fact_set(ctx, "spf.trusted_forwarder", fwd) < 0 ? MM_ERROR :
		    MM_ACCEPT;
	}
	memset(&v, 0, sizeof(v));
	if (oom || decide(p, &env, &ip, from, helo, &v) < 0) {
		api->log(ctx, MM_LOG_ERR, "out of memory");
		ret = MM_ERROR;
		goto out;
	}
	if (p->access && !v.by_helo) {
		enum spf_action a = spf_access_file_lookup(p->access, v.sender,
		    v.domain, v.eff, time(NULL), access_warning, &la);
		if (a != SPF_ACT_UNSET && a != v.act) {
			api->log(ctx, MM_LOG_INFO, "access_file: %s for SPF %s of <%s>",
			    spf_action_name(a), spf_result_name(v.eff), v.sender);
			v.act = a;
		}
	}
	log_verdict(p, ctx, &v, from, helo);
	report_of(&v, 0, &ip, receiver, from, helo, &r);
	if (publish(p, ctx, &v, &r) < 0) {
		ret = MM_ERROR;
		goto out;
	}
	if (v.act == SPF_ACT_REJECT || v.act == SPF_ACT_TEMPFAIL)
		ret = refuse(p, ctx, &v, &ip, receiver, from, helo);
out:
	spf_check_free(v.helo);
	spf_check_free(v.mfrom);
	spf_check_free(v.guess);
	return ret;
}

static const struct mm_macro_req spf_macros[] = {
	{ MM_STAGE_CONNECT, "j" },
	{ 0, NULL }
};

MM_PLUGIN(spf, "1.0", "SPF (RFC 7208) checks of HELO and MAIL FROM",
	.actions = MM_ACT_ADDHDRS | MM_ACT_AUTHRES,
	.macros = spf_macros,
	.options = spf_option_table,
	.init = spf_init,
	.fini = spf_fini,
	.envfrom = spf_envfrom);
