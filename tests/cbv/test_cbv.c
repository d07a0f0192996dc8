/*
 * NAME
 *	test_cbv - unit tests of the cbv plugin's modules
 * DESCRIPTION
 *	Cache semantics (Postfix verify(8)) with an injected clock over an
 *	in-memory store that can be made to fail; the per-domain rate limit
 *	and backoff; the addresses never probed; whom a notice may go to,
 *	the notice caps and the bounded quote of headers; templates; the SMTP client
 *	against a scripted peer on loopback (replies, HELO fallback, a peer
 *	naming us, a hanging peer and the deadline, dot-stuffing).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cbv.h"

#define DAY 86400.0

/* ---- an in-memory store ---- */

struct mem {
	char *key[16], *val[16];
	int n, fail_get, fail_put, puts;
	int cas_conflicts;		/* the next N cas calls lose a race */
};

static int
mem_get(void *arg, const char *key, char **val)
{
	struct mem *m = arg;

	if (m->fail_get)
		return -1;
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0) {
			*val = strdup(m->val[i]);
			return 1;
		}
	return 0;
}

static int
mem_put(void *arg, const char *key, const char *val, double ttl)
{
	struct mem *m = arg;

	assert_true(ttl >= 1);
	if (m->fail_put)
		return -1;
	m->puts++;
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0) {
			free(m->val[i]);
			m->val[i] = strdup(val);
			return 0;
		}
	assert_true(m->n < 16);
	m->key[m->n] = strdup(key);
	m->val[m->n++] = strdup(val);
	return 0;
}

static int
mem_cas(void *arg, const char *key, const char *expect, const char *val,
    double ttl)
{
	struct mem *m = arg;
	char *now = NULL;
	int r, same;

	if (m->cas_conflicts > 0) {
		m->cas_conflicts--;
		return 0;
	}
	if ((r = mem_get(arg, key, &now)) < 0)
		return -1;
	same = expect ? r == 1 && strcmp(now, expect) == 0 : r == 0;
	free(now);
	if (!same)
		return 0;
	return mem_put(arg, key, val, ttl) < 0 ? -1 : 1;
}

/* counters as decimal text; absent is zero, never below zero */
static int
mem_add(void *arg, char *const *keys, size_t n, long long delta, double ttl,
    long long *out)
{
	struct mem *m = arg;
	char *v, num[32];

	assert_true(ttl >= 1);
	if (m->fail_put || m->fail_get)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long long x = 0;
		if (mem_get(arg, keys[i], &v) == 1) {
			x = atoll(v);
			free(v);
		}
		x = x + delta < 0 ? 0 : x + delta;
		snprintf(num, sizeof(num), "%lld", x);
		mem_put(arg, keys[i], num, ttl);
		out[i] = x;
	}
	return 1;
}

static void
mem_release(void *arg, char *val)
{
	(void)arg;
	free(val);
}

static void
mem_clear(struct mem *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->key[i]);
		free(m->val[i]);
	}
	memset(m, 0, sizeof(*m));
}

static const struct cbv_ttl ttl = {
	.pos_expire = 31 * DAY, .pos_refresh = 7 * DAY,
	.neg_expire = 3 * DAY, .neg_refresh = 3 * 3600,
	.defer_expire = 600,
};

#define KV(m) { .arg = (m), .get = mem_get, .put = mem_put, .cas = mem_cas, \
	.release = mem_release, .add = mem_add }

static void
test_positive(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct cbv_entry e;
	double t0 = 1.7e9;

	(void)state;
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0, &e), CACHE_MISS);
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0, CBV_OK, "250 ok"), 1);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 1, &e), CACHE_FRESH);
	assert_int_equal(e.status, CBV_OK);
	assert_string_equal(e.text, "250 ok");
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 7 * DAY - 1, &e), CACHE_FRESH);
	/* past the refresh time: served, and refreshed */
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 7 * DAY, &e), CACHE_STALE);
	assert_int_equal(cache_mark_probed(&kv, &ttl, "v:a@x", t0 + 7 * DAY, &e), 0);
	/* one refresh at a time: the others serve it as fresh */
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 7 * DAY + 10, &e), CACHE_FRESH);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 7 * DAY + 600, &e), CACHE_STALE);
	/* forgotten after the positive expiry */
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 31 * DAY, &e), CACHE_MISS);
	/* a refresh that succeeds starts a new life */
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0 + 8 * DAY, CBV_OK, "250 again"), 1);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 31 * DAY, &e), CACHE_STALE);
	mem_clear(&m);
}

