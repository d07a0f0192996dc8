/*
 * NAME
 *	invoke - call one plugin hook, within its time limit and policies
 * SYNOPSIS
 *	#include "session.h"
 *
 *	v = invoke_hook(s, ctx, MM_STAGE_ENVFROM, &args);
 *	v = invoke_conn_open(s, ctx, &late);
 * DESCRIPTION
 *	Calls the hook, counts it, and turns what came back into the
 *	verdict the merge sees:
 *	- an MM_ERROR, a value outside mm_verdict, or a call that ran past
 *	  the instance's timeout becomes the instance's on_error verdict
 *	  (tempfail 451 4.3.0, continue, or reject 550 5.3.0);
 *	- ACCEPT and SKIP update the plugin's bookkeeping;
 *	- in monitor mode, a REJECT/TEMPFAIL/DISCARD is logged and noted
 *	  for the X-Modmilter-Monitor header, and becomes CONTINUE.
 *	With a timeout, the hook runs on its own thread with copies of its
 *	arguments; when the time is up the connection goes on without it and
 *	never calls that instance again (its state stays until the thread
 *	ends: session_free() waits for it, for a while - see session.h). The abandoned hook may go on
 *	running, but from then on every action, fact or
 *	Authentication-Results clause it tries is dropped (api.c), and
 *	mm_abandoned() tells it so. conn_open runs under the same limit
 *	(invoke_conn_open).
 * DIAGNOSTICS
 *	Every conversion is logged with the queue id and instance name.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "session.h"

static const char *const stage_names[MM_STAGE_COUNT] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh",
	"body", "eom", "abort", "close", "unknown"
};

const char *
stage_name(mm_stage st)
{
	if (st == STAGE_CONN_OPEN)
		return "conn_open";
	if (st == STAGE_MSG_END)
		return "msg_end";
	return (unsigned)st < MM_STAGE_COUNT ? stage_names[st] : "?";
}

static mm_verdict
call(struct mm_ctx *c, mm_stage st, const struct hook_args *a)
{
	const struct mm_plugin *p = c->inst->p;
	void *d = c->inst->data;

	switch ((int)st) {
	case MM_STAGE_CONNECT:
		return p->connect(c, d, a->str, a->sa);
	case MM_STAGE_HELO:
		return p->helo(c, d, a->str);
	case MM_STAGE_ENVFROM:
		return p->envfrom(c, d, a->argv);
	case MM_STAGE_ENVRCPT:
		return p->envrcpt(c, d, a->argv);
	case MM_STAGE_DATA:
		return p->data(c, d);
	case MM_STAGE_HEADER:
		return p->header(c, d, a->str, a->str2);
	case MM_STAGE_EOH:
		return p->eoh(c, d);
	case MM_STAGE_BODY:
		return p->body(c, d, a->data, a->len);
	case MM_STAGE_EOM:
		return p->eom(c, d);
	case MM_STAGE_UNKNOWN:
		return p->unknown(c, d, a->str);
	case MM_STAGE_ABORT:
		p->abort(c, d);
		return MM_CONTINUE;
	case STAGE_CONN_OPEN:
		return p->conn_open(c, d);
	case STAGE_MSG_END:
		p->msg_end(c, d, a->outcome);
		return MM_CONTINUE;
	default:
		return MM_ERROR;
	}
}

/* A hook call handed to a pool worker, owning copies of its arguments
   (libmilter reuses its buffers once we answer). */
struct tcall {
	struct session *s;
	struct mm_ctx *c;
	mm_stage st;
	struct hook_args a;
	char **argv;
	int done, abandoned;
	mm_verdict v;
	pthread_cond_t cv;
	struct tcall *next;
};

/*
 * Hooks of instances that have a timeout run on a process-wide pool of
 * worker threads, so that the connection thread can stop waiting. The
 * pool grows when no worker is idle; a worker whose hook overran goes on
 * until the hook returns and then serves the queue again.
 */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static struct tcall *queue_head, *queue_tail;
static int pool_idle, pool_queued;

static char **
argv_dup(char *const *argv)
{
	size_t n = 0;
	char **v;

	if (argv == NULL)
		return NULL;
	while (argv[n])
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(argv[i]);
	return v;
}

static void
tcall_free(struct tcall *t)
{
	if (t->argv)
		for (size_t i = 0; t->argv[i]; i++)
			free(t->argv[i]);
	free(t->argv);
	free((char *)t->a.str);
	free((char *)t->a.str2);
	free((void *)t->a.sa);
	free((void *)t->a.data);
	pthread_cond_destroy(&t->cv);
	free(t);
}

