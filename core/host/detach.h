/*
 * NAME
 *	detach - become a daemon before anything else starts
 * SYNOPSIS
 *	#include "detach.h"
 *
 *	if (detach_start() < 0) ...	(in the parent this never returns)
 *	... open the socket, load plugins: errors go to stderr ...
 *	detach_ready();			(the parent exits 0)
 * DESCRIPTION
 *	detach_start() forks before any thread or plugin exists, so fork
 *	is invisible to plugins: what their init starts lives in the
 *	daemon. The child becomes a session leader in "/" and its stderr
 *	is a pipe to the parent, which copies it to the terminal; the
 *	parent waits until the child calls detach_ready() (exit 0) or ends
 *	without calling it (exit 1), so "modmilterd -c FILE" still shows a
 *	configuration error where the admin typed it.
 *
 *	detach_ready() reports success and points stdin, stdout and stderr
 *	at /dev/null: nothing is written to the terminal afterwards.
 * DIAGNOSTICS
 *	detach_start() returns -1 with errno set when it cannot fork.
 */
#ifndef MM_DETACH_H
#define MM_DETACH_H

int detach_start(void);
void detach_ready(void);

#endif
