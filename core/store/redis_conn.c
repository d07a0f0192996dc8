/*
 * NAME
 *	redis_conn - the Redis backend's connections: dial, pool, commands
 * SYNOPSIS
 *	#include "redis_conn.h"
 * DESCRIPTION
 *	A connection is dialled with the store's timeout, authenticated,
 *	switched to its database, checked for Redis 7 and, once per
 *	environment, given the batch script (SCRIPT LOAD). hiredis
 *	contexts are not thread-safe: each batch borrows one from the
 *	environment's pool and gives it back; one that saw an error is
 *	closed, so the next batch reconnects.
 * DIAGNOSTICS
 *	Connection failures are logged as warnings (the daemon starts while
 *	Redis is down); an old server is an error.
 */
#include "config.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis_conn.h"
#include "util.h"

/* SHA-1 of the script, as Redis names it (computed by SCRIPT LOAD on
   first connect; EVAL's answer to a missing script is NOSCRIPT). */
static int
load_script(struct renv *e, redisContext *c)
{
	redisReply *r = redisCommand(c, "SCRIPT LOAD %s", redis_batch_script);
	int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;

	if (ok) {
		pthread_mutex_lock(&e->lock);
		memcpy(e->sha, r->str, 40);
		e->sha[40] = 0;
		pthread_mutex_unlock(&e->lock);
	} else {
		log_warn("store redis %s: cannot load the batch script: %s", e->where,
		    r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
	}
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* EXAT (6.2) and EXPIRETIME (7.0): Redis 7 or later. */
static int
check_version(struct renv *e, redisContext *c)
{
	redisReply *r = redisCommand(c, "INFO server");
	const char *v;
	int major = 0, ok;

	if (r && r->type == REDIS_REPLY_STRING &&
	    (v = strstr(r->str, "redis_version:")) != NULL)
		major = atoi(v + 14);
	ok = major >= 7;
	if (!ok)
		log_err("store redis %s: %s", e->where, major ? "Redis 7 or later is "
		    "needed (EXAT, EXPIRETIME)" : "cannot read the server's version");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static redisContext *
dial(struct renv *e)
{
	struct timeval tv = { (time_t)e->cfg.timeout,
	    (suseconds_t)((e->cfg.timeout - (double)(time_t)e->cfg.timeout) * 1e6) };
	redisContext *c;
	redisReply *r;

	c = e->cfg.socket ? redisConnectUnixWithTimeout(e->cfg.socket, tv) :
	    redisConnectWithTimeout(e->cfg.host, e->cfg.port, tv);
	if (c == NULL || c->err) {
		log_warn("store redis %s: cannot connect: %s", e->where,
		    c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (e->cfg.password) {
		r = redisCommand(c, "AUTH %s", e->cfg.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			log_warn("store redis %s: AUTH: %s", e->where,
			    r ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (e->cfg.database) {
		r = redisCommand(c, "SELECT %d", e->cfg.database);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			log_warn("store redis %s: SELECT %d: %s", e->where,
			    e->cfg.database, r ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (check_version(e, c) < 0) {
		redisFree(c);
		return NULL;
	}
	pthread_mutex_lock(&e->lock);
	int loaded = e->sha[0] != 0;
	pthread_mutex_unlock(&e->lock);
	if (!loaded && load_script(e, c) < 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * An idle pooled connection has nothing to read: if its socket is
 * readable or hung up, the server closed it (restart, client timeout).
 * Checked before a command is sent, never after: a command that failed
 * or timed out is not sent again (it may have run).
 */
static int
alive(redisContext *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	return !c->err && poll(&p, 1, 0) == 0;
}

redisContext *
redis_borrow(struct renv *e)
{
	redisContext *c;

	for (;;) {
		c = NULL;
		pthread_mutex_lock(&e->lock);
		if (e->npool)
			c = e->pool[--e->npool];
		pthread_mutex_unlock(&e->lock);
		if (c == NULL)
			return dial(e);
		if (alive(c))
			return c;
		redisFree(c);
	}
}

/* the script's SHA-1, read under the lock that load_script writes it under */
void
redis_script_sha(struct renv *e, char sha[41])
{
	pthread_mutex_lock(&e->lock);
	memcpy(sha, e->sha, 41);
	pthread_mutex_unlock(&e->lock);
}

void
redis_give_back(struct renv *e, redisContext *c, int broken)
{
	if (c == NULL)
		return;
	if (!broken && !c->err) {
		pthread_mutex_lock(&e->lock);
		if (e->npool < POOL_MAX) {
			e->pool[e->npool++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&e->lock);
	}
	if (c)
		redisFree(c);
}

void *
redis_env_open(const struct store_cfg *cfg, char **err)
{
	struct renv *e = xcalloc(1, sizeof(*e));
	redisContext *c;

	(void)err;
	e->cfg.backend = STORE_REDIS;
	e->cfg.host = xstrdup(cfg->host ? cfg->host : "127.0.0.1");
	e->cfg.port = cfg->port ? cfg->port : 6379;
	e->cfg.socket = cfg->socket ? xstrdup(cfg->socket) : NULL;
	e->cfg.database = cfg->database;
	e->cfg.password = cfg->password ? xstrdup(cfg->password) : NULL;
	e->cfg.prefix = xstrdup(cfg->prefix ? cfg->prefix : "modmilter:");
	e->cfg.timeout = cfg->timeout > 0 ? cfg->timeout : 1.0;
	e->where = e->cfg.socket ? xstrdup(e->cfg.socket) :
	    xasprintf("%s:%d", e->cfg.host, e->cfg.port);
	pthread_mutex_init(&e->lock, NULL);
	/* try once now, so a wrong address shows in the log at start */
	if ((c = dial(e)) != NULL)
		redis_give_back(e, c, 0);
	return e;
}

void *
redis_db_open(void *ve, const char *name, char **err)
{
	struct renv *e = ve;
	struct rdb *d = xcalloc(1, sizeof(*d));

	(void)err;
	d->prefix = xasprintf("%s%s:", e->cfg.prefix, name);
	d->plen = strlen(d->prefix);
	return d;
}

int
redis_reply_failed(struct renv *e, redisContext *c, redisReply *r, const char *what)
{
	log_warn("store redis %s: %s: %s", e->where, what,
	    r && r->type == REDIS_REPLY_ERROR ? r->str :
	    c && c->err ? c->errstr : "unexpected reply");
	return -1;
}

void
redis_arg_add(struct argvec *a, const void *p, size_t len)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
		a->len = xrealloc(a->len, a->cap * sizeof(*a->len));
		a->own = xrealloc(a->own, a->cap * sizeof(*a->own));
	}
	a->v[a->n] = p;
	a->len[a->n++] = len;
}

void
redis_arg_own(struct argvec *a, char *s, size_t len)
{
	redis_arg_add(a, s, len);
	a->own[a->nown++] = s;
}

void
redis_arg_str(struct argvec *a, const char *s)
{
	redis_arg_add(a, s, strlen(s));
}

void
redis_arg_fmt_ll(struct argvec *a, long long v)
{
	char *s = xasprintf("%lld", v);
	redis_arg_own(a, s, strlen(s));
}

void
redis_arg_free(struct argvec *a)
{
	for (size_t i = 0; i < a->nown; i++)
		free(a->own[i]);
	free(a->v);
	free(a->len);
	free(a->own);
}
