/*
 * NAME
 *	spf_mech - DNS queries, limits and the mechanisms of RFC 7208 §5
 * SYNOPSIS
 *	#include "spf_check.h"
 *
 *	r = chk_term(c, term, domain);	T_MATCH, T_NOMATCH or T_ERROR
 * DESCRIPTION
 *	One function per mechanism (a, mx, ptr, include, exists; all, ip4
 *	and ip6 need no DNS), the lookup limit (10 terms that query DNS,
 *	§4.6.4) and the void lookup limit, the %{p} macro, and the single
 *	place where a DNS query is made: chk_lookup(), through libspf2's
 *	SPF_dns_lookup() on the instance's DNS stack, after checking the
 *	deadline.
 *
 *	Choices where the RFC leaves room, each matching the RFC 7208
 *	test suite's preferred result:
 *	- a target name that is malformed after macro expansion (empty or
 *	  over-long label) is not looked up and does not match;
 *	- void lookups are counted per term, on the query the term is
 *	  about (a: the address query; mx: the MX query; ptr: the PTR
 *	  query; exists: the A query), not on the address queries of MX
 *	  hosts or PTR names;
 *	- more than 10 MX names is a permerror; of more than 10 PTR names
 *	  only the first 10 are considered, and only those that would
 *	  match are validated.
 * DIAGNOSTICS
 *	T_ERROR leaves the result (temperror or permerror) in c->err and
 *	the reason in c->problem.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_check.h"
#include "spf_resolv.h"

#define MAX_NAMES	10	/* MX and PTR names per term (§4.6.4) */

enum lookup
chk_lookup(struct spf_check *c, const char *name, ns_type type, SPF_dns_rr_t **out)
{
	struct rrnode *node;
	SPF_dns_rr_t *rr;

	*out = NULL;
	if (c->env.deadline > 0 && mm_clock_mono() >= c->env.deadline) {
		chk_error(c, SPFR_TEMPERROR, "time limit exceeded before looking up %s", name);
		return LK_ERROR;
	}
	if ((node = malloc(sizeof(*node))) == NULL) {
		c->oom = 1;
		chk_error(c, SPFR_TEMPERROR, "out of memory");
		return LK_ERROR;
	}
	node->rr = NULL;
	node->next = c->rrs;
	c->rrs = node;
	spf_resolv_set_deadline(c->env.deadline);
	rr = SPF_dns_lookup(c->env.dns, name, type, 1);
	node->rr = rr;
	*out = rr;
	switch (rr->herrno) {
	case NETDB_SUCCESS:
		return rr->num_rr > 0 ? LK_OK : LK_VOID;
	case HOST_NOT_FOUND:
	case NO_DATA:
		return LK_VOID;
	default:
		chk_error(c, SPFR_TEMPERROR, "DNS failure looking up %s %s", name,
		    type == ns_t_txt ? "TXT" : type == ns_t_a ? "A" :
		    type == ns_t_aaaa ? "AAAA" : type == ns_t_mx ? "MX" : "PTR");
		return LK_ERROR;
	}
}

