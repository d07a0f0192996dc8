/*
 * NAME
 *	engine - what the files of engine/ share, and nobody else
 * SYNOPSIS
 *	#include "engine.h"
 * DESCRIPTION
 *	The engine's public face is session.h (the MTA side drives it) and
 *	ctx.h (the API table acts through it). Inside, calls go one way:
 *
 *	  session.c    one SMTP event: records its facts, runs its stage
 *	    stage.c      one stage through the chain; decisions that stick
 *	      chainsel.c   which chain (pure: reads the session)
 *	      join.c       a plugin joins late: conn_open and a replay
 *	        invoke.c     one hook call: timeout, on_error, monitor mode
 *	      merge.c      one verdict from many
 *	      msgend.c     the end of a message, however it ends
 *	        message.c    one message's data (body, graveyard)
 *
 *	session_eom() runs the EOM stage through stage.c like any stage,
 *	then hands the message to msgend.c; stage.c ends a message decided
 *	early through msgend.c. No file calls back into one above it.
 */
#ifndef MM_ENGINE_H
#define MM_ENGINE_H

#include "session.h"

/* Arguments of one hook call. */
struct hook_args {
	const char *str;		/* host, helo, header name, unknown command */
	const char *str2;		/* header value */
	const struct sockaddr *sa;
	char *const *argv;
	const unsigned char *data;
	size_t len;
	const struct mm_outcome *outcome;	/* msg_end: owned by the message */
};

/* session.c */
void session_fresh_qid(struct session *s);	/* the MTA's queue id, once known */
/* the rest of session_free(): by the last hook abandoned after its
   timeout when session_free() stopped waiting for it (invoke.c) */
void session_teardown(struct session *s);

/* stage.c: rcpt_domain is the domain of the recipient at RCPT while the
   chain is undecided, else NULL */
void stage_run(struct session *s, mm_stage st, const struct hook_args *a,
    const char *rcpt_domain, struct stage_out *out);
void stage_chain_chosen(struct session *s, int idx);
void stage_out_set(struct stage_out *out, mm_verdict v, const struct reply *r);

/* chainsel.c: the chain index, -1 while undecided, -2 none matches */
int chain_select(struct session *s, const char *rcpt_domain);
int chain_matches_domain(const struct chain *ch, const char *domain);

/* join.c: a plugin of the chosen chain that has not joined joins now;
   one that joined for an earlier message gets this one's MAIL FROM */
void join_late(struct session *s, struct mm_ctx *c, int who, mm_stage now,
    int chosen_now, struct merge *rconn, struct merge *rmsg);

/* invoke.c */
mm_verdict invoke_hook(struct session *s, struct mm_ctx *c, mm_stage st,
    const struct hook_args *a);
mm_verdict invoke_conn_open(struct session *s, struct mm_ctx *c, int *late);
void invoke_msg_end(struct session *s, struct mm_ctx *c,
    const struct mm_outcome *o);
void invoke_into(struct session *s, struct mm_ctx *c, int who, mm_stage st,
    const struct hook_args *a, struct merge *m);
int invoke_takes_part(const struct mm_ctx *c, mm_stage st);
/* the verdict a failed instance stands for, from its on_error */
void invoke_failed_verdict(struct mm_ctx *c, int who, struct merge *m);

/* How a message ends, for message_end() (msgend.c). */
struct fate {
	mm_verdict verdict;		/* REJECT TEMPFAIL DISCARD, or ACCEPT */
	mm_stage stage;			/* where it was decided */
	const char *by;			/* deciding instance, or NULL */
	const struct reply *reply;	/* REJECT/TEMPFAIL reply, or NULL */
	int aborted;			/* the MTA ended it without a verdict of
					   ours: an earlier one stands, else
					   it is aborted */
};
/* msgend.c: message_end() is the one function that ends a message */
void message_end(struct session *s, const struct fate *f);
void message_abort(struct session *s, mm_stage at);	/* no verdict of ours */
void message_reset(struct session *s);		/* forget it */
void message_abort_hooks(struct session *s);	/* every plugin's abort, once */
void message_drop_forged_authres(struct session *s);
void message_eom(struct session *s, struct stage_out *out,
    struct eom_out *copy);

/* message.c */
struct message *message_new(void);
void message_free(struct message *m);
int message_body_append(struct message *m, const struct conf *c,
    const unsigned char *data, size_t len);

#endif
