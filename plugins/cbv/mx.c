/*
 * NAME
 *	mx - where a domain's mail goes: MX records, then addresses
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_dns dns = { .timeout = 5, .tries = 2 };
 *	struct cbv_mx mx;
 *	switch (mx_lookup(&dns, "example.net", &mx, err, sizeof(err))) ...
 *	mx_addrs(&dns, mx.hosts[0].name, addrs, 8, &n, err, sizeof(err));
 *	mx_free(&mx);
 * DESCRIPTION
 *	mx_lookup() returns the MX hosts in preference order, hosts of equal
 *	preference in random order (RFC 5321 5.1). A domain without MX
 *	records is its own implicit MX. A single MX of preference 0 with
 *	the root as exchange is RFC 7505's null MX: MX_NULL. A domain that
 *	does not exist is MX_NODOMAIN. mx_addrs() returns a host's IPv6
 *	and IPv4 addresses (port unset); MX_NONE when it has none.
 *
 *	Queries go through res_nquery() with a resolver state on the
 *	caller's stack, so many threads resolve at once; the query timeout
 *	and tries are the caller's, so a dead name server cannot outlast
 *	the probe's deadline by much. An answer larger than the first
 *	buffer (a big MX set, fetched over TCP) is asked for again with
 *	room for all of it; nothing past what was received is ever read.
 * DIAGNOSTICS
 *	MX_TEMP, with err set, when the name servers fail or time out, or
 *	an answer cannot be parsed (never a partial MX list).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cbv.h"

#define ANSWER_FIRST	4096	/* most answers fit */
#define ANSWER_MAX	65536	/* the largest DNS message there is */

/*
 * 1 answered (maybe empty), 0 NXDOMAIN, -1 temporary failure.
 * *ans (malloc'ed, *cap bytes) grows when the answer did not fit:
 * res_nquery() then returns the whole answer's length but has written
 * only *cap bytes of it (a large answer over TCP), so the length must
 * never be used as is. *len is never more than *cap.
 */
static int
query(const struct cbv_dns *dns, const char *name, int type, unsigned char **ans,
    size_t *cap, int *len, char *err, size_t errlen)
{
	struct __res_state rs;
	unsigned char *big;
	int n, r;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0) {
		snprintf(err, errlen, "resolver initialisation failed");
		return -1;
	}
	rs.retrans = dns->timeout >= 1 ? (int)dns->timeout : 1;
	rs.retry = dns->tries > 0 ? dns->tries : 1;
	rs.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	n = res_nquery(&rs, name, C_IN, type, *ans, (int)*cap);
	if (n > (int)*cap && *cap < ANSWER_MAX) {
		/* ask again with room for all of it */
		size_t want = (size_t)n < ANSWER_MAX ? (size_t)n : ANSWER_MAX;
		if ((big = realloc(*ans, want)) == NULL) {
			snprintf(err, errlen, "out of memory");
			res_nclose(&rs);
			return -1;
		}
		*ans = big;
		*cap = want;
		n = res_nquery(&rs, name, C_IN, type, *ans, (int)*cap);
	}
	if (n > (int)*cap) {
		/* still more than we asked for: only what we hold is read */
		snprintf(err, errlen, "DNS answer for %s too large (%d bytes)",
		    name, n);
		r = -1;
	} else if (n >= 0) {
		*len = n;
		r = 1;
	} else if (rs.res_h_errno == HOST_NOT_FOUND) {
		r = 0;
	} else if (rs.res_h_errno == NO_DATA) {
		*len = 0;
		r = 1;
	} else {
		snprintf(err, errlen, "DNS lookup of %s failed: %s", name,
		    rs.res_h_errno == TRY_AGAIN ? "server failure or timeout" :
		    "no recovery");
		r = -1;
	}
	res_nclose(&rs);
	return r;
}

static int
cmp_pref(const void *a, const void *b)
{
	const struct cbv_mxhost *x = a, *y = b;

	return (x->pref > y->pref) - (x->pref < y->pref);
}

/* random order within each preference */
static void
shuffle_ties(struct cbv_mx *mx)
{
	size_t i = 0, j;

	while (i < mx->n) {
		for (j = i + 1; j < mx->n && mx->hosts[j].pref == mx->hosts[i].pref; j++)
			;
		for (size_t k = j - 1; k > i; k--) {
			size_t r = i + arc4random_uniform((uint32_t)(k - i + 1));
			struct cbv_mxhost t = mx->hosts[k];
			mx->hosts[k] = mx->hosts[r];
			mx->hosts[r] = t;
		}
		i = j;
	}
}

