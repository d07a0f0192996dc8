/*
 * NAME
 *	zonedns - a libspf2 DNS layer answering from test zone data
 * SYNOPSIS
 *	#include "zonedns.h"
 *
 *	SPF_dns_server_t *z = zonedns_new();
 *	zonedns_add(z, "example.com", ns_t_txt, "v=spf1 -all", 0);
 *	zonedns_add(z, "example.com", ns_t_mx, "mail.example.com", 10);
 *	zonedns_add_timeout(z, "slow.example.com");
 *	zonedns_clear(z);
 *	SPF_dns_free(z);
 * DESCRIPTION
 *	Answers the way the SPF test suite's zonedata means (and as
 *	pyspf's test driver reads it): a name that is not in the zone is
 *	NXDOMAIN; a name without records of the type asked is NODATA; a
 *	CNAME is followed (a loop is a server failure); a "TIMEOUT" entry
 *	times out every query that found no record of its type before it
 *	(TRY_AGAIN). Names compare case-insensitively, trailing dots
 *	ignored. Unlike libspf2's SPF_dns_zone layer it knows CNAME,
 *	NODATA and timeouts.
 *
 *	zonedns_set_hook() installs a function called at every lookup,
 *	with which a test can make the layer slow or make libspf2 raise
 *	an error.
 * DIAGNOSTICS
 *	zonedns_add() returns -1 when out of memory.
 */
#ifndef MM_ZONEDNS_H
#define MM_ZONEDNS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <spf2/spf.h>

SPF_dns_server_t *zonedns_new(void);
int zonedns_add(SPF_dns_server_t *z, const char *name, ns_type type,
    const char *data, int prio);
int zonedns_add_timeout(SPF_dns_server_t *z, const char *name);
void zonedns_clear(SPF_dns_server_t *z);
void zonedns_set_hook(SPF_dns_server_t *z, void (*hook)(const char *name));
/* Number of lookups answered since zonedns_new() or the last clear. */
int zonedns_queries(SPF_dns_server_t *z);

#endif