static void
test_negative_and_defer(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct cbv_entry e;
	double t0 = 1.7e9;

	(void)state;
	assert_int_equal(cache_update(&kv, &ttl, "v:b@x", t0, CBV_BOUNCE, "550 no"), 1);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:b@x", t0 + 3 * 3600 - 1, &e), CACHE_FRESH);
	assert_int_equal(e.status, CBV_BOUNCE);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:b@x", t0 + 3 * 3600, &e), CACHE_STALE);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:b@x", t0 + 3 * DAY, &e), CACHE_MISS);

	assert_int_equal(cache_update(&kv, &ttl, "v:c@x", t0, CBV_DEFER, "451 later"), 1);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:c@x", t0 + 599, &e), CACHE_FRESH);
	assert_int_equal(e.status, CBV_DEFER);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:c@x", t0 + 600, &e), CACHE_MISS);
	mem_clear(&m);
}

static void
test_ok_not_clobbered(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct cbv_entry e;
	double t0 = 1.7e9;

	(void)state;
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0, CBV_OK, "250 ok"), 1);
	/* a refresh that times out, or is refused, keeps the OK entry */
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0 + 8 * DAY, CBV_DEFER, "timeout"), 0);
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0 + 8 * DAY, CBV_BOUNCE, "550"), 0);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 8 * DAY + 700, &e), CACHE_STALE);
	assert_int_equal(e.status, CBV_OK);
	assert_string_equal(e.text, "250 ok");
	/* once the OK entry has expired, a failure is recorded */
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0 + 31 * DAY, CBV_BOUNCE, "550 gone"), 1);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", t0 + 31 * DAY + 1, &e), CACHE_FRESH);
	assert_int_equal(e.status, CBV_BOUNCE);
	/* a BOUNCE is overwritten by a later OK */
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", t0 + 32 * DAY, CBV_OK, "250"), 1);
	mem_clear(&m);
}

static void
test_store_failure_and_format(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct cbv_entry e, f;
	char buf[512], key[64];

	(void)state;
	m.fail_get = 1;
	assert_int_equal(cache_lookup(&kv, &ttl, "v:a@x", 1, &e), CACHE_ERROR);
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", 1, CBV_DEFER, "x"), -1);
	m.fail_get = 0;
	m.fail_put = 1;
	assert_int_equal(cache_update(&kv, &ttl, "v:a@x", 1, CBV_OK, "x"), -1);
	m.fail_put = 0;
	/* garbage in the store reads as absent */
	mem_put(&m, "v:g@x", "WHAT 1 2 x", 10);
	assert_int_equal(cache_lookup(&kv, &ttl, "v:g@x", 1, &e), CACHE_MISS);
	memset(&e, 0, sizeof(e));
	e.status = CBV_BOUNCE;
	e.updated = 1700000000;
	e.probed = 1700000100;
	snprintf(e.text, sizeof(e.text), "mx.example.net [192.0.2.25] RCPT TO: 550 5.1.1 no");
	assert_int_equal(cache_format(&e, buf, sizeof(buf)), 0);
	assert_int_equal(cache_parse(buf, &f), 0);
	assert_int_equal(f.status, CBV_BOUNCE);
	assert_true(f.updated == e.updated && f.probed == e.probed);
	assert_string_equal(f.text, e.text);
	cache_key("v:", "Alice@Example.NET", key, sizeof(key));
	assert_string_equal(key, "v:alice@example.net");
	mem_clear(&m);
}

