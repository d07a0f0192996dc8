/*
 * NAME
 *	eml - read an RFC 5322 message file as an MTA hands it to a milter
 * SYNOPSIS
 *	#include "eml.h"
 *
 *	struct eml m;
 *	if (eml_load(path, &m, &err) < 0) ...
 *	m.names[i], m.values[i], m.body, m.bodylen
 *	eml_free(&m);
 * DESCRIPTION
 *	Header values lose the one space after the colon and keep their
 *	folding as "\n" plus the continuation's whitespace, as Postfix and
 *	Sendmail send them; the body gets CRLF line ends. A leading mbox
 *	"From " line is skipped. A file with no blank line is all headers.
 */
#ifndef MM_EML_H
#define MM_EML_H

#include <stddef.h>

struct eml {
	char **names, **values;
	size_t nhdrs;
	unsigned char *body;
	size_t bodylen;
};

int eml_parse(const char *text, size_t len, struct eml *m);
int eml_load(const char *path, struct eml *m, char **err);
void eml_free(struct eml *m);

#endif
