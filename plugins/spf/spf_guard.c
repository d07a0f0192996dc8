/*
 * NAME
 *	spf_guard - libspf2's error handler turned into a result
 * SYNOPSIS
 *	See spf_guard.h.
 * DESCRIPTION
 *	The handlers are process-wide (libspf2 has one set); the guard
 *	stack is thread-local, so concurrent checks unwind only their own
 *	frames.
 * DIAGNOSTICS
 *	See spf_guard.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <spf2/spf.h>

#include "spf_guard.h"

static __thread struct spf_guard *top;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static __attribute__((noreturn)) void
on_error(const char *file, int line, const char *msg)
{
	struct spf_guard *g = top;

	if (g == NULL) {
		fprintf(stderr, "libspf2 error outside a guarded call (%s:%d): %s\n",
		    file ? file : "?", line, msg ? msg : "");
		abort();
	}
	snprintf(g->msg, sizeof(g->msg), "libspf2: %s", msg ? msg : "internal error");
	top = g->prev;
	longjmp(g->env, 1);
}

static void
on_warning(const char *file, int line, const char *msg)
{
	char buf[320];

	for (struct spf_guard *g = top; g; g = g->prev)
		if (g->log) {
			snprintf(buf, sizeof(buf), "libspf2 warning (%s:%d): %s",
			    file ? file : "?", line, msg ? msg : "");
			g->log(g->logarg, buf);
			return;
		}
}

static void
on_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

static void
install(void)
{
	SPF_error_handler = on_error;
	SPF_warning_handler = on_warning;
	SPF_info_handler = on_quiet;
	SPF_debug_handler = on_quiet;
}

void
spf_guard_install(void)
{
	pthread_once(&once, install);
}

void
spf_guard_push(struct spf_guard *g)
{
	g->msg[0] = 0;
	g->prev = top;
	top = g;
}

void
spf_guard_pop(struct spf_guard *g)
{
	if (top == g)
		top = g->prev;
}