static void
test_ratelimit(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct cbv_rl *rl = rl_new(3, 60, 200), *other = rl_new(3, 60, 200);
	double w = 0, t = 1000;

	(void)state;
	assert_non_null(rl);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rl_admit(&kv, rl, "example.net", t, &w), 1);
	assert_int_equal(rl_admit(&kv, rl, "example.net", t, &w), 0);
	assert_true(w > 19 && w <= 20.01);
	/* another host sharing the store sees the same bucket */
	assert_int_equal(rl_admit(&kv, other, "example.net", t + 1, &w), 0);
	assert_int_equal(rl_admit(&kv, rl, "other.example", t, &w), 1);
	assert_int_equal(rl_admit(&kv, rl, "EXAMPLE.net", t + 20, &w), 1);
	/* backoff after failures: 60 s, then 120 s, at most 200 s */
	assert_int_equal(rl_result(&kv, rl, "down.example", t, 1), 0);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 59, &w), 0);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 60, &w), 1);
	rl_result(&kv, rl, "down.example", t + 60, 1);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 179, &w), 0);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 180, &w), 1);
	rl_result(&kv, rl, "down.example", t + 180, 1);
	rl_result(&kv, rl, "down.example", t + 180, 1);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 379, &w), 0);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 380, &w), 1);
	/* an answer ends the backoff */
	rl_result(&kv, rl, "down.example", t + 380, 1);
	rl_result(&kv, rl, "down.example", t + 381, 0);
	assert_int_equal(rl_admit(&kv, rl, "down.example", t + 382, &w), 1);
	/* a lost race is retried on what the winner wrote */
	mem_clear(&m);
	m.cas_conflicts = 2;
	assert_int_equal(rl_admit(&kv, rl, "race.example", t, &w), 1);
	assert_int_equal(rl_admit(&kv, rl, "race.example", t, &w), 1);
	assert_int_equal(rl_admit(&kv, rl, "race.example", t, &w), 1);
	assert_int_equal(rl_admit(&kv, rl, "race.example", t, &w), 0);
	/* endless conflicts or a failed store: an error, not a probe */
	m.cas_conflicts = 100;
	assert_int_equal(rl_admit(&kv, rl, "busy.example", t, &w), -1);
	m.cas_conflicts = 0;
	m.fail_get = 1;
	assert_int_equal(rl_admit(&kv, rl, "example.org", t, &w), -1);
	mem_clear(&m);
	rl_free(rl);
	rl_free(other);
}

