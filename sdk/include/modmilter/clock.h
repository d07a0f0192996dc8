/*
 * NAME
 *	modmilter/clock.h - the clocks, in seconds
 * SYNOPSIS
 *	#include <modmilter/clock.h>
 *
 *	double deadline = mm_clock_mono() + 30;
 *	double now = mm_clock_wall();
 * DESCRIPTION
 *	mm_clock_mono() reads CLOCK_MONOTONIC, for timeouts and durations
 *	(it never jumps with the date); mm_clock_wall() reads
 *	CLOCK_REALTIME, for dates and expiry stamps. Both in seconds with
 *	the fraction the system gives.
 */
#ifndef MODMILTER_CLOCK_H
#define MODMILTER_CLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

double mm_clock_mono(void);
double mm_clock_wall(void);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_CLOCK_H */
