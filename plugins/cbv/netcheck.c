/*
 * NAME
 *	netcheck - addresses a callback must never connect to
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct cbv_own *own = own_new(1, &err);	(1: our interfaces' addresses)
 *	own_add(own, "192.0.2.1");
 *	own_allow(own, "192.0.2.0/24");		(a test lab)
 *	if ((why = addr_forbidden(own, sa)) != NULL) refuse...
 * DESCRIPTION
 *	A sender's domain chooses where we connect. An MX that names an
 *	address of ours, or any address of the IANA special-purpose
 *	registries (loopback, private networks, NAT64, link-local,
 *	benchmarking, documentation, ...), multicast or reserved space,
 *	would turn the probe against ourselves or our internal network, so
 *	such addresses are refused. IPv4-mapped IPv6 addresses are judged
 *	as the IPv4 address they carry. Networks given to own_allow() are
 *	exempt from the registries (never from our own addresses).
 *	Networks are the helper library's (modmilter/cidr.h).
 *	Our own addresses are the configured ones plus, when asked, those
 *	of every interface at the time the instance was created.
 * DIAGNOSTICS
 *	addr_forbidden() returns NULL or a short reason for the log, naming
 *	the RFC of a special-purpose block. own_add() and own_allow()
 *	return -1 for a malformed address or network. own_new() returns
 *	NULL with *err set when the interfaces cannot be listed, or when
 *	an entry of the special-purpose table does not parse.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/cidr.h>

#include "cbv.h"

struct cbv_own {
	struct in_addr *v4;
	size_t n4;
	struct in6_addr *v6;
	size_t n6;
	struct mm_cidr *allow;		/* special-purpose, probed all the same */
	size_t nallow;
};

static int net_parse(const char *, struct mm_cidr *);
static void special_parse(void);

static pthread_once_t special_once = PTHREAD_ONCE_INIT;
static const char *special_bad;		/* a typo in the special table */

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
	pthread_once(&special_once, special_parse);
	if (special_bad) {
		snprintf(buf, sizeof(buf), "special-purpose table: bad network %s",
		    special_bad);
		*err = strdup(buf);
		free(o);
		return NULL;
	}
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

int
own_allow(struct cbv_own *o, const char *network)
{
	struct mm_cidr n, *p;

	if (net_parse(network, &n) < 0)
		return -1;
	if ((p = realloc(o->allow, (o->nallow + 1) * sizeof(*p))) == NULL)
		return -1;
	o->allow = p;
	o->allow[o->nallow++] = n;
	return 0;
}

void
own_free(struct cbv_own *o)
{
	if (o == NULL)
		return;
	free(o->v4);
	free(o->v6);
	free(o->allow);
	free(o);
}

/* "a.b.c.d/len" or "x::/len" (no length: one host); -1 when malformed
   or with bits set beyond the prefix (almost always a typo) */
static int
net_parse(const char *s, struct mm_cidr *n)
{
	char err[128];

	return mm_cidr_parse(s, n, 0, err, sizeof(err));
}

/*
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890,
 * RFC 8190), every entry: none of them is where a sender's mail
 * exchanger lives, and several (loopback, private, NAT64, benchmarking
 * labs) would aim the probe at ourselves or an internal network. Entries
 * the registries mark globally reachable (anycast services, AS112) are
 * refused as well: no mail server answers there. A few blocks outside
 * the registries are added, each saying why. Nested entries come before
 * the block containing them, so the reason names the most specific one.
 */
