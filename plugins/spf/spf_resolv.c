/*
 * NAME
 *	spf_resolv - a libspf2 DNS layer that keeps to a deadline
 * SYNOPSIS
 *	See spf_resolv.h.
 * DESCRIPTION
 *	One struct __res_state per thread (res_ninit on first use, closed
 *	by a thread-specific destructor), so that lookups of concurrent
 *	connections never share resolver state. glibc gives each server
 *	retrans seconds on the first round and doubles it, divided among
 *	the servers, on later rounds; retrans is chosen so that all rounds
 *	together fit in what is left of the deadline.
 * DIAGNOSTICS
 *	See spf_resolv.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "spf_eval.h"
#include "spf_resolv.h"

#define NEG_TTL_DEFAULT	60	/* negative answer without an SOA */
#define ANSWER_MAX	65536

struct resolv_hook {
	double query_timeout;
	int retries;
	void (*on_timeout)(void *arg);	/* a query got no answer in time */
	void *arg;
};

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t state_key;
static __thread struct __res_state *tl_state;
static __thread double tl_deadline;

static void
state_free(void *p)
{
	res_nclose(p);
	free(p);
}

static void
make_key(void)
{
	(void)pthread_key_create(&state_key, state_free);
}

static struct __res_state *
thread_state(void)
{
	struct __res_state *st;

	if (tl_state)
		return tl_state;
	pthread_once(&key_once, make_key);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (res_ninit(st) != 0) {
		res_nclose(st);
		free(st);
		return NULL;
	}
	tl_state = st;
	(void)pthread_setspecific(state_key, st);
	return st;
}

void
spf_resolv_set_deadline(double deadline)
{
	tl_deadline = deadline;
}

/* RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM). */
static int
negative_ttl(ns_msg *msg)
{
	ns_rr rr;

	for (int i = 0; i < ns_msg_count(*msg, ns_s_ns); i++) {
		if (ns_parserr(msg, ns_s_ns, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) == ns_t_soa && ns_rr_rdlen(rr) >= 20) {
			const unsigned char *end = ns_rr_rdata(rr) + ns_rr_rdlen(rr);
			unsigned long min = ns_get32(end - 4);
			return (int)(ns_rr_ttl(rr) < min ? ns_rr_ttl(rr) : min);
		}
	}
	return NEG_TTL_DEFAULT;
}

/* Store one answer record's data at index i; 0, or -1 to skip it. */
static int
store(SPF_dns_rr_t *out, int i, ns_msg *msg, ns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	size_t len = ns_rr_rdlen(*rr), n = 0;
	char name[NS_MAXDNAME];

	switch (ns_rr_type(*rr)) {
	case ns_t_a:
		if (len != 4 || SPF_dns_rr_buf_realloc(out, i, 4) != SPF_E_SUCCESS)
			return -1;
		memcpy(&out->rr[i]->a, rd, 4);
		return 0;
	case ns_t_aaaa:
		if (len != 16 || SPF_dns_rr_buf_realloc(out, i, 16) != SPF_E_SUCCESS)
			return -1;
		memcpy(&out->rr[i]->aaaa, rd, 16);
		return 0;
	case ns_t_mx:
		if (len < 3)
			return -1;
		rd += 2;
		/* FALLTHROUGH */
	case ns_t_ptr:
		if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rd,
		    name, sizeof(name)) < 0)
			return -1;
		if (SPF_dns_rr_buf_realloc(out, i, strlen(name) + 1) != SPF_E_SUCCESS)
			return -1;
		strcpy(out->rr[i]->ptr, name);
		return 0;
	case ns_t_txt:
		if (SPF_dns_rr_buf_realloc(out, i, len + 1) != SPF_E_SUCCESS)
			return -1;
		for (size_t k = 0; k < len; ) {
			size_t sl = rd[k++];
			if (sl > len - k)
				sl = len - k;
			for (size_t j = 0; j < sl; j++)
				out->rr[i]->txt[n++] = rd[k + j] ? (char)rd[k + j] : 0x7f;
			k += sl;
		}
		out->rr[i]->txt[n] = 0;
		return 0;
	default:
		return -1;
	}
}

