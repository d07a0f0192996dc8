/*
 * NAME
 *	store_redis - the Redis backend of the store (shared by mail hosts)
 * DESCRIPTION
 *	Keys are "<prefix><database>:<key>" (prefix "modmilter:" unless
 *	configured), values the caller's bytes, expiry Redis's own.
 *
 *	A batch is one server-side Lua script (EVALSHA, falling back to
 *	EVAL once per connection when the server has not cached it): Redis
 *	runs a script alone, so its writes are seen all at once. The script
 *	checks every expectation before it writes anything. Counter records
 *	are little-endian int64 arrays, as on LMDB, packed and unpacked in
 *	the script; Lua's numbers are doubles, so counters are exact up to
 *	2^53, where counters saturate on both backends. The script checks
 *	every key's type before it writes anything: Redis does not undo a
 *	script that fails halfway.
 *
 *	hiredis contexts are not thread-safe: each batch borrows one from
 *	a pool (connecting when none is free) and returns it; a context
 *	that saw an error is closed, so the next batch reconnects. Connect
 *	and command time are bounded by the store's timeout. The daemon
 *	starts while Redis is down (an unreachable server is a warning, not
 *	a startup failure); each batch then fails and plugins answer as
 *	their on-outage policy says (usually TEMPFAIL).
 *
 *	Scans use SCAN with a MATCH pattern (the prefix, glob-escaped) and
 *	read values and expiry times (EXPIRETIME, Redis 7) in pipelines.
 */
#include "config.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define POOL_MAX 64

static const char script[] =
"local nk = #KEYS\n"
"local ai = 1\n"
"local ops = {}\n"
"local MAX = 9007199254740992\n"
"-- parse, and refuse before any write what could fail halfway\n"
"for k = 1, nk do\n"
"  local op = { c = ARGV[ai] }\n"
"  ai = ai + 1\n"
"  if op.c == 'p' then\n"
"    op.v = ARGV[ai]; op.x = tonumber(ARGV[ai + 1]); ai = ai + 2\n"
"  elseif op.c == 'a' then\n"
"    op.x = tonumber(ARGV[ai]); op.l = tonumber(ARGV[ai + 1])\n"
"    local n = tonumber(ARGV[ai + 2]); op.d = {}\n"
"    for i = 1, n do op.d[i] = tonumber(ARGV[ai + 2 + i]) end\n"
"    ai = ai + 3 + n\n"
"  elseif op.c == 'e' then\n"
"    op.p = ARGV[ai] == '1'; op.v = ARGV[ai + 1]; ai = ai + 2\n"
"  end\n"
"  if op.c == 'p' or op.c == 'a' or op.c == 'g' or op.c == 'e' then\n"
"    local t = redis.call('TYPE', KEYS[k]).ok\n"
"    if t ~= 'string' and t ~= 'none' then\n"
"      return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' is a ' .. t)\n"
"    end\n"
"  end\n"
"  ops[k] = op\n"
"end\n"
"for k = 1, nk do\n"
"  local op = ops[k]\n"
"  if op.c == 'e' then\n"
"    local v = redis.call('GET', KEYS[k])\n"
"    if op.p then\n"
"      if v ~= op.v then return {0} end\n"
"    elseif v then return {0} end\n"
"  end\n"
"end\n"
"local function setx(key, v, x)\n"
"  if x > 0 then redis.call('SET', key, v, 'EXAT', x)\n"
"  else redis.call('SET', key, v) end\n"
"end\n"
"local res = {}\n"
"for k = 1, nk do\n"
"  local op, key = ops[k], KEYS[k]\n"
"  res[k] = false\n"
"  if op.c == 'g' then\n"
"    res[k] = redis.call('GET', key)\n"
"  elseif op.c == 'p' then\n"
"    setx(key, op.v, op.x)\n"
"  elseif op.c == 'd' then\n"
"    redis.call('DEL', key)\n"
"  elseif op.c == 'a' then\n"
"    local old = redis.call('GET', key)\n"
"    local olen = 0\n"
"    if old then olen = math.floor(#old / 8) end\n"
"    local n = math.max(olen, #op.d)\n"
"    local parts, nz, sum = {}, false, 0\n"
"    for i = 1, n do\n"
"      local v = 0\n"
"      if i <= olen then v = struct.unpack('<i8', old, (i - 1) * 8 + 1) end\n"
"      if op.d[i] then v = v + op.d[i] end\n"
"      if v < 0 then v = 0 end\n"
"      if v > MAX then v = MAX end\n"
"      if v ~= 0 then nz = true end\n"
"      sum = sum + v\n"
"      parts[i] = struct.pack('<i8', v)\n"
"    end\n"
"    if nz then\n"
"      local nv, x = table.concat(parts), op.x\n"
"      if op.l >= 0 and sum > op.l then x = 0 end\n"
"      setx(key, nv, x)\n"
"      res[k] = nv\n"
"    else\n"
"      redis.call('DEL', key)\n"
"    end\n"
"  end\n"
"end\n"
"return {1, res}\n";

