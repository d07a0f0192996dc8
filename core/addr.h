/*
 * NAME
 *	addr - envelope addresses and domains, under the core's names
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	char *n = addr_normalize("<@relay:Alice@Corp.Example.>", &why);
 * DESCRIPTION
 *	The parser and normal forms are the helper library's
 *	(modmilter/addr.h, which documents them); the core and its tests
 *	call them by these names, and api.c hands them to plugins.
 */
#ifndef MM_ADDR_H
#define MM_ADDR_H

#include <modmilter/addr.h>

static inline char *
addr_normalize(const char *addr, const char **why)
{
	return mm_addr_normalize(addr, why);
}

static inline char *
domain_normalize(const char *domain, const char **why)
{
	return mm_domain_normalize(domain, why);
}

static inline int
domain_match(const char *domain, const char *pattern)
{
	return mm_domain_match(domain, pattern);
}

static inline const char *
addr_domain(const char *addr)
{
	return mm_addr_domain(addr);
}

static inline char *
addr_strip(const char *arg)
{
	return mm_addr_strip(arg);
}

#endif
