/*
 * NAME
 *	log - modmilterd's one logging family
 * SYNOPSIS
 *	#include "log.h"
 *
 *	log_open(LOG_DEST_STDERR, MM_LOG_INFO, "modmilterd");
 *	log_msg(MM_LOG_WARNING, qid, plugin, "format", ...);
 *	log_warn / log_info / log_debug / log_err(...)
 * DESCRIPTION
 *	Every line carries the queue id and the plugin instance name when
 *	known. Destinations: stderr (text), syslog (mail facility) or json
 *	(one object per line on stderr, for log shippers); stderr and json
 *	lines may go to a file instead (log_set_file).
 */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdarg.h>
#include <modmilter/plugin.h>

enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG, LOG_DEST_JSON };

void log_open(enum log_dest dest, int level, const char *ident);
/* Text and json lines go to this file (appended; reopened by the next
   call, e.g. after log rotation) instead of stderr; NULL: stderr again. */
int log_set_file(const char *path, char *err, size_t errlen);
/* While on, every line is also written to stderr as text (start-up,
   when stderr is the admin's terminal, whatever the destination). */
void log_also_stderr(int on);
int log_level(void);
void log_vmsg(int level, const char *qid, const char *who, const char *fmt,
    va_list ap);
void log_msg(int level, const char *qid, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_err(...)	log_msg(MM_LOG_ERR, NULL, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(MM_LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define log_notice(...)	log_msg(MM_LOG_NOTICE, NULL, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(MM_LOG_INFO, NULL, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(MM_LOG_DEBUG, NULL, NULL, __VA_ARGS__)

int log_parse_level(const char *s);
/* One record of n key/value pairs (kv[2i], kv[2i+1]): "k=v k=\"a b\""
   as text, or the pairs as members of the JSON object. */
void log_fields(int level, const char *qid, const char *const *kv, size_t n);	/* -1 if unknown */

#endif
