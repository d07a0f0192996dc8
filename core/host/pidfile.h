/*
 * NAME
 *	pidfile - a locked pid file: one daemon per file
 * SYNOPSIS
 *	#include "pidfile.h"
 *
 *	if (pidfile_claim(path, err, sizeof(err)) < 0) ...	(before the socket)
 *	pidfile_remove(path);					(at exit)
 * DESCRIPTION
 *	pidfile_claim() opens the file without following a symbolic link
 *	(a link planted in a shared directory cannot make root truncate
 *	another file), takes an exclusive lock on it that lasts as long as
 *	the process, and writes our pid. A second daemon given the same
 *	file finds it locked and refuses to start, before it opens (and,
 *	for a unix socket, unlinks) the milter socket of the first.
 * DIAGNOSTICS
 *	-1 with a message naming the file, and the holder's pid when the
 *	file is locked.
 */
#ifndef MM_PIDFILE_H
#define MM_PIDFILE_H

#include <stddef.h>

int pidfile_claim(const char *path, char *err, size_t errlen);
void pidfile_remove(const char *path);

#endif
