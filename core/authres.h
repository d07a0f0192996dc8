/*
 * NAME
 *	authres - the authserv-id of an Authentication-Results header
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	char *id = authres_id("(c) \"MX.example.com.\" 1; spf=pass", &ok, &why);
 *						("MX.example.com.", ok 1)
 *	if (authres_id_eq(id, "mx.example.com")) ...
 *	if (authres_claims(value, conf->authserv_id)) (delete the header)
 * DESCRIPTION
 *	authres_id() reads the authserv-id that opens an
 *	Authentication-Results value (RFC 8601 2.2): after optional CFWS
 *	(blanks, folding, comments that nest and hold quoted-pairs), a
 *	MIME value, that is a token or a quoted-string, which is returned
 *	unquoted. *wellformed (when not NULL) tells whether what follows
 *	is the optional version and then ';' or the end, as the grammar
 *	wants.
 *
 *	authres_id_eq() compares two ids as host names compare: case
 *	insensitively (ASCII), one trailing dot of either ignored.
 *
 *	authres_claims() says whether a header value claims the id ours.
 *	A malformed remainder does not save a header whose id is ours: a
 *	lenient reader downstream could still believe it, and deleting a
 *	header that claims our name costs nothing.
 * DIAGNOSTICS
 *	authres_id() returns NULL, with *why (when not NULL) set to a
 *	static reason, when no id can be read; its result is malloc'ed.
 */
#ifndef MM_AUTHRES_H
#define MM_AUTHRES_H

char *authres_id(const char *value, int *wellformed, const char **why);
int authres_id_eq(const char *a, const char *b);
int authres_claims(const char *value, const char *ours);

#endif
