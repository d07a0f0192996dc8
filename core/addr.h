/*
 * NAME
 *	addr - envelope addresses and domains, parsed and normalised
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	char *n = addr_normalize("<@relay:Alice@Corp.Example.>", &why);
 *						("Alice@corp.example")
 *	char *d = domain_normalize(".Corp.Example.", &why);
 *						(".corp.example")
 *	if (domain_match(addr_domain(n), ".example.com")) ...
 *	char *raw = addr_strip(" <a@b> ");	("a@b", nothing checked)
 * DESCRIPTION
 *	addr_normalize() parses one MAIL FROM / RCPT TO address (RFC 5321
 *	Path, with or without its angle brackets) and returns the form in
 *	which two addresses that name the same mailbox are equal: brackets
 *	and a source route ("@relay,@relay2:") dropped; the domain in lower
 *	case (ASCII) without one trailing dot; a quoted local part unquoted
 *	when its content is a dot-atom, otherwise written back in one
 *	canonical quoting (only '"' and '\' escaped). The local part keeps
 *	its case: whether it matters is the caller's policy. The null
 *	sender ("<>" or "") gives "", "postmaster" in any case gives
 *	"postmaster". In the result the domain follows the last '@'.
 *	The normal form is a fixed point: normalising it again gives it.
 *
 *	The local part is read as leniently as MTAs do (".a..b" is a
 *	mailbox to Postfix); what cannot be an address is refused: no '@'
 *	(other than postmaster), an empty or broken domain, white space or
 *	control characters outside quotes, unbalanced quotes or brackets,
 *	anything after the closing bracket.
 *
 *	domain_normalize() checks and normalises a configured domain the
 *	same way; one leading "." (".example.com": its subdomains) is
 *	kept. domain_match() compares a domain with such a pattern, case
 *	insensitively and ignoring one trailing dot of either.
 * DIAGNOSTICS
 *	addr_normalize() and domain_normalize() return NULL and set *why
 *	(when why is not NULL) to a static reason for malformed input.
 *	Results are malloc'ed; running out of memory aborts (util.h).
 */
#ifndef MM_ADDR_H
#define MM_ADDR_H

char *addr_normalize(const char *addr, const char **why);
char *domain_normalize(const char *domain, const char **why);
int domain_match(const char *domain, const char *pattern);

/* The domain of a normalised address (after the last '@'), or NULL. */
const char *addr_domain(const char *addr);
/* Strip <> and surrounding blanks from a MAIL FROM / RCPT TO argument;
   nothing is checked or changed otherwise (the MTA's own form). */
char *addr_strip(const char *arg);

#endif
