/*
 * NAME
 *	spf_guard - libspf2's error handler turned into a result
 * SYNOPSIS
 *	#include "spf_guard.h"
 *
 *	spf_guard_install();
 *
 *	struct spf_guard g = { .log = fn, .logarg = arg };
 *	if (setjmp(g.env) == 0) {
 *		spf_guard_push(&g);
 *		... calls into libspf2 ...
 *		spf_guard_pop(&g);
 *	} else
 *		... g.msg says what libspf2 complained about ...
 * DESCRIPTION
 *	libspf2 reports internal errors (a NULL it did not expect, a DNS
 *	layer returning nothing) through SPF_error_handler, which must not
 *	return: its default prints and calls abort(), which would take the
 *	whole daemon and every connection with it.
 *
 *	spf_guard_install() (idempotent, thread-safe) replaces libspf2's
 *	error, warning, info and debug handlers. While a guard is pushed
 *	on the calling thread, an error unwinds to the innermost guard's
 *	setjmp() with the message in g.msg, and the caller turns it into
 *	a temperror. Warnings go to the log function of the innermost
 *	guard that has one; info and debug messages are dropped.
 *
 *	Guards are per thread and nest. Code between push and pop must
 *	keep everything it allocates reachable from outside the guarded
 *	frame, so that nothing leaks when it is unwound.
 * DIAGNOSTICS
 *	An error raised with no guard pushed (a call into libspf2 outside
 *	the plugin's guarded paths) is written to the standard error and
 *	aborts, as libspf2 itself would.
 */
#ifndef MM_SPF_GUARD_H
#define MM_SPF_GUARD_H

#include <setjmp.h>

struct spf_guard {
	jmp_buf env;
	char msg[256];
	void (*log)(void *logarg, const char *msg);
	void *logarg;
	struct spf_guard *prev;
};

void spf_guard_install(void);
void spf_guard_push(struct spf_guard *g);
void spf_guard_pop(struct spf_guard *g);

#endif
