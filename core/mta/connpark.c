/*
 * NAME
 *	connpark - milter connections waiting for their next SMTP connection
 * SYNOPSIS
 *	#include "connpark.h"
 * DESCRIPTION
 *	An MTA that reuses a milter connection ends one SMTP connection
 *	with SMFIC_QUIT_NC and starts the next with a new connect on the
 *	same milter connection, without negotiating again. libmilter
 *	calls the close callback at QUIT_NC as at QUIT, and it frees its
 *	context after the last close: the filter's private data must be
 *	gone by then, yet the close callback cannot tell which close is
 *	the last. What the next SMTP connection needs from the
 *	negotiation (milter.c) is therefore kept here, keyed by the
 *	libmilter context, rather than in the context.
 *
 *	An entry is taken back by the next connect on that milter
 *	connection. After the milter connection's last close the entry
 *	stays until a new milter connection is negotiated under the same
 *	context address (connpark_drop(), as libmilter reuses the memory)
 *	or until its bucket overflows: each of the 256 buckets keeps its
 *	64 newest entries, so what is left over stays bounded.
 *
 *	Thread-safe: one mutex; the drop callbacks run outside it.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "connpark.h"
#include "util.h"

#define NBUCKETS	256
#define BUCKET_MAX	64

struct entry {
	struct entry *next;
	const void *key;
	void *val;
	void (*drop)(void *);
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];

static struct entry **
bucket(const void *key)
{
	uintptr_t k = (uintptr_t)key;

	/* contexts are malloc'ed: the low bits say little */
	k ^= k >> 17;
	k *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	return &buckets[(k >> 24) % NBUCKETS];
}

/* Unlink the entry for key; the caller holds the lock. */
static struct entry *
unlink_key(const void *key)
{
	for (struct entry **pp = bucket(key); *pp; pp = &(*pp)->next)
		if ((*pp)->key == key) {
			struct entry *e = *pp;
			*pp = e->next;
			return e;
		}
	return NULL;
}

static void
drop_entry(struct entry *e)
{
	if (e) {
		if (e->drop)
			e->drop(e->val);
		free(e);
	}
}

void
connpark_put(const void *key, void *val, void (*drop)(void *))
{
	struct entry *e = xcalloc(1, sizeof(*e)), *old, *over = NULL;
	struct entry **b;
	int n = 0;

	e->key = key;
	e->val = val;
	e->drop = drop;
	pthread_mutex_lock(&lock);
	old = unlink_key(key);
	b = bucket(key);
	e->next = *b;
	*b = e;
	/* newest first: cut what lies beyond the bucket's limit */
	for (struct entry *p = *b; p; p = p->next)
		if (++n == BUCKET_MAX) {
			over = p->next;
			p->next = NULL;
			break;
		}
	pthread_mutex_unlock(&lock);
	drop_entry(old);
	while (over) {
		struct entry *next = over->next;
		drop_entry(over);
		over = next;
	}
}

void *
connpark_take(const void *key)
{
	struct entry *e;
	void *val = NULL;

	pthread_mutex_lock(&lock);
	e = unlink_key(key);
	pthread_mutex_unlock(&lock);
	if (e) {
		val = e->val;
		free(e);
	}
	return val;
}

void
connpark_drop(const void *key)
{
	struct entry *e;

	pthread_mutex_lock(&lock);
	e = unlink_key(key);
	pthread_mutex_unlock(&lock);
	drop_entry(e);
}
