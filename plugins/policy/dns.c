/*
 * NAME
 *	dns - is the client at one of a name's addresses (or its MX hosts')?
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	r = policy_dns_addr_match("mail.example.com", sa, 32, 128, 0, 5.0);
 *	r = policy_dns_addr_match(helo, sa, 24, 64, 1, 5.0);
 * DESCRIPTION
 *	Looks up the A (IPv4 client) or AAAA (IPv6 client) records of name
 *	and, with mx, of each host its MX records name (at most 10), and
 *	says whether one of them equals the client's address in its first
 *	v4bits / v6bits bits. Used to forward-confirm a PTR name (/32,
 *	/128) and to validate a HELO name by its A and MX (/24, /64).
 *
 *	Each query has the timeout (one try, plus one retry); the
 *	resolver state is per call (res_ninit), so calls from several
 *	connection threads do not share it.
 * DIAGNOSTICS
 *	1 match, 0 no match (or no such name), -1 no answer (timeout,
 *	server failure): the caller counts that as unknown.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define MAXMX	10

static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

/* Addresses of type (A / AAAA) of name compared with want; 1, 0, -1 */
static int
match_addrs(res_state rs, const char *name, int type, const unsigned char *want,
    int bits)
{
	unsigned char ans[4096];
	ns_msg msg;
	ns_rr rr;
	int len, n;

	len = res_nquery(rs, name, ns_c_in, type, ans, sizeof(ans));
	if (len < 0)
		return rs->res_h_errno == HOST_NOT_FOUND ||
		    rs->res_h_errno == NO_DATA ? 0 : -1;
	if (ns_initparse(ans, len, &msg) < 0)
		return -1;
	n = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return -1;
		if ((int)ns_rr_type(rr) != type)
			continue;
		if ((type == ns_t_a && ns_rr_rdlen(rr) == 4) ||
		    (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16))
			if (prefix_eq(ns_rr_rdata(rr), want, bits))
				return 1;
	}
	return 0;
}

int
policy_dns_addr_match(const char *name, const struct sockaddr *sa, int v4bits,
    int v6bits, int mx, double timeout)
{
	struct __res_state rs;
	unsigned char want[16], ans[4096];
	char hosts[MAXMX][NS_MAXDNAME];
	int type, bits, r, nmx = 0, unknown = 0;

	if (sa == NULL || name == NULL || *name == '\0')
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		memcpy(want, &s4->sin_addr, 4);
		type = ns_t_a;
		bits = v4bits;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(want, s6->sin6_addr.s6_addr + 12, 4);
			type = ns_t_a;
			bits = v4bits;
		} else {
			memcpy(want, &s6->sin6_addr, 16);
			type = ns_t_aaaa;
			bits = v6bits;
		}
	} else {
		return 0;
	}
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0)
		return -1;
	rs.retrans = timeout >= 1 ? (int)timeout : 1;
	rs.retry = 1;
	if ((r = match_addrs(&rs, name, type, want, bits)) == 1)
		goto out;
	unknown = r < 0;
	if (mx) {
		ns_msg msg;
		ns_rr rr;
		int len = res_nquery(&rs, name, ns_c_in, ns_t_mx, ans, sizeof(ans));

		if (len >= 0 && ns_initparse(ans, len, &msg) == 0) {
			int n = ns_msg_count(msg, ns_s_an);
			for (int i = 0; i < n && nmx < MAXMX; i++) {
				if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
				    ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
					continue;
				if (dn_expand(ns_msg_base(msg), ns_msg_end(msg),
				    ns_rr_rdata(rr) + 2, hosts[nmx], NS_MAXDNAME) > 0)
					nmx++;
			}
		} else if (len < 0 && rs.res_h_errno != HOST_NOT_FOUND &&
		    rs.res_h_errno != NO_DATA) {
			unknown = 1;
		}
		for (int i = 0; i < nmx; i++) {
			if ((r = match_addrs(&rs, hosts[i], type, want, bits)) == 1)
				goto out;
			if (r < 0)
				unknown = 1;
		}
	}
	r = unknown ? -1 : 0;
out:
	res_nclose(&rs);
	return r;
}
