/*
 * NAME
 *	spf_resolv - a libspf2 DNS layer that keeps to a deadline
 * SYNOPSIS
 *	#include "spf_resolv.h"
 *
 *	SPF_dns_server_t *dns = spf_resolv_new(5.0, 2, on_timeout, arg, &err);
 *	spf_resolv_set_deadline(mono_deadline);	(per thread)
 *	... SPF_dns_lookup(dns, name, ns_t_txt, 1) ...
 *	SPF_dns_free(dns);
 * DESCRIPTION
 *	An SPF_dns_server_t (libspf2's DNS layer interface) that asks the
 *	system's resolvers (resolv.conf) with res_nmkquery()/res_nsend() on
 *	a per-thread resolver state. It stands in for libspf2's own
 *	SPF_dns_resolv layer for three reasons:
 *
 *	- time: each query is given at most query_timeout seconds per
 *	  server, and never more than what is left until the deadline the
 *	  calling thread set with spf_resolv_set_deadline(); once the
 *	  deadline has passed a lookup fails at once (TRY_AGAIN);
 *	- caching: the TTL of an answer is the smallest TTL of its records,
 *	  a negative answer (NXDOMAIN, NODATA) carries the SOA minimum of
 *	  RFC 2308, and a failure carries TTL 0, so that libspf2's cache
 *	  layer above (SPF_dns_cache, with its TTL floors set to zero)
 *	  neither keeps records longer than their owner said nor remembers
 *	  an outage;
 *	- errors: SERVFAIL, REFUSED, timeouts and unparsable answers all
 *	  become TRY_AGAIN or NO_RECOVERY, which the evaluator turns into
 *	  temperror; NXDOMAIN is HOST_NOT_FOUND and an empty answer
 *	  NO_DATA (the "void lookups" of RFC 7208 §4.6.4).
 *
 *	TXT character-strings are joined without separator (RFC 7208
 *	§3.3); a NUL byte in TXT data, which a C string cannot hold, is
 *	replaced by DEL (0x7f), so that a record containing one fails
 *	validation instead of being cut short.
 * DIAGNOSTICS
 *	spf_resolv_new() returns NULL with *err set (malloc'ed) when the
 *	layer cannot be created.
 */
#ifndef MM_SPF_RESOLV_H
#define MM_SPF_RESOLV_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <spf2/spf.h>

/* on_timeout(arg), if not NULL, is called for each query that got no
   answer in time (for the plugin's metrics). */
SPF_dns_server_t *spf_resolv_new(double query_timeout, int retries,
    void (*on_timeout)(void *), void *arg, char **err);
void spf_resolv_set_deadline(double deadline);

#endif
