/*
 * NAME
 *	gcommit - group commit of the dspam writes of many messages
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	ds.gc = gcommit_start(&ds, NULL, &err);
 *	dwrite_run(w, &err);		(with ds.gc: through the writer)
 *	gcommit_stop(ds.gc);
 *
 *	struct gqueue q = { api, ictx, lost_metric, 1024 };
 *	ds.gc = gcommit_start(&ds, &q, &err);	(durability: queued)
 * DESCRIPTION
 *	Every message the milter classifies writes to the store: the
 *	dictionary's totals and its signature, with TEFT also its tokens'
 *	counts. Committed one by one, each is a store transaction (on LMDB
 *	a flush to disk; writers take turns), and the daemon's threads
 *	spend their time waiting for each other.
 *
 *	Here one writer thread takes every write batch queued while the
 *	previous commit ran and commits them together: one store batch,
 *	so one LMDB transaction and one flush, or one Redis pipeline, for
 *	all of them. Each submitter waits until the commit that holds its
 *	batch is done, so a message is still answered only once its
 *	training is as durable as the store makes a commit, and a failed
 *	commit is still that message's error (TEMPFAIL): when a group
 *	fails, its batches are tried again one by one, so that one bad
 *	batch fails only its own message.
 *
 *	With a queue (durability: queued), gcommit_queue hands the batch
 *	over and returns at once: the message is answered before its
 *	training is committed, and the writer's groups grow to what arrives
 *	during one commit (up to GROUP_MAX) instead of one batch per waiting
 *	connection. At most max batches wait; a submitter beyond that waits
 *	for room. A crash loses the queued batches (at most max messages'
 *	training); gcommit_stop commits them first (logged, since a stalled
 *	store makes the stop wait for it). A queued batch whose
 *	commit fails is logged and counted (the lost metric), as nobody
 *	waits for it any more.
 *
 *	Only unconditional batches (counter additions and puts) come here;
 *	a batch with an expectation (a correction by signature) runs alone,
 *	since an expectation decides for a whole store batch.
 * DIAGNOSTICS
 *	gcommit_start: NULL with *err when the thread cannot be started
 *	(the caller then commits each batch alone). gcommit_submit: -1 when
 *	the commit failed or the writer is stopped. gcommit_queue: -1 when
 *	there is no queue or the writer is stopped (the caller commits the
 *	batch itself); a failed commit of a queued batch is logged.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dspam.h"

/* batches taken into one commit at most (a bound on its size) */
#define GROUP_MAX 256

struct gentry {
	const struct dwrite *w;
	int done, result;
	int queued;		/* nobody waits: the writer frees it and w */
	pthread_cond_t cv;
	struct gentry *next;
};

struct gcommit {
	const struct dstore *ds;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t room;	/* a queued batch was taken */
	struct gentry *head, **tail;
	int stop;
	struct gqueue q;	/* q.max 0: no queue */
	size_t nqueued;		/* queued batches not yet committed */
};

/* one store batch for the entries of the list; 1, 0 or -1 */
static int
commit_list(const struct dstore *ds, struct gentry *e, size_t n)
{
	mm_store_batch *b = ds->api->store_batch(ds->st);
	size_t i;
	int r = -1;

	if (b == NULL)
		return -1;
	for (i = 0; i < n; i++, e = e->next)
		if (dwrite_apply(e->w, b) < 0)
			break;
	if (i == n)
		r = ds->api->store_batch_run(b);
	ds->api->store_batch_free(b);
	return r;
}

/* queued batches whose commit failed: their messages were answered */
static void
report_lost(struct gcommit *gc, size_t lost)
{
	if (gc->q.api == NULL)
		return;
	gc->q.api->log(gc->q.ictx, MM_LOG_ERR, "store commit failed: the "
	    "training of %zu queued message%s is lost", lost, lost == 1 ? "" : "s");
	if (gc->q.lost)
		gc->q.api->metric_add(gc->q.lost, NULL, (double)lost);
}

