/*
 * NAME
 *	spf_check - the state of one check_host() evaluation (internal)
 * SYNOPSIS
 *	#include "spf_check.h"
 * DESCRIPTION
 *	Shared by spf_eval.c (the check's life, record selection,
 *	check_host, exp=) and spf_mech.c (DNS queries, limits, macro
 *	targets and the mechanisms). Nothing else includes it; the rest of
 *	the plugin uses spf_eval.h.
 *
 *	chk_keep() copies a string into the check (freed with it);
 *	chk_error() ends the evaluation with a temperror or permerror and
 *	its problem text; chk_lookup() asks the DNS stack, within the
 *	deadline, and classifies the answer (data, void, error);
 *	chk_vars() fills the macro values for a current domain;
 *	chk_target() expands a domain-spec into a name to query (NULL when
 *	malformed); chk_count() counts a term that queries DNS against
 *	the limit; chk_term() evaluates one mechanism; chk_host() is
 *	check_host() itself, recursive through include and redirect.
 * DIAGNOSTICS
 *	Memory exhaustion sets c->oom; the check then ends in temperror.
 */
#ifndef MM_SPF_CHECK_H
#define MM_SPF_CHECK_H

#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

enum lookup { LK_OK, LK_VOID, LK_ERROR };
enum term { T_NOMATCH, T_MATCH, T_ERROR };	/* T_ERROR: c->err holds the result */

struct strnode {
	struct strnode *next;
	char s[];
};

struct rrnode {
	struct rrnode *next;
	SPF_dns_rr_t *rr;
};

struct recnode {
	struct recnode *next;
	struct spf_record rec;
};

struct spf_check {
	struct spf_env env;
	struct spf_ip ip;
	const char *sender, *local, *sdomain, *helo;
	char ip_i[72], ip_c[INET6_ADDRSTRLEN], rev[80];
	long t;
	int lookups, voids, records;
	spf_result result, err;
	const char *mechanism, *problem;

	/* where the explanation of a fail comes from */
	const char *exp_spec;		/* exp= domain-spec, NULL: default */
	const char *exp_domain;
	int exp_done;
	const char *explanation;

	/* %{p}: validated client name, for one domain */
	const char *p_domain, *p_name;
	const char *cur_domain;

	struct strnode *strs;
	struct rrnode *rrs;
	struct recnode *recs;
	int oom;
};

const char *chk_keep(struct spf_check *c, const char *s, size_t n);
const char *chk_keeps(struct spf_check *c, const char *s);
enum term chk_error(struct spf_check *c, spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum lookup chk_lookup(struct spf_check *c, const char *name, ns_type type,
    SPF_dns_rr_t **out);
void chk_vars(struct spf_check *c, const char *domain, struct spf_macro_vars *v);
const char *chk_target(struct spf_check *c, const char *spec, size_t n,
    const char *domain);
/* one more term that queries DNS: -1 (permerror set) past the limit */
int chk_count(struct spf_check *c, const struct spf_term *t);
enum term chk_term(struct spf_check *c, const struct spf_term *t,
    const char *domain);
spf_result chk_host(struct spf_check *c, const char *domain, const char *text,
    int want_exp);

#endif
