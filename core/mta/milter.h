/*
 * NAME
 *	milter - the libmilter side of modmilterd
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	milter_set_conf(conf);		(at start and on every reload)
 *	milter_register(&err);
 *	struct conf *c = milter_conf();	(a reference; conf_unref() it)
 * DESCRIPTION
 *	Registers the callbacks with libmilter and translates between the
 *	milter protocol and the session engine. Each connection takes the
 *	current configuration generation at negotiation and keeps it to
 *	its end, so a reload never changes the plugins under it.
 */
#ifndef MM_MILTER_H
#define MM_MILTER_H

#include "conf.h"

int milter_register(void);
void milter_set_conf(struct conf *c);
struct conf *milter_conf(void);
/* Milter connections open now (the daemon waits for them at shutdown). */
unsigned milter_active(void);
/* No callback runs now, and none has returned for grace seconds (as seen
   by the calls: one caller, polling): libmilter is not working on any
   connection (it waits for the MTA's next command). */
int milter_quiet(double grace);
/* Messages answered at end of message since start. */
unsigned long long milter_messages(void);
/* What to ask the MTA for, given what it offers (also for the bench/tests). */
void milter_negotiation(const struct conf *c, unsigned long offered_actions,
    unsigned long offered_proto, unsigned long *actions, unsigned long *proto);

#endif
