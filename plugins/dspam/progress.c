/*
 * NAME
 *	progress - modmilter-dspam's progress line and summary
 * SYNOPSIS
 *	#include "progress.h"
 *
 *	progress_start(&p, "trained");
 *	for each message: p.done++ (or p.dups++); progress_tick(&p);
 *	progress_end(&p, "trained %zu messages as spam", p.done);
 * DESCRIPTION
 *	Training a mail store takes minutes; on a terminal the admin sees
 *	one line on standard error, redrawn in place at most 4 times a
 *	second (messages, rate, duplicates skipped), so drawing never
 *	costs more than the work. When standard error is not a terminal
 *	(cron, a pipe, a log) there is no progress line: it would only
 *	fill the log with carriage returns. The summary line is printed
 *	in both cases.
 * DIAGNOSTICS
 *	None: progress is output only.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

#define REDRAW_EVERY 0.25	/* seconds */

void
progress_start(struct progress *p, const char *verb)
{
	p->verb = verb;
	p->tty = isatty(2);
	p->shown = 0;
	p->t0 = p->last = mono_now();
	p->done = p->dups = 0;
}

double
progress_elapsed(const struct progress *p)
{
	return mono_now() - p->t0;
}

void
progress_tick(struct progress *p)
{
	double t, dt;

	if (!p->tty)
		return;
	t = mono_now();
	if (t - p->last < REDRAW_EVERY)
		return;
	p->last = t;
	dt = t - p->t0;
	/* \033[K: erase what a longer previous line left */
	fprintf(stderr, "\r%s %zu messages, %.0f msg/s, %zu duplicates skipped\033[K",
	    p->verb, p->done, dt > 0 ? (double)p->done / dt : 0.0, p->dups);
	fflush(stderr);
	p->shown = 1;
}

void
progress_clear(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}

void
progress_end(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	progress_clear(p);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
