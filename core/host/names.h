/*
 * NAME
 *	names - the names of the SDK's stages and verdicts
 * SYNOPSIS
 *	#include "names.h"
 *
 *	stage_name(MM_STAGE_EOH);	("eoh")
 *	verdict_name(MM_TEMPFAIL);	("tempfail")
 * DESCRIPTION
 *	As logs, the summary line, the stats socket and the metrics spell
 *	them. Two hooks are not SMTP stages: conn_open and msg_end are
 *	dispatched (engine/invoke.c) under numbers past the SDK's stages,
 *	never used to index the per-stage counters. An unknown value is
 *	"?" (stage) or "invalid" (verdict).
 */
#ifndef MM_NAMES_H
#define MM_NAMES_H

#include <modmilter/plugin.h>

#define STAGE_CONN_OPEN	MM_STAGE_COUNT
/* the API refuses actions in msg_end (host/api_act.c) */
#define STAGE_MSG_END	(MM_STAGE_COUNT + 1)

const char *stage_name(mm_stage st);
const char *verdict_name(mm_verdict v);

#endif
