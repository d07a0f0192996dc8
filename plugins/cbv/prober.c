/*
 * NAME
 *	prober - the cbv plugin's store adapter, probes and refresh worker
 * SYNOPSIS
 *	#include "cbv_plugin.h"
 *
 *	void	cbv_kv_init(c)
 *	const struct cbv_kv *cbv_store(c, ctx)
 *
 *	int	cbv_inflight_claim(c, key)
 *	void	cbv_inflight_release(c, key)
 *
 *	void	cbv_probe_and_cache(c, ctx, key, addr, data, len, res)
 *	void	cbv_schedule_refresh(c, ctx, kv, key, addr, entry)
 *	void	*cbv_worker(c)
 *
 *	const char *cbv_domain_of(addr)
 *	void	cbv_progress_cb(arg)
 * DESCRIPTION
 *	cbv_kv_init() sets the instance's struct cbv_kv (the interface of
 *	cache.c, ratelimit.c and dsnguard.c) to the core's store;
 *	cbv_store() opens the store on first use and returns NULL while
 *	it cannot be opened.
 *
 *	Probes in flight are keyed by cache key: cbv_inflight_claim()
 *	(called with c->lock held) returns 1 when the caller now owns the
 *	probe, 0 when another thread does; cbv_inflight_release() ends it
 *	and wakes the threads waiting on c->cond.
 *
 *	cbv_probe_and_cache() asks the domain's rate limiter, runs the
 *	probe (or sends the notice \fIdata\fR), records the outcome for
 *	the domain's rate and caches the result; the caller has claimed
 *	the key. At end of message the MTA is kept waiting with
 *	api->progress.
 *
 *	cbv_schedule_refresh() queues a stale entry for cbv_worker(), the
 *	instance's thread that refreshes entries off the SMTP path (at
 *	most QUEUE_MAX waiting; a full queue or a claimed key is skipped).
 * DIAGNOSTICS
 *	A store, rate-state or cache failure is logged and gives the
 *	result CBV_DEFER; nothing here aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/plugin.h>

#include "cbv_plugin.h"

#define QUEUE_MAX 64

/* ---- the store, behind struct cbv_kv ---- */

static int
kv_get(void *arg, const char *key, char **val)
{
	struct cbv *c = arg;
	void *v = NULL;
	size_t vl = 0;
	int r = c->api->store_get(c->st, key, strlen(key), &v, &vl);

	if (r == 1)
		*val = v;	/* the core NUL-terminates values */
	return r;
}

static int
kv_put(void *arg, const char *key, const char *val, double ttl)
{
	struct cbv *c = arg;

	return c->api->store_put(c->st, key, strlen(key), val, strlen(val), ttl);
}

static int
kv_cas(void *arg, const char *key, const char *expect, const char *val,
    double ttl)
{
	struct cbv *c = arg;
	mm_store_batch *b = c->api->store_batch(c->st);
	int r = -1;

	if (b != NULL &&
	    c->api->store_batch_expect(b, key, strlen(key), expect,
	    expect ? strlen(expect) : 0) >= 0 &&
	    c->api->store_batch_put(b, key, strlen(key), val, strlen(val), ttl) >= 0)
		r = c->api->store_batch_run(b);
	c->api->store_batch_free(b);
	return r;
}

static int
kv_add(void *arg, char *const *keys, size_t n, long long delta, double ttl,
    long long *out)
{
	struct cbv *c = arg;
	mm_store_batch *b = c->api->store_batch(c->st);
	int64_t d = delta;
	int op[8], r = -1;

	if (b == NULL || n > sizeof(op) / sizeof(op[0]))
		goto out;
	for (size_t i = 0; i < n; i++)
		/* ttl_limit -1: the record expires whatever its count */
		if ((op[i] = c->api->store_batch_add(b, keys[i], strlen(keys[i]),
		    &d, 1, ttl, -1)) < 0)
			goto out;
	if (c->api->store_batch_run(b) != 1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const void *v = NULL;
		size_t vl = 0;
		out[i] = c->api->store_result(b, op[i], &v, &vl) == 1 ?
		    (long long)c->api->store_counter(v, vl, 0) : 0;
	}
	r = 1;
out:
	c->api->store_batch_free(b);
	return r;
}

static void
kv_release(void *arg, char *val)
{
	struct cbv *c = arg;

	c->api->free(val);
}

/* Point the instance's struct cbv_kv at the store functions above. */
void
cbv_kv_init(struct cbv *c)
{
	c->kv.arg = c;
	c->kv.get = kv_get;
	c->kv.put = kv_put;
	c->kv.cas = kv_cas;
	c->kv.release = kv_release;
	c->kv.add = kv_add;
}

/* The store, opened on first use; NULL while it cannot be opened. */
const struct cbv_kv *
cbv_store(struct cbv *c, mm_ctx *ctx)
{
	const struct cbv_kv *kv = NULL;
	char *err = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->st == NULL && (c->st = c->api->store_open(c->ictx, c->db, &err)) == NULL) {
		c->api->log(ctx, MM_LOG_ERR, "store %s: %s", c->db, err ? err : "cannot open");
		free(err);
	}
	if (c->st)
		kv = &c->kv;
	pthread_mutex_unlock(&c->lock);
	return kv;
}

/* ---- probes in flight ---- */

static int
inflight_find(struct cbv *c, const char *key)
{
	for (struct inflight *f = c->inflight; f; f = f->next)
		if (strcmp(f->key, key) == 0)
			return 1;
	return 0;
}

