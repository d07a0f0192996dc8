/*
 * NAME
 *	wiretap - monitored copies, gags, smart aliases and per-user archives
 * SYNOPSIS
 *	plugins:
 *	  audit: { module: wiretap, options: {
 *	      groups: [
 *	        { name: legal-hold, watch: [alice@corp.example, "@subsidiary.example"],
 *	          direction: both, copy_to: [monitor@corp.example], blind: true,
 *	          archive: /var/lib/modmilter/archive },
 *	        { name: gag, watch: [bigmouth@corp.example], direction: outgoing,
 *	          discard: true, copy_to: [spy@corp.example] } ],
 *	      smart_alias: [ { from: client@clientcorp.example,
 *	          to: sue@corp.example, deliver_to: [copycust@corp.example] } ] } }
 * DESCRIPTION
 *	The plugin's descriptor and hooks; doc/plugins/wiretap.md is the
 *	admin's page. The life of a message:
 *
 *	DATA: the envelope is complete. The plan (match.c) says which
 *	groups and smart aliases match. When nothing does, the hook
 *	answers ACCEPT: this instance needs nothing more, and when no other
 *	plugin does either the MTA sends nothing more (no header, no body,
 *	no end of message) - that keeps unmatched mail cheap.
 *	(Should the MTA not send DATA, the plan is made at end of message.)
 *
 *	End of message: the archived copies are written into tmp/ of
 *	each Maildir (archive.c), then the recipients and the Cc header are
 *	queued (act.c). A failed archive write tempfails the message
 *	(archive_failure: tempfail, the default) with the core's generic
 *	451 4.3.0 text: the sender learns nothing of the wiretap.
 *
 *	The message's fate: a plugin later in the chain may still reject,
 *	tempfail or discard the message at end of message, and the MTA may
 *	refuse the modifications. The core tells every plugin how the
 *	message really ended (msg_end, SDK 1.3): the copies are moved into
 *	new/ when it was accepted, and withdrawn from tmp/ otherwise - a
 *	message rejected by another plugin is neither copied (the core
 *	drops the queued recipients) nor archived. Wiretap may stand
 *	anywhere in the chain.
 *
 *	A timeout: when the core gives up waiting for the end-of-message
 *	hook (the instance's timeout), the message goes on without this
 *	instance - on_error answers for it and the core drops its copies
 *	and discards - and the instance gets no msg_end. The hook may still
 *	finish copies in tmp/ afterwards; the destructor of the message
 *	state, which runs once the hook has returned, withdraws whatever
 *	msg_end did not settle: nothing is ever committed on a guess.

 *	Instance state is read-only after init; per-message state lives in
 *	the core's message slot. Nothing else is shared between threads
 *	but the atomic name counter in maildir.c.
 * DIAGNOSTICS
 *	Every match and action is logged with queue id, instance and group
 *	(act.c, archive.c); the withdrawal of copies is logged. A
 *	plan that cannot be made (out of memory) is an MM_ERROR: the
 *	instance's on_error decides, tempfail by default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <modmilter/plugin.h>

#include "archive.h"
#include "wiretap.h"

struct wt_msg {
	const struct wt_conf *c;
	mm_ctx *ctx;			/* valid while the core holds this state */
	struct wt_plan plan;
	struct wt_pending *pend;	/* copies complete in tmp/ */
	size_t npend;
	int acted;			/* end of message queued actions */
	char tag[160];			/* "QUEUEID: instance", for the destructor */
};

static int
wt_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct wt_conf *c;
	struct stat st;

	if (opts == NULL) {
		*err = strdup("wiretap needs options: groups and/or smart_alias");
		return -1;
	}
	/* SDK 1.3 brings msg_end with these */
	if (!MM_API_HAS(api, domain_match)) {
		*err = strdup("wiretap needs a core with SDK 1.3 (address normalisation)");
		return -1;
	}
	if (wt_conf_load(api, opts, &c) < 0)
		return -1;	/* the core reports the recorded errors */
	for (size_t i = 0; i < c->ngroups; i++) {
		const char *a = c->groups[i].archive;
		if (a && (stat(a, &st) != 0 || !S_ISDIR(st.st_mode)))
			api->log(ctx, MM_LOG_WARNING, "group=%s archive %s is not a "
			    "directory (yet): matching messages will be %s until it is",
			    c->groups[i].name, a, c->groups[i].archive_continue ?
			    "delivered without their archived copy" : "tempfailed");
	}
	if (MM_API_HAS(api, narrow)) {
		int archives = 0;
		for (size_t i = 0; i < c->ngroups; i++)
			archives |= c->groups[i].archive != NULL;
		/* the whole message is needed only to archive it */
		if (!archives)
			api->narrow(ctx, MM_ACT_ADDRCPT | MM_ACT_DELRCPT |
			    MM_ACT_ADDHDRS | MM_ACT_CHGHDRS, 0);
	}
	*instance = c;
	return 0;
}

static void
wt_fini(void *instance)
{
	wt_conf_free(instance);
}

/* Withdraw the copies still in tmp/, with why. */
static void
withdraw(mm_ctx *ctx, struct wt_msg *m, const char *why)
{
	if (m->npend == 0)
		return;
	m->c->api->log(ctx, ctx ? MM_LOG_INFO : MM_LOG_WARNING, "%s%s%s: %zu "
	    "archived cop%s withdrawn", ctx ? "" : m->tag, ctx ? "" : ": ", why,
	    m->npend, m->npend == 1 ? "y" : "ies");
	wt_archive_withdraw(m->pend, m->npend);
	free(m->pend);
	m->pend = NULL;
	m->npend = 0;
}

