/*
 * NAME
 *	store - the key-value store plugins share (named databases, TTLs)
 * SYNOPSIS
 *	#include "store.h"
 *
 *	mm_store *st = store_open(conf, "cbv", &err);
 *	store_put(st, key, klen, val, vlen, ttl_seconds);
 *	store_get(st, key, klen, &val, &vlen);		(1 found, 0 absent)
 *	store_del(st, key, klen);
 * DESCRIPTION
 *	A front over backends (struct store_ops); the embedded LMDB backend
 *	(store_lmdb.c) is the default. The API speaks of named databases,
 *	keys and expiry only, so a network backend fits behind it. Values
 *	carry their expiry; an expired entry reads as absent.
 *	Safe to use from many threads. An environment is opened once per
 *	process and kept across reloads (LMDB forbids opening one twice).
 */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stddef.h>
#include <modmilter/plugin.h>

struct conf;

struct store_ops {
	const char *name;
	void *(*env_open)(const char *path, long long map_size, char **err);
	void *(*db_open)(void *env, const char *name, char **err);
	int (*get)(void *env, void *db, const void *k, size_t kl, void **v, size_t *vl);
	int (*put)(void *env, void *db, const void *k, size_t kl, const void *v, size_t vl);
	int (*del)(void *env, void *db, const void *k, size_t kl);
};

extern const struct store_ops store_lmdb_ops;

mm_store *store_open(struct conf *c, const char *dbname, char **err);
int store_get(mm_store *st, const void *key, size_t klen, void **val, size_t *vlen);
int store_put(mm_store *st, const void *key, size_t klen, const void *val,
    size_t vlen, double ttl);
int store_del(mm_store *st, const void *key, size_t klen);

#endif
