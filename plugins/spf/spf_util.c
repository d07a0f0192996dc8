/*
 * NAME
 *	spf_util - strings, addresses and domain names for the SPF plugin
 * SYNOPSIS
 *	See spf_util.h.
 * DESCRIPTION
 *	Small helpers shared by the record parser, the evaluator, the
 *	policy and the header code; addresses and networks are the helper
 *	library's (modmilter/cidr.h) in SPF's types.
 * DIAGNOSTICS
 *	None; see spf_util.h for the return values.
 */
#include <string.h>

#include "spf_util.h"

int
spf_ip_from_sockaddr(const struct sockaddr *sa, struct spf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	return mm_ip_from_sockaddr(sa, &ip->family, ip->a);
}

int
spf_ip_parse(const char *s, struct spf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	return mm_ip_from_string(s, &ip->family, ip->a);
}

int
spf_ip_in(const struct spf_ip *ip, int family, const unsigned char *net, int bits)
{
	return mm_ip_in(ip->family, ip->a, family, net, bits);
}

int
spf_net_parse(const char *s, struct spf_net *n)
{
	struct mm_cidr c;
	char err[128];

	/* SPF names a network by any of its addresses: ip4:192.0.2.1/24 */
	if (mm_cidr_parse(s, &c, MM_CIDR_HOSTBITS, err, sizeof(err)) < 0)
		return -1;
	memset(n, 0, sizeof(*n));
	n->ip.family = c.family;
	memcpy(n->ip.a, c.addr, sizeof(n->ip.a));
	n->bits = c.prefix;
	return 0;
}

int
spf_domain_valid(const char *d, int multi_label)
{
	size_t len = strlen(d), label = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return 0;
			labels++;
			label = 0;
		} else
			label++;
	}
	return !multi_label || labels >= 2;
}