/* Runs in the core's message reset, after msg_end. Copies still here
   were never settled by msg_end: the end-of-message hook ran past its
   timeout (the core went on without this instance). */
static void
msg_free(void *p)
{
	struct wt_msg *m = p;

	withdraw(NULL, m, "end of message timed out");
	wt_plan_free(&m->plan);
	free(m);
}

/*
 * Make the plan for the current message. Returns 1 with *mp set when
 * something is to be done at end of message, 0 when nothing is, -1 on
 * failure.
 */
static int
plan(mm_ctx *ctx, const struct wt_conf *c, struct wt_msg **mp)
{
	const struct mm_api *api = c->api;
	const char *small[16], **rcpts = small;
	size_t n = api->rcpt_count(ctx);
	int our_side = api->client_class(ctx) == MM_CLIENT_INTERNAL ||
	    api->auth_user(ctx) != NULL;
	struct wt_plan p;
	struct wt_msg *m;
	const char *qid = NULL;
	int rc;

	*mp = NULL;
	/* at DATA the core may not know the queue id yet (Postfix assigns
	   it after the first RCPT): the audit line takes it from the macro */
	if (strcmp(api->queue_id(ctx), "NOQUEUE") == 0)
		qid = api->macro(ctx, "i");
	if (n > 16 && (rcpts = calloc(n, sizeof(*rcpts))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		rcpts[i] = api->rcpt_at(ctx, i);
	rc = wt_plan_make(c, api->mail_from(ctx), our_side, rcpts, n, &p);
	if (rcpts != small)
		free(rcpts);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < p.nhits; i++)
		if (p.hits[i].dir == WT_FORGED)
			api->log(ctx, MM_LOG_INFO, "group=%s sender <%s> is watched, but "
			    "the client is neither internal nor authenticated: not "
			    "outgoing%s%s%s", c->groups[p.hits[i].group].name,
			    p.hits[i].addr, qid ? " (queue id " : "", qid ? qid : "",
			    qid ? ")" : "");
	if (!wt_plan_acts(&p)) {
		wt_plan_free(&p);
		return 0;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		wt_plan_free(&p);
		return -1;
	}
	m->c = c;
	m->ctx = ctx;
	m->plan = p;
	api->set_msg_data(ctx, m, msg_free);
	*mp = m;
	return 1;
}

static mm_verdict
wt_data(mm_ctx *ctx, void *instance)
{
	const struct wt_conf *c = instance;
	struct wt_msg *m;

	if (c->api->msg_data(ctx) != NULL)
		return MM_CONTINUE;
	switch (plan(ctx, c, &m)) {
	case 0:
		return MM_ACCEPT;	/* nothing matches: we need no more */
	case 1:
		return MM_CONTINUE;
	default:
		c->api->log(ctx, MM_LOG_ERR, "out of memory while matching");
		return MM_ERROR;
	}
}

static mm_verdict
tempfail(mm_ctx *ctx, const struct wt_conf *c, struct wt_msg *m)
{
	withdraw(ctx, m, "message tempfailed");
	/* the core's generic text: the sender learns nothing of a wiretap */
	c->api->set_reply(ctx, "451", "4.3.0",
	    "Temporary local problem, please try again later");
	return MM_TEMPFAIL;
}

static mm_verdict
wt_eom(mm_ctx *ctx, void *instance)
{
	const struct wt_conf *c = instance;
	const struct mm_api *api = c->api;
	struct wt_msg *m = api->msg_data(ctx);

	if (m == NULL) {
		int r = plan(ctx, c, &m);
		if (r < 0) {
			api->log(ctx, MM_LOG_ERR, "out of memory while matching");
			return MM_ERROR;
		}
		if (r == 0)
			return MM_CONTINUE;
	}
	if (m->acted)
		return MM_CONTINUE;
	snprintf(m->tag, sizeof(m->tag), "%s: %s", api->queue_id(ctx),
	    api->instance_name(ctx) ? api->instance_name(ctx) : "wiretap");
	wt_log_matches(c, ctx, &m->plan);
	if (wt_archive_write(c, ctx, &m->plan, &m->pend, &m->npend) < 0)
		return tempfail(ctx, c, m);
	if (wt_act(c, ctx, &m->plan) < 0)
		return tempfail(ctx, c, m);
	m->acted = 1;
	return MM_CONTINUE;
}

/* The message has ended and its verdict is final: keep the archived
   copies of an accepted message, withdraw them otherwise. */
static void
wt_msg_end(mm_ctx *ctx, void *instance, const struct mm_outcome *o)
{
	const struct wt_conf *c = instance;
	struct wt_msg *m = c->api->msg_data(ctx);

	if (m == NULL || m->npend == 0)
		return;
	if (o->verdict == MM_ACCEPT && !o->aborted) {
		wt_archive_commit(c, m->pend, m->npend, m->tag);
		free(m->pend);
		m->pend = NULL;
		m->npend = 0;
	} else
		withdraw(ctx, m, o->aborted ? "message aborted" :
		    "message not accepted");
}

static const struct mm_macro_req macros[] = {
	{ MM_STAGE_DATA, "i" },
	{ 0, NULL }
};

MM_PLUGIN(wiretap, "1.0",
	"monitored copies, discards, smart aliases and per-user Maildir archives",
	.actions = MM_ACT_ADDRCPT | MM_ACT_DELRCPT | MM_ACT_ADDHDRS | MM_ACT_CHGHDRS,
	.flags = MM_F_MESSAGE,
	.macros = macros,
	.init = wt_init,
	.fini = wt_fini,
	.data = wt_data,
	.eom = wt_eom,
	.msg_end = wt_msg_end);
