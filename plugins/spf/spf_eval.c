/*
 * NAME
 *	spf_eval - check_host() of RFC 7208 on libspf2's DNS layers
 * SYNOPSIS
 *	See spf_eval.h.
 * DESCRIPTION
 *	RFC 7208 §4 (check_host: initial processing, record lookup and
 *	selection, evaluation, limits), §5 (mechanisms), §6 (redirect and
 *	exp) and §7 (macros, through spf_macro). Records are parsed whole
 *	by spf_record before any term is evaluated.
 *
 *	Everything a check allocates hangs off struct spf_check (strings,
 *	parsed records, libspf2 RRs), so that a libspf2 error unwinding
 *	through spf_guard leaks nothing: spf_check_free() releases it all.
 *
 *	This file holds the check's life, check_host() (§4: initial
 *	processing, record lookup and selection, evaluation order,
 *	redirect) and the explanation (§6.2); the mechanisms, the limits
 *	and the DNS queries are in spf_mech.c. The exp= query never counts
 *	against the limits. "%{i}" of an IPv6 client is written in upper-
 *	case nibbles, as the reference implementation (pyspf) does; DNS
 *	ignores case.
 * DIAGNOSTICS
 *	See spf_eval.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf_check.h"
#include "spf_guard.h"

/* records one check may read; the lookup limit keeps it far lower */
#define MAX_RECORDS	30

static const char *const result_names[SPFR_COUNT] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
};

const char *
spf_result_name(spf_result r)
{
	return (unsigned)r < SPFR_COUNT ? result_names[r] : "temperror";
}

int
spf_result_parse(const char *name)
{
	for (int i = 0; i < SPFR_COUNT; i++)
		if (strcasecmp(name, result_names[i]) == 0)
			return i;
	return -1;
}

/* A copy owned by the check; NULL (and c->oom) when memory runs out. */
const char *
chk_keep(struct spf_check *c, const char *s, size_t n)
{
	struct strnode *k = malloc(sizeof(*k) + n + 1);

	if (k == NULL) {
		c->oom = 1;
		return NULL;
	}
	memcpy(k->s, s, n);
	k->s[n] = 0;
	k->next = c->strs;
	c->strs = k;
	return k->s;
}

const char *
chk_keeps(struct spf_check *c, const char *s)
{
	return chk_keep(c, s, strlen(s));
}