/* A name from DNS, without its trailing dot, lower case. */
static const char *
dns_name(struct spf_check *c, const char *s)
{
	size_t n = strlen(s);
	char *k;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if ((k = (char *)chk_keep(c, s, n)) == NULL)
		return NULL;
	for (char *p = k; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

static const char *
validated_name(void *arg);

void
chk_vars(struct spf_check *c, const char *domain, struct spf_macro_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->s = c->sender;
	v->l = c->local;
	v->o = c->sdomain;
	v->d = domain;
	v->i = c->ip_i;
	v->c = c->ip_c;
	v->v = c->ip.family == AF_INET ? "in-addr" : "ip6";
	v->h = c->helo;
	v->r = c->env.receiver;
	v->t = c->t;
	v->p = validated_name;
	v->parg = c;
	c->cur_domain = domain;
}

/*
 * Expand a domain-spec into a name to look up (§7.3): trailing dot
 * dropped, labels removed from the left while longer than 253
 * characters, lower case. NULL: malformed after expansion (or memory
 * exhausted, which sets c->oom).
 */
const char *
chk_target(struct spf_check *c, const char *spec, size_t n, const char *domain)
{
	struct spf_macro_vars v;
	struct mm_buf b = MM_BUF_SOFT_INIT;
	const char *s, *r = NULL;
	size_t len;

	chk_vars(c, domain, &v);
	if (spf_macro_expand(spec, n, 0, &v, &b) < 0 || (s = mm_buf_str(&b)) == NULL) {
		c->oom |= b.oom;
		mm_buf_free(&b);
		return NULL;
	}
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	while (len > 253) {
		const char *dot = memchr(s, '.', len);
		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	if ((r = chk_keep(c, s, len)) != NULL) {
		for (char *p = (char *)r; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!spf_domain_valid(r, 0))
			r = NULL;
	}
	mm_buf_free(&b);
	return r;
}

int
chk_count(struct spf_check *c, const struct spf_term *t)
{
	if (++c->lookups > c->env.lookup_limit) {
		chk_error(c, SPFR_PERMERROR, "more than %d DNS-querying terms, at '%.*s'",
		    c->env.lookup_limit, (int)(t->textlen > 64 ? 64 : t->textlen), t->text);
		return -1;
	}
	return 0;
}

static int
count_void(struct spf_check *c, const char *name)
{
	if (c->env.void_limit >= 0 && ++c->voids > c->env.void_limit) {
		chk_error(c, SPFR_PERMERROR, "more than %d void lookups, at %s",
		    c->env.void_limit, name);
		return -1;
	}
	return 0;
}

static int
addr_matches(const struct spf_check *c, const SPF_dns_rr_t *rr,
    const struct spf_term *t)
{
	for (int i = 0; i < rr->num_rr; i++) {
		if (rr->rr[i] == NULL)
			continue;
		if (c->ip.family == AF_INET && rr->rr_type == ns_t_a &&
		    spf_ip_in(&c->ip, AF_INET, (const unsigned char *)&rr->rr[i]->a,
		    t ? t->cidr4 : 32))
			return 1;
		if (c->ip.family == AF_INET6 && rr->rr_type == ns_t_aaaa &&
		    spf_ip_in(&c->ip, AF_INET6, (const unsigned char *)&rr->rr[i]->aaaa,
		    t ? t->cidr6 : 128))
			return 1;
	}
	return 0;
}

static ns_type
addr_type(const struct spf_check *c)
{
	return c->ip.family == AF_INET ? ns_t_a : ns_t_aaaa;
}

/* a: the client is among the target's addresses (§5.3) */
static enum term
mech_a(struct spf_check *c, const struct spf_term *t, const char *name)
{
	SPF_dns_rr_t *rr;

	switch (chk_lookup(c, name, addr_type(c), &rr)) {
	case LK_ERROR:
		return T_ERROR;
	case LK_VOID:
		return count_void(c, name) < 0 ? T_ERROR : T_NOMATCH;
	default:
		return addr_matches(c, rr, t) ? T_MATCH : T_NOMATCH;
	}
}

/* mx: the client is among the addresses of the target's MX hosts (§5.4) */
static enum term
mech_mx(struct spf_check *c, const struct spf_term *t, const char *name)
{
	SPF_dns_rr_t *mx, *rr;

	switch (chk_lookup(c, name, ns_t_mx, &mx)) {
	case LK_ERROR:
		return T_ERROR;
	case LK_VOID:
		return count_void(c, name) < 0 ? T_ERROR : T_NOMATCH;
	default:
		break;
	}
	if (mx->num_rr > MAX_NAMES)
		return chk_error(c, SPFR_PERMERROR, "%s has more than %d MX records",
		    name, MAX_NAMES);
	for (int i = 0; i < mx->num_rr; i++) {
		const char *host = mx->rr[i] ? dns_name(c, mx->rr[i]->mx) : NULL;
		if (host == NULL) {
			if (c->oom)
				return chk_error(c, SPFR_TEMPERROR, "out of memory");
			continue;
		}
		if (!spf_domain_valid(host, 0))
			continue;	/* a null MX (".") or garbage */
		switch (chk_lookup(c, host, addr_type(c), &rr)) {
		case LK_ERROR:
			return T_ERROR;
		case LK_VOID:
			continue;
		default:
			if (addr_matches(c, rr, t))
				return T_MATCH;
		}
	}
	return T_NOMATCH;
}

/* Is name one of the client's addresses? (validation of §5.5) */
static int
validates(struct spf_check *c, const char *name)
{
	SPF_dns_rr_t *rr;
	spf_result saved_err = c->err;
	const char *saved_problem = c->problem;
	int r = 0;

	/* an error validating one name skips that name (§5.5) */
	switch (chk_lookup(c, name, addr_type(c), &rr)) {
	case LK_OK:
		r = addr_matches(c, rr, NULL);
		break;
	default:
		c->err = saved_err;
		c->problem = saved_problem;
		break;
	}
	return r;
}

/* The PTR names of the client, or NULL (error or none). */
static SPF_dns_rr_t *
ptr_names(struct spf_check *c, int *void_answer)
{
	SPF_dns_rr_t *rr;
	spf_result saved_err = c->err;
	const char *saved_problem = c->problem;

	*void_answer = 0;
	switch (chk_lookup(c, c->rev, ns_t_ptr, &rr)) {
	case LK_OK:
		return rr;
	case LK_VOID:
		*void_answer = 1;
		return NULL;
	default:
		c->err = saved_err;
		c->problem = saved_problem;
		return NULL;
	}
}

/* ptr: a validated name of the client ends in the target (§5.5) */
static enum term
mech_ptr(struct spf_check *c, const char *name)
{
	SPF_dns_rr_t *ptr;
	int is_void, n;

	if ((ptr = ptr_names(c, &is_void)) == NULL)
		return is_void && count_void(c, c->rev) < 0 ? T_ERROR : T_NOMATCH;
	n = ptr->num_rr < MAX_NAMES ? ptr->num_rr : MAX_NAMES;
	for (int i = 0; i < n; i++) {
		const char *host = ptr->rr[i] ? dns_name(c, ptr->rr[i]->ptr) : NULL;
		if (host == NULL) {
			if (c->oom)
				return chk_error(c, SPFR_TEMPERROR, "out of memory");
			continue;
		}
		/* only names that would match need validating */
		if (spf_domain_valid(host, 0) && mm_domain_within(host, name) &&
		    validates(c, host))
			return T_MATCH;
	}
	return T_NOMATCH;
}

/* %{p} (§7.3): a validated name, one within the current domain if any. */
static const char *
validated_name(void *arg)
{
	struct spf_check *c = arg;
	const char *domain = c->cur_domain ? c->cur_domain : "";
	const char *first = NULL;
	SPF_dns_rr_t *ptr;
	int is_void, n;

	if (c->p_domain && strcasecmp(c->p_domain, domain) == 0)
		return c->p_name;
	if ((ptr = ptr_names(c, &is_void)) != NULL) {
		n = ptr->num_rr < MAX_NAMES ? ptr->num_rr : MAX_NAMES;
		for (int i = 0; i < n; i++) {
			const char *host = ptr->rr[i] ? dns_name(c, ptr->rr[i]->ptr) : NULL;
			if (host == NULL || !spf_domain_valid(host, 0) || !validates(c, host))
				continue;
			if (mm_domain_within(host, domain)) {
				first = host;
				break;
			}
			if (first == NULL)
				first = host;
		}
	}
	c->p_domain = chk_keeps(c, domain);
	c->p_name = first ? first : "unknown";
	return c->p_name;
}

/* include: the included domain's result decides (§5.2) */
static enum term
mech_include(struct spf_check *c, const char *name)
{
	spf_result r = chk_host(c, name, NULL, 0);

	switch (r) {
	case SPFR_PASS:
		return T_MATCH;
	case SPFR_FAIL:
	case SPFR_SOFTFAIL:
	case SPFR_NEUTRAL:
		return T_NOMATCH;
	case SPFR_TEMPERROR:
		c->err = SPFR_TEMPERROR;
		return T_ERROR;
	case SPFR_NONE:
		return chk_error(c, SPFR_PERMERROR, "included domain %s has no SPF record", name);
	default:
		c->err = SPFR_PERMERROR;
		return T_ERROR;
	}
}

/* exists: the target has an A record, whatever the client's family (§5.7) */
static enum term
mech_exists(struct spf_check *c, const char *name)
{
	SPF_dns_rr_t *rr;

	switch (chk_lookup(c, name, ns_t_a, &rr)) {
	case LK_ERROR:
		return T_ERROR;
	case LK_VOID:
		return count_void(c, name) < 0 ? T_ERROR : T_NOMATCH;
	default:
		return T_MATCH;
	}
}

enum term
chk_term(struct spf_check *c, const struct spf_term *t, const char *domain)
{
	const char *name = domain;

	switch (t->mech) {
	case SPF_M_ALL:
		return T_MATCH;
	case SPF_M_IP4:
		return spf_ip_in(&c->ip, AF_INET, t->net, t->cidr4) ? T_MATCH : T_NOMATCH;
	case SPF_M_IP6:
		return spf_ip_in(&c->ip, AF_INET6, t->net, t->cidr6) ? T_MATCH : T_NOMATCH;
	default:
		break;
	}
	if (chk_count(c, t) < 0)
		return T_ERROR;
	if (t->spec) {
		name = chk_target(c, t->spec, t->speclen, domain);
		if (c->oom)
			return chk_error(c, SPFR_TEMPERROR, "out of memory");
		if (name == NULL) {
			/* malformed after expansion: an include finds no record */
			if (t->mech == SPF_M_INCLUDE)
				return chk_error(c, SPFR_PERMERROR, "malformed include target in '%.*s'",
				    (int)(t->textlen > 64 ? 64 : t->textlen), t->text);
			return T_NOMATCH;
		}
	}
	switch (t->mech) {
	case SPF_M_A:
		return mech_a(c, t, name);
	case SPF_M_MX:
		return mech_mx(c, t, name);
	case SPF_M_PTR:
		return mech_ptr(c, name);
	case SPF_M_INCLUDE:
		return mech_include(c, name);
	case SPF_M_EXISTS:
		return mech_exists(c, name);
	default:
		return T_NOMATCH;
	}
}
