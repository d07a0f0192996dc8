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

#include "plugin.h"
#include "store.h"

/* 0: *store and *inst set (*inst NULL when the file has no dspam
   instance); -1: an error in the file; -2: the instance cannot be
   chosen (a usage error). Errors are printed on stderr. */
int cliconf_load(const char *path, const char *instance,
    struct store_cfg *store, struct dspam_inst **inst);

#endif
