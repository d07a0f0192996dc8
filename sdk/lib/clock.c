/*
 * NAME
 *	clock - the clocks, in seconds
 * SYNOPSIS
 *	#include <modmilter/clock.h>
 * DESCRIPTION
 *	See modmilter/clock.h.
 */
#include "config.h"

#include <time.h>

#include <modmilter/clock.h>

static double
seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
mm_clock_mono(void)
{
	return seconds(CLOCK_MONOTONIC);
}

double
mm_clock_wall(void)
{
	return seconds(CLOCK_REALTIME);
}
