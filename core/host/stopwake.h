/*
 * NAME
 *	stopwake - end libmilter's wait for connections as soon as it stops
 * SYNOPSIS
 *	#include "stopwake.h"
 *
 *	stopwake_start(listen);		(before smfi_main)
 * DESCRIPTION
 *	libmilter's listener waits for a connection in poll() with a
 *	timeout of five seconds and looks at its stop flag only between
 *	waits, so a SIGTERM (which libmilter's own signal thread takes)
 *	ends smfi_main() up to five seconds later, and every stop or
 *	restart of the daemon lasts that much longer while the MTA gets
 *	no answer.
 *
 *	With a libmilter that exports its stop flag (mi_stop(), found by
 *	configure), stopwake_start() starts a thread that reads the flag
 *	ten times a second and, once it is set, connects to the daemon's
 *	own socket LISTEN (unix:, local:, inet:, inet6: or a path) and
 *	closes the connection at once: the listener wakes, sees the flag
 *	and returns. That connection sends no command, so no filter
 *	callback but the close runs for it (and the close finds no
 *	connection of ours). Without mi_stop() it does nothing.
 * DIAGNOSTICS
 *	A connection that fails is logged at debug level (the listener
 *	then ends at its own timeout, as it would without this).
 */
#ifndef MM_STOPWAKE_H
#define MM_STOPWAKE_H

void stopwake_start(const char *listen);

#endif
