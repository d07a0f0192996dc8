/*
 * NAME
 *	stage - one SMTP stage through the chain of plugins
 * SYNOPSIS
 *	#include "engine.h"
 *
 *	stage_run(s, MM_STAGE_ENVRCPT, &args, rcpt_domain, &out);
 * DESCRIPTION
 *	The flow of one stage:
 *	1. a decided message verdict (a replayed event rejected) answers
 *	   at once;
 *	2. if the chain is still undecided, the stage's new facts may decide
 *	   it (chainsel.c); plugins of the chosen chain join (conn_open) and
 *	   are replayed what they missed (join.c);
 *	3. each plugin of the chain that still takes part is called in
 *	   order (invoke.c), and the verdicts are merged (merge.c); a
 *	   decisive verdict stops the stage;
 *	4. a decision about the connection sticks for the connection, one
 *	   about a message ends it (msgend.c) and answers the rest of it.
 */
#include "config.h"

#include <string.h>

#include "engine.h"
#include "log.h"
#include "session.h"

void
stage_out_set(struct stage_out *out, mm_verdict v, const struct reply *r)
{
	memset(out, 0, sizeof(*out));
	out->verdict = v;
	if (r && (v == MM_REJECT || v == MM_TEMPFAIL))
		reply_copy(&out->reply, r);
}

void
stage_out_free(struct stage_out *o)
{
	reply_free(&o->reply);
}

/* The chain is known: decide what the core keeps for this message. */
void
stage_chain_chosen(struct session *s, int idx)
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

static int
all_done(const struct session *s)
{
	if (s->ch == NULL)
		return 1;
	for (size_t i = 0; i < s->ch->n; i++) {
		const struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
		if (invoke_takes_part(c, MM_STAGE_EOM))
			return 0;
	}
	return 1;
}

static void
log_decision(struct session *s, const struct merge *m, mm_stage st)
{
	if (m->who >= 0 && s->ch)
		s->stage_by = s->ch->plugins[m->who]->name;
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
stick(struct session *s, int conn, const struct merge *m, mm_stage st)
{
	mm_verdict *where = conn ? &s->conn_sticky : &s->sticky;
	struct reply *wr = conn ? &s->conn_sticky_reply : &s->sticky_reply;

	if (verdict_severity(m->verdict) <= verdict_severity(*where))
		return;
	*where = m->verdict;
	reply_free(wr);
	reply_copy(wr, &m->reply);
	*(conn ? &s->conn_sticky_by : &s->sticky_by) =
	    m->who >= 0 && s->ch ? s->ch->plugins[m->who]->name : NULL;
	*(conn ? &s->conn_sticky_at : &s->sticky_at) = st;
}

/* Answer with a decision taken earlier; 1 if there was one. */
static int
answer_sticky(struct session *s, mm_stage st, struct stage_out *out)
{
	int message_stage = st >= MM_STAGE_ENVFROM && st <= MM_STAGE_EOM;

	if (s->conn_sticky != MM_CONTINUE) {
		s->stage_by = s->conn_sticky_by;
		if (s->conn_sticky == MM_DISCARD && !message_stage)
			stage_out_set(out, MM_CONTINUE, NULL);	/* DISCARD needs a message */
		else
			stage_out_set(out, s->conn_sticky, &s->conn_sticky_reply);
		return 1;
	}
	if (s->sticky != MM_CONTINUE && message_stage) {
		s->stage_by = s->sticky_by;
		stage_out_set(out, s->sticky, &s->sticky_reply);
		if (st != MM_STAGE_ENVRCPT || s->sticky == MM_DISCARD)
			message_abort_hooks(s);
		return 1;
	}
	return 0;
}

/* A verdict given at a message stage ends the message. */
static void
end_now(struct session *s, const struct stage_out *out, mm_stage st)
{
	struct fate f;

	memset(&f, 0, sizeof(f));
	f.verdict = out->verdict;
	f.stage = st;
	f.by = s->stage_by;
	f.reply = &out->reply;
	message_end(s, &f);
}

/*
 * Run one stage through the chain. rcpt_domain is the domain of the
 * recipient at RCPT (for chain selection), else NULL.
 */
void
stage_run(struct session *s, mm_stage st, const struct hook_args *a,
    const char *rcpt_domain, struct stage_out *out)
{
	struct merge m, rconn, rmsg;
	int message_stage = st >= MM_STAGE_ENVFROM && st <= MM_STAGE_EOM;
	int chosen_now = 0;

	s->stage_by = NULL;
	if (answer_sticky(s, st, out))
		return;
	if (s->chain == -1) {
		int idx = chain_select(s, rcpt_domain);
		if (idx != -1) {
			stage_chain_chosen(s, idx);
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
			join_late(s, c, (int)i, st, chosen_now, &rconn, &rmsg);
			if (merge_decided(&rconn) || merge_decided(&rmsg))
				break;
		}
		if (rconn.verdict == MM_CONTINUE && rmsg.verdict == MM_CONTINUE)
			for (size_t i = 0; i < s->ch->n && !merge_decided(&m); i++)
				invoke_into(s, &s->ctx[s->ch->plugins[i]->index], (int)i,
				    st, a, &m);
	}
	if (rconn.verdict != MM_CONTINUE ||
	    ((st == MM_STAGE_CONNECT || st == MM_STAGE_HELO) && m.verdict != MM_CONTINUE)) {
		/* a decision about the connection holds for all its messages */
		struct merge *d = rconn.verdict != MM_CONTINUE ? &rconn : &m;
		log_decision(s, d, st);
		stick(s, 1, d, st);
		merge_free(&m);
		merge_free(&rconn);
		merge_free(&rmsg);
		answer_sticky(s, st, out);
		if (message_stage && st != MM_STAGE_ENVRCPT)
			end_now(s, out, st);
		return;
	}
	merge_free(&rconn);
	if (rmsg.verdict != MM_CONTINUE) {
		/* what a late plugin said about this message's MAIL FROM
		   holds for the rest of the message */
		merge_free(&m);
		m = rmsg;
		stick(s, 0, &m, MM_STAGE_ENVFROM);
	} else
		merge_free(&rmsg);

	if (m.verdict != MM_CONTINUE) {
		stage_out_set(out, m.verdict, &m.reply);
		log_decision(s, &m, st);
		merge_free(&m);
		if (message_stage && !(st == MM_STAGE_ENVRCPT && out->verdict != MM_DISCARD))
			end_now(s, out, st);
		return;
	}
	merge_free(&m);
	stage_out_set(out, MM_CONTINUE, NULL);
	if (message_stage && s->chain != -1 && all_done(s) && !s->m->actions_queued &&
	    st != MM_STAGE_EOM &&
	    /* while a later recipient may still pick another chain, the MTA
	       must keep talking to us (452 rule) */
	    !(s->conf->rcpt_chains && st <= MM_STAGE_ENVRCPT)) {
		out->verdict = MM_ACCEPT;
		if (s->in_msg && !s->m->accepted_early) {
			/* the MTA may send nothing more of this message */
			s->m->accepted_early = 1;
			s->m->accepted_at = st;
		}
	}
	else if (st == MM_STAGE_BODY && s->be->can_skip && !s->buffer_body) {
		int want = 0;
		for (size_t i = 0; s->ch && i < s->ch->n && !want; i++) {
			const struct mm_ctx *c = &s->ctx[s->ch->plugins[i]->index];
			want = invoke_takes_part(c, MM_STAGE_BODY) && c->inst->p->body;
		}
		if (!want)
			out->verdict = MM_SKIP;
	}
}