/* End the check with a temperror or permerror and say why. */
enum term
chk_error(struct spf_check *c, spf_result r, const char *fmt, ...)
{
	char buf[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->err = r;
	c->problem = chk_keeps(c, buf);
	return T_ERROR;
}

static spf_result
qualifier(char q)
{
	switch (q) {
	case '-': return SPFR_FAIL;
	case '~': return SPFR_SOFTFAIL;
	case '?': return SPFR_NEUTRAL;
	default: return SPFR_PASS;
	}
}

/* The one SPF record of domain (§4.4, §4.5); NULL with *r set otherwise. */
static const char *
select_record(struct spf_check *c, const char *domain, spf_result *r)
{
	SPF_dns_rr_t *rr;
	const char *found = NULL;

	switch (chk_lookup(c, domain, ns_t_txt, &rr)) {
	case LK_ERROR:
		*r = SPFR_TEMPERROR;
		return NULL;
	case LK_VOID:
		*r = SPFR_NONE;
		return NULL;
	default:
		break;
	}
	for (int i = 0; i < rr->num_rr; i++) {
		if (rr->rr[i] == NULL || !spf_record_is_spf(rr->rr[i]->txt))
			continue;
		if (found) {
			chk_error(c, SPFR_PERMERROR, "%s has more than one SPF record", domain);
			*r = SPFR_PERMERROR;
			return NULL;
		}
		found = rr->rr[i]->txt;
	}
	*r = SPFR_NONE;
	return found;
}

static spf_result
finish(struct spf_check *c, spf_result r, const char *mechanism)
{
	c->mechanism = mechanism;
	return r;
}

spf_result
chk_host(struct spf_check *c, const char *domain, const char *text, int want_exp)
{
	struct recnode *node;
	struct spf_record *rec;
	char why[200];
	spf_result r;

	if (!spf_domain_valid(domain, 1) || domain[0] == '[') {
		c->problem = chk_keeps(c, "malformed domain");
		return finish(c, SPFR_NONE, "");
	}
	if (++c->records > MAX_RECORDS) {
		chk_error(c, SPFR_PERMERROR, "too many records, at %s", domain);
		return finish(c, SPFR_PERMERROR, "");
	}
	if (text == NULL && (text = select_record(c, domain, &r)) == NULL)
		return finish(c, r, "");
	if ((node = calloc(1, sizeof(*node))) == NULL) {
		c->oom = 1;
		chk_error(c, SPFR_TEMPERROR, "out of memory");
		return finish(c, SPFR_TEMPERROR, "");
	}
	node->next = c->recs;
	c->recs = node;
	rec = &node->rec;
	if (spf_record_parse(text, rec, why, sizeof(why)) < 0) {
		if (rec->oom) {
			c->oom = 1;
			chk_error(c, SPFR_TEMPERROR, "out of memory");
			return finish(c, SPFR_TEMPERROR, "");
		}
		chk_error(c, SPFR_PERMERROR, "%s: %s", domain, why);
		return finish(c, SPFR_PERMERROR, "");
	}
	for (size_t i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->terms[i];
		switch (chk_term(c, t, domain)) {
		case T_NOMATCH:
			continue;
		case T_ERROR:
			return finish(c, c->err, chk_keep(c, t->text, t->textlen));
		case T_MATCH:
			r = qualifier(t->qual);
			if (r == SPFR_FAIL && want_exp) {
				c->exp_spec = rec->exp ? chk_keep(c, rec->exp, rec->explen) : NULL;
				c->exp_domain = chk_keeps(c, domain);
			}
			return finish(c, r, chk_keep(c, t->text, t->textlen));
		}
	}
	if (rec->redirect) {
		struct spf_term rt;
		const char *name;

		memset(&rt, 0, sizeof(rt));
		rt.text = rec->redirect - 9;	/* "redirect=" */
		rt.textlen = rec->redirectlen + 9;
		if (chk_count(c, &rt) < 0)
			return finish(c, SPFR_PERMERROR, "");
		name = chk_target(c, rec->redirect, rec->redirectlen, domain);
		if (c->oom) {
			chk_error(c, SPFR_TEMPERROR, "out of memory");
			return finish(c, SPFR_TEMPERROR, "");
		}
		r = name ? chk_host(c, name, NULL, want_exp) : SPFR_NONE;
		if (r == SPFR_NONE) {
			chk_error(c, SPFR_PERMERROR, "redirect target %s has no SPF record",
			    name ? name : "(malformed)");
			return finish(c, SPFR_PERMERROR, chk_keep(c, rt.text, rt.textlen));
		}
		return r;
	}
	return finish(c, SPFR_NEUTRAL, "default");
}

static void
client_strings(struct spf_check *c)
{
	const unsigned char *a = c->ip.a;
	static const char hex[] = "0123456789ABCDEF", lhex[] = "0123456789abcdef";

	inet_ntop(c->ip.family, a, c->ip_c, sizeof(c->ip_c));
	if (c->ip.family == AF_INET) {
		snprintf(c->ip_i, sizeof(c->ip_i), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		snprintf(c->rev, sizeof(c->rev), "%u.%u.%u.%u.in-addr.arpa",
		    a[3], a[2], a[1], a[0]);
		return;
	}
	for (int i = 0, k = 0; i < 16; i++) {
		c->ip_i[k++] = hex[a[i] >> 4];
		c->ip_i[k++] = '.';
		c->ip_i[k++] = hex[a[i] & 15];
		c->ip_i[k++] = i < 15 ? '.' : 0;
	}
	for (int i = 15, k = 0; i >= 0; i--) {
		c->rev[k++] = lhex[a[i] & 15];
		c->rev[k++] = '.';
		c->rev[k++] = lhex[a[i] >> 4];
		c->rev[k++] = '.';
		if (i == 0)
			strcpy(c->rev + k, "ip6.arpa");
	}
}

/* Sender, local part ("postmaster" when empty, §4.3) and its domain. */
static void
sender_parts(struct spf_check *c, const struct spf_request *rq)
{
	const char *s = rq->sender ? rq->sender : "";
	const char *at = strrchr(s, '@');

	if (at == NULL) {
		c->local = "postmaster";
		c->sdomain = chk_keeps(c, rq->domain);
		c->sender = chk_keeps(c, s);
		return;
	}
	c->local = at == s ? "postmaster" : chk_keep(c, s, (size_t)(at - s));
	c->sdomain = chk_keeps(c, at + 1);
	if (at == s) {
		struct mm_buf b = MM_BUF_SOFT_INIT;
		mm_buf_printf(&b, "postmaster%s", s);
		c->sender = mm_buf_str(&b) ? chk_keeps(c, b.data) : NULL;
		c->oom |= b.oom;
		mm_buf_free(&b);
	} else
		c->sender = chk_keeps(c, s);
}

struct spf_check *
spf_check_run(const struct spf_env *env, const struct spf_request *rq)
{
	struct spf_check *c = calloc(1, sizeof(*c));
	struct spf_guard g;
	const char *domain;

	if (c == NULL)
		return NULL;
	c->env = *env;
	if (c->env.lookup_limit <= 0)
		c->env.lookup_limit = 10;
	if (c->env.void_limit == 0)
		c->env.void_limit = 2;
	c->ip = rq->ip;
	c->t = (long)time(NULL);
	c->mechanism = c->problem = "";
	client_strings(c);
	sender_parts(c, rq);
	c->helo = chk_keeps(c, rq->helo ? rq->helo : "");
	domain = chk_keeps(c, rq->domain ? rq->domain : "");
	if (c->oom || domain == NULL) {
		c->result = SPFR_TEMPERROR;
		c->problem = "out of memory";
		return c;
	}
	memset(&g, 0, sizeof(g));
	g.log = env->log;
	g.logarg = env->logarg;
	if (setjmp(g.env) == 0) {
		spf_guard_push(&g);
		c->result = chk_host(c, domain, rq->record, 1);
		spf_guard_pop(&g);
	} else {
		c->result = SPFR_TEMPERROR;
		c->problem = chk_keeps(c, g.msg);
		if (c->problem == NULL)
			c->problem = "libspf2 error";
	}
	if (c->oom) {
		c->result = SPFR_TEMPERROR;
		c->problem = "out of memory";
	}
	if (c->problem == NULL)
		c->problem = "";
	if (c->mechanism == NULL)
		c->mechanism = "";
	return c;
}

spf_result
spf_check_result(const struct spf_check *c)
{
	return c->result;
}

const char *
spf_check_mechanism(const struct spf_check *c)
{
	return c->mechanism;
}

const char *
spf_check_problem(const struct spf_check *c)
{
	return c->result == SPFR_TEMPERROR || c->result == SPFR_PERMERROR ?
	    c->problem : "";
}

/* The text of the exp= record, or NULL to use the default (§6.2). */
static const char *
exp_text(struct spf_check *c)
{
	struct spf_macro_vars v;
	struct mm_buf b = MM_BUF_SOFT_INIT;
	SPF_dns_rr_t *rr;
	const char *name, *txt, *r = NULL;

	if (c->exp_spec == NULL)
		return NULL;
	name = chk_target(c, c->exp_spec, strlen(c->exp_spec), c->exp_domain);
	if (name == NULL || chk_lookup(c, name, ns_t_txt, &rr) != LK_OK || rr->num_rr != 1 ||
	    rr->rr[0] == NULL)
		return NULL;
	txt = rr->rr[0]->txt;
	if (spf_macro_check(txt, strlen(txt), SPF_MACRO_EXP, NULL) < 0)
		return NULL;
	chk_vars(c, c->exp_domain, &v);
	if (spf_macro_expand(txt, strlen(txt), SPF_MACRO_EXP, &v, &b) == 0 && mm_buf_str(&b))
		r = chk_keeps(c, b.data);
	mm_buf_free(&b);
	return r;
}

static const char *
default_text(struct spf_check *c)
{
	struct spf_macro_vars v;
	struct mm_buf b = MM_BUF_SOFT_INIT;
	const char *d = c->env.default_exp, *r = NULL;

	if (d == NULL)
		d = "%{i} is not allowed to send mail from %{o}";
	chk_vars(c, c->exp_domain ? c->exp_domain : c->sdomain, &v);
	if (spf_macro_expand(d, strlen(d), SPF_MACRO_EXP, &v, &b) == 0 && mm_buf_str(&b))
		r = chk_keeps(c, b.data);
	mm_buf_free(&b);
	return r ? r : "SPF fail: sender not authorized";
}

const char *
spf_check_explanation(struct spf_check *c)
{
	struct spf_guard g;

	if (c->result != SPFR_FAIL)
		return NULL;
	if (c->exp_done)
		return c->explanation;
	c->exp_done = 1;
	memset(&g, 0, sizeof(g));
	g.log = c->env.log;
	g.logarg = c->env.logarg;
	if (setjmp(g.env) == 0) {
		spf_guard_push(&g);
		if ((c->explanation = exp_text(c)) == NULL)
			c->explanation = default_text(c);
		spf_guard_pop(&g);
	} else
		c->explanation = "SPF fail: sender not authorized";
	return c->explanation;
}

void
spf_check_free(struct spf_check *c)
{
	if (c == NULL)
		return;
	while (c->strs) {
		struct strnode *n = c->strs->next;
		free(c->strs);
		c->strs = n;
	}
	while (c->rrs) {
		struct rrnode *n = c->rrs->next;
		if (c->rrs->rr)
			SPF_dns_rr_free(c->rrs->rr);
		free(c->rrs);
		c->rrs = n;
	}
	while (c->recs) {
		struct recnode *n = c->recs->next;
		spf_record_free(&c->recs->rec);
		free(c->recs);
		c->recs = n;
	}
	free(c);
}
