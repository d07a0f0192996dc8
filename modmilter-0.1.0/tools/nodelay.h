#ifndef NODELAY_H_INCLUDED
#define NODELAY_H_INCLUDED

/*++
 * NAME
 *	nodelay 3h
 * SUMMARY
 *	disable Nagle on listening TCP sockets
 * SYNOPSIS
 *	#include "nodelay.h"
 * DESCRIPTION
 *	See nodelay.c.
 *--*/

#include <stddef.h>

extern int mm_listen_nodelay(char *, size_t);

#endif
