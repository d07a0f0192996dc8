/*
 * NAME
 *	spf_util - strings, addresses and domain names for the SPF plugin
 * SYNOPSIS
 *	See spf_util.h.
 * DESCRIPTION
 *	Small helpers shared by the record parser, the evaluator, the
 *	policy and the header code.
 * DIAGNOSTICS
 *	None; see spf_util.h for the return values.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_util.h"

static int
sb_grow(struct sbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->s, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->s = p;
	b->cap = cap;
	return 0;
}

void
sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (sb_grow(b, n) < 0)
		return;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = 0;
}

void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void
sb_addc(struct sbuf *b, int c)
{
	char ch = (char)c;

	sb_add(b, &ch, 1);
}

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
sb_str(struct sbuf *b)
{
	if (b->oom)
		return NULL;
	if (b->s == NULL && sb_grow(b, 0) == 0)
		b->s[0] = 0;
	return b->oom ? NULL : b->s;
}

void
sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

static void
unmap_v4(struct spf_ip *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	if (ip->family == AF_INET6 && memcmp(ip->a, mapped, 12) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		memset(ip->a + 4, 0, 12);
		ip->family = AF_INET;
	}
}

int
spf_ip_from_sockaddr(const struct sockaddr *sa, struct spf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		ip->family = AF_INET6;
		memcpy(ip->a, &s6->sin6_addr, 16);
		unmap_v4(ip);
		return 0;
	}
	return -1;
}

int
spf_ip_parse(const char *s, struct spf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->a) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1) {
		ip->family = AF_INET6;
		unmap_v4(ip);
		return 0;
	}
	return -1;
}

int
spf_ip_in(const struct spf_ip *ip, int family, const unsigned char *net, int bits)
{
	int full, rest;

	if (ip->family != family)
		return 0;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(ip->a, net, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((ip->a[full] & mask) != (net[full] & mask))
			return 0;
	}
	return 1;
}

int
spf_net_parse(const char *s, struct spf_net *n)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = 0;
	if (spf_ip_parse(addr, &n->ip) < 0)
		return -1;
	max = n->ip.family == AF_INET ? 32 : 128;
	n->bits = max;
	if (slash) {
		char *end;
		long b = strtol(slash + 1, &end, 10);
		if (slash[1] == 0 || *end != 0 || b < 0 || b > 128)
			return -1;
		/* a mapped network written as IPv6 keeps its IPv4 prefix */
		if (n->ip.family == AF_INET && strchr(addr, ':'))
			b -= 96;
		if (b < 0 || b > max)
			return -1;
		n->bits = (int)b;
	}
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

int
spf_domain_within(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (d > 0 && domain[d - 1] == '.')
		d--;
	if (d == 0 || n < d)
		return 0;
	if (strncasecmp(name + n - d, domain, d) != 0)
		return 0;
	return n == d || name[n - d - 1] == '.';
}
