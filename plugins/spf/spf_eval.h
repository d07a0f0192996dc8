/*
 * NAME
 *	spf_eval - check_host() of RFC 7208 on libspf2's DNS layers
 * SYNOPSIS
 *	#include "spf_eval.h"
 *
 *	struct spf_env env = { .dns = layer, .deadline = mono + 20,
 *	    .default_exp = "...", .void_limit = 2, .lookup_limit = 10 };
 *	struct spf_request rq = { .ip = ip, .sender = "a@example.com",
 *	    .domain = "example.com", .helo = "mx.example.net" };
 *	struct spf_check *c = spf_check_run(&env, &rq);
 *	spf_check_result(c); spf_check_mechanism(c); spf_check_problem(c);
 *	spf_check_explanation(c);
 *	spf_check_free(c);
 * DESCRIPTION
 *	spf_check_run() evaluates the SPF record of rq->domain for the
 *	client rq->ip (or, with rq->record, that record text in place of
 *	the domain's own: the "best guess"). Every DNS query goes through
 *	env->dns, a libspf2 SPF_dns_server_t stack, with
 *	SPF_dns_lookup(). Limits: env->lookup_limit terms that query DNS
 *	(include, a, mx, ptr, exists, redirect; 10 by RFC 7208 §4.6.4),
 *	env->void_limit void lookups (2), 10 MX names per mx (more is a
 *	permerror), 10 PTR names per ptr (the rest are ignored), and the
 *	monotonic deadline env->deadline (temperror when passed).
 *
 *	spf_check_explanation() computes, on first call, the explanation
 *	of a "fail": the exp= text of the record whose mechanism failed
 *	(not of an included record, and not of a record that redirected),
 *	or env->default_exp. It returns NULL for other results.
 *
 *	The strings returned are owned by the check and live until
 *	spf_check_free(). A check is used by one thread; many checks may
 *	run at once on a shared DNS stack.
 *
 *	Library errors raised by libspf2 while a check runs (its error
 *	handler, see spf_guard) end the check with a temperror whose
 *	problem is the library's message.
 * DIAGNOSTICS
 *	spf_check_run() returns NULL only when it cannot allocate the
 *	check itself. Other failures are results: temperror for DNS
 *	errors, the deadline, memory exhaustion and library errors;
 *	permerror for records that break the rules, with the reason in
 *	spf_check_problem().
 */
#ifndef MM_SPF_EVAL_H
#define MM_SPF_EVAL_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <spf2/spf.h>

#include <modmilter/clock.h>

#include "spf_util.h"

typedef enum spf_result {
	SPFR_NONE, SPFR_NEUTRAL, SPFR_PASS, SPFR_FAIL, SPFR_SOFTFAIL,
	SPFR_TEMPERROR, SPFR_PERMERROR, SPFR_COUNT
} spf_result;

const char *spf_result_name(spf_result r);
int spf_result_parse(const char *name);	/* -1 if unknown */

struct spf_env {
	SPF_dns_server_t *dns;
	double deadline;		/* CLOCK_MONOTONIC seconds; 0: none */
	int lookup_limit;		/* 0: 10 */
	int void_limit;			/* 0: 2; negative: no limit */
	const char *default_exp;	/* explanation macro-string, or NULL */
	const char *receiver;		/* %{r} */
	void (*log)(void *logarg, const char *msg);	/* libspf2 warnings */
	void *logarg;
};

struct spf_request {
	struct spf_ip ip;
	const char *sender;		/* local@domain; "postmaster@helo" for HELO */
	const char *domain;
	const char *helo;		/* %{h} */
	const char *record;		/* evaluate this text for domain, or NULL */
};

struct spf_check;

struct spf_check *spf_check_run(const struct spf_env *env,
    const struct spf_request *rq);
spf_result spf_check_result(const struct spf_check *c);
/* The term that decided ("-all", "default", "include:x"), or "". */
const char *spf_check_mechanism(const struct spf_check *c);
/* Why a temperror or permerror, or "". */
const char *spf_check_problem(const struct spf_check *c);
const char *spf_check_explanation(struct spf_check *c);
void spf_check_free(struct spf_check *c);


#endif
