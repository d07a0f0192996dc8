/*
 * NAME
 *	archive.h - archived copies of a message, written then committed
 * SYNOPSIS
 *	#include "archive.h"
 * DESCRIPTION
 *	See archive.c.
 */
#ifndef WIRETAP_ARCHIVE_H
#define WIRETAP_ARCHIVE_H

#include "maildir.h"
#include "wiretap.h"

/* A copy complete in tmp/, waiting for the message's fate. */
struct wt_pending {
	struct md_file f;
	char *key;		/* the watched address */
	char *groups;		/* "legal-hold,other", for the log */
};

int wt_archive_write(const struct wt_conf *c, mm_ctx *ctx,
    const struct wt_plan *p, struct wt_pending **pend, size_t *npend);
void wt_archive_commit(const struct wt_conf *c, struct wt_pending *pend,
    size_t n, const char *tag);
void wt_archive_withdraw(struct wt_pending *pend, size_t n);

#endif /* WIRETAP_ARCHIVE_H */