static void *
worker_run(void *arg)
{
	struct tcall *t;
	mm_verdict v;

	(void)arg;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		pool_idle++;
		while (queue_head == NULL)
			pthread_cond_wait(&pool_cv, &pool_lock);
		pool_idle--;
		pool_queued--;
		t = queue_head;
		if ((queue_head = t->next) == NULL)
			queue_tail = NULL;
		pthread_mutex_unlock(&pool_lock);

		v = call(t->c, t->st, &t->a);

		pthread_mutex_lock(&pool_lock);
		t->v = v;
		t->done = 1;
		if (t->abandoned) {
			struct session *s = t->s;
			int last;
			tcall_free(t);
			pthread_mutex_unlock(&pool_lock);
			pthread_mutex_lock(&s->lock);
			last = --s->outstanding == 0 && s->orphaned;
			pthread_cond_broadcast(&s->idle);
			pthread_mutex_unlock(&s->lock);
			/* the connection ended without waiting for us: the
			   last abandoned hook frees what it left */
			if (last)
				session_teardown(s);
			pthread_mutex_lock(&pool_lock);
		} else
			pthread_cond_signal(&t->cv);
	}
	return NULL;
}

/* Returns 1 if the call finished in time (verdict in *v). */
static int
call_timed(struct session *s, struct mm_ctx *c, mm_stage st,
    const struct hook_args *a, mm_verdict *v)
{
	struct tcall *t = xcalloc(1, sizeof(*t));
	struct timespec dl;
	int finished;

	t->s = s;
	t->c = c;
	t->st = st;
	t->a.str = a->str ? xstrdup(a->str) : NULL;
	t->a.str2 = a->str2 ? xstrdup(a->str2) : NULL;
	if (a->sa) {
		struct sockaddr_storage *ss = xcalloc(1, sizeof(*ss));
		memcpy(ss, a->sa, a->sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		t->a.sa = (struct sockaddr *)ss;
	}
	if (a->data) {
		void *d = xmalloc(a->len ? a->len : 1);
		memcpy(d, a->data, a->len);
		t->a.data = d;
		t->a.len = a->len;
	}
	t->argv = argv_dup(a->argv);
	t->a.argv = t->argv;
	/* the message owns it, and is parked while the hook may run */
	t->a.outcome = a->outcome;
	pthread_cond_init(&t->cv, NULL);

	clock_gettime(CLOCK_REALTIME, &dl);
	double end = (double)dl.tv_sec + (double)dl.tv_nsec / 1e9 + c->inst->timeout;
	dl.tv_sec = (time_t)end;
	dl.tv_nsec = (long)((end - (double)dl.tv_sec) * 1e9);

	pthread_mutex_lock(&pool_lock);
	/* every call gets a worker at once: a queued call would spend
	   its time limit waiting for someone else's hook */
	if (pool_queued >= pool_idle) {
		pthread_t tid;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&tid, &attr, worker_run, NULL) != 0) {
			pthread_attr_destroy(&attr);
			pthread_mutex_unlock(&pool_lock);
			tcall_free(t);
			*v = MM_ERROR;
			return 1;
		}
		pthread_attr_destroy(&attr);
	}
	pool_queued++;
	if (queue_tail)
		queue_tail->next = t;
	else
		queue_head = t;
	queue_tail = t;
	pthread_cond_signal(&pool_cv);
	while (!t->done)
		if (pthread_cond_timedwait(&t->cv, &pool_lock, &dl) == ETIMEDOUT)
			break;
	finished = t->done;
	if (finished)
		*v = t->v;
	else {
		/* from here on the hook's API calls are refused (api.c
		   checks under the session lock) and mm_abandoned() says so */
		t->abandoned = 1;
		pthread_mutex_lock(&s->lock);
		s->outstanding++;
		c->failed = 1;
		__atomic_store_n(&c->abandoned, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&pool_lock);
	if (finished)
		tcall_free(t);
	return finished;
}

static mm_verdict
on_error(struct session *s, struct mm_ctx *c, mm_stage st, const char *why)
{
	struct instance *in = c->inst;

	__atomic_fetch_add(&in->stats->errors, 1, __ATOMIC_RELAXED);
	reply_free(&c->reply);
	c->has_reply = 0;
	switch (in->on_error) {
	case ONERR_CONTINUE:
		log_msg(MM_LOG_WARNING, s->m->qid, in->name,
		    "%s at %s; on_error continue: plugin left out of this message",
		    why, stage_name(st));
		c->msg_done = 1;
		return MM_CONTINUE;
	case ONERR_REJECT:
		log_msg(MM_LOG_WARNING, s->m->qid, in->name,
		    "%s at %s; on_error reject", why, stage_name(st));
		reply_make(&c->reply, MM_REJECT, "550", "5.3.0",
		    "Message refused by local policy");
		c->has_reply = 1;
		return MM_REJECT;
	default:
		log_msg(MM_LOG_WARNING, s->m->qid, in->name,
		    "%s at %s; on_error tempfail", why, stage_name(st));
		reply_make(&c->reply, MM_TEMPFAIL, "451", "4.3.0",
		    "Temporary local problem, please try again later");
		c->has_reply = 1;
		return MM_TEMPFAIL;
	}
}

/*
 * conn_open, under the same time limit as the stage hooks: a plugin that
 * hangs while joining must not hang the connection. Returns what it
 * returned, with *late set when it ran past the timeout (then MM_ERROR);
 * the caller leaves the plugin out and applies on_error (session.c).
 */
