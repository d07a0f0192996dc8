/*
 * NAME
 *	msgsource.h - the messages an argument of modmilter-dspam names
 * SYNOPSIS
 *	#include "msgsource.h"
 * DESCRIPTION
 *	See msgsource.c.
 */
#ifndef DSPAM_MSGSOURCE_H
#define DSPAM_MSGSOURCE_H

#include <stddef.h>

struct msgsource_cb {
	/* One message: its name (a file, or FILE:LINE of its "From " line
	   in an mbox) and its bytes. A return < 0 stops the walk. */
	int (*message)(void *arg, const char *name, const unsigned char *msg,
	    size_t len);
	/* A file or directory that cannot be read; the walk goes on. */
	void (*error)(void *arg, const char *name, const char *why);
	void *arg;
};

/* Every message of arg, in order: 0 when all were offered (some perhaps
   reported through error()), -1 when message() stopped the walk. */
int msgsource_walk(const char *arg, const struct msgsource_cb *cb);

#endif
