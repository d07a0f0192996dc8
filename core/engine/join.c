/*
 * NAME
 *	join - a plugin joins a connection late, and is replayed what it missed
 * SYNOPSIS
 *	#include "engine.h"
 *
 *	join_late(s, ctx, who, stage, chosen_now, &rconn, &rmsg);
 * DESCRIPTION
 *	The chain is known only once its facts are (chainsel.c): its
 *	plugins join then. A joining plugin gets conn_open, then the
 *	connect, HELO and MAIL FROM events that came before, in order; a
 *	plugin that joined for an earlier message of the connection is
 *	replayed only this message's MAIL FROM. Verdicts about the
 *	connection (conn_open, connect, helo) go to rconn, about the
 *	message (MAIL FROM) to rmsg. A conn_open that fails or overruns
 *	leaves the plugin out of the connection, with its on_error verdict.
 */
#include "config.h"

#include <string.h>

#include "engine.h"
#include "log.h"
#include "session.h"

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
			invoke_failed_verdict(c, who, rconn);
			return;
		}
		if (verdict_severity(v) > 0 && !c->inst->monitor)
			merge_add(rconn, who, v, c->has_reply ? &c->reply : NULL);
	}
	memset(&a, 0, sizeof(a));
	if (now > MM_STAGE_CONNECT && s->seen_connect) {
		a.str = s->host;
		a.sa = s->have_sa ? (struct sockaddr *)&s->sa : NULL;
		invoke_into(s, c, who, MM_STAGE_CONNECT, &a, rconn);
	}
	if (now > MM_STAGE_HELO && s->helo) {
		memset(&a, 0, sizeof(a));
		a.str = s->helo;
		invoke_into(s, c, who, MM_STAGE_HELO, &a, rconn);
	}
	if (now > MM_STAGE_ENVFROM && s->in_msg && s->m->from_argv) {
		memset(&a, 0, sizeof(a));
		a.argv = s->m->from_argv;
		invoke_into(s, c, who, MM_STAGE_ENVFROM, &a, rmsg);
	}
}

void
join_late(struct session *s, struct mm_ctx *c, int who, mm_stage now,
    int chosen_now, struct merge *rconn, struct merge *rmsg)
{
	struct hook_args a;

	if (!c->joined) {
		join(s, c, who, now, rconn, rmsg);
		return;
	}
	if (chosen_now && now > MM_STAGE_ENVFROM && s->in_msg && s->m->from_argv) {
		/* joined for an earlier message of this connection: it
		   still missed this MAIL FROM */
		memset(&a, 0, sizeof(a));
		a.argv = s->m->from_argv;
		invoke_into(s, c, who, MM_STAGE_ENVFROM, &a, rmsg);
	}
}