struct renv {
	struct store_cfg cfg;
	char *where;		/* "host:port" or the socket, for messages */
	char sha[41];
	pthread_mutex_t lock;
	redisContext *pool[POOL_MAX];
	size_t npool;
};

struct rdb {
	char *prefix;		/* "<prefix><database>:" */
	size_t plen;
};

/* SHA-1 of the script, as Redis names it (computed by SCRIPT LOAD on
   first connect; EVAL's answer to a missing script is NOSCRIPT). */
static int
load_script(struct renv *e, redisContext *c)
{
	redisReply *r = redisCommand(c, "SCRIPT LOAD %s", script);
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

static redisContext *
borrow(struct renv *e)
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
static void
script_sha(struct renv *e, char sha[41])
{
	pthread_mutex_lock(&e->lock);
	memcpy(sha, e->sha, 41);
	pthread_mutex_unlock(&e->lock);
}

static void
give_back(struct renv *e, redisContext *c, int broken)
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

static void *
r_env_open(const struct store_cfg *cfg, char **err)
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
		give_back(e, c, 0);
	return e;
}

static void *
r_db_open(void *ve, const char *name, char **err)
{
	struct renv *e = ve;
	struct rdb *d = xcalloc(1, sizeof(*d));

	(void)err;
	d->prefix = xasprintf("%s%s:", e->cfg.prefix, name);
	d->plen = strlen(d->prefix);
	return d;
}

static int
reply_failed(struct renv *e, redisContext *c, redisReply *r, const char *what)
{
	log_warn("store redis %s: %s: %s", e->where, what,
	    r && r->type == REDIS_REPLY_ERROR ? r->str :
	    c && c->err ? c->errstr : "unexpected reply");
	return -1;
}

struct argvec {
	const char **v;
	size_t *len;
	char **own;		/* strings to free */
	size_t n, cap, nown;
};

static void
arg_add(struct argvec *a, const void *p, size_t len)
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

static void
arg_own(struct argvec *a, char *s, size_t len)
{
	arg_add(a, s, len);
	a->own[a->nown++] = s;
}

static void
arg_str(struct argvec *a, const char *s)
{
	arg_add(a, s, strlen(s));
}

static void
arg_fmt_ll(struct argvec *a, long long v)
{
	char *s = xasprintf("%lld", v);
	arg_own(a, s, strlen(s));
}

static void
arg_free(struct argvec *a)
{
	for (size_t i = 0; i < a->nown; i++)
		free(a->own[i]);
	free(a->v);
	free(a->len);
	free(a->own);
}

static char *
full_key(const struct rdb *d, const unsigned char *k, size_t kl)
{
	char *p = xmalloc(d->plen + kl);

	memcpy(p, d->prefix, d->plen);
	memcpy(p + d->plen, k, kl);
	return p;
}

