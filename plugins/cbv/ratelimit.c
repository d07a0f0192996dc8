/*
 * NAME
 *	ratelimit - per-domain probe rate and backoff, shared through the store
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_rl *rl = rl_new(10, 60, 3600);
 *	switch (rl_admit(kv, rl, "example.net", now, &wait)) {
 *	case 1: probe...; rl_result(kv, rl, "example.net", now, no_mx_answered);
 *	case 0: wait seconds; case -1: the store failed }
 * DESCRIPTION
 *	So that we never hammer one domain's mail exchangers: a token
 *	bucket per domain (per_minute probes a minute, the same as burst),
 *	and after a probe in which no mail exchanger answered, a backoff
 *	that doubles from backoff_min up to backoff_max and ends with the
 *	next probe that got an answer.
 *
 *	The state of a domain is an entry of the cache's store ("r:DOMAIN",
 *	text "TOKENS LAST FAILS UNTIL"), changed by compare-and-swap and
 *	retried on a conflict, so every thread, and every mail host that
 *	shares the store (Redis), counts against the same bucket. An entry
 *	expires once its bucket would be full again and its backoff long
 *	over, so idle domains leave nothing behind. The clock is the
 *	caller's, for tests.
 * DIAGNOSTICS
 *	rl_admit() returns 1 to probe, 0 with how long to wait when the
 *	domain is over its rate or backing off, -1 when the store failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbv.h"

#define RL_TRIES 8

struct cbv_rl {
	double rate, burst, bmin, bmax;
};

struct rl_state {
	double tokens, last;		/* token bucket */
	int fails;
	double until;			/* backing off until */
};

struct cbv_rl *
rl_new(double per_minute, double backoff_min, double backoff_max)
{
	struct cbv_rl *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->rate = per_minute / 60.0;
	rl->burst = per_minute < 1 ? 1 : per_minute;
	rl->bmin = backoff_min;
	rl->bmax = backoff_max < backoff_min ? backoff_min : backoff_max;
	return rl;
}

void
rl_free(struct cbv_rl *rl)
{
	free(rl);
}

static void
refill(const struct cbv_rl *rl, struct rl_state *s, double now)
{
	if (now > s->last) {
		s->tokens += (now - s->last) * rl->rate;
		if (s->tokens > rl->burst)
			s->tokens = rl->burst;
	}
	s->last = now;
}

/* How long the entry matters: until the bucket is full again and, after
   failures, for a backoff_max beyond the backoff (to keep doubling). */
static double
keep_for(const struct cbv_rl *rl, const struct rl_state *s, double now)
{
	double t = rl->rate > 0 ? (rl->burst - s->tokens) / rl->rate : 0;

	if (s->fails > 0 && s->until + rl->bmax - now > t)
		t = s->until + rl->bmax - now;
	return t < 1 ? 1 : t + 1;
}

/*
 * Read the domain's state, let step() change it, and write it back if
 * nothing else did meanwhile; else again. step returns the result.
 */
static int
update(const struct cbv_kv *kv, const struct cbv_rl *rl, const char *domain,
    double now, int (*step)(const struct cbv_rl *, struct rl_state *,
    double, void *), void *arg)
{
	char key[CBV_ADDR_MAX + 8], val[128];

	cache_key("r:", domain, key, sizeof(key));
	for (int i = 0; i < RL_TRIES; i++) {
		struct rl_state s = { rl->burst, now, 0, 0 };
		char *old = NULL;
		int r = kv->get(kv->arg, key, &old), res;

		if (r < 0)
			return -1;
		if (r == 1 && sscanf(old, "%lf %lf %d %lf", &s.tokens, &s.last,
		    &s.fails, &s.until) != 4)
			s = (struct rl_state){ rl->burst, now, 0, 0 };	/* not ours */
		refill(rl, &s, now);
		res = step(rl, &s, now, arg);
		snprintf(val, sizeof(val), "%.6f %.3f %d %.3f", s.tokens, s.last,
		    s.fails, s.until);
		r = kv->cas(kv->arg, key, old, val, keep_for(rl, &s, now));
		if (old)
			kv->release(kv->arg, old);
		if (r < 0)
			return -1;
		if (r == 1)
			return res;
	}
	return -1;	/* contended beyond reason: treat as a store failure */
}

static int
admit_step(const struct cbv_rl *rl, struct rl_state *s, double now, void *arg)
{
	double *wait = arg;

	if (now < s->until) {
		*wait = s->until - now;
		return 0;
	}
	if (s->tokens < 1) {
		*wait = rl->rate > 0 ? (1 - s->tokens) / rl->rate : 60;
		return 0;
	}
	s->tokens -= 1;
	return 1;
}

int
rl_admit(const struct cbv_kv *kv, const struct cbv_rl *rl, const char *domain,
    double now, double *wait)
{
	return update(kv, rl, domain, now, admit_step, wait);
}

static int
result_step(const struct cbv_rl *rl, struct rl_state *s, double now, void *arg)
{
	if (*(int *)arg) {
		double b = rl->bmin;

		for (int i = 0; i < s->fails && b < rl->bmax; i++)
			b *= 2;
		s->fails++;
		s->until = now + (b > rl->bmax ? rl->bmax : b);
	} else {
		s->fails = 0;
		s->until = 0;
	}
	return 0;
}

int
rl_result(const struct cbv_kv *kv, const struct cbv_rl *rl, const char *domain,
    double now, int failed)
{
	return update(kv, rl, domain, now, result_step, &failed);
}
