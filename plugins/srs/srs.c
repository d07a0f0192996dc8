/*
 * NAME
 *	srs - Sender Rewriting Scheme for forwarded mail, and bounce protection
 * SYNOPSIS
 *	plugins:
 *	  srs: { module: srs, options: {
 *	      fwdomain: fwd.example, secret_file: /etc/modmilter/srs.secret,
 *	      local_domains: [example.org, .example.org],
 *	      sign: relayed, reject_spoofed: true } }
 * DESCRIPTION
 *	The plugin's descriptor and hooks; doc/plugins/srs.md is the admin's
 *	page, codec.c the scheme itself. The life of a message:
 *
 *	RCPT: a recipient with an SRS0 or SRS1 local part at fwdomain is
 *	reversed: a good hash and age replace it by the address it stands
 *	for (del_rcpt, add_rcpt, queued at end of message for those that are
 *	still recipients then); a bad one is refused with 550 5.7.1. With reject_spoofed, a bounce (null
 *	sender, or a sender whose local part is one of banned_users) to
 *	any other recipient in a local domain is refused with 550 5.7.1:
 *	all our outgoing mail carries SRS senders, so a bounce to an
 *	unsigned address answers a forgery. Internal clients and trusted
 *	relays are never refused that way (bms.py did the same).
 *
 *	End of message: the reversed recipients are replaced; a sender outside the local domains (and fwdomain),
 *	on a message with at least one recipient outside them too, is
 *	rewritten to its SRS address at fwdomain (change_from) - on every
 *	message of the chain (sign: always), only on mail from internal
 *	clients, trusted relays and authenticated users (relayed), or never.
 *	The null sender never is. The decision waits for the end of
 *	message, which the MTA sends anyway, rather than DATA: a DATA hook
 *	would cost every message one more round trip (see
 *	doc/plugins/srs-performance.md).
 *
 *	Instance state is read-only after init (the HMAC keyed once per
 *	secret there, hmac.c); the per-message state
 *	lives in the core's message slot.
 * DIAGNOSTICS
 *	Each rewrite, reversal and refusal is logged (info) and counted in
 *	modmilter_srs_actions_total{action}; the summary line shows
 *	srs=signed, srs=reversed or srs=refused. A sender too long to
 *	rewrite goes on unchanged, with a warning. A failure of the crypto
 *	library is an MM_ERROR (the on_error policy: tempfail by default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/plugin.h>

#include "srs_plugin.h"

/* A recipient reversed at RCPT, replaced at end of message. */
struct srs_rev {
	char *rcpt;		/* the SRS address, normal form */
	char *orig;		/* what it stands for */
};

struct srs_msg {
	char *from;		/* normal form; "" null sender; NULL malformed */
	int bounce;		/* null sender or a banned user */
	char *newfrom;		/* the SRS sender, or NULL */
	struct srs_rev *revs;
	size_t nrevs;
};

static int
srs_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct srs_conf *c;

	if (opts == NULL) {
		*err = strdup("srs needs options: fwdomain and secret or secret_file");
		return -1;
	}
	if (!MM_API_HAS(api, set_result)) {
		*err = strdup("srs needs a core with SDK 1.3 (address normalisation)");
		return -1;
	}
	if ((c = srs_conf_load(api, opts, err)) == NULL)
		return -1;	/* *err, or the errors recorded at their nodes */
	if (srs_codec_key(&c->codec) < 0) {
		srs_conf_free(c);
		*err = strdup("srs: libcrypto cannot key HMAC-SHA1 with the secrets");
		return -1;
	}
	c->actions = api->metric_counter(ctx, "actions_total",
	    "SRS senders signed, recipients reversed and recipients refused",
	    "action");
	if (c->sign == SRS_SIGN_NEVER && MM_API_HAS(api, narrow))
		api->narrow(ctx, MM_ACT_ADDRCPT | MM_ACT_DELRCPT, 0);
	*instance = c;
	return 0;
}

static void
srs_fini(void *instance)
{
	struct srs_conf *c = instance;

	srs_codec_unkey(&c->codec);
	srs_conf_free(c);
}

static void
msg_free(void *p)
{
	struct srs_msg *m = p;

	for (size_t i = 0; i < m->nrevs; i++) {
		free(m->revs[i].rcpt);
		free(m->revs[i].orig);
	}
	free(m->revs);
	free(m->from);
	free(m->newfrom);
	free(m);
}

static void
count(const struct srs_conf *c, const char *action)
{
	if (c->actions != NULL)
		c->api->metric_add(c->actions, action, 1);
}

static int
is_local(const struct srs_conf *c, const char *domain)
{
	if (c->api->domain_match(domain, c->fwdomain))
		return 1;
	for (size_t i = 0; c->local_domains[i] != NULL; i++)
		if (c->api->domain_match(domain, c->local_domains[i]))
			return 1;
	return 0;
}