/* one address inside each special-purpose block, one just outside it */
static const struct {
	const char *in, *out, *rfc;
} specials[] = {
	{ "0.1.2.3", "1.0.0.0", "RFC 791" },
	{ "10.255.255.255", "11.0.0.0", "RFC 1918" },
	{ "100.127.255.255", "100.128.0.0", "RFC 6598" },
	{ "100.64.0.0", "100.63.255.255", "RFC 6598" },
	{ "127.0.0.1", "128.0.0.0", "RFC 1122" },
	{ "169.254.255.255", "169.255.0.0", "RFC 3927" },
	{ "172.31.255.255", "172.32.0.0", "RFC 1918" },
	{ "192.0.0.7", "192.0.0.8", "RFC 7335" },
	{ "192.0.0.8", "192.0.0.9", "RFC 7600" },
	{ "192.0.0.9", "192.0.0.10", "RFC 7723" },
	{ "192.0.0.10", "192.0.0.11", "RFC 8155" },
	{ "192.0.0.170", "192.0.0.169", "RFC 8880" },
	{ "192.0.0.171", "192.0.0.172", "RFC 8880" },
	{ "192.0.0.255", "192.0.1.0", "RFC 6890" },
	{ "192.0.2.255", "192.0.3.0", "RFC 5737" },
	{ "192.31.196.1", "192.31.197.0", "RFC 7535" },
	{ "192.52.193.1", "192.52.194.0", "RFC 7450" },
	{ "192.88.99.1", "192.88.100.0", "RFC 7526" },
	{ "192.168.255.255", "192.169.0.0", "RFC 1918" },
	{ "192.175.48.1", "192.175.49.0", "RFC 7534" },
	{ "198.19.255.255", "198.20.0.0", "RFC 2544" },
	{ "198.18.0.0", "198.17.255.255", "RFC 2544" },
	{ "198.51.100.255", "198.51.101.0", "RFC 5737" },
	{ "203.0.113.255", "203.0.114.0", "RFC 5737" },
	{ "224.0.0.1", "223.255.255.255", "RFC 5771" },
	{ "240.0.0.0", "239.255.255.255", "RFC 1112" },
	{ "255.255.255.255", "255.255.255.254", "RFC 919" },
	{ "::ffff:10.0.0.1", "::ffff:11.0.0.0", "RFC 1918" },
	{ "::", "::2", "unspecified" },
	{ "::1", "::2", "loopback" },
	{ "::ffff:ffff", "::1:0:0", "IPv4-compatible" },
	{ "64:ff9b::ffff:ffff", "64:ff9b::1:0:0", "RFC 6052" },
	{ "64:ff9b:1:ffff::1", "64:ff9b:2::", "RFC 8215" },
	{ "100::ffff:ffff:ffff:ffff", "100:0:0:1::", "RFC 6666" },
	{ "100:0:0:1::1", "100:0:0:2::", "RFC 9780" },
	{ "2001:0:ffff::1", "2001:1::", "RFC 4380" },
	{ "2001:1::1", "2001:1::4", "RFC 7723" },
	{ "2001:1::2", "2001:1::4", "RFC 8155" },
	{ "2001:1::3", "2001:1::4", "RFC 9665" },
	{ "2001:2:0:ffff::1", "2001:2:1::", "RFC 5180" },
	{ "2001:3:ffff::1", "2001:4::", "RFC 7450" },
	{ "2001:4:112:ffff::1", "2001:4:113::", "RFC 7535" },
	{ "2001:1f::1", "2001:20::", "RFC 4843" },
	{ "2001:2f::1", "2001:30::", "RFC 7343" },
	{ "2001:3f::1", "2001:40::", "RFC 9374" },
	{ "2001:1ff::1", "2001:200::", "RFC 2928" },
	{ "2001:db8:ffff::1", "2001:db9::", "RFC 3849" },
	{ "2002:ffff::1", "2003::", "RFC 3056" },
	{ "2620:4f:8000:ffff::1", "2620:4f:8001::", "RFC 7534" },
	{ "3fff:fff::1", "3fff:1000::", "RFC 9637" },
	{ "5f00:ffff::1", "5f01::", "RFC 9602" },
	{ "fdff:ffff::1", "fe00::", "RFC 4193" },
	{ "fc00::", "fbff:ffff::", "RFC 4193" },
	{ "febf:ffff::1", "fec0::", "link-local" },
	{ "feff::1", "ff00::", "RFC 3879" },
	{ "ff02::1", "feff:ffff::", "multicast" },
};

static const char *
why(const struct cbv_own *own, const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(a, ':')) {
		ss.ss_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, a,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	} else {
		ss.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a,
		    &((struct sockaddr_in *)&ss)->sin_addr), 1);
	}
	return addr_forbidden(own, (struct sockaddr *)&ss);
}

static int
forbidden(const struct cbv_own *own, const char *a)
{
	return why(own, a) != NULL;
}

