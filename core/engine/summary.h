/*
 * NAME
 *	summary - the one log line per message an admin greps
 * SYNOPSIS
 *	#include "summary.h"
 *
 *	summary_log(session, "reject", &reply);	(once, as the message ends)
 * DESCRIPTION
 *	qid, client, helo, from, rcpt (the accepted recipients), chain,
 *	each plugin of the chain with the result it set (api->set_result;
 *	"-" when it set none), the final verdict as told to the MTA and the
 *	plugin that decided it ("by", "-" when none refused), the reply,
 *	the body size and the seconds since MAIL FROM. key=value text, or
 *	the same pairs as one JSON object with log: { to: json }.
 */
#ifndef MM_SUMMARY_H
#define MM_SUMMARY_H

#include "reply.h"

struct session;

void summary_log(struct session *s, const char *verdict, const struct reply *r);

#endif
