/*
 * NAME
 *	cliconf - the daemon's configuration as modmilter-dspam reads it
 * SYNOPSIS
 *	#include "cliconf.h"
 *
 *	mm_host *h;
 *	struct dspam_inst *inst;
 *	if (cliconf_load("/etc/modmilter.yaml", NULL, &h, &inst) < 0) ...
 * DESCRIPTION
 *	Training by hand must count tokens the way the daemon will look
 *	them up: the same store and database, tokenizer, algorithm,
 *	thresholds, training mode and dictionary. So the command reads
 *	the daemon's file through the tools' host API (modmilter/host.h):
 *	its store, and the "options:" of one dspam instance, read by the
 *	plugin's own reader (options.c: its option table and groups) with
 *	the same errors and unknown-option checks as modmilterd -t. No
 *	plugin is loaded and no init() runs.
 *
 *	The instance is the one named (it must use module dspam), else the
 *	only dspam instance of the file; with several and none named the
 *	command cannot guess. A file without a dspam instance gives the
 *	store only.
 * DIAGNOSTICS
 *	Errors in the file as "FILE:LINE:COL: message", the instance
 *	problems as one line; see cliconf.h for the return values.
 */
#include "config.h"

#include <stdlib.h>

#include "cliconf.h"

static int
read_options(const struct mm_api *api, const mm_opt *opts, void *arg, char **err)
{
	struct dspam_inst **inst = arg;

	return (*inst = dspam_options(api, opts, err)) != NULL ? 0 : -1;
}

int
cliconf_load(const char *path, const char *instance, mm_host **h,
    struct dspam_inst **inst)
{
	const char *name;
	int r;

	*inst = NULL;
	if ((*h = mm_host_open("modmilter-dspam", path)) == NULL)
		return -1;
	if ((r = mm_host_instance(*h, "dspam", instance, "--instance NAME",
	    &name)) < 0)
		return -2;
	if (r == 1 && mm_host_options(*h, name, read_options, inst) < 0) {
		dspam_inst_free(*inst);
		*inst = NULL;
		return -1;
	}
	return 0;
}
