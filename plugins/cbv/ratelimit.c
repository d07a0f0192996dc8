/*
 * NAME
 *	ratelimit - per-domain probe rate and backoff
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_rl *rl = rl_new(10, 60, 3600);
 *	if (rl_admit(rl, "example.net", now, &wait)) { probe...;
 *		rl_result(rl, "example.net", now, no_mx_answered); }
 * DESCRIPTION
 *	So that we never hammer one domain's mail exchangers: a token
 *	bucket per domain (per_minute probes a minute, the same as burst),
 *	and after a probe in which no mail exchanger answered, a backoff
 *	that doubles from backoff_min up to backoff_max and ends with the
 *	next probe that got an answer. The table lives in memory, one per
 *	instance, safe from many threads; idle domains are dropped.
 *	The clock is the caller's, for tests.
 * DIAGNOSTICS
 *	rl_admit() returns 0 and how long to wait when the domain is over
 *	its rate or backing off. Out of memory, it admits.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cbv.h"

#define RL_BUCKETS 256

struct rl_dom {
	char *name;
	double tokens, last;		/* token bucket */
	int fails;
	double until;			/* backing off until */
	struct rl_dom *next;
};

struct cbv_rl {
	pthread_mutex_t lock;
	double rate, burst, bmin, bmax;
	struct rl_dom *b[RL_BUCKETS];
};

struct cbv_rl *
rl_new(double per_minute, double backoff_min, double backoff_max)
{
	struct cbv_rl *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = per_minute / 60.0;
	rl->burst = per_minute < 1 ? 1 : per_minute;
	rl->bmin = backoff_min;
	rl->bmax = backoff_max < backoff_min ? backoff_min : backoff_max;
	return rl;
}

void
rl_free(struct cbv_rl *rl)
{
	if (rl == NULL)
		return;
	for (int i = 0; i < RL_BUCKETS; i++)
		while (rl->b[i]) {
			struct rl_dom *d = rl->b[i];
			rl->b[i] = d->next;
			free(d->name);
			free(d);
		}
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static unsigned
hash(const char *s)
{
	unsigned h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned)tolower((unsigned char)*s);
	return h % RL_BUCKETS;
}

static void
refill(struct cbv_rl *rl, struct rl_dom *d, double now)
{
	if (now > d->last) {
		d->tokens += (now - d->last) * rl->rate;
		if (d->tokens > rl->burst)
			d->tokens = rl->burst;
	}
	d->last = now;
}

/* Find the domain; drop idle ones of its bucket on the way. */
static struct rl_dom *
find(struct cbv_rl *rl, const char *domain, double now, int create)
{
	struct rl_dom **pp = &rl->b[hash(domain)], *d;

	while ((d = *pp) != NULL) {
		if (strcasecmp(d->name, domain) == 0)
			return d;
		refill(rl, d, now);
		if (d->tokens >= rl->burst && d->fails == 0 && now >= d->until) {
			*pp = d->next;
			free(d->name);
			free(d);
			continue;
		}
		pp = &d->next;
	}
	if (!create || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->name = strdup(domain)) == NULL) {
		free(d);
		return NULL;
	}
	d->tokens = rl->burst;
	d->last = now;
	*pp = d;
	return d;
}

int
rl_admit(struct cbv_rl *rl, const char *domain, double now, double *wait)
{
	struct rl_dom *d;
	int ok = 1;

	pthread_mutex_lock(&rl->lock);
	if ((d = find(rl, domain, now, 1)) != NULL) {
		refill(rl, d, now);
		if (now < d->until) {
			*wait = d->until - now;
			ok = 0;
		} else if (d->tokens < 1) {
			*wait = rl->rate > 0 ? (1 - d->tokens) / rl->rate : 60;
			ok = 0;
		} else
			d->tokens -= 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

void
rl_result(struct cbv_rl *rl, const char *domain, double now, int failed)
{
	struct rl_dom *d;

	pthread_mutex_lock(&rl->lock);
	if ((d = find(rl, domain, now, failed)) != NULL) {
		if (failed) {
			double b = rl->bmin;
			for (int i = 0; i < d->fails && b < rl->bmax; i++)
				b *= 2;
			d->fails++;
			d->until = now + (b > rl->bmax ? rl->bmax : b);
		} else {
			d->fails = 0;
			d->until = 0;
		}
	}
	pthread_mutex_unlock(&rl->lock);
}