/* Claim the key (1), or see that another thread has it (0). Locked. */
int
cbv_inflight_claim(struct cbv *c, const char *key)
{
	struct inflight *f;

	if (inflight_find(c, key))
		return 0;
	if ((f = calloc(1, sizeof(*f))) == NULL || (f->key = strdup(key)) == NULL) {
		free(f);
		return 1;	/* untracked: the probe still runs */
	}
	f->next = c->inflight;
	c->inflight = f;
	return 1;
}

void
cbv_inflight_release(struct cbv *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	for (struct inflight **pp = &c->inflight; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			struct inflight *f = *pp;
			*pp = f->next;
			free(f->key);
			free(f);
			break;
		}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* ---- probing ---- */

void
cbv_progress_cb(void *arg)
{
	struct progress_arg *p = arg;

	p->api->progress(p->ctx);
}

const char *
cbv_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/*
 * Probe (or send the notice), account for the domain, cache the result.
 * The key must be claimed by the caller.
 */
void
cbv_probe_and_cache(struct cbv *c, mm_ctx *ctx, const char *key, const char *addr,
    const char *data, size_t len, struct probe_result *res)
{
	struct probe_cfg pc = c->pc;
	struct progress_arg pa = { c->api, ctx };
	const struct cbv_kv *kv;
	double t0 = mm_clock_mono(), wait = 0;
	int r;

	if ((kv = cbv_store(c, ctx)) == NULL ||
	    (r = rl_admit(kv, c->rl, cbv_domain_of(addr), c->api->now(ctx), &wait)) <= 0) {
		memset(res, 0, sizeof(*res));
		res->status = CBV_DEFER;
		if (kv == NULL || r < 0)
			snprintf(res->text, sizeof(res->text), "domain %s: the probe "
			    "rate state is unavailable (store)", cbv_domain_of(addr));
		else
			snprintf(res->text, sizeof(res->text), "domain %s: probe rate "
			    "limit or backoff, next probe in %.0fs", cbv_domain_of(addr), wait);
		c->api->log(ctx, kv == NULL || r < 0 ? MM_LOG_WARNING : MM_LOG_NOTICE,
		    "%s: not probed: %s", addr, res->text);
		c->api->metric_add(c->m_probes, kv == NULL || r < 0 ? "store_error" :
		    "rate_limited", 1);
		return;
	}
	if (ctx != c->ictx && c->stage == CBV_STAGE_EOM) {
		pc.d.progress = cbv_progress_cb;
		pc.d.progress_arg = &pa;
		pc.d.progress_interval = c->progress_interval;
	}
	probe_run(&pc, addr, data, len, res);
	c->api->metric_add(c->m_probes, cache_status_name(res->status), 1);
	c->api->metric_observe(c->m_probe_secs, NULL, mm_clock_mono() - t0);
	if (rl_result(kv, c->rl, cbv_domain_of(addr), c->api->now(ctx),
	    res->host_failed) < 0)
		c->api->log(ctx, MM_LOG_WARNING, "%s: cannot record the probe for "
		    "the domain's rate (store)", addr);
	c->api->log(ctx, MM_LOG_INFO, "%s %s: %s in %.3fs: %s", data ? "notice to" :
	    "probe of", addr, cache_status_name(res->status), mm_clock_mono() - t0,
	    res->text);
	r = cache_update(kv, &c->ttl, key, c->api->now(ctx), res->status, res->text);
	if (r < 0)
		c->api->log(ctx, MM_LOG_WARNING, "%s: cannot cache the result", addr);
	else if (r == 0)
		c->api->log(ctx, MM_LOG_INFO, "%s: cached OK kept (the probe was %s)",
		    addr, cache_status_name(res->status));
}

/* ---- the refresh worker: stale entries are refreshed off the SMTP path ---- */

void *
cbv_worker(void *arg)
{
	struct cbv *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct refresh *r;
		struct probe_result res;

		while (!c->stop && c->queue == NULL)
			pthread_cond_wait(&c->work, &c->lock);
		if (c->stop)
			break;
		r = c->queue;
		c->queue = r->next;
		c->queued--;
		pthread_mutex_unlock(&c->lock);
		cbv_probe_and_cache(c, c->ictx, r->key, r->addr, NULL, 0, &res);
		cbv_inflight_release(c, r->key);
		free(r->key);
		free(r->addr);
		free(r);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void
cbv_schedule_refresh(struct cbv *c, mm_ctx *ctx, const struct cbv_kv *kv,
    const char *key, const char *addr, struct cbv_entry *e)
{
	struct refresh *r = NULL;

	pthread_mutex_lock(&c->lock);
	if (!c->have_worker || c->queued >= QUEUE_MAX || !cbv_inflight_claim(c, key)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->key = strdup(key)) == NULL ||
	    (r->addr = strdup(addr)) == NULL) {
		if (r)
			free(r->key);
		free(r);
		pthread_mutex_unlock(&c->lock);
		cbv_inflight_release(c, key);
		return;
	}
	r->next = c->queue;
	c->queue = r;
	c->queued++;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
	if (cache_mark_probed(kv, &c->ttl, key, c->api->now(ctx), e) < 0)
		c->api->log(ctx, MM_LOG_WARNING, "%s: cannot mark the refresh", addr);
	c->api->log(ctx, MM_LOG_INFO, "%s: stale %s entry served, refresh queued",
	    addr, cache_status_name(e->status));
}
