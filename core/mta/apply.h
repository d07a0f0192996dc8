/*
 * NAME
 *	apply - an accepted message's modifications, as libmilter calls
 * SYNOPSIS
 *	#include "apply.h"
 *
 *	int milter_apply(SMFICTX *ctx, const char *qid, const struct eom_out *e);
 * DESCRIPTION
 *	Used by milter.c's end of message (the backend's apply()); qid is
 *	for the log. 0, or -1 when the MTA refused a modification.
 */
#ifndef MM_APPLY_H
#define MM_APPLY_H

#include <libmilter/mfapi.h>

#include "session.h"

int milter_apply(SMFICTX *ctx, const char *qid, const struct eom_out *e);

#endif