static void
test_netcheck(void **state)
{
	static const char *const good[] = { "93.184.216.34", "172.32.0.1",
		"2a00:1450:4001::1", "::ffff:93.184.216.34", NULL };
	char *err = NULL;
	struct cbv_own *own = own_new(0, &err), *ifs;

	(void)state;
	assert_non_null(own);
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		const char *in = why(own, specials[i].in), *out;
		if (in == NULL || strstr(in, specials[i].rfc) == NULL)
			fail_msg("%s: wanted %s, got %s", specials[i].in,
			    specials[i].rfc, in ? in : "allowed");
		/* just outside: allowed, or refused as another block */
		out = why(own, specials[i].out);
		if (out != NULL && strcmp(out, in) == 0)
			fail_msg("%s is outside the block of %s, refused as %s",
			    specials[i].out, specials[i].in, out);
	}
	for (int i = 0; good[i]; i++)
		if (forbidden(own, good[i]))
			fail_msg("%s should be allowed", good[i]);
	assert_int_equal(own_add(own, "192.0.2.9"), 0);
	assert_int_equal(own_add(own, "2001:db8::25"), 0);
	assert_int_equal(own_add(own, "mx.example.com"), -1);
	assert_true(forbidden(own, "192.0.2.9"));
	assert_true(forbidden(own, "::ffff:192.0.2.9"));
	assert_true(forbidden(own, "2001:db8::25"));
	/* a test lab's documentation networks, exempt; ours never are */
	assert_int_equal(own_allow(own, "192.0.2.0/24"), 0);
	assert_int_equal(own_allow(own, "2001:db8::/32"), 0);
	assert_false(forbidden(own, "192.0.2.25"));
	assert_false(forbidden(own, "::ffff:192.0.2.25"));
	assert_false(forbidden(own, "2001:db8::26"));
	assert_non_null(strstr(why(own, "192.0.2.9"), "our own"));
	assert_non_null(strstr(why(own, "2001:db8::25"), "our own"));
	assert_true(forbidden(own, "198.51.100.1"));
	assert_true(forbidden(own, "192.0.3.0") == 0);
	assert_int_equal(own_allow(own, "192.0.2.1/24"), -1);
	assert_int_equal(own_allow(own, "10.0.0.0/33"), -1);
	assert_int_equal(own_allow(own, "10.0.0.0/-1"), -1);
	assert_int_equal(own_allow(own, "mx.example.com/8"), -1);
	own_free(own);
	ifs = own_new(1, &err);
	assert_non_null(ifs);
	own_free(ifs);
}

static void
test_dsn_sender(void **state)
{
	char why[256];
	struct dsn_sender pass = { "example.net", "pass", "Example.NET", 0, 0 },
	    other = { "example.net", "pass", "example.org", 0, 0 },
	    soft = { "example.net", "softfail", "example.net", 0, 0 },
	    none = { "example.net", NULL, NULL, 0, 0 },
	    internal = { "example.net", NULL, NULL, 1, 0 },
	    auth = { "example.net", "fail", "example.net", 0, 1 };

	(void)state;
	assert_int_equal(dsn_sender_ok(&pass, why, sizeof(why)), 1);
	assert_int_equal(dsn_sender_ok(&internal, why, sizeof(why)), 1);
	assert_int_equal(dsn_sender_ok(&auth, why, sizeof(why)), 1);
	assert_int_equal(dsn_sender_ok(&other, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "SPF pass is for example.org"));
	assert_int_equal(dsn_sender_ok(&soft, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "SPF softfail"));
	assert_int_equal(dsn_sender_ok(&none, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "not checked"));
}

static void
test_dsn_caps(void **state)
{
	struct mem m = { 0 };
	struct cbv_kv kv = KV(&m);
	struct dsn_caps caps = { .total = 3, .per_domain = 2, .period = 3600 };
	double t = 7200 + 10;
	char why[256];

	(void)state;
	assert_int_equal(dsn_caps_admit(&kv, &caps, "a.example", t, why, sizeof(why)), 1);
	assert_int_equal(dsn_caps_admit(&kv, &caps, "A.Example", t, why, sizeof(why)), 1);
	/* the third to one domain: over per_domain, and not counted */
	assert_int_equal(dsn_caps_admit(&kv, &caps, "a.example", t, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "per_domain"));
	assert_non_null(strstr(why, "a.example"));
	assert_int_equal(dsn_caps_admit(&kv, &caps, "a.example", t + 1, why, sizeof(why)), 0);
	/* refusals took nothing from the total: one more goes */
	assert_int_equal(dsn_caps_admit(&kv, &caps, "b.example", t, why, sizeof(why)), 1);
	assert_int_equal(dsn_caps_admit(&kv, &caps, "c.example", t, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "total"));
	/* the next period starts afresh */
	assert_int_equal(dsn_caps_admit(&kv, &caps, "a.example", t + 3600, why,
	    sizeof(why)), 1);
	assert_int_equal(dsn_caps_admit(&kv, &caps, "c.example", t + 3600, why,
	    sizeof(why)), 1);
	/* no counts, no notice */
	m.fail_put = 1;
	assert_int_equal(dsn_caps_admit(&kv, &caps, "d.example", t + 3600, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "store"));
	mem_clear(&m);
}

