/*
 * NAME
 *	modmilter/cidr.h - IPv4/IPv6 addresses and networks
 * SYNOPSIS
 *	#include <modmilter/cidr.h>
 *
 *	struct mm_cidr c;
 *	char err[128];
 *	if (mm_cidr_parse("10.0.0.0/8", &c, 0, err, sizeof(err)) < 0) ...
 *
 *	int family; unsigned char a[16];
 *	if (mm_ip_from_sockaddr(sa, &family, a) == 0 &&
 *	    mm_cidr_list_match(list, n, family, a)) ...
 * DESCRIPTION
 *	An address is a family (AF_INET or AF_INET6) and 16 bytes, IPv4 in
 *	the first 4. An IPv4-mapped IPv6 address (::ffff:192.0.2.1), read
 *	from a string or a socket address, becomes the IPv4 address it
 *	carries, so it matches IPv4 networks (RFC 7208 5 asks the same of
 *	an SPF client address).
 *
 *	mm_cidr_parse() reads "a.b.c.d/len", "x::/len" or one address (a
 *	host network). A mapped network ("::ffff:10.0.0.0/104") is the IPv4
 *	network it covers; below /96 it is refused. Bits set beyond the
 *	prefix are an error (10.1.0.0/8 is almost always a typo for
 *	10.1.0.0/16) unless flags has MM_CIDR_HOSTBITS (SPF's
 *	"ip4:192.0.2.1/24" names the /24); matching ignores them.
 *
 *	mm_ip_in() says whether an address lies in the network net/bits
 *	of the given family; mm_cidr_match() and mm_cidr_list_match() do
 *	the same for parsed networks.
 * DIAGNOSTICS
 *	The parsers return 0, or -1 for malformed input (mm_cidr_parse()
 *	with a message naming the input in err).
 */
#ifndef MODMILTER_CIDR_H
#define MODMILTER_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mm_cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

#define MM_CIDR_HOSTBITS	0x1	/* bits beyond the prefix are allowed */

int mm_cidr_parse(const char *s, struct mm_cidr *c, unsigned flags, char *err,
    size_t errlen);
int mm_ip_from_sockaddr(const struct sockaddr *sa, int *family,
    unsigned char addr[16]);
int mm_ip_from_string(const char *s, int *family, unsigned char addr[16]);
int mm_ip_in(int family, const unsigned char *addr, int net_family,
    const unsigned char *net, int bits);
int mm_cidr_match(const struct mm_cidr *c, int family, const unsigned char *addr);
int mm_cidr_list_match(const struct mm_cidr *list, size_t n, int family,
    const unsigned char *addr);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_CIDR_H */
