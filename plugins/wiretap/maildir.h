/*
 * NAME
 *	maildir.h - deliver one file into a Maildir, never half-written
 * SYNOPSIS
 *	#include "maildir.h"
 *
 *	struct md_file f;
 *	char err[512];
 *
 *	md_hostname(host, sizeof(host));
 *	if (md_create(&f, "/var/lib/archive", "alice@corp.example", host,
 *	    0600, err, sizeof(err)) < 0 ||
 *	    md_write(&f, data, len, err, sizeof(err)) < 0 ||
 *	    md_finish(&f, err, sizeof(err)) < 0)
 *		md_withdraw(&f);		(nothing is left behind)
 *	...
 *	md_commit(&f, err, sizeof(err));	(visible in new/)
 * DESCRIPTION
 *	See maildir.c.
 */
#ifndef WIRETAP_MAILDIR_H
#define WIRETAP_MAILDIR_H

#include <stddef.h>

#include <modmilter/durable.h>

struct md_file {
	char *dir;		/* <root>/<sub> */
	char *name;		/* unique name, the same in tmp/ and new/ */
	struct mm_durable d;	/* the file; d.state says how far it got */
};

void md_hostname(char *buf, size_t len);
int md_create(struct md_file *f, const char *root, const char *sub,
    const char *host, int mode, char *err, size_t errlen);
int md_write(struct md_file *f, const void *data, size_t len, char *err,
    size_t errlen);
int md_finish(struct md_file *f, char *err, size_t errlen);
int md_commit(struct md_file *f, char *err, size_t errlen);
void md_withdraw(struct md_file *f);
void md_release(struct md_file *f);
int md_path(const struct md_file *f, const char *sub, char *buf, size_t len);

#endif /* WIRETAP_MAILDIR_H */