static SPF_dns_rr_t *
answer(SPF_dns_server_t *s, const char *domain, ns_type type,
    const unsigned char *ans, int alen)
{
	ns_msg msg;
	ns_rr rr;
	SPF_dns_rr_t *out;
	int n = 0;
	long ttl = -1;

	if (ns_initparse(ans, alen, &msg) < 0)
		return SPF_dns_rr_new_init(s, domain, type, 0, NO_RECOVERY);
	switch (ns_msg_getflag(msg, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		return SPF_dns_rr_new_init(s, domain, type, negative_ttl(&msg),
		    HOST_NOT_FOUND);
	case ns_r_servfail:
		return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	default:
		return SPF_dns_rr_new_init(s, domain, type, 0, NO_RECOVERY);
	}
	if ((out = SPF_dns_rr_new_init(s, domain, type, 0, NETDB_SUCCESS)) == NULL)
		return NULL;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			out->num_rr = n;
			out->herrno = NO_RECOVERY;
			out->ttl = 0;
			return out;
		}
		if (ttl < 0 || (long)ns_rr_ttl(rr) < ttl)
			ttl = (long)ns_rr_ttl(rr);
		if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;	/* the CNAME chain leading to the data */
		if (store(out, n, &msg, &rr) == 0)
			n++;
	}
	out->num_rr = n;
	if (n == 0) {
		out->herrno = NO_DATA;
		out->ttl = negative_ttl(&msg);
	} else
		out->ttl = ttl < 0 ? 0 : (ttl > 86400 ? 86400 : ttl);
	return out;
}

static SPF_dns_rr_t *
resolv_lookup(SPF_dns_server_t *s, const char *domain, ns_type type,
    int should_cache)
{
	struct resolv_hook *h = s->hook;
	struct __res_state *st = thread_state();
	unsigned char q[NS_PACKETSZ], buf[4096], *ans = buf, *big = NULL;
	int qlen, alen, asize = (int)sizeof(buf), servers, retries;
	double budget = h->query_timeout;
	SPF_dns_rr_t *out;

	(void)should_cache;
	if (st == NULL)
		return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	if (tl_deadline > 0) {
		double left = tl_deadline - mm_clock_mono();
		if (left <= 0)
			return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
		servers = st->nscount > 0 ? st->nscount : 1;
		retries = h->retries > 0 ? h->retries : 1;
		left /= servers + (1 << retries) - 2;
		if (left < budget)
			budget = left;
	}
	st->retrans = budget < 1 ? 1 : (int)budget + (budget > (int)budget);
	st->retry = h->retries > 0 ? h->retries : 1;
	qlen = res_nmkquery(st, ns_o_query, domain, ns_c_in, type, NULL, 0, NULL,
	    q, sizeof(q));
	if (qlen < 0)
		return SPF_dns_rr_new_init(s, domain, type, 0, NO_RECOVERY);
	alen = res_nsend(st, q, qlen, ans, asize);
	if (alen > asize) {
		/* the answer did not fit: ask again with room for it */
		asize = alen < ANSWER_MAX ? alen : ANSWER_MAX;
		if ((big = malloc((size_t)asize)) == NULL)
			return NULL;
		ans = big;
		alen = res_nsend(st, q, qlen, ans, asize);
		if (alen > asize)
			alen = asize;
	}
	if (alen < 0 && errno == ETIMEDOUT && h->on_timeout)
		h->on_timeout(h->arg);
	if (alen < 0)
		out = SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	else
		out = answer(s, domain, type, ans, alen);
	free(big);
	return out;
}

static void
resolv_destroy(SPF_dns_server_t *s)
{
	free(s->hook);
	free(s);
}

SPF_dns_server_t *
spf_resolv_new(double query_timeout, int retries, void (*on_timeout)(void *),
    void *arg, char **err)
{
	SPF_dns_server_t *s = calloc(1, sizeof(*s));
	struct resolv_hook *h = calloc(1, sizeof(*h));

	if (s == NULL || h == NULL) {
		free(s);
		free(h);
		*err = strdup("out of memory");
		return NULL;
	}
	h->query_timeout = query_timeout > 0 ? query_timeout : 5;
	h->retries = retries > 0 ? retries : 1;
	h->on_timeout = on_timeout;
	h->arg = arg;
	s->destroy = resolv_destroy;
	s->lookup = resolv_lookup;
	s->name = "spf-resolv";
	s->hook = h;
	return s;
}
