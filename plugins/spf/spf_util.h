/*
 * NAME
 *	spf_util - addresses and domain names for the SPF plugin
 * SYNOPSIS
 *	#include "spf_util.h"
 *
 *	struct spf_ip ip;
 *	spf_ip_from_sockaddr(sa, &ip);	spf_ip_parse("::ffff:192.0.2.1", &ip);
 *	spf_ip_in(&ip, AF_INET, net, 24);
 *
 *	spf_domain_valid("mail.example.com", 1);
 *	mm_domain_within("mx.example.com", "example.com");
 * DESCRIPTION
 *	Strings are the helper library's struct mm_buf, made with
 *	MM_BUF_SOFT_INIT: when memory runs out it sets oom, keeps what it
 *	has and ignores further additions, so a caller checks once at the
 *	end. Domain comparisons are modmilter/addr.h's.
 *
 *	struct spf_ip is a client or network address. An IPv4-mapped
 *	IPv6 address (::ffff:a.b.c.d) is turned into the IPv4 address, as
 *	RFC 7208 §5 requires of the client IP.
 *
 *	spf_domain_valid() says whether a name can be queried: at most
 *	253 characters without the trailing dot, labels of 1 to 63
 *	characters, and with multi_label at least two labels (RFC 7208
 *	§4.3).
 * DIAGNOSTICS
 *	The parsers return 0 on success and -1 on a malformed input.
 */
#ifndef MM_SPF_UTIL_H
#define MM_SPF_UTIL_H

#include <stddef.h>
#include <sys/socket.h>

#include <modmilter/addr.h>
#include <modmilter/cidr.h>
#include <modmilter/strbuf.h>

struct spf_ip {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char a[16];		/* IPv4 in the first 4 bytes */
};

struct spf_net {
	struct spf_ip ip;
	int bits;
};

int spf_ip_from_sockaddr(const struct sockaddr *sa, struct spf_ip *ip);
int spf_ip_parse(const char *s, struct spf_ip *ip);
/* Is ip inside the network net/bits of that family? */
int spf_ip_in(const struct spf_ip *ip, int family, const unsigned char *net,
    int bits);
/* "192.0.2.0/24", "2001:db8::/32" or a single address. */
int spf_net_parse(const char *s, struct spf_net *n);

int spf_domain_valid(const char *d, int multi_label);

#endif