static void
test_dsn_quote(void **state)
{
	struct mm_buf q = MM_BUF_SOFT_INIT;

	(void)state;
	assert_int_equal(dsn_quote_header(&q, 40, "From", "<a@example.net>"), 1);
	assert_int_equal(dsn_quote_header(&q, 40, "Subject", "hello"), 1);
	/* 37 bytes so far; To would make 47: none of it goes in */
	assert_int_equal(q.len, 37);
	assert_int_equal(dsn_quote_header(&q, 40, "To", "<b@x>"), 0);
	assert_string_equal(q.data, "From: <a@example.net>\nSubject: hello\n");
	assert_int_equal(dsn_quote_header(&q, 41, "X", ""), 1);
	assert_int_equal(q.len, 41);
	free(q.data);
	memset(&q, 0, sizeof(q));
	assert_int_equal(dsn_quote_header(&q, 0, "X", ""), 0);
	assert_null(q.data);
}

static const char *
tvar(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "sender") == 0)
		return "evil@example.net\r\nBcc: victim@example.org";
	return name;
}

static void
test_templates(void **state)
{
	char err[512];
	struct cbv_template *t;
	struct cbv_rendered r;

	(void)state;
	t = template_parse("t", "Subject: hi %(sender)s\nStatus: 4.7.0\n\n"
	    "100%% sure, %(result)s from %(connectip)s\n", err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(template_render(t, tvar, NULL, &r), 0);
	assert_string_equal(r.subject, "hi evil@example.net  Bcc: victim@example.org");
	assert_null(strchr(r.subject, '\n'));
	assert_null(r.action);
	assert_string_equal(r.status, "4.7.0");
	assert_string_equal(r.body, "100% sure, result from connectip\n");
	template_rendered_free(&r);
	template_free(t);

	assert_null(template_parse("t", "Subject: x\n\n%(nosuch)s\n", err, sizeof(err)));
	assert_non_null(strstr(err, "line 3"));
	assert_null(template_parse("t", "Subject: x\n\n50% off\n", err, sizeof(err)));
	assert_null(template_parse("t", "From: x\n\nbody\n", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown header"));
	assert_null(template_parse("t", "Action: nope\n\nbody\n", err, sizeof(err)));
	assert_null(template_parse("t", "Subject: s\nAction: vanished\n\nb\n", err, sizeof(err)));
	assert_null(template_parse("t", "Subject: s\nStatus: 4.7\n\nb\n", err, sizeof(err)));
	assert_null(template_load("/nonexistent", "softfail", err, sizeof(err)));
	assert_null(template_load(SRCDIR "/plugins/cbv/templates", "../cbv.h", err,
	    sizeof(err)));
	/* the shipped samples load */
	static const char *const samples[] = { "softfail", "neutral", "permerror",
		"strike3", "quarantine", NULL };
	for (int i = 0; samples[i]; i++) {
		t = template_load(SRCDIR "/plugins/cbv/templates", samples[i], err,
		    sizeof(err));
		if (t == NULL)
			fail_msg("%s", err);
		template_free(t);
	}
}

/* ---- a scripted SMTP peer on loopback ---- */

struct peer {
	int lfd, port;
	const char *banner;		/* sent first */
	const char *ehlo, *helo, *mail, *rcpt, *data, *dot;	/* replies; NULL: hang */
	char got[8192];			/* what the client sent */
	pthread_t th;
};

static void
say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		return;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->lfd, NULL, NULL);
	char line[1024];
	size_t n = 0, g = 0;
	int indata = 0;

	if (fd < 0)
		return NULL;
	if (p->banner == NULL)
		goto hang;
	say(fd, p->banner);
	for (;;) {
		char ch;
		if (read(fd, &ch, 1) != 1)
			break;
		if (g + 1 < sizeof(p->got))
			p->got[g++] = ch;
		if (ch != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = ch;
			continue;
		}
		line[n] = 0;
		n = 0;
		const char *r = NULL;
		if (indata) {
			if (strcmp(line, ".\r") != 0)
				continue;
			indata = 0;
			r = p->dot;
		} else if (strncmp(line, "EHLO", 4) == 0)
			r = p->ehlo;
		else if (strncmp(line, "HELO", 4) == 0)
			r = p->helo;
		else if (strncmp(line, "MAIL", 4) == 0)
			r = p->mail;
		else if (strncmp(line, "RCPT", 4) == 0)
			r = p->rcpt;
		else if (strncmp(line, "DATA", 4) == 0) {
			r = p->data;
			indata = r && r[0] == '3';
		} else if (strncmp(line, "QUIT", 4) == 0) {
			say(fd, "221 bye\r\n");
			break;
		} else
			r = "500 what\r\n";
		if (r == NULL)
			goto hang;
		say(fd, r);
	}
	close(fd);
	return NULL;
hang:
	/* say nothing until the client gives up */
	while (read(fd, line, sizeof(line)) > 0)
		;
	close(fd);
	return NULL;
}

static void
peer_start(struct peer *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &sl), 0);
	p->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static int progress_calls;

