/*
 * NAME
 *	dedup.h - Message-IDs seen in one run of modmilter-dspam
 * SYNOPSIS
 *	#include "dedup.h"
 * DESCRIPTION
 *	See dedup.c.
 */
#ifndef DSPAM_DEDUP_H
#define DSPAM_DEDUP_H

#include <stddef.h>

struct dedup;

struct dedup *dedup_new(void);
/* 1 when the message's Message-ID was seen before by this set, else 0
   (and it is remembered); a message without one is never a duplicate. */
int dedup_seen(struct dedup *d, const unsigned char *msg, size_t len);
void dedup_free(struct dedup *d);

#endif