/* Is the local part of addr (normal form) one of banned_users? */
static int
banned(const struct srs_conf *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = at ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; c->banned[i] != NULL; i++)
		if (strlen(c->banned[i]) == len && strncasecmp(addr, c->banned[i], len) == 0)
			return 1;
	return 0;
}

static mm_verdict
srs_envfrom(mm_ctx *ctx, void *instance, char *const *argv)
{
	const struct srs_conf *c = instance;
	const struct mm_api *api = c->api;
	struct srs_msg *m = calloc(1, sizeof(*m));
	char *a;

	if (m == NULL) {
		api->log(ctx, MM_LOG_ERR, "out of memory");
		return MM_ERROR;
	}
	api->set_msg_data(ctx, m, msg_free);
	if ((a = api->addr_normalize(argv[0], NULL)) == NULL)
		return MM_CONTINUE;	/* never rewritten, never a bounce */
	m->from = strdup(a);
	api->free(a);
	if (m->from == NULL) {
		api->log(ctx, MM_LOG_ERR, "out of memory");
		return MM_ERROR;
	}
	m->bounce = m->from[0] == 0 || banned(c, m->from);
	return MM_CONTINUE;
}

static mm_verdict
refuse(mm_ctx *ctx, const struct srs_conf *c, const char *rcpt, int status)
{
	const struct mm_api *api = c->api;
	char text[SRS_ADDR_MAX + 200];

	if (status == SRS_ECRYPTO) {
		api->log(ctx, MM_LOG_ERR, "<%s>: %s", rcpt, srs_strerror(status));
		return MM_ERROR;
	}
	if (status == SRS_EEXPIRED)
		snprintf(text, sizeof(text), "<%s>: expired SRS address (older than "
		    "%d days): the message it answers is too old", rcpt, c->codec.maxage);
	else if (status == SRS_EHASH)
		snprintf(text, sizeof(text), "<%s>: invalid SRS signature: we did "
		    "not make this address", rcpt);
	else
		snprintf(text, sizeof(text), "<%s>: malformed SRS address", rcpt);
	api->log(ctx, MM_LOG_INFO, "refused rcpt <%s>: %s", rcpt, srs_strerror(status));
	count(c, status == SRS_EEXPIRED ? "expired" : status == SRS_EHASH ?
	    "bad_signature" : "malformed");
	api->set_result(ctx, "refused");
	api->set_reply(ctx, "550", "5.7.1", text);
	return MM_REJECT;
}

/* A good SRS recipient is remembered, to be replaced at end of message
   if it is still a recipient then (another plugin or the MTA may refuse
   it after us); a bad one is refused. */
static mm_verdict
reverse(mm_ctx *ctx, const struct srs_conf *c, struct srs_msg *m,
    const char *rcpt)
{
	const struct mm_api *api = c->api;
	char orig[SRS_ADDR_MAX];
	struct srs_rev *v;
	int rc = srs_reverse(&c->codec, rcpt, (time_t)api->now(ctx), orig, sizeof(orig));

	if (rc != SRS_OK)
		return refuse(ctx, c, rcpt, rc);
	if ((v = realloc(m->revs, (m->nrevs + 1) * sizeof(*v))) == NULL) {
		api->log(ctx, MM_LOG_ERR, "out of memory");
		return MM_ERROR;
	}
	m->revs = v;
	v += m->nrevs;
	v->rcpt = strdup(rcpt);
	v->orig = strdup(orig);
	if (v->rcpt == NULL || v->orig == NULL) {
		free(v->rcpt);
		free(v->orig);
		api->log(ctx, MM_LOG_ERR, "out of memory");
		return MM_ERROR;
	}
	m->nrevs++;
	api->log(ctx, MM_LOG_INFO, "rcpt <%s> reversed to <%s>", rcpt, orig);
	count(c, "reversed");
	api->set_result(ctx, "reversed");
	return MM_CONTINUE;
}

/* Replace the reversed recipients that the message still has. */
static int
replace_rcpts(mm_ctx *ctx, const struct srs_conf *c, const struct srs_msg *m)
{
	const struct mm_api *api = c->api;
	size_t n = api->rcpt_count(ctx);
	char bracketed[SRS_ADDR_MAX + 2];

	for (size_t i = 0; i < n && m->nrevs > 0; i++) {
		const char *given = api->rcpt_at(ctx, i);
		char *r = api->addr_normalize(given, NULL);

		for (size_t j = 0; r != NULL && j < m->nrevs; j++) {
			if (strcmp(r, m->revs[j].rcpt) != 0)
				continue;
			snprintf(bracketed, sizeof(bracketed), "<%s>", m->revs[j].orig);
			if (api->del_rcpt(ctx, given) < 0 || api->add_rcpt(ctx, bracketed) < 0) {
				api->log(ctx, MM_LOG_ERR, "rcpt <%s>: cannot replace it by "
				    "<%s>", r, m->revs[j].orig);
				api->free(r);
				return -1;
			}
			break;
		}
		api->free(r);
	}
	return 0;
}

