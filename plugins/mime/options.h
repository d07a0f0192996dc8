/*
 * NAME
 *	options.h - reading the mime plugin's options (needs the SDK)
 * SYNOPSIS
 *	#include <modmilter/plugin.h>
 *	#include "mime.h"
 *	#include "options.h"
 */
#ifndef MM_MIME_OPTIONS_H
#define MM_MIME_OPTIONS_H

extern const struct mm_option mime_option_table[];

struct mime_conf *mime_options(const struct mm_api *api, const mm_opt *opts);
void mime_conf_free(struct mime_conf *c);

#endif
