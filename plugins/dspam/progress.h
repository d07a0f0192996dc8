/*
 * NAME
 *	progress.h - modmilter-dspam's progress line and summary
 * SYNOPSIS
 *	#include "progress.h"
 * DESCRIPTION
 *	See progress.c.
 */
#ifndef DSPAM_PROGRESS_H
#define DSPAM_PROGRESS_H

#include <stddef.h>

struct progress {
	const char *verb;	/* "trained", "classified", ... */
	int tty;		/* standard error is a terminal */
	int shown;		/* a progress line is on the screen */
	double t0, last;	/* start, last update (monotonic seconds) */
	size_t done, dups;	/* messages taken, duplicates skipped */
};

void progress_start(struct progress *p, const char *verb);
/* after each message or duplicate: redraws at most 4 times a second */
void progress_tick(struct progress *p);
/* takes the progress line off the screen before other output */
void progress_clear(struct progress *p);
double progress_elapsed(const struct progress *p);
/* clears the progress line and prints the summary line */
void progress_end(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
