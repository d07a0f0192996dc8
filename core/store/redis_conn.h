/*
 * NAME
 *	redis_conn - the Redis backend's connections (private to store/)
 * SYNOPSIS
 *	#include "redis_conn.h"
 *
 *	redisContext *c = redis_borrow(e);
 *	redis_give_back(e, c, broken);
 * DESCRIPTION
 *	What store_redis.c's batches and scans share: the environment (one
 *	per server and prefix) with its pool of connections, the database
 *	handle (a key prefix), a command's argument vector, and the batch
 *	script (defined in store_redis.c, loaded here on first connect).
 */
#ifndef MM_REDIS_CONN_H
#define MM_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <pthread.h>

#include "store.h"

#define POOL_MAX 64

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

struct argvec {
	const char **v;
	size_t *len;
	char **own;		/* strings to free */
	size_t n, cap, nown;
};

extern const char redis_batch_script[];

void *redis_env_open(const struct store_cfg *cfg, char **err);
void *redis_db_open(void *env, const char *name, char **err);
/* a live connection from the pool, or a new one; NULL: logged */
redisContext *redis_borrow(struct renv *e);
/* back to the pool; closed if broken or in error */
void redis_give_back(struct renv *e, redisContext *c, int broken);
void redis_script_sha(struct renv *e, char sha[41]);
/* logs what failed; returns -1 */
int redis_reply_failed(struct renv *e, redisContext *c, redisReply *r,
    const char *what);

void redis_arg_add(struct argvec *a, const void *p, size_t len);
void redis_arg_own(struct argvec *a, char *s, size_t len);	/* freed with a */
void redis_arg_str(struct argvec *a, const char *s);
void redis_arg_fmt_ll(struct argvec *a, long long v);
void redis_arg_free(struct argvec *a);

#endif
