/*
 * NAME
 *	ctx - a plugin's context, as the API table acts through it
 * DESCRIPTION
 *	See ctx.h.
 */
#include "config.h"

#include "ctx.h"
#include "log.h"

/*
 * Was this instance's hook given up after its timeout? Then what it
 * still tries is dropped; the first attempt is logged, as a plugin that
 * overran is usually still busy with work nobody waits for. Called with
 * the session lock held.
 */
static int
abandoned_locked(mm_ctx *c, const char *what)
{
	if (!__atomic_load_n(&c->abandoned, __ATOMIC_ACQUIRE))
		return 0;
	if (!c->abandon_noted) {
		c->abandon_noted = 1;
		log_msg(MM_LOG_WARNING, c->msg ? c->msg->qid : NULL, c->inst->name,
		    "hook abandoned after its timeout tried to %s: dropped, "
		    "as is all it does from now on", what);
	}
	return 1;
}

int
ctx_enter(mm_ctx *c, const char *what)
{
	pthread_mutex_lock(&c->s->lock);
	if (abandoned_locked(c, what) || c->failed) {
		pthread_mutex_unlock(&c->s->lock);
		return -1;
	}
	return 0;
}

void
ctx_leave(mm_ctx *c)
{
	pthread_mutex_unlock(&c->s->lock);
}

void
ctx_leave_queued(mm_ctx *c)
{
	c->msg->actions_queued = 1;
	pthread_mutex_unlock(&c->s->lock);
}

int
ctx_abandoned(mm_ctx *c)
{
	return c && c->s && __atomic_load_n(&c->abandoned, __ATOMIC_ACQUIRE);
}

int
ctx_progress(mm_ctx *c)
{
	struct session *s = c->s;
	int r;

	/* only the hook the connection is waiting for may speak to the MTA */
	pthread_mutex_lock(&s->lock);
	r = c->in_hook && !c->failed && !c->abandoned && s->be && s->be->progress ?
	    s->be->progress(s->bctx) : -1;
	pthread_mutex_unlock(&s->lock);
	return r;
}
