/*
 * NAME
 *	fields - the file names a Content-Type or Content-Disposition
 *	field gives
 * SYNOPSIS
 *	#include <gmime/gmime.h>
 *	#include "mime.h"
 *	#include "fields.h"
 *
 *	mime_field_names("Content-Disposition", value, &names);
 *	mime_param_names(g_mime_content_type_get_parameters(ct), &names);
 * DESCRIPTION
 *	Every "name" and "filename" parameter, in every copy GMime keeps
 *	(a parameter given twice is kept twice), decoded by GMime: RFC
 *	2231 continuations and charsets, RFC 2047 encoded words.
 * DIAGNOSTICS
 *	None: a field that does not parse gives no names.
 */
#include <gmime/gmime.h>

#include "mime.h"
#include "fields.h"

/* name and filename parameters of a parameter list */
void
mime_param_names(GMimeParamList *pl, struct mime_strv *out)
{
	int n = pl ? g_mime_param_list_length(pl) : 0;

	for (int i = 0; i < n; i++) {
		GMimeParam *p = g_mime_param_list_get_parameter_at(pl, i);
		const char *k = g_mime_param_get_name(p), *v = g_mime_param_get_value(p);

		if (k && v && (g_ascii_strcasecmp(k, "name") == 0 ||
		    g_ascii_strcasecmp(k, "filename") == 0))
			mime_strv_add(out, v);
	}
}

/* What one header field adds to a leaf's names. */
void
mime_field_names(const char *name, const char *value, struct mime_strv *out)
{
	if (g_ascii_strcasecmp(name, "Content-Type") == 0) {
		GMimeContentType *ct = g_mime_content_type_parse(NULL, value);
		if (ct) {
			mime_param_names(g_mime_content_type_get_parameters(ct), out);
			g_object_unref(ct);
		}
	} else if (g_ascii_strcasecmp(name, "Content-Disposition") == 0) {
		GMimeContentDisposition *d = g_mime_content_disposition_parse(NULL, value);
		if (d) {
			mime_param_names(g_mime_content_disposition_get_parameters(d), out);
			g_object_unref(d);
		}
	}
}
