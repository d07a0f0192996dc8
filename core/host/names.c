/*
 * NAME
 *	names - the names of the SDK's stages and verdicts
 * DESCRIPTION
 *	See names.h.
 */
#include "config.h"

#include "names.h"

static const char *const stage_names[MM_STAGE_COUNT] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh",
	"body", "eom", "abort", "close", "unknown"
};

const char *
stage_name(mm_stage st)
{
	if (st == STAGE_CONN_OPEN)
		return "conn_open";
	if (st == STAGE_MSG_END)
		return "msg_end";
	return (unsigned)st < MM_STAGE_COUNT ? stage_names[st] : "?";
}

const char *
verdict_name(mm_verdict v)
{
	static const char *const names[] = {
		"continue", "accept", "reject", "tempfail", "discard", "skip", "error"
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "invalid";
}