static int
r_run(void *ve, void *db, struct store_op *ops, size_t n)
{
	struct renv *e = ve;
	struct rdb *d = db;
	struct argvec a = { 0 };
	redisContext *c;
	redisReply *r = NULL;
	size_t i, shaidx;
	int rc = -1, attempt;
	char sha[41];

	arg_str(&a, "EVALSHA");
	shaidx = a.n;
	arg_add(&a, sha, 40);
	arg_fmt_ll(&a, (long long)n);
	for (i = 0; i < n; i++)
		arg_own(&a, full_key(d, ops[i].key, ops[i].klen), d->plen + ops[i].klen);
	for (i = 0; i < n; i++) {
		struct store_op *o = &ops[i];

		switch (o->code) {
		case SOP_GET:
			arg_str(&a, "g");
			break;
		case SOP_DEL:
			arg_str(&a, "d");
			break;
		case SOP_PUT:
			arg_str(&a, "p");
			arg_add(&a, o->val, o->vlen);
			arg_fmt_ll(&a, (long long)o->expires);
			break;
		case SOP_ADD:
			arg_str(&a, "a");
			arg_fmt_ll(&a, (long long)o->expires);
			arg_fmt_ll(&a, (long long)o->ttl_limit);
			arg_fmt_ll(&a, (long long)o->n);
			for (size_t j = 0; j < o->n; j++)
				arg_fmt_ll(&a, (long long)o->delta[j]);
			break;
		case SOP_EXPECT:
			arg_str(&a, "e");
			arg_str(&a, o->val ? "1" : "0");
			arg_add(&a, o->val ? (const void *)o->val : "", o->vlen);
			break;
		}
	}
	if ((c = borrow(e)) == NULL) {
		arg_free(&a);
		return -1;
	}
	script_sha(e, sha);
	for (attempt = 0; attempt < 2; attempt++) {
		r = redisCommandArgv(c, (int)a.n, a.v, a.len);
		if (r && r->type == REDIS_REPLY_ERROR &&
		    strncmp(r->str, "NOSCRIPT", 8) == 0 &&
		    strcmp(a.v[0], "EVAL") != 0) {
			/* the server restarted or flushed its script cache */
			freeReplyObject(r);
			r = NULL;
			a.v[0] = "EVAL";
			a.len[0] = 4;
			a.v[shaidx] = script;
			a.len[shaidx] = sizeof(script) - 1;
			continue;
		}
		break;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		reply_failed(e, c, r, "batch");
		give_back(e, c, r == NULL);
		freeReplyObject(r);
		arg_free(&a);
		return -1;
	}
	if (r->element[0]->integer == 0) {
		rc = 0;
	} else if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_ARRAY &&
	    r->element[1]->elements == n) {
		for (i = 0; i < n; i++) {
			redisReply *x = r->element[1]->element[i];
			if (x->type == REDIS_REPLY_STRING &&
			    (ops[i].code == SOP_GET || ops[i].code == SOP_ADD)) {
				ops[i].found = 1;
				ops[i].rval = xmalloc(x->len ? x->len : 1);
				memcpy(ops[i].rval, x->str, x->len);
				ops[i].rlen = x->len;
				ops[i].rexpires = 0;
			}
		}
		rc = 1;
	} else {
		reply_failed(e, c, NULL, "batch");
	}
	give_back(e, c, 0);
	freeReplyObject(r);
	arg_free(&a);
	return rc;
}

/* the SCAN pattern: the key prefix with glob characters escaped, then * */
static char *
glob_of(const struct rdb *d, const unsigned char *p, size_t plen, size_t *len)
{
	char *g = xmalloc(2 * (d->plen + plen) + 2), *q = g;

	for (size_t i = 0; i < d->plen + plen; i++) {
		unsigned char ch = i < d->plen ? (unsigned char)d->prefix[i] :
		    p[i - d->plen];
		if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\')
			*q++ = '\\';
		*q++ = (char)ch;
	}
	*q++ = '*';
	*len = (size_t)(q - g);
	return g;
}

/* Keys a scan has visited: SCAN may return a key more than once. */
struct kset {
	struct kslot { uint64_t h; char *k; size_t len; } *t;
	size_t n, cap;
};

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h | 1;		/* 0 marks an empty slot */
}

/* 1 when the key is new (and now remembered), 0 when seen before */
static int
kset_add(struct kset *s, const char *k, size_t len)
{
	uint64_t h = fnv(k, len);
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct kset g = { NULL, 0, s->cap ? 2 * s->cap : 1024 };
		g.t = xcalloc(g.cap, sizeof(*g.t));
		for (i = 0; i < s->cap; i++)
			if (s->t[i].h) {
				size_t j = s->t[i].h & (g.cap - 1);
				while (g.t[j].h)
					j = (j + 1) & (g.cap - 1);
				g.t[j] = s->t[i];
			}
		free(s->t);
		s->t = g.t;
		s->cap = g.cap;
	}
	for (i = h & (s->cap - 1); s->t[i].h; i = (i + 1) & (s->cap - 1))
		if (s->t[i].h == h && s->t[i].len == len && !memcmp(s->t[i].k, k, len))
			return 0;
	s->t[i].h = h;
	s->t[i].k = xmalloc(len ? len : 1);
	memcpy(s->t[i].k, k, len);
	s->t[i].len = len;
	s->n++;
	return 1;
}

