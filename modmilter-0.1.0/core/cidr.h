/*
 * NAME
 *	cidr - IPv4/IPv6 network lists
 * SYNOPSIS
 *	#include "cidr.h"
 *
 *	struct cidr c;
 *	if (cidr_parse("10.0.0.0/8", &c, err, sizeof err) < 0) ...
 *	cidr_match(&c, sa);
 * DESCRIPTION
 *	An IPv4-mapped IPv6 address (::ffff:192.0.2.1) matches IPv4
 *	networks. Host bits set below the prefix are an error (10.1.0.0/8
 *	is almost always a typo for 10.1.0.0/16).
 */
#ifndef MM_CIDR_H
#define MM_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

int cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen);
/* Normalise an address to family+bytes; a mapped v6 becomes v4. */
int cidr_addr_from_sockaddr(const struct sockaddr *sa, int *family,
    unsigned char addr[16]);
int cidr_addr_from_string(const char *s, int *family, unsigned char addr[16]);
int cidr_match_addr(const struct cidr *c, int family, const unsigned char *addr);
int cidr_list_match(const struct cidr *list, size_t n, int family,
    const unsigned char *addr);

#endif