static void
count_progress(void *arg)
{
	(void)arg;
	progress_calls++;
}

static int
run(struct peer *p, const char *data, double step, char *reply, size_t rlen)
{
	static char *const names[] = { "mx.example.com", NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct smtp_dialogue d = {
		.helo_name = "mx.example.com", .probe_from = "", .rcpt = "a@example.net",
		.data = data, .datalen = data ? strlen(data) : 0, .step_timeout = step,
		.deadline = mm_clock_mono() + 2 * step, .own_names = names,
		.progress = count_progress, .progress_interval = 0.1,
	};
	int rc;

	peer_start(p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)p->port);
	rc = smtp_run((struct sockaddr *)&sa, &d, reply, rlen);
	pthread_join(p->th, NULL);
	close(p->lfd);
	return rc;
}

static void
test_smtp_answers(void **state)
{
	char reply[256];
	struct peer ok = { .banner = "220-mx.example.net hi\r\n220 ESMTP\r\n",
		.ehlo = "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
		.mail = "250 2.1.0 Ok\r\n", .rcpt = "250 2.1.5 Ok\r\n" };
	struct peer no = { .banner = "220 mx.example.net\r\n",
		.ehlo = "502 no ehlo\r\n", .helo = "250 mx.example.net\r\n",
		.mail = "250 Ok\r\n", .rcpt = "550 5.1.1 <a@example.net>: unknown\r\n" };
	struct peer later = { .banner = "220 mx.example.net\r\n",
		.ehlo = "250 mx.example.net\r\n", .mail = "250 Ok\r\n",
		.rcpt = "450 4.2.0 greylisted\r\n" };
	struct peer nullrefused = { .banner = "220 mx.example.net\r\n",
		.ehlo = "250 mx.example.net\r\n", .mail = "553 no bounces here\r\n" };
	struct peer us = { .banner = "220 MX.EXAMPLE.COM. ESMTP\r\n" };
	struct peer usehlo = { .banner = "220 other ESMTP\r\n",
		.ehlo = "250 mx.example.com\r\n" };
	struct peer busy = { .banner = "421 busy\r\n" };

	(void)state;
	assert_int_equal(run(&ok, NULL, 2, reply, sizeof(reply)), SMTP_OK);
	assert_string_equal(reply, "RCPT TO: 250 2.1.5 Ok");
	assert_non_null(strstr(ok.got, "EHLO mx.example.com\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<a@example.net>\r\n"));
	assert_null(strstr(ok.got, "DATA"));
	assert_int_equal(run(&no, NULL, 2, reply, sizeof(reply)), SMTP_REJECT);
	assert_non_null(strstr(no.got, "HELO mx.example.com\r\n"));
	assert_string_equal(reply, "RCPT TO: 550 5.1.1 <a@example.net>: unknown");
	assert_int_equal(run(&later, NULL, 2, reply, sizeof(reply)), SMTP_TEMP);
	assert_int_equal(run(&nullrefused, NULL, 2, reply, sizeof(reply)), SMTP_REJECT);
	assert_non_null(strstr(reply, "MAIL FROM: 553"));
	assert_int_equal(run(&us, NULL, 2, reply, sizeof(reply)), SMTP_LOOP);
	assert_int_equal(run(&usehlo, NULL, 2, reply, sizeof(reply)), SMTP_LOOP);
	assert_int_equal(run(&busy, NULL, 2, reply, sizeof(reply)), SMTP_FAIL);
}