static void
kset_free(struct kset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->t[i].k);
	free(s->t);
}

/* delete each key only if it still holds the value the walk saw */
static const char del_script[] =
"for i = 1, #KEYS do\n"
"  if redis.call('GET', KEYS[i]) == ARGV[i] then redis.call('DEL', KEYS[i]) end\n"
"end\n"
"return 0\n";

static int
delete_seen(struct renv *e, redisContext *c, struct argvec *keys,
    struct argvec *vals)
{
	size_t i, m;
	int rc = 0;

	for (i = 0; rc == 0 && i < keys->n; i += m) {
		struct argvec a = { 0 };
		redisReply *r;

		m = keys->n - i < 500 ? keys->n - i : 500;
		arg_str(&a, "EVAL");
		arg_str(&a, del_script);
		arg_fmt_ll(&a, (long long)m);
		for (size_t j = 0; j < m; j++)
			arg_add(&a, keys->v[i + j], keys->len[i + j]);
		for (size_t j = 0; j < m; j++)
			arg_add(&a, vals->v[i + j], vals->len[i + j]);
		r = redisCommandArgv(c, (int)a.n, a.v, a.len);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			rc = reply_failed(e, c, r, "delete");
		freeReplyObject(r);
		arg_free(&a);
	}
	return rc;
}

static char *
copy_of(const char *p, size_t n)
{
	char *c = xmalloc(n ? n : 1);

	memcpy(c, p, n);
	return c;
}

static int
r_scan(void *ve, void *db, const void *prefix, size_t plen, store_scan_fn cb,
    void *arg)
{
	struct renv *e = ve;
	struct rdb *d = db;
	redisContext *c;
	size_t glen, i;
	char *glob = glob_of(d, prefix, plen, &glen);
	char cursor[32] = "0";
	struct argvec dkeys = { 0 }, dvals = { 0 };
	struct kset seen = { 0 };
	int rc = 0, stop = 0;

	if ((c = borrow(e)) == NULL) {
		free(glob);
		return -1;
	}
	do {
		const char *av[] = { "SCAN", cursor, "MATCH", glob, "COUNT", "1000" };
		size_t al[] = { 4, strlen(cursor), 5, glen, 5, 4 };
		redisReply *r = redisCommandArgv(c, 6, av, al), *keys;

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING) {
			rc = reply_failed(e, c, r, "scan");
			freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		keys = r->element[1];
		for (i = 0; i < keys->elements; i++) {
			redisReply *k = keys->element[i];
			redisAppendCommand(c, "GET %b", k->str, k->len);
			redisAppendCommand(c, "EXPIRETIME %b", k->str, k->len);
		}
		/* read every reply, even after a stop, to keep the stream whole */
		for (i = 0; i < keys->elements && rc == 0; i++) {
			redisReply *k = keys->element[i], *v = NULL, *x = NULL;

			if (redisGetReply(c, (void **)&v) != REDIS_OK ||
			    redisGetReply(c, (void **)&x) != REDIS_OK) {
				rc = reply_failed(e, c, NULL, "scan");
			} else if (!stop && v->type == REDIS_REPLY_STRING &&
			    k->len >= d->plen && kset_add(&seen, k->str, k->len)) {
				long long ex = x->type == REDIS_REPLY_INTEGER &&
				    x->integer > 0 ? x->integer : 0;
				int act = cb(arg, k->str + d->plen, k->len - d->plen,
				    v->str, v->len, ex);
				if (act == MM_SCAN_STOP)
					stop = 1;
				else if (act == MM_SCAN_DELETE) {
					arg_own(&dkeys, copy_of(k->str, k->len), k->len);
					arg_own(&dvals, copy_of(v->str, v->len), v->len);
				}
			}
			freeReplyObject(v);
			freeReplyObject(x);
		}
		freeReplyObject(r);
	} while (rc == 0 && !stop && strcmp(cursor, "0") != 0);
	if (rc == 0 && dkeys.n)
		rc = delete_seen(e, c, &dkeys, &dvals);
	give_back(e, c, rc != 0);
	arg_free(&dkeys);
	arg_free(&dvals);
	kset_free(&seen);
	free(glob);
	return rc;
}

const struct store_ops store_redis_ops = {
	.name = "redis",
	.env_open = r_env_open,
	.db_open = r_db_open,
	.run = r_run,
	.scan = r_scan,
	.sync = NULL,
};
