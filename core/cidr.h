/*
 * NAME
 *	cidr - IPv4/IPv6 network lists, under the core's names
 * SYNOPSIS
 *	#include "cidr.h"
 *
 *	struct mm_cidr c;
 *	if (cidr_parse("10.0.0.0/8", &c, err, sizeof err) < 0) ...
 *	cidr_list_match(list, n, family, addr);
 * DESCRIPTION
 *	The helper library's networks (modmilter/cidr.h, which documents
 *	them), as the configuration reads them: bits set beyond the
 *	prefix are an error.
 */
#ifndef MM_CIDR_H
#define MM_CIDR_H

#include <modmilter/cidr.h>

static inline int
cidr_parse(const char *s, struct mm_cidr *c, char *err, size_t errlen)
{
	return mm_cidr_parse(s, c, 0, err, errlen);
}

static inline int
cidr_addr_from_sockaddr(const struct sockaddr *sa, int *family,
    unsigned char addr[16])
{
	return mm_ip_from_sockaddr(sa, family, addr);
}

static inline int
cidr_list_match(const struct mm_cidr *list, size_t n, int family,
    const unsigned char *addr)
{
	return mm_cidr_list_match(list, n, family, addr);
}

#endif
