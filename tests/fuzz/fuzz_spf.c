/*
 * NAME
 *	fuzz_spf - libFuzzer target for SPF records and macro strings
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] spf
 * DESCRIPTION
 *	An input is lines: an SPF record, a macro string, the sender, the
 *	domain, the HELO name, the client address, then any number of zone
 *	entries "NAME TYPE DATA" (TYPE one of TXT A AAAA MX PTR CNAME
 *	TIMEOUT; MX data is "PRIO HOST"). A missing line takes a plausible
 *	default, so that each part can be fuzzed alone.
 *
 *	The record goes through spf_record_parse(); every domain-spec it
 *	accepts must pass spf_macro_check() and expand. The macro string
 *	is checked and expanded as a domain-spec and as explanation text:
 *	what the check accepts must expand. Then the record is evaluated
 *	for real (spf_check_run) against the zone, with the test suite's
 *	in-memory DNS layer (tests/spf/zonedns.c): includes, redirects,
 *	lookup limits, macros with the fuzzed sender, HELO and address,
 *	and the explanation of a fail. No packet leaves the process.
 * DIAGNOSTICS
 *	abort() when an invariant above fails.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "zonedns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS	6

static const char *const defaults[NFIELDS] = {
	"v=spf1 a mx include:inc.example.com -all",
	"%{ir}.%{v}._spf.%{d2}",
	"user@example.com",
	"example.com",
	"mx.example.net",
	"192.0.2.1",
};

static const char *
p_name(void *arg)
{
	return arg;
}

/* The macro values a check would use (spf_eval.c builds the same). */
static void
vars(struct spf_macro_vars *v, char **f, const struct spf_ip *ip, char *ibuf,
    size_t ilen, char **local)
{
	char *at = strrchr(f[2], '@');

	memset(v, 0, sizeof(*v));
	v->s = f[2];
	*local = at && at != f[2] ? strndup(f[2], (size_t)(at - f[2])) : NULL;
	v->l = *local ? *local : "postmaster";
	v->o = at ? at + 1 : f[3];
	v->d = f[3];
	if (ip->family == AF_INET) {
		snprintf(ibuf, ilen, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2], ip->a[3]);
		v->v = "in-addr";
	} else {
		size_t k = 0;

		for (int i = 0; i < 16 && k + 4 < ilen; i++)
			k += (size_t)snprintf(ibuf + k, ilen - k, "%x.%x%s", ip->a[i] >> 4,
			    ip->a[i] & 15, i < 15 ? "." : "");
		v->v = "ip6";
	}
	v->i = v->c = ibuf;
	v->h = f[4];
	v->r = "mx.example.org";
	v->t = 1700000000;
	v->p = p_name;
	v->parg = f[4];
}

static void
expand_spec(const char *s, size_t n, unsigned flags, const struct spf_macro_vars *v)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;

	if (spf_macro_check(s, n, flags, NULL) < 0)
		abort();	/* the record parser let it through */
	if (spf_macro_expand(s, n, flags, v, &b) < 0)
		abort();
	mm_buf_free(&b);
}

static void
zone_entry(SPF_dns_server_t *z, char *line)
{
	static const struct { const char *name; ns_type type; } types[] = {
		{ "TXT", ns_t_txt }, { "A", ns_t_a }, { "AAAA", ns_t_aaaa },
		{ "MX", ns_t_mx }, { "PTR", ns_t_ptr }, { "CNAME", ns_t_cname },
	};
	char *name = line, *type, *data;
	int prio = 0;

	if ((type = strchr(name, ' ')) == NULL)
		return;
	*type++ = 0;
	if ((data = strchr(type, ' ')) != NULL)
		*data++ = 0;
	if (strcasecmp(type, "TIMEOUT") == 0) {
		zonedns_add_timeout(z, name);
		return;
	}
	if (data == NULL)
		return;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(type, types[i].name) != 0)
			continue;
		if (types[i].type == ns_t_mx) {
			prio = atoi(data);
			if ((data = strchr(data, ' ')) == NULL)
				return;
			data++;
		}
		zonedns_add(z, name, types[i].type, data, prio);
		return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *f[NFIELDS], *p, *rest = NULL, *local, err[256], ibuf[80];
	struct spf_record r;
	struct spf_macro_vars v;
	struct spf_ip ip;
	struct mm_buf b = MM_BUF_SOFT_INIT;
	struct spf_env env;
	struct spf_request rq;
	struct spf_check *c;
	SPF_dns_server_t *z;
	int n = 0;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	for (p = text; n < NFIELDS && p != NULL; n++) {
		f[n] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = 0;
	}
	rest = p;
	for (; n < NFIELDS; n++)
		f[n] = (char *)defaults[n];
	if (spf_ip_parse(f[5], &ip) < 0)
		spf_ip_parse(defaults[5], &ip);
	vars(&v, f, &ip, ibuf, sizeof(ibuf), &local);

	/* the record's own syntax */
	spf_record_is_spf(f[0]);
	if (spf_record_parse(f[0], &r, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < r.nterms; i++)
			if (r.terms[i].spec)
				expand_spec(r.terms[i].spec, r.terms[i].speclen, 0, &v);
		if (r.redirect)
			expand_spec(r.redirect, r.redirectlen, 0, &v);
		if (r.exp)
			expand_spec(r.exp, r.explen, 0, &v);
	}
	spf_record_free(&r);	/* after either result, as spf_record.h says */

	/* the macro string alone, both grammars */
	for (unsigned flags = 0; flags <= SPF_MACRO_EXP; flags += SPF_MACRO_EXP)
		if (spf_macro_check(f[1], strlen(f[1]), flags, NULL) == 0) {
			if (spf_macro_expand(f[1], strlen(f[1]), flags, &v, &b) < 0)
				abort();
			mm_buf_free(&b);
		}

	/* a whole check_host() against the zone */
	if ((z = zonedns_new()) == NULL)
		abort();
	while (rest != NULL && *rest) {
		char *line = rest;

		if ((rest = strchr(rest, '\n')) != NULL)
			*rest++ = 0;
		zone_entry(z, line);
	}
	memset(&env, 0, sizeof(env));
	env.dns = z;
	env.receiver = "mx.example.org";
	memset(&rq, 0, sizeof(rq));
	rq.ip = ip;
	rq.sender = f[2];
	rq.domain = f[3];
	rq.helo = f[4];
	rq.record = f[0];
	if ((c = spf_check_run(&env, &rq)) != NULL) {
		spf_check_result(c);
		spf_check_mechanism(c);
		spf_check_problem(c);
		spf_check_explanation(c);
		spf_check_free(c);
	}
	/* and as the domain's own record, found through DNS */
	rq.record = NULL;
	zonedns_add(z, f[3], ns_t_txt, f[0], 0);
	if ((c = spf_check_run(&env, &rq)) != NULL) {
		spf_check_explanation(c);
		spf_check_free(c);
	}
	SPF_dns_free(z);
	free(local);
	free(text);
	return 0;
}