int
mx_lookup(const struct cbv_dns *dns, const char *domain, struct cbv_mx *mx,
    char *err, size_t errlen)
{
	unsigned char *ans;
	size_t cap = ANSWER_FIRST;
	int len = 0, r, nul = 0, bad = 0;
	ns_msg msg;
	ns_rr rr;

	memset(mx, 0, sizeof(*mx));
	if ((ans = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return MX_TEMP;
	}
	r = query(dns, domain, ns_t_mx, &ans, &cap, &len, err, errlen);
	if (r <= 0) {
		free(ans);
		if (r == 0)
			snprintf(err, errlen, "domain %s does not exist", domain);
		return r == 0 ? MX_NODOMAIN : MX_TEMP;
	}
	if (len > 0 && ns_initparse(ans, len, &msg) < 0)
		bad = 1;
	else if (len > 0) {
		int count = ns_msg_count(msg, ns_s_an);
		mx->hosts = calloc((size_t)count + 1, sizeof(*mx->hosts));
		if (mx->hosts == NULL)
			bad = 1;
		for (int i = 0; mx->hosts && i < count; i++) {
			const unsigned char *rd;
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
				bad = 1;	/* a partial list is no list */
				break;
			}
			if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
				continue;
			rd = ns_rr_rdata(rr);
			struct cbv_mxhost *h = &mx->hosts[mx->n];
			h->pref = ns_get16(rd);
			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2,
			    h->name, sizeof(h->name)) < 0)
				continue;
			if (h->name[0] == 0 || strcmp(h->name, ".") == 0) {
				nul++;
				continue;
			}
			mx->n++;
		}
	}
	free(ans);
	if (bad) {
		mx_free(mx);
		snprintf(err, errlen, "DNS answer for %s MX cannot be parsed", domain);
		return MX_TEMP;
	}
	if (mx->n == 0 && nul > 0) {
		mx_free(mx);
		snprintf(err, errlen, "domain %s accepts no mail (null MX)", domain);
		return MX_NULL;
	}
	if (mx->n == 0) {
		free(mx->hosts);
		if ((mx->hosts = calloc(1, sizeof(*mx->hosts))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return MX_TEMP;
		}
		snprintf(mx->hosts[0].name, sizeof(mx->hosts[0].name), "%s", domain);
		mx->n = 1;
		mx->implicit = 1;
		return MX_OK;
	}
	qsort(mx->hosts, mx->n, sizeof(*mx->hosts), cmp_pref);
	shuffle_ties(mx);
	return MX_OK;
}

void
mx_free(struct cbv_mx *mx)
{
	free(mx->hosts);
	memset(mx, 0, sizeof(*mx));
}

static void
collect(const unsigned char *ans, int len, int type, struct sockaddr_storage *out,
    size_t max, size_t *n)
{
	ns_msg msg;
	ns_rr rr;

	if (len <= 0 || ns_initparse(ans, len, &msg) < 0)
		return;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && *n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int)ns_rr_type(rr) != type)
			continue;
		memset(&out[*n], 0, sizeof(out[*n]));
		if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
			struct sockaddr_in *s = (struct sockaddr_in *)(void *)&out[*n];
			s->sin_family = AF_INET;
			memcpy(&s->sin_addr, ns_rr_rdata(rr), 4);
			(*n)++;
		} else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)(void *)&out[*n];
			s->sin6_family = AF_INET6;
			memcpy(&s->sin6_addr, ns_rr_rdata(rr), 16);
			(*n)++;
		}
	}
}

int
mx_addrs(const struct cbv_dns *dns, const char *host, struct sockaddr_storage *out,
    size_t max, size_t *n, char *err, size_t errlen)
{
	unsigned char *ans;
	size_t cap = ANSWER_FIRST;
	int len, r6, r4;

	*n = 0;
	if ((ans = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return MX_TEMP;
	}
	len = 0;
	r6 = query(dns, host, ns_t_aaaa, &ans, &cap, &len, err, errlen);
	if (r6 > 0)
		collect(ans, len, ns_t_aaaa, out, max, n);
	len = 0;
	r4 = query(dns, host, ns_t_a, &ans, &cap, &len, err, errlen);
	if (r4 > 0)
		collect(ans, len, ns_t_a, out, max, n);
	free(ans);
	if (*n > 0)
		return MX_OK;
	if (r4 < 0 || r6 < 0)
		return MX_TEMP;
	snprintf(err, errlen, "host %s has no address", host);
	return r4 == 0 ? MX_NODOMAIN : MX_NONE;
}
