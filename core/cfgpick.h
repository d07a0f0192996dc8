/*
 * NAME
 *	cfgpick.h - one plugin instance of the daemon's file, for a command
 * SYNOPSIS
 *	#include "cfgpick.h"
 * DESCRIPTION
 *	See cfgpick.c.
 */
#ifndef CFGPICK_H
#define CFGPICK_H

#include <modmilter/plugin.h>

const mm_opt *cfg_pick_instance(const char *prog, const char *path,
    const mm_opt *plugins, const char *module, const char *want,
    const char *option, const char **name);

#endif
