/*
 * NAME
 *	tokmsg - tokenize a message read from a file, with the core's reader
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	dspam_tokenize(&o, msg, len, &ts);
 *	dspam_tokenize_parts(&o, headers, nh, body, blen, &ts);
 * DESCRIPTION
 *	The command line tool, the tests and the fuzz target have no
 *	mm_api handed to them: they link the core's MIME reader
 *	(core/msgparts.c) and reach it through its own table
 *	(msgparts_reader), so that tokenize.c reads every message the same way,
 *	inside the daemon or not.
 * DIAGNOSTICS
 *	-1 when out of memory.
 */
#include "config.h"

#include <stdlib.h>

#include "dspam.h"
#include "msgparts.h"

int
dspam_tokenize(const struct tokopts *o, const unsigned char *msg, size_t len,
    struct tokset *ts)
{
	mm_parts *p = msgparts_parse(msg, len);
	int r = dspam_tokenize_msg(o, &msgparts_reader, NULL, 0, p, ts);

	msgparts_free(p);
	return r;
}

int
dspam_tokenize_parts(const struct tokopts *o, const struct hdr *h, size_t nh,
    const unsigned char *body, size_t blen, struct tokset *ts)
{
	struct msgparts_field *f;
	mm_parts *p = NULL;
	int r;

	if (o->headers_only || body == NULL)
		return dspam_tokenize_msg(o, &msgparts_reader, h, nh, NULL, ts);
	if ((f = malloc((nh ? nh : 1) * sizeof(*f))) == NULL)
		return -1;
	for (size_t i = 0; i < nh; i++) {
		f[i].name = h[i].name;
		f[i].value = h[i].value;
	}
	p = msgparts_from(f, nh, body, blen);
	free(f);
	r = dspam_tokenize_msg(o, &msgparts_reader, h, nh, p, ts);
	msgparts_free(p);
	return r;
}