static mm_verdict
srs_envrcpt(mm_ctx *ctx, void *instance, char *const *argv)
{
	const struct srs_conf *c = instance;
	const struct mm_api *api = c->api;
	struct srs_msg *m = api->msg_data(ctx);
	mm_client_class cls;
	char *rcpt = api->addr_normalize(argv[0], NULL);
	const char *at;
	mm_verdict v = MM_CONTINUE;

	if (rcpt == NULL || (at = strrchr(rcpt, '@')) == NULL) {
		api->free(rcpt);
		return MM_CONTINUE;	/* the MTA's business; postmaster always passes */
	}
	cls = api->client_class(ctx);
	if (srs_is_srs(rcpt + (rcpt[0] == '"')) && api->domain_match(at + 1, c->fwdomain))
		v = m != NULL ? reverse(ctx, c, m, rcpt) : MM_ERROR;
	else if (c->reject_spoofed && m != NULL && m->bounce && is_local(c, at + 1) &&
	    cls == MM_CLIENT_EXTERNAL) {
		api->log(ctx, MM_LOG_INFO, "refused rcpt <%s>: %s to an unsigned "
		    "address", rcpt, m->from[0] ? "message from a banned user" : "bounce");
		count(c, "spoofed_bounce");
		api->set_result(ctx, "refused");
		api->set_reply(ctx, "550", "5.7.1", "This address sent no message "
		    "that you could answer: our senders are SRS-signed, so this "
		    "bounce answers mail forged in our name. Please check your "
		    "sender verification (SPF) before you bounce.");
		v = MM_REJECT;
	}
	api->free(rcpt);
	return v;
}

/* Decide whether the sender is rewritten, and to what: m->newfrom. */
static int
plan(mm_ctx *ctx, const struct srs_conf *c, struct srs_msg *m)
{
	const struct mm_api *api = c->api;
	const char *at;
	char out[SRS_ADDR_MAX];
	size_t n = api->rcpt_count(ctx);
	int away = 0, rc;

	if (c->sign == SRS_SIGN_NEVER || m->from == NULL ||
	    (at = strrchr(m->from, '@')) == NULL || is_local(c, at + 1))
		return 0;
	if (c->sign == SRS_SIGN_RELAYED && api->client_class(ctx) == MM_CLIENT_EXTERNAL &&
	    api->auth_user(ctx) == NULL)
		return 0;
	for (size_t i = 0; i < n && !away; i++) {
		char *r = api->addr_normalize(api->rcpt_at(ctx, i), NULL);
		const char *rat = r ? strrchr(r, '@') : NULL;
		away = rat != NULL && !is_local(c, rat + 1);
		api->free(r);
	}
	if (!away)
		return 0;	/* the message stays here: SPF is no concern */
	rc = srs_forward(&c->codec, m->from, c->fwdomain, (time_t)api->now(ctx),
	    out, sizeof(out));
	if (rc == SRS_ECRYPTO) {
		api->log(ctx, MM_LOG_ERR, "sender <%s>: %s", m->from, srs_strerror(rc));
		return -1;
	}
	if (rc != SRS_OK) {
		api->log(ctx, MM_LOG_WARNING, "sender <%s> not rewritten: %s",
		    m->from, srs_strerror(rc));
		return 0;
	}
	if ((m->newfrom = strdup(out)) == NULL) {
		api->log(ctx, MM_LOG_ERR, "out of memory");
		return -1;
	}
	return 1;
}

static mm_verdict
srs_eom(mm_ctx *ctx, void *instance)
{
	const struct srs_conf *c = instance;
	const struct mm_api *api = c->api;
	struct srs_msg *m = api->msg_data(ctx);
	char bracketed[SRS_ADDR_MAX + 2];

	if (m == NULL)
		return MM_CONTINUE;
	if (replace_rcpts(ctx, c, m) < 0 || plan(ctx, c, m) < 0)
		return MM_ERROR;
	if (m->newfrom == NULL)
		return MM_CONTINUE;
	snprintf(bracketed, sizeof(bracketed), "<%s>", m->newfrom);
	if (api->change_from(ctx, bracketed, NULL) < 0) {
		api->log(ctx, MM_LOG_ERR, "sender <%s>: cannot change it", m->from);
		return MM_ERROR;
	}
	api->log(ctx, MM_LOG_INFO, "sender <%s> rewritten to <%s>", m->from, m->newfrom);
	count(c, "signed");
	api->set_result(ctx, "signed");
	return MM_CONTINUE;
}

MM_PLUGIN(srs, "1.0",
	"Sender Rewriting Scheme for forwarded mail, and refusal of forged bounces",
	.actions = MM_ACT_CHGFROM | MM_ACT_ADDRCPT | MM_ACT_DELRCPT,
	.options = srs_option_table,
	.init = srs_init,
	.fini = srs_fini,
	.envfrom = srs_envfrom,
	.envrcpt = srs_envrcpt,
	.eom = srs_eom);
