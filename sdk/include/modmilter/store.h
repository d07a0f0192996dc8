/*
 * NAME
 *	modmilter/store.h - the key-value store of the modmilter plugin SDK
 * SYNOPSIS
 *	#include <modmilter/plugin.h>	(includes this header)
 *
 *	mm_store *st = api->store_open(ictx, "greylist", &err);
 *	api->store_put(st, key, klen, val, vlen, 3600);
 *	if (api->store_get(st, key, klen, &val, &vlen) == 1) ... api->free(val);
 *
 *	mm_store_batch *b = api->store_batch(st);	(SDK 1.2)
 *	int op = api->store_batch_add(b, key, klen, delta, 2, 86400, 1);
 *	if (api->store_batch_run(b) == 1 &&
 *	    api->store_result(b, op, &rec, &rlen) == 1)
 *		hits = api->store_counter(rec, rlen, 0);
 *	api->store_batch_free(b);
 * DESCRIPTION
 *	The types, constants and rules of the store functions of struct
 *	mm_api (plugin.h): the databases of the core's configured backend
 *	(LMDB, or Redis), one per name a plugin opens.
 *
 *	Open a database with store_open(ctx, dbname, &err), usually at
 *	init with the init context; the handle lives as long as the
 *	instance and may be used from every connection thread. Keys are 1
 *	to 511 bytes; values any length. TTLs are seconds (<= 0: none),
 *	capped at 100 years. store_get returns 1 with a malloc'ed copy of
 *	the value (free it with api->free), 0 when absent, -1 on error.
 *
 * BATCHES (SDK 1.2)
 *	A batch is a list of operations on one database run as a unit:
 *	all of its writes happen or none do (one LMDB transaction; one
 *	server-side script on Redis), and no other writer sees half of it.
 *	Operations run in the order they were added; a get sees the
 *	batch's own earlier writes. Each add function returns the
 *	operation's index (for store_result), or -1.
 *
 *	store_batch_add treats the value as a record of n counters
 *	(int64_t, little endian, 8 bytes each; absent = all zero), adds
 *	delta[i] to counter i, keeps every counter within 0 .. 2^53, and
 *	deletes a record whose counters all end at zero. Its result is the
 *	record as written. The record expires ttl seconds from now when
 *	ttl > 0 and, if ttl_limit >= 0, its counters then sum to at most
 *	ttl_limit (rare entries age out, busy ones stay); otherwise it does
 *	not expire. store_counter reads counter i of such a record.
 *
 *	store_batch_expect makes the whole batch conditional: it runs only
 *	when the key holds exactly val (val NULL: the key is absent),
 *	judged before any of the batch's writes. Use it for
 *	read-check-write updates that must not apply twice.
 *
 *	store_batch_run: 1 done, 0 an expectation failed (nothing
 *	written), -1 error (logged; nothing written, except that on a
 *	network store a timeout leaves it unknown whether the server ran
 *	the batch: design updates so that a repeat is harmless or guarded
 *	by an expectation). After run, store_result gives 1 with val and
 *	vlen set (get, add) or 0 (absent); results stay valid until
 *	store_batch_free.
 *
 * SCANS AND EXPIRY (SDK 1.2)
 *	store_scan visits every live entry whose key starts with prefix
 *	(plen 0: all), in no promised order, each once. expires is the
 *	unix time it expires, 0 for never. The callback returns
 *	MM_SCAN_NEXT, MM_SCAN_DELETE (remove this entry after the walk,
 *	unless it has changed since it was visited) or MM_SCAN_STOP, and
 *	must not use the store. 0 ok, -1 error.
 *
 *	store_expire removes expired entries now (backends without their
 *	own expiry keep them until then; they read as absent meanwhile)
 *	and returns how many, or -1.
 */
#ifndef MODMILTER_STORE_H
#define MODMILTER_STORE_H

typedef struct mm_store mm_store;		/* a named key-value database */
typedef struct mm_store_batch mm_store_batch;	/* operations run as one */

/* store_scan callback results */
#define MM_SCAN_NEXT	0
#define MM_SCAN_DELETE	1
#define MM_SCAN_STOP	2

#endif /* MODMILTER_STORE_H */
