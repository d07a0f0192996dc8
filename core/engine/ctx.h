/*
 * NAME
 *	ctx - a plugin's context, as the API table acts through it
 * SYNOPSIS
 *	#include "ctx.h"
 *
 *	if (ctx_enter(c, "add a header") < 0)
 *		return -1;
 *	... change c->msg ...
 *	ctx_leave_queued(c);
 * DESCRIPTION
 *	A hook may run on a worker thread and be abandoned after its
 *	timeout while it still runs (invoke.c). What it changes is changed
 *	inside ctx_enter() .. ctx_leave(): the session lock is held, and
 *	an instance that was abandoned (the first attempt logged) or
 *	failed is refused there, as invoke.c marks it under the same lock,
 *	so no change slips past the moment a hook was given up.
 *	ctx_progress() asks the MTA for more time, only for the hook the
 *	connection is waiting for.
 */
#ifndef MM_CTX_H
#define MM_CTX_H

#include "session.h"

/* 0: the session is locked and c may act; -1: refused (not locked) */
int ctx_enter(mm_ctx *c, const char *what);
void ctx_leave(mm_ctx *c);
/* ctx_leave, the message now having actions for the end of message */
void ctx_leave_queued(mm_ctx *c);
int ctx_abandoned(mm_ctx *c);
int ctx_progress(mm_ctx *c);

#endif