static void
test_smtp_deadline(void **state)
{
	char reply[256];
	struct peer mute = { .banner = NULL };
	struct peer slowrcpt = { .banner = "220 mx.example.net\r\n",
		.ehlo = "250 mx.example.net\r\n", .mail = "250 Ok\r\n", .rcpt = NULL };
	double t0;

	(void)state;
	progress_calls = 0;
	t0 = mm_clock_mono();
	assert_int_equal(run(&mute, NULL, 0.5, reply, sizeof(reply)), SMTP_FAIL);
	assert_true(mm_clock_mono() - t0 < 1.5);
	assert_true(progress_calls >= 3);
	t0 = mm_clock_mono();
	assert_int_equal(run(&slowrcpt, NULL, 0.5, reply, sizeof(reply)), SMTP_FAIL);
	assert_true(mm_clock_mono() - t0 < 1.5);
	assert_non_null(strstr(reply, "RCPT TO"));
}

static void
test_smtp_data(void **state)
{
	char reply[256];
	struct peer p = { .banner = "220 mx.example.net\r\n",
		.ehlo = "250 mx.example.net\r\n", .mail = "250 Ok\r\n",
		.rcpt = "250 Ok\r\n", .data = "354 go\r\n", .dot = "250 2.0.0 queued\r\n" };
	struct peer refused = { .banner = "220 mx.example.net\r\n",
		.ehlo = "250 mx.example.net\r\n", .mail = "250 Ok\r\n",
		.rcpt = "250 Ok\r\n", .data = "354 go\r\n", .dot = "554 5.7.1 no thanks\r\n" };
	const char *msg = "Subject: t\n\n.leading dot\nlast line";

	(void)state;
	assert_int_equal(run(&p, msg, 2, reply, sizeof(reply)), SMTP_OK);
	assert_non_null(strstr(p.got, "DATA\r\nSubject: t\r\n\r\n..leading dot\r\n"
	    "last line\r\n.\r\n"));
	assert_int_equal(run(&refused, msg, 2, reply, sizeof(reply)), SMTP_REJECT);
	assert_non_null(strstr(reply, "end of DATA: 554 5.7.1 no thanks"));
}

static void
test_sanitize(void **state)
{
	char out[16];

	(void)state;
	smtp_sanitize("a\r\nb\x01\xff  c", out, sizeof(out));
	assert_string_equal(out, "a b c");
	smtp_sanitize("0123456789abcdefghij", out, sizeof(out));
	assert_int_equal(strlen(out), 15);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive),
		cmocka_unit_test(test_negative_and_defer),
		cmocka_unit_test(test_ok_not_clobbered),
		cmocka_unit_test(test_store_failure_and_format),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_netcheck),
		cmocka_unit_test(test_dsn_sender),
		cmocka_unit_test(test_dsn_caps),
		cmocka_unit_test(test_dsn_quote),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_smtp_answers),
		cmocka_unit_test(test_smtp_deadline),
		cmocka_unit_test(test_smtp_data),
		cmocka_unit_test(test_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
