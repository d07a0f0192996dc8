/*
 * NAME
 *	modmilter/addr.h - envelope addresses and domains, parsed and normalised
 * SYNOPSIS
 *	#include <modmilter/addr.h>
 *
 *	char *n = mm_addr_normalize("<@relay:Alice@Corp.Example.>", &why);
 *						("Alice@corp.example")
 *	char *d = mm_domain_normalize(".Corp.Example.", &why);
 *						(".corp.example")
 *	if (mm_domain_match(mm_addr_domain(n), ".example.com")) ...
 *	char *raw = mm_addr_strip(" <a@b> ");	("a@b", nothing checked)
 *	mm_domain_equal("Example.COM.", "example.com");	(1)
 *	mm_domain_within("mx.Example.com", "example.com.");	(1)
 * DESCRIPTION
 *	mm_addr_normalize() parses one MAIL FROM / RCPT TO address (RFC 5321
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
 *	mm_domain_normalize() checks and normalises a configured domain the
 *	same way; one leading "." (".example.com": its subdomains) is
 *	kept. mm_domain_match() compares a domain with such a pattern, case
 *	insensitively and ignoring one trailing dot of either.
 *
 *	mm_domain_equal() says whether two names are the same, and
 *	mm_domain_within() whether a name is a domain or one of its
 *	subdomains, both case-insensitively (ASCII) and ignoring one
 *	trailing dot of either; an empty name equals nothing.
 * DIAGNOSTICS
 *	mm_addr_normalize() and mm_domain_normalize() return NULL and set *why
 *	(when why is not NULL) to a static reason for malformed input.
 *	Results are malloc'ed; running out of memory aborts
 *	(modmilter/alloc.h).
 */
#ifndef MODMILTER_ADDR_H
#define MODMILTER_ADDR_H

#ifdef __cplusplus
extern "C" {
#endif

char *mm_addr_normalize(const char *addr, const char **why);
char *mm_domain_normalize(const char *domain, const char **why);
int mm_domain_match(const char *domain, const char *pattern);
int mm_domain_equal(const char *a, const char *b);
int mm_domain_within(const char *name, const char *domain);

/* The domain of a normalised address (after the last '@'), or NULL. */
const char *mm_addr_domain(const char *addr);
/* Strip <> and surrounding blanks from a MAIL FROM / RCPT TO argument;
   nothing is checked or changed otherwise (the MTA's own form). */
char *mm_addr_strip(const char *arg);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_ADDR_H */
