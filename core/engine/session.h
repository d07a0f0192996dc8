/*
 * NAME
 *	session - one SMTP connection seen through the chain of plugins
 * SYNOPSIS
 *	#include "session.h"
 *
 *	s = session_new(conf, &backend, backend_ctx);
 *	session_connect(s, host, sa, &out); session_helo(...); ...
 *	session_eom(s, &out, NULL);	(the backend's apply() applies)
 *	session_free(s);
 * DESCRIPTION
 *	The engine between the MTA side (mta/milter.c, or modmilter-test
 *	in-process) and the plugins: it selects the chain, replays earlier
 *	events to plugins that join late, calls each hook in chain order,
 *	merges the verdicts (merge.c), keeps the queued actions and hands
 *	them over once at end of message in the DESIGN.md order. It knows
 *	nothing of libmilter; the caller turns a struct stage_out into a
 *	milter reply and a struct eom_out into milter modifications.
 */
#ifndef MM_SESSION_H
#define MM_SESSION_H

#include <pthread.h>
#include <sys/socket.h>
#include <modmilter/plugin.h>

#include "addr.h"
#include "conf.h"
#include "hdrlist.h"
#include "merge.h"
#include "names.h"
#include "reply.h"
#include "util.h"

/* What the MTA is told for one stage. */
struct stage_out {
	mm_verdict verdict;		/* CONTINUE ACCEPT REJECT TEMPFAIL DISCARD SKIP */
	struct reply reply;		/* for REJECT/TEMPFAIL */
};

/* Everything applied at end of message, in this order. */
struct eom_out {
	char *chgfrom, *chgfrom_args;	/* NULL: unchanged */
	char **delrcpt;
	size_t ndelrcpt;
	char **addrcpt;
	size_t naddrcpt;
	struct hdrop *hdrops;
	size_t nhdrops;
	const unsigned char *body;	/* NULL: unchanged */
	size_t bodylen;
	char *quarantine;		/* NULL: not quarantined */
	int owned;			/* a copy: eom_out_free frees the strings */
};

struct backend {
	const char *(*macro)(void *bctx, const char *name);
	int (*progress)(void *bctx);
	int can_skip;			/* the MTA understands SKIP */
	/* The message ended (msgend.c), however it did; r: the reply of a
	   REJECT/TEMPFAIL, or NULL. Called once per message, before the
	   session forgets it. May be NULL. */
	void (*msg_end)(void *bctx, const struct mm_outcome *o,
	    const struct reply *r);
	/* Apply the modifications of an accepted message: 0, or -1 when
	   the MTA refused one (the message is then tempfailed). May be
	   NULL (nothing to apply to). */
	int (*apply)(void *bctx, const struct eom_out *e);
};

struct fact {
	char *key, *value;
};

struct mm_ctx {
	struct session *s;		/* NULL outside a connection */
	struct message *msg;		/* the message the current hook serves */
	struct instance *inst;
	void *conn_data;
	void (*conn_free)(void *);
	void *msg_data;
	void (*msg_free)(void *);
	int joined;			/* conn_open called */
	int conn_done;			/* accepted the connection */
	int msg_done;			/* accepted / gave up on this message */
	int body_done;			/* said SKIP */
	int failed;			/* timed out or failed conn_open: never
					   called again */
	int abandoned;			/* a hook ran past its timeout: what it
					   still does is dropped (atomic) */
	int abandon_noted;		/* ... and logged once */
	int in_hook;
	mm_stage stage;
	int has_reply;
	struct reply reply;		/* set_reply() during the hook */
};

struct body_buf {
	struct mm_buf mem;
	int fd;				/* spill file, -1 if none */
	size_t len;
	void *map;
	size_t maplen;
	struct { void *p; size_t len; } *oldmaps;	/* outgrown mappings */
	size_t noldmaps;
};

/*
 * One message's state. A hook abandoned after its timeout may still read
 * it, so a message is never freed while such a hook runs: it is parked
 * and freed when the connection ends.
 */
