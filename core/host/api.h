/*
 * NAME
 *	api - the function table plugins call back into (struct mm_api)
 * SYNOPSIS
 *	#include "api.h"
 *
 *	p->init(ictx, api_table(), opts, &data, &err);
 * DESCRIPTION
 *	The table is put together in api.c from three files by job:
 *	api.c (logging, options, per-plugin data, the store, metrics, the
 *	helpers), api_msg.c (what a plugin reads: client, envelope, facts,
 *	headers, body) and api_act.c (what it asks for: replies, header
 *	and envelope changes, quarantine, Authentication-Results).
 *	Plugins reach the engine only through this table; the table
 *	reaches it only through session.h's readers and ctx.h.
 */
#ifndef MM_API_H
#define MM_API_H

#include <modmilter/plugin.h>

extern const struct mm_api core_api;
/* The table plugins get at init: core_api, or the shorter one of the
   minor a test pretends to speak (loader_pretend_sdk_minor). */
const struct mm_api *api_table(void);

#endif
