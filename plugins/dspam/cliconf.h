/*
 * NAME
 *	cliconf.h - the daemon's configuration as modmilter-dspam reads it
 * SYNOPSIS
 *	#include "cliconf.h"
 * DESCRIPTION
 *	See cliconf.c.
 */
#ifndef DSPAM_CLICONF_H
#define DSPAM_CLICONF_H

#include <modmilter/host.h>

#include "plugin.h"

/* 0: *h and *inst set (*inst NULL when the file has no dspam
   instance); -1: an error in the file; -2: the instance cannot be
   chosen (a usage error). Errors are printed on stderr. *h is set
   (to be closed) whenever the file could be read. */
int cliconf_load(const char *path, const char *instance, mm_host **h,
    struct dspam_inst **inst);

#endif