struct message {
	struct message *next;		/* parked list */
	char *qid;
	char *auth_user;
	char *from;
	char **from_argv;
	char **rcpts;
	size_t nrcpts;
	struct fact *facts;
	size_t nfacts;
	char **graveyard;		/* replaced strings, freed with the message */
	size_t ngraveyard;
	struct hdrlist hdrs;
	struct body_buf body;
	unsigned char *newbody;
	size_t newbodylen;
	int body_replacements;
	char *chgfrom, *chgfrom_args;
	char **addrcpt, **delrcpt;
	size_t naddrcpt, ndelrcpt;
	struct mm_buf quarantine;
	char **authres;
	size_t nauthres;
	struct mm_buf monitor;
	int actions_queued;
	/* for the summary line (summary.c) */
	char **results;			/* per instance index, or NULL */
	size_t nresults;
	char *decider;			/* instance whose verdict decided */
	double t0;			/* mono_now() at MAIL FROM */
	size_t size;			/* body bytes received */
	/* how it ended (msgend.c) */
	struct mm_rcpt_outcome *routs;	/* every RCPT TO; addr owned */
	size_t nrouts;
	int accepted_early;		/* we answered ACCEPT before EOM */
	mm_stage accepted_at;
	unsigned changed;		/* MM_ACT_* handed over at EOM */
	struct mm_outcome outcome;	/* what msg_end hooks read */
	/* the message parsed (api_msg.c, msgparts.c), once a plugin asked;
	   parses an edit made stale, kept for a reader still holding them */
	struct mm_parts *parts;
	struct mm_parts **parts_old;
	size_t nparts_old;
};

struct session {
	struct conf *conf;
	const struct backend *be;
	void *bctx;
	struct mm_ctx *ctx;		/* one per configured instance */
	pthread_mutex_t lock;		/* API calls vs. abandoned hooks */
	pthread_cond_t idle;
	int outstanding;		/* hooks still running after a timeout */
	int orphaned;			/* session_free gave up waiting for them:
					   the last one tears the session down */

	/* connection */
	char *host;
	struct sockaddr_storage sa;
	int have_sa;
	char addr[64];
	int family;
	unsigned char abytes[16];
	mm_client_class cls;
	char *daemon;
	char *helo;
	int seen_connect;

	/* chain */
	int chain;			/* index, -1 undecided, -2 none matched */
	int chain_conn_level;		/* chosen on connection facts alone */
	int chain_by_rcpt;		/* chosen by the first recipient's domain */
	struct chain *ch;

	/* message */
	int in_msg;
	int record_headers, buffer_body;
	struct message *m;		/* the message in progress */
	struct message *parked;		/* messages a timed-out hook may still read */
	int aborted;			/* abort hooks already called */
	mm_verdict sticky;		/* a decided message verdict */
	struct reply sticky_reply;
	const char *sticky_by;		/* instance that decided it, or NULL */
	mm_stage sticky_at;
	mm_verdict conn_sticky;		/* a decided connection verdict */
	struct reply conn_sticky_reply;
	const char *conn_sticky_by;
	mm_stage conn_sticky_at;
	const char *stage_by;		/* instance that decided the last stage */
};

struct session *session_new(struct conf *c, const struct backend *be, void *bctx);
/* End the connection: a message in progress ends as aborted, plugins'
   conn_close run, everything is freed. Hooks still running after their
   timeout are waited for up to session_grace seconds (30); after that
   session_free returns and the last of them finishes the teardown, with
   the backend gone (a hung hook must not hold the MTA connection). */
void session_free(struct session *s);
extern double session_grace;			/* tests may shorten it */

void session_connect(struct session *s, const char *host,
    const struct sockaddr *sa, struct stage_out *out);
void session_helo(struct session *s, const char *helo, struct stage_out *out);
void session_envfrom(struct session *s, char **argv, struct stage_out *out);
void session_envrcpt(struct session *s, char **argv, struct stage_out *out);
void session_data(struct session *s, struct stage_out *out);
void session_header(struct session *s, const char *name, const char *value,
    struct stage_out *out);
void session_eoh(struct session *s, struct stage_out *out);
void session_body(struct session *s, const unsigned char *data, size_t len,
    struct stage_out *out);
/* The end of message (msgend.c): runs EOM, hands the modifications of
   an accepted message to the backend's apply() and ends the message;
   copy, if not NULL, receives a copy of them (eom_out_free). */
void session_eom(struct session *s, struct stage_out *out, struct eom_out *copy);
/* The MTA aborted the message (SMTP RSET, or a client gone mid-message). */
void session_abort(struct session *s);
void session_unknown(struct session *s, const char *cmd, struct stage_out *out);
void graveyard_add(struct message *m, char *p);
int session_body_get(struct session *s, const unsigned char **data, size_t *len);
/* A verdict reached where the MTA takes no reply: give it at the next stage. */
void session_defer_verdict(struct session *s, mm_verdict v, const struct reply *r);

void stage_out_free(struct stage_out *o);
void eom_out_free(struct eom_out *e);

/* What the API table (host/api*.c) asks of the engine. */
const char *session_macro(struct session *s, const char *name);

#endif
