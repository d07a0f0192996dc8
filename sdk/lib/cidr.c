/*
 * NAME
 *	cidr - IPv4/IPv6 addresses and networks
 * SYNOPSIS
 *	#include <modmilter/cidr.h>
 * DESCRIPTION
 *	See modmilter/cidr.h.
 * DIAGNOSTICS
 *	mm_cidr_parse() says what is wrong in err.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/cidr.h>

static const unsigned char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

int
mm_ip_from_string(const char *s, int *family, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		if (memcmp(addr, v4mapped, 12) == 0) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			*family = AF_INET;
		} else
			*family = AF_INET6;
		return 0;
	}
	return -1;
}

int
mm_ip_from_sockaddr(const struct sockaddr *sa, int *family,
    unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		*family = AF_INET;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, v4mapped, 12) == 0) {
			memcpy(addr, a + 12, 4);
			*family = AF_INET;
		} else {
			memcpy(addr, a, 16);
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

int
mm_cidr_parse(const char *s, struct mm_cidr *c, unsigned flags, char *err,
    size_t errlen)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(c, 0, sizeof(*c));
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "bad network address '%s'", s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = 0;
	if (mm_ip_from_string(host, &c->family, c->addr) < 0) {
		snprintf(err, errlen, "bad network address '%s'", s);
		return -1;
	}
	max = c->family == AF_INET ? 32 : 128;
	if (c->family == AF_INET && strchr(host, ':')) {
		/* ::ffff:a.b.c.d/len: the prefix counts the mapped bits */
		max = 128;
	}
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || p < 0 || p > max) {
			snprintf(err, errlen, "bad prefix length in '%s' (0-%d)", s, max);
			return -1;
		}
		c->prefix = (int)p;
		if (max == 128 && c->family == AF_INET) {
			/* below /96 the ffff of ::ffff:0:0/96 is in the host bits */
			if (p < 96) {
				snprintf(err, errlen, "'%s' has host bits set beyond /%ld",
				    s, p);
				return -1;
			}
			c->prefix = (int)p - 96;
		}
	} else
		c->prefix = c->family == AF_INET ? 32 : 128;

	if (flags & MM_CIDR_HOSTBITS)
		return 0;
	int bytes = c->family == AF_INET ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int bits = c->prefix - i * 8;
		unsigned char mask = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));
		if (c->addr[i] & ~mask) {
			snprintf(err, errlen, "'%s' has host bits set beyond /%d", s,
			    slash ? atoi(slash + 1) : max);
			return -1;
		}
	}
	return 0;
}

int
mm_ip_in(int family, const unsigned char *addr, int net_family,
    const unsigned char *net, int bits)
{
	int full, rem;

	if (net_family != family)
		return 0;
	full = bits / 8;
	rem = bits % 8;
	if (memcmp(net, addr, (size_t)full) != 0)
		return 0;
	if (rem) {
		unsigned char mask = (unsigned char)(0xff << (8 - rem));
		if ((net[full] & mask) != (addr[full] & mask))
			return 0;
	}
	return 1;
}

int
mm_cidr_match(const struct mm_cidr *c, int family, const unsigned char *addr)
{
	return mm_ip_in(family, addr, c->family, c->addr, c->prefix);
}

int
mm_cidr_list_match(const struct mm_cidr *list, size_t n, int family,
    const unsigned char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (mm_cidr_match(&list[i], family, addr))
			return 1;
	return 0;
}
