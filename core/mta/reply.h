/*
 * NAME
 *	reply - SMTP replies that are safe to hand to the MTA
 * SYNOPSIS
 *	#include "reply.h"
 *
 *	struct reply r;
 *	reply_make(&r, MM_REJECT, "550", "5.7.1", "Go away 100%");
 *	reply_free(&r);
 * DESCRIPTION
 *	The reply code's class must match the verdict (5xx for REJECT, 4xx
 *	for TEMPFAIL) or the default code replaces it; the enhanced code's
 *	class digit is forced to agree; '%' is doubled (libmilter formats
 *	the text); CR, LF and other control characters become spaces; the
 *	text is cut at 980 characters; an empty text gets a default.
 */
#ifndef MM_REPLY_H
#define MM_REPLY_H

#include <modmilter/plugin.h>

#define REPLY_TEXT_MAX	980

struct reply {
	char rcode[4];
	char xcode[32];
	char *text;		/* NULL when unset */
};

void reply_make(struct reply *r, mm_verdict v, const char *rcode,
    const char *xcode, const char *text);
void reply_copy(struct reply *dst, const struct reply *src);
void reply_free(struct reply *r);

#endif
