/*
 * NAME
 *	spf_report - Received-SPF, Authentication-Results and SMTP replies
 * SYNOPSIS
 *	#include "spf_report.h"
 *
 *	struct spf_report r = { .result = SPFR_PASS, .receiver = "mx.example.org",
 *	    .ip = &ip, .envelope_from = "a@example.com", .helo = "mail.example.com",
 *	    .domain = "example.com", .mechanism = "mx" };
 *	char *v = spf_received_spf(&r);	Received-SPF field value
 *	char *a = spf_authres(&r);		"spf=pass smtp.mailfrom=example.com"
 *	struct spf_reply rp;
 *	spf_reply_for(&r, SPF_ACT_REJECT, explanation, &rp); ... free(rp.text);
 *	char *t = spf_reply_sanitize(text);
 * DESCRIPTION
 *	spf_received_spf() builds the value of a Received-SPF header field
 *	(RFC 7208 §9.1): the result, a comment, and the key-value pairs
 *	receiver, client-ip, envelope-from, helo, identity, mechanism (when
 *	a term decided) and problem (for errors). Each value is written
 *	as a dot-atom when it is one and as a quoted-string otherwise;
 *	control characters, bytes outside ASCII and anything else that
 *	could end the field or the line are replaced by '?', '"' and '\'
 *	are escaped, and long values are cut, so that no HELO or MAIL FROM
 *	string can inject a header or break the syntax. Lines are folded
 *	with a tab.
 *
 *	With guessed set (the best guess record was consulted because the
 *	domain has none), the headers keep the real result, none, and say
 *	in their comment what the guess gave.
 *
 *	spf_authres() builds the plugin's Authentication-Results clause
 *	(RFC 8601): "spf=<result> smtp.mailfrom=<domain>", or smtp.helo=
 *	for the HELO identity, the value quoted when it is not a token.
 *
 *	spf_reply_for() chooses the SMTP reply of RFC 7208 §8: a rejected
 *	fail gets 550 5.7.1 and the explanation, a permerror 550 5.5.2, a
 *	temperror 451 4.4.3, other results 550 or 451 with 5.7.1 / 4.7.1.
 *	The text goes through spf_reply_sanitize(): printable ASCII only,
 *	runs of white space made one space, at most 450 characters. '%' is
 *	left alone: modmilterd escapes it (and every other MTA-sensitive
 *	character) once for all plugins when it hands the reply over.
 * DIAGNOSTICS
 *	The functions return NULL (spf_reply_for() -1) when out of memory.
 */
#ifndef MM_SPF_REPORT_H
#define MM_SPF_REPORT_H

#include "spf_eval.h"
#include "spf_policy.h"
#include "spf_util.h"

struct spf_report {
	spf_result result;		/* of the identity reported */
	int helo_identity;		/* 1: "helo", 0: "mailfrom" */
	const char *receiver;
	const struct spf_ip *ip;
	const char *envelope_from;	/* as given; "" for the null sender */
	const char *helo;
	const char *domain;		/* the domain checked */
	const char *mechanism;		/* "" when none decided */
	const char *problem;		/* "" unless an error */
	int guessed;
	spf_result guess;
};

struct spf_reply {
	char rcode[4];
	char xcode[8];
	char *text;
};

char *spf_received_spf(const struct spf_report *r);
char *spf_authres(const struct spf_report *r);
int spf_reply_for(const struct spf_report *r, enum spf_action act,
    const char *explanation, struct spf_reply *out);
char *spf_reply_sanitize(const char *s);

#endif
