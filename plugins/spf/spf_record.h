/*
 * NAME
 *	spf_record - strict parsing of SPF records (RFC 7208 §4.5, §4.6, §5, §6)
 * SYNOPSIS
 *	#include "spf_record.h"
 *
 *	if (spf_record_is_spf(txt)) ...
 *	struct spf_record r;
 *	if (spf_record_parse(txt, &r, err, sizeof(err)) < 0) ... permerror
 *	... r.terms[i] ...
 *	spf_record_free(&r);
 * DESCRIPTION
 *	spf_record_is_spf() selects a TXT string as an SPF record: it
 *	starts with "v=spf1" in any case, followed by a space or the end.
 *
 *	spf_record_parse() checks the whole record before anything is
 *	evaluated, as §4.6 requires: terms separated by spaces only,
 *	visible ASCII only, every mechanism and its arguments (domain-spec
 *	with a valid domain-end, IPv4 without leading zeros, CIDR lengths
 *	in range and without leading zeros), modifier names, macro syntax
 *	of every macro-string, at most one redirect= and one exp=. The
 *	record keeps a copy of the text; the terms point into it.
 * DIAGNOSTICS
 *	spf_record_parse() returns 0, or -1 with a reason in err (which
 *	becomes the "problem" of a permerror). It allocates, and reports
 *	memory exhaustion as -1 with "out of memory" and r->oom set.
 *	Whatever it returns, spf_record_free() releases the record.
 */
#ifndef MM_SPF_RECORD_H
#define MM_SPF_RECORD_H

#include <stddef.h>

enum spf_mech {
	SPF_M_ALL, SPF_M_INCLUDE, SPF_M_A, SPF_M_MX, SPF_M_PTR, SPF_M_IP4,
	SPF_M_IP6, SPF_M_EXISTS
};

struct spf_term {
	enum spf_mech mech;
	char qual;			/* '+' '-' '~' '?' */
	const char *spec;		/* domain-spec, NULL when absent */
	size_t speclen;
	int cidr4, cidr6;		/* prefix lengths (defaults 32, 128) */
	unsigned char net[16];		/* ip4 / ip6 network */
	const char *text;		/* the term as written, qualifier included */
	size_t textlen;
};

struct spf_record {
	char *buf;			/* copy of the record text */
	struct spf_term *terms;
	size_t nterms;
	const char *redirect;		/* domain-spec or NULL */
	size_t redirectlen;
	const char *exp;		/* domain-spec or NULL */
	size_t explen;
	int oom;
};

int spf_record_is_spf(const char *txt);
int spf_record_parse(const char *txt, struct spf_record *r, char *err,
    size_t errlen);
void spf_record_free(struct spf_record *r);

#endif