static void *
writer(void *arg)
{
	struct gcommit *gc = arg;
	struct gentry *group, *e, *rest;
	size_t n, lost;
	int r;

	pthread_mutex_lock(&gc->lock);
	for (;;) {
		while (gc->head == NULL && !gc->stop)
			pthread_cond_wait(&gc->work, &gc->lock);
		if (gc->head == NULL)
			break;
		/* take what is queued, up to GROUP_MAX batches */
		group = gc->head;
		for (n = 1, e = group; e->next != NULL && n < GROUP_MAX; n++)
			e = e->next;
		rest = e->next;
		e->next = NULL;
		gc->head = rest;
		if (rest == NULL)
			gc->tail = &gc->head;
		pthread_mutex_unlock(&gc->lock);

		r = commit_list(gc->ds, group, n);
		if (r == 1 || n == 1) {
			for (e = group; e != NULL; e = e->next)
				e->result = r == 1 ? 1 : -1;
		} else {
			/* one at a time: a failure is its own message's */
			for (e = group; e != NULL; e = e->next)
				e->result = commit_list(gc->ds, e, 1) == 1 ? 1 : -1;
		}

		lost = 0;
		pthread_mutex_lock(&gc->lock);
		for (e = group; e != NULL; e = rest) {
			rest = e->next;
			if (e->queued) {
				lost += e->result < 0;
				gc->nqueued--;
				dwrite_abort((struct dwrite *)e->w);
				free(e);
				continue;
			}
			/* e lives on its waiter's stack */
			e->done = 1;
			pthread_cond_signal(&e->cv);
		}
		pthread_cond_broadcast(&gc->room);
		if (lost) {
			pthread_mutex_unlock(&gc->lock);
			report_lost(gc, lost);
			pthread_mutex_lock(&gc->lock);
		}
	}
	pthread_mutex_unlock(&gc->lock);
	return NULL;
}

struct gcommit *
gcommit_start(const struct dstore *ds, const struct gqueue *q, char **err)
{
	struct gcommit *gc = calloc(1, sizeof(*gc));

	if (gc == NULL) {
		*err = strdup("dspam: out of memory");
		return NULL;
	}
	gc->ds = ds;
	gc->tail = &gc->head;
	if (q)
		gc->q = *q;
	pthread_mutex_init(&gc->lock, NULL);
	pthread_cond_init(&gc->work, NULL);
	pthread_cond_init(&gc->room, NULL);
	if (pthread_create(&gc->thread, NULL, writer, gc) != 0) {
		pthread_cond_destroy(&gc->room);
		pthread_cond_destroy(&gc->work);
		pthread_mutex_destroy(&gc->lock);
		free(gc);
		*err = strdup("dspam: cannot start the store writer thread");
		return NULL;
	}
	return gc;
}

int
gcommit_submit(struct gcommit *gc, const struct dwrite *w)
{
	struct gentry e = { .w = w };
	int r;

	pthread_cond_init(&e.cv, NULL);
	pthread_mutex_lock(&gc->lock);
	if (gc->stop) {
		pthread_mutex_unlock(&gc->lock);
		pthread_cond_destroy(&e.cv);
		return -1;
	}
	*gc->tail = &e;
	gc->tail = &e.next;
	pthread_cond_signal(&gc->work);
	while (!e.done)
		pthread_cond_wait(&e.cv, &gc->lock);
	r = e.result;
	pthread_mutex_unlock(&gc->lock);
	pthread_cond_destroy(&e.cv);
	return r;
}

int
gcommit_queue(struct gcommit *gc, struct dwrite *w)
{
	struct gentry *e;

	if (gc->q.max == 0 || (e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->w = w;
	e->queued = 1;
	pthread_mutex_lock(&gc->lock);
	while (gc->nqueued >= gc->q.max && !gc->stop)
		pthread_cond_wait(&gc->room, &gc->lock);
	if (gc->stop) {
		pthread_mutex_unlock(&gc->lock);
		free(e);
		return -1;
	}
	gc->nqueued++;
	*gc->tail = e;
	gc->tail = &e->next;
	pthread_cond_signal(&gc->work);
	pthread_mutex_unlock(&gc->lock);
	return 0;
}

void
gcommit_stop(struct gcommit *gc)
{
	size_t n;

	if (gc == NULL)
		return;
	pthread_mutex_lock(&gc->lock);
	gc->stop = 1;
	pthread_cond_signal(&gc->work);
	n = gc->nqueued;
	pthread_mutex_unlock(&gc->lock);
	if (n > 0 && gc->q.api != NULL)	/* a stalled store makes this wait */
		gc->q.api->log(gc->q.ictx, MM_LOG_NOTICE, "committing the "
		    "training of %zu queued message%s before the instance "
		    "stops", n, n == 1 ? "" : "s");
	pthread_join(gc->thread, NULL);
	pthread_cond_destroy(&gc->room);
	pthread_cond_destroy(&gc->work);
	pthread_mutex_destroy(&gc->lock);
	free(gc);
}
