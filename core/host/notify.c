/*
 * NAME
 *	notify - tell the service manager how the daemon is doing
 * DESCRIPTION
 *	See notify.h. The environment is kept (unset_environment 0): a
 *	reload or a helper may still need NOTIFY_SOCKET.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

static void
notify_send(const char *msg)
{
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, msg);
#else
	(void)msg;
#endif
}

void
notify_ready(void)
{
	notify_send("READY=1");
}

void
notify_reloading(void)
{
	notify_send("RELOADING=1");
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "STATUS=");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	notify_send(buf);
}
