/*
 * NAME
 *	loader - load plugin modules through libltdl, safely
 * SYNOPSIS
 *	#include "loader.h"
 *
 *	struct module *m = module_load(dir, "spf", err, sizeof err);
 *	m->desc->name ...
 *	module_unload(m);
 * DESCRIPTION
 *	A module name without a slash is looked up as DIR/NAME.so; a name
 *	with a slash is a path. Before dlopen the file must be a regular
 *	file, and it and every directory above it (links resolved) must be
 *	owned by root or by us and not writable by group or others, as
 *	sshd's StrictModes asks of a user's keys: loading code is running
 *	code, and nobody else may swap the file between check and load.
 *	The descriptor's SDK major must equal ours and the minor it needs
 *	must not exceed ours; its size must cover the SDK 1.0 descriptor.
 *	The module keeps a copy of the descriptor cut at the plugin's size
 *	and zero-filled beyond it, so that hooks newer than the plugin's
 *	headers read as NULL: the core reads m->desc, never the plugin's
 *	own descriptor.
 *
 *	loader_pretend_sdk_minor() makes this core load plugins (and
 *	api_table(), api.c, hand them the API table) as a core of an older
 *	SDK minor would: for tests of the version rule only.
 * DIAGNOSTICS
 *	NULL with a message naming the file and the reason.
 */
#ifndef MM_LOADER_H
#define MM_LOADER_H

#include <stddef.h>
#include <modmilter/plugin.h>

struct module {
	char *path;
	void *handle;			/* lt_dlhandle */
	const struct mm_plugin *desc;	/* = &copy */
	struct mm_plugin copy;
};

struct module *module_load(const char *dir, const char *name, char *err,
    size_t errlen);
void module_unload(struct module *m);
/* The SDK minor this core speaks (MM_SDK_MINOR unless pretending). */
unsigned loader_sdk_minor(void);
/* Tests only: speak an older minor; -1 if newer than MM_SDK_MINOR. */
int loader_pretend_sdk_minor(unsigned minor);
/* Check ownership and modes of a file about to be loaded. */
int module_file_safe(const char *path, char *err, size_t errlen);

#endif
