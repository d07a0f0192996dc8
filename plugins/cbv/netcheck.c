/*
 * NAME
 *	netcheck - addresses a callback must never connect to
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_own *own = own_new(1, &err);	(1: our interfaces' addresses)
 *	own_add(own, "192.0.2.1");
 *	if ((why = addr_forbidden(own, sa)) != NULL) refuse...
 * DESCRIPTION
 *	A sender's domain chooses where we connect. An MX that names an
 *	address of ours, loopback, an RFC 1918 / RFC 4193 private network,
 *	shared address space (RFC 6598), link-local, multicast or an
 *	unspecified address would turn the probe against ourselves or our
 *	internal network, so such addresses are refused. IPv4-mapped IPv6
 *	addresses are judged as the IPv4 address they carry.
 *	Our own addresses are the configured ones plus, when asked, those
 *	of every interface at the time the instance was created.
 * DIAGNOSTICS
 *	addr_forbidden() returns NULL or a short reason for the log.
 *	own_new() returns NULL with *err set when the interfaces cannot be
 *	listed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbv.h"

struct cbv_own {
	struct in_addr *v4;
	size_t n4;
	struct in6_addr *v6;
	size_t n6;
};

static int
push4(struct cbv_own *o, const struct in_addr *a)
{
	struct in_addr *p = realloc(o->v4, (o->n4 + 1) * sizeof(*p));

	if (p == NULL)
		return -1;
	o->v4 = p;
	o->v4[o->n4++] = *a;
	return 0;
}

static int
push6(struct cbv_own *o, const struct in6_addr *a)
{
	struct in6_addr *p = realloc(o->v6, (o->n6 + 1) * sizeof(*p));

	if (p == NULL)
		return -1;
	o->v6 = p;
	o->v6[o->n6++] = *a;
	return 0;
}

struct cbv_own *
own_new(int interfaces, char **err)
{
	struct cbv_own *o = calloc(1, sizeof(*o));
	struct ifaddrs *ifa, *i;
	char buf[128];

	if (o == NULL)
		return NULL;
	if (!interfaces)
		return o;
	if (getifaddrs(&ifa) < 0) {
		snprintf(buf, sizeof(buf), "getifaddrs: %s", strerror(errno));
		*err = strdup(buf);
		free(o);
		return NULL;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			push4(o, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			push6(o, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(ifa);
	return o;
}

int
own_add(struct cbv_own *o, const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return push4(o, &a4);
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return push6(o, &a6);
	return -1;
}

void
own_free(struct cbv_own *o)
{
	if (o == NULL)
		return;
	free(o->v4);
	free(o->v6);
	free(o);
}

static const char *
bad4(uint32_t a)
{
	static const struct { uint32_t net, mask; const char *why; } t[] = {
		{ 0x00000000, 0xff000000, "unspecified network" },
		{ 0x7f000000, 0xff000000, "loopback" },
		{ 0x0a000000, 0xff000000, "private network" },
		{ 0xac100000, 0xfff00000, "private network" },
		{ 0xc0a80000, 0xffff0000, "private network" },
		{ 0x64400000, 0xffc00000, "shared address space" },
		{ 0xa9fe0000, 0xffff0000, "link-local" },
		{ 0xe0000000, 0xf0000000, "multicast" },
		{ 0xf0000000, 0xf0000000, "reserved" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((a & t[i].mask) == t[i].net)
			return t[i].why;
	return NULL;
}

const char *
addr_forbidden(const struct cbv_own *o, const struct sockaddr *sa)
{
	struct in_addr a4;
	const struct in6_addr *a6;
	const char *why;

	if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(&a4, &a6->s6_addr[12], 4);
			goto v4;
		}
		if (IN6_IS_ADDR_UNSPECIFIED(a6))
			return "unspecified address";
		if (IN6_IS_ADDR_LOOPBACK(a6))
			return "loopback";
		if (IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_SITELOCAL(a6))
			return "link-local";
		if ((a6->s6_addr[0] & 0xfe) == 0xfc)
			return "private network";
		if (IN6_IS_ADDR_MULTICAST(a6))
			return "multicast";
		for (size_t i = 0; o && i < o->n6; i++)
			if (memcmp(&o->v6[i], a6, sizeof(*a6)) == 0)
				return "one of our own addresses";
		return NULL;
	}
	if (sa->sa_family != AF_INET)
		return "not an internet address";
	a4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
v4:
	if ((why = bad4(ntohl(a4.s_addr))) != NULL)
		return why;
	for (size_t i = 0; o && i < o->n4; i++)
		if (o->v4[i].s_addr == a4.s_addr)
			return "one of our own addresses";
	return NULL;
}
