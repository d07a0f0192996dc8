/*
 * NAME
 *	stats - per-plugin counters, served on a local socket
 * SYNOPSIS
 *	#include "stats.h"
 *
 *	stats_format(conf, &buf);
 *	stats_serve(path, milter_conf, err, sizeof err);	(a thread; one dump per connection)
 *	stats_query(path, stdout);	(modmilterd -S)
 * DESCRIPTION
 *	For every instance of the running configuration: calls, verdicts
 *	and time spent per stage, errors and timeouts. One line per
 *	instance and stage, "instance stage calls=N ... avg_us=X".
 */
#ifndef MM_STATS_H
#define MM_STATS_H

#include <stdio.h>

#include "conf.h"
#include "util.h"

void stats_format(const struct conf *c, struct mm_buf *b);
/* current: a reference to the running configuration (NULL: none yet),
   handed down by the daemon; released with conf_unref() */
int stats_serve(const char *path, struct conf *(*current)(void), char *err,
    size_t errlen);
int stats_query(const char *path, FILE *out);

#endif
