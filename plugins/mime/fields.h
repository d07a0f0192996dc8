/*
 * NAME
 *	fields.h - file names from Content-Type and Content-Disposition
 *	fields (needs GMime)
 * SYNOPSIS
 *	#include <gmime/gmime.h>
 *	#include "mime.h"
 *	#include "fields.h"
 */
#ifndef MM_MIME_FIELDS_H
#define MM_MIME_FIELDS_H

void mime_param_names(GMimeParamList *pl, struct mime_strv *out);
void mime_field_names(const char *name, const char *value, struct mime_strv *out);

#endif
