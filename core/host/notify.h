/*
 * NAME
 *	notify - tell the service manager how the daemon is doing
 * SYNOPSIS
 *	#include "notify.h"
 *
 *	notify_ready();  notify_reloading();  notify_stopping();
 *	notify_status("%u connections open", n);
 * DESCRIPTION
 *	systemd's sd_notify protocol (Type=notify): READY=1 once the
 *	daemon listens, RELOADING=1 while a reload runs (READY=1 again at
 *	its end), STOPPING=1 at SIGTERM, and a STATUS line that
 *	systemctl status shows. Without NOTIFY_SOCKET in the environment,
 *	or built without libsystemd, every call does nothing.
 */
#ifndef MM_NOTIFY_H
#define MM_NOTIFY_H

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
