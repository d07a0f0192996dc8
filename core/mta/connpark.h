/*
 * NAME
 *	connpark - milter connections waiting for their next SMTP connection
 * SYNOPSIS
 *	#include "connpark.h"
 *
 *	connpark_put(key, val, drop);
 *	val = connpark_take(key);
 *	connpark_drop(key);
 * DESCRIPTION
 *	See connpark.c.
 */
#ifndef MM_CONNPARK_H
#define MM_CONNPARK_H

/* Keep val under key (replacing, and dropping, what was there). */
void connpark_put(const void *key, void *val, void (*drop)(void *));
/* What was kept under key, now the caller's; NULL if nothing. */
void *connpark_take(const void *key);
/* Drop what was kept under key, if anything. */
void connpark_drop(const void *key);

#endif