static const struct special {
	const char *net, *why;
} special[] = {
	/* IPv4 */
	{ "0.0.0.0/8", "\"this network\" (RFC 791)" },
	{ "10.0.0.0/8", "private network (RFC 1918)" },
	{ "100.64.0.0/10", "shared address space (RFC 6598)" },
	{ "127.0.0.0/8", "loopback (RFC 1122)" },
	{ "169.254.0.0/16", "link-local (RFC 3927)" },
	{ "172.16.0.0/12", "private network (RFC 1918)" },
	{ "192.0.0.0/29", "IPv4 service continuity prefix (RFC 7335)" },
	{ "192.0.0.8/32", "IPv4 dummy address (RFC 7600)" },
	{ "192.0.0.9/32", "port control protocol anycast (RFC 7723)" },
	{ "192.0.0.10/32", "TURN anycast (RFC 8155)" },
	{ "192.0.0.170/32", "NAT64/DNS64 discovery (RFC 8880)" },
	{ "192.0.0.171/32", "NAT64/DNS64 discovery (RFC 8880)" },
	{ "192.0.0.0/24", "IETF protocol assignments (RFC 6890)" },
	{ "192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)" },
	{ "192.31.196.0/24", "AS112 (RFC 7535)" },
	{ "192.52.193.0/24", "automatic multicast tunneling (RFC 7450)" },
	{ "192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)" },
	{ "192.168.0.0/16", "private network (RFC 1918)" },
	{ "192.175.48.0/24", "AS112 direct delegation (RFC 7534)" },
	{ "198.18.0.0/15", "benchmarking (RFC 2544)" },
	{ "198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)" },
	{ "203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)" },
	/* not in the registry (its own registry): never a unicast host */
	{ "224.0.0.0/4", "multicast (RFC 5771)" },
	{ "255.255.255.255/32", "limited broadcast (RFC 919, RFC 8190)" },
	{ "240.0.0.0/4", "reserved (RFC 1112)" },

	/* IPv6; IPv4-mapped addresses (::ffff:0:0/96, RFC 4291) are judged
	   as the IPv4 address they carry, before this table */
	{ "::/128", "unspecified address (RFC 4291)" },
	{ "::1/128", "loopback (RFC 4291)" },
	/* not in the registry: deprecated IPv4-compatible addresses, which
	   some stacks still route to the IPv4 address they carry */
	{ "::/96", "IPv4-compatible address, deprecated (RFC 4291)" },
	{ "64:ff9b::/96", "IPv4/IPv6 translation, NAT64 (RFC 6052)" },
	{ "64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)" },
	{ "100::/64", "discard-only (RFC 6666)" },
	{ "100:0:0:1::/64", "dummy IPv6 prefix (RFC 9780)" },
	{ "2001::/32", "Teredo (RFC 4380)" },
	{ "2001:1::1/128", "port control protocol anycast (RFC 7723)" },
	{ "2001:1::2/128", "TURN anycast (RFC 8155)" },
	{ "2001:1::3/128", "DNS-SD service registration protocol anycast (RFC 9665)" },
	{ "2001:2::/48", "benchmarking (RFC 5180)" },
	{ "2001:3::/32", "automatic multicast tunneling (RFC 7450)" },
	{ "2001:4:112::/48", "AS112 (RFC 7535)" },
	{ "2001:10::/28", "deprecated ORCHID (RFC 4843)" },
	{ "2001:20::/28", "ORCHIDv2 (RFC 7343)" },
	{ "2001:30::/28", "drone remote ID entity tags (RFC 9374)" },
	{ "2001::/23", "IETF protocol assignments (RFC 2928)" },
	{ "2001:db8::/32", "documentation (RFC 3849)" },
	{ "2002::/16", "6to4 (RFC 3056)" },
	{ "2620:4f:8000::/48", "AS112 direct delegation (RFC 7534)" },
	{ "3fff::/20", "documentation (RFC 9637)" },
	{ "5f00::/16", "segment routing SIDs (RFC 9602)" },
	{ "fc00::/7", "unique local, private network (RFC 4193)" },
	{ "fe80::/10", "link-local (RFC 4291)" },
	/* not in the registry: deprecated, and multicast */
	{ "fec0::/10", "site-local, deprecated (RFC 3879)" },
	{ "ff00::/8", "multicast (RFC 4291)" },
};

#define NSPECIAL (sizeof(special) / sizeof(special[0]))

static struct mm_cidr special_net[NSPECIAL];
static void
special_parse(void)
{
	for (size_t i = 0; i < NSPECIAL; i++)
		if (net_parse(special[i].net, &special_net[i]) < 0 && !special_bad)
			special_bad = special[i].net;
}

static int
allowed(const struct cbv_own *o, int family, const unsigned char *a)
{
	return o && mm_cidr_list_match(o->allow, o->nallow, family, a);
}

const char *
addr_forbidden(const struct cbv_own *o, const struct sockaddr *sa)
{
	unsigned char a[16];
	int family;

	/* a mapped address: connecting there reaches the IPv4 address */
	if (mm_ip_from_sockaddr(sa, &family, a) < 0)
		return "not an internet address";

	if (!allowed(o, family, a)) {
		pthread_once(&special_once, special_parse);
		for (size_t i = 0; i < NSPECIAL; i++)
			if (mm_cidr_match(&special_net[i], family, a))
				return special[i].why;
	}
	/* ours, even in an allowed network */
	for (size_t i = 0; o && family == AF_INET && i < o->n4; i++)
		if (memcmp(&o->v4[i], a, 4) == 0)
			return "one of our own addresses";
	for (size_t i = 0; o && family == AF_INET6 && i < o->n6; i++)
		if (memcmp(&o->v6[i], a, 16) == 0)
			return "one of our own addresses";
	return NULL;
}