mm_verdict
invoke_conn_open(struct session *s, struct mm_ctx *c, int *late)
{
	struct instance *in = c->inst;
	struct hook_args a;
	mm_verdict v;

	memset(&a, 0, sizeof(a));
	reply_free(&c->reply);
	c->has_reply = 0;
	c->msg = s->m;
	c->in_hook = 1;
	*late = 0;
	if (in->timeout <= 0)
		v = call(c, STAGE_CONN_OPEN, &a);
	else if (!call_timed(s, c, STAGE_CONN_OPEN, &a, &v)) {
		*late = 1;
		__atomic_fetch_add(&in->stats->timeouts, 1, __ATOMIC_RELAXED);
		v = MM_ERROR;
	}
	pthread_mutex_lock(&s->lock);
	c->in_hook = 0;
	pthread_mutex_unlock(&s->lock);
	if (v == MM_ERROR || (unsigned)v > MM_ERROR)
		__atomic_fetch_add(&in->stats->errors, 1, __ATOMIC_RELAXED);
	return v;
}

/*
 * msg_end, under the same time limit: a hung one must not hold up the
 * end of the message. Overrunning counts as a timeout and leaves the
 * instance out of the rest of the connection, as for any hook.
 */
void
invoke_msg_end(struct session *s, struct mm_ctx *c, const struct mm_outcome *o)
{
	struct instance *in = c->inst;
	struct hook_args a;
	mm_verdict v;

	memset(&a, 0, sizeof(a));
	a.outcome = o;
	reply_free(&c->reply);
	c->has_reply = 0;
	c->msg = s->m;
	c->in_hook = 1;
	c->stage = STAGE_MSG_END;
	if (in->timeout <= 0)
		call(c, STAGE_MSG_END, &a);
	else if (!call_timed(s, c, STAGE_MSG_END, &a, &v)) {
		__atomic_fetch_add(&in->stats->timeouts, 1, __ATOMIC_RELAXED);
		log_msg(MM_LOG_WARNING, s->m->qid, in->name,
		    "timed out at msg_end: plugin left out of this connection");
	}
	pthread_mutex_lock(&s->lock);
	c->in_hook = 0;
	pthread_mutex_unlock(&s->lock);
}

mm_verdict
invoke_hook(struct session *s, struct mm_ctx *c, mm_stage st,
    const struct hook_args *a)
{
	struct instance *in = c->inst;
	mm_verdict v;
	double t0 = mono_now();
	int ok = 1;

	reply_free(&c->reply);
	c->has_reply = 0;
	c->msg = s->m;
	c->in_hook = 1;
	c->stage = st;
	if (in->timeout > 0)
		ok = call_timed(s, c, st, a, &v);
	else
		v = call(c, st, a);
	pthread_mutex_lock(&s->lock);
	c->in_hook = 0;
	pthread_mutex_unlock(&s->lock);

	__atomic_fetch_add(&in->stats->calls[st], 1, __ATOMIC_RELAXED);
	t0 = mono_now() - t0;
	__atomic_fetch_add(&in->stats->nsec[st], (unsigned long long)(t0 * 1e9),
	    __ATOMIC_RELAXED);
	metrics_observe_hook(in->stats, st, t0);
	if (!ok) {
		__atomic_fetch_add(&in->stats->timeouts, 1, __ATOMIC_RELAXED);
		v = on_error(s, c, st, "timed out");
		/* it can no longer be trusted with this connection */
		c->failed = 1;
	} else if ((unsigned)v > MM_ERROR) {
		char why[64];
		snprintf(why, sizeof(why), "returned invalid verdict %d", (int)v);
		v = on_error(s, c, st, why);
	} else if (v == MM_ERROR)
		v = on_error(s, c, st, "failed");
	__atomic_fetch_add(&in->stats->verdicts[st][v], 1, __ATOMIC_RELAXED);

	switch (v) {
	case MM_ACCEPT:
		if (st == MM_STAGE_CONNECT || st == MM_STAGE_HELO)
			c->conn_done = 1;
		else
			c->msg_done = 1;
		return MM_CONTINUE;
	case MM_SKIP:
		if (st == MM_STAGE_BODY)
			c->body_done = 1;
		return MM_CONTINUE;
	case MM_REJECT:
	case MM_TEMPFAIL:
	case MM_DISCARD:
		if (in->monitor) {
			char what[1100];
			if (v == MM_DISCARD)
				snprintf(what, sizeof(what), "discard at %s", stage_name(st));
			else {
				struct reply r;
				reply_make(&r, v, c->reply.rcode[0] ? c->reply.rcode : NULL,
				    c->reply.xcode[0] ? c->reply.xcode : NULL, c->reply.text);
				snprintf(what, sizeof(what), "%s at %s (%s %s %s)",
				    v == MM_REJECT ? "reject" : "tempfail", stage_name(st),
				    r.rcode, r.xcode, r.text);
				reply_free(&r);
			}
			session_note_monitor(s, c, what);
			return MM_CONTINUE;
		}
		return v;
	default:
		return MM_CONTINUE;
	}
}
