/*
 * NAME
 *	whitelist - the auto-whitelist in the core's store
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	n = policy_wl_learn(api, st, conf->internal_domains, rcpts, nrcpts,
 *	    api->now(ctx), conf->auto_whitelist_ttl, "alice@corp.example");
 *	if (policy_wl_has(api, st, "bob@partner.example") == 1) ...
 * DESCRIPTION
 *	One entry per correspondent, key "aw:" and the address in the
 *	core's normal form in lower case, value "learned=<unix time>
 *	by=<sender>" (for the admin). The entry expires ttl seconds after
 *	the last message that renewed it; the store (LMDB, or Redis shared
 *	by every host) expires it.
 *
 *	policy_wl_learn() writes the accepted recipients outside
 *	internal_domains in one store batch: all of them or none.
 * DIAGNOSTICS
 *	-1 on a store error (logged by the core), or for an address that
 *	is no mailbox (policy_wl_key).
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"

int
policy_wl_key(const struct mm_api *api, const char *addr, char *buf,
    size_t size)
{
	char *norm = api->addr_normalize(addr, NULL), *at;
	int n;

	if (norm == NULL || (at = strrchr(norm, '@')) == NULL || at == norm ||
	    at[1] == '\0') {
		api->free(norm);
		return -1;
	}
	n = snprintf(buf, size, "%s%s", POLICY_WL_PREFIX, norm);
	api->free(norm);
	if (n < 0 || (size_t)n >= size || n > 511)
		return -1;
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return n;
}

int
policy_wl_learn(const struct mm_api *api, mm_store *st,
    char *const *internal_domains, const struct policy_rcpt *r, size_t n,
    double now, double ttl, const char *by)
{
	mm_store_batch *b;
	char key[600], val[600];
	int count = 0, rc;

	if ((b = api->store_batch(st)) == NULL)
		return -1;
	snprintf(val, sizeof(val), "learned=%.0f by=%s", now, by ? by : "");
	for (size_t i = 0; i < n; i++) {
		int kl;
		if (!r[i].accepted ||
		    (kl = policy_wl_key(api, r[i].addr, key, sizeof(key))) < 0)
			continue;
		if (policy_name_in(api, internal_domains, strrchr(key, '@') + 1))
			continue;	/* our own people need no whitelist */
		if (api->store_batch_put(b, key, (size_t)kl, val, strlen(val),
		    ttl) < 0) {
			api->store_batch_free(b);
			return -1;
		}
		count++;
	}
	rc = count ? api->store_batch_run(b) : 1;
	api->store_batch_free(b);
	return rc == 1 ? count : -1;
}

int
policy_wl_has(const struct mm_api *api, mm_store *st, const char *addr)
{
	char key[600];
	void *val = NULL;
	size_t vlen;
	int kl, r;

	if ((kl = policy_wl_key(api, addr, key, sizeof(key))) < 0)
		return 0;
	r = api->store_get(st, key, (size_t)kl, &val, &vlen);
	api->free(val);
	return r;
}

int
policy_wl_del(const struct mm_api *api, mm_store *st, const char *addr)
{
	char key[600];
	int kl;

	if ((kl = policy_wl_key(api, addr, key, sizeof(key))) < 0)
		return -1;
	return api->store_del(st, key, (size_t)kl);
}
