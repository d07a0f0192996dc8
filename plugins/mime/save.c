/*
 * NAME
 *	save - keep the original message where the admin can recover it
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	mime_message_text(&buf, headers, nh, body, bodylen);
 *	if (mime_save(dir, qid, headers, nh, body, bodylen, &id, &err) < 0) ...
 * DESCRIPTION
 *	mime_message_text() puts a message back together from the header
 *	list and the body the MTA passed to the filter: each field as
 *	"Name: value" (the MTA removed exactly one space after the colon;
 *	a value that starts with a tab or a line break, or is empty, had
 *	none), folded lines with CRLF, a blank line, then the body as
 *	received (CRLF line ends). For what Postfix passes, that is the
 *	message byte for byte except in the cases doc/plugins/mime.md
 *	lists (no space after the colon, white space before it).
 *
 *	mime_save() writes that text to DIR/ID.eml, where ID is the UTC
 *	time, the queue id and 64 random bits (20250305T060005Z-4F2A1B-
 *	9c0e...): first to DIR/.ID.tmp (created exclusively, mode 0600),
 *	then fsync(), rename() and an fsync() of DIR, so that the file
 *	under its final name is always complete, and stays so across a
 *	crash once mime_save() has returned (modmilter/durable.h; the
 *	text is written by modmilter/msgwrite.h).
 * DIAGNOSTICS
 *	mime_save() returns -1 with a malloc'ed message in *err (the
 *	step and the system error) and leaves no file behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/durable.h>
#include <modmilter/msgwrite.h>

#include "mime.h"

void
mime_message_text(struct mime_buf *b, const struct mime_header *h, size_t nh,
    const char *body, size_t bodylen)
{
	for (size_t i = 0; i < nh; i++)
		mm_msg_header(mm_msg_to_buf, b, h[i].name, h[i].value,
		    MM_MSG_AS_RECEIVED);
	mime_buf_adds(b, "\r\n");
	mime_buf_add(b, body, bodylen);
}

static char *
new_id(const char *qid)
{
	unsigned char rnd[8];
	char q[33], stamp[32], hex[17];
	size_t k = 0;
	time_t now = time(NULL);
	struct tm tm;

	for (const char *p = qid ? qid : ""; *p && k < sizeof(q) - 1; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9'))
			q[k++] = *p;
	q[k] = 0;
	if (k == 0)
		strcpy(q, "NOQUEUE");
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* no entropy source: time and address still make it unique */
		unsigned long x = (unsigned long)now ^ (unsigned long)(size_t)&tm ^
		    (unsigned long)clock();
		for (size_t i = 0; i < sizeof(rnd); i++, x >>= 5)
			rnd[i] = (unsigned char)(x ^ (unsigned long)rand());
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return mime_xasprintf("%s-%s-%s", stamp, q, hex);
}

int
mime_save(const char *dir, const char *qid, const struct mime_header *h,
    size_t nh, const char *body, size_t bodylen, char **idp, char **err)
{
	struct mime_buf head = { 0 };
	struct mm_durable f;
	char *id = new_id(qid);
	char *tmp = mime_xasprintf("%s/.%s.tmp", dir, id);
	char *final = mime_xasprintf("%s/%s.eml", dir, id);

	mime_message_text(&head, h, nh, "", 0);
	if (mm_durable_create(&f, tmp, 0600) < 0)
		goto fail;
	if (mm_durable_write(&f, head.data, head.len) < 0 ||
	    mm_durable_write(&f, body, bodylen) < 0 || mm_durable_finish(&f) < 0 ||
	    mm_durable_commit(&f, final, 0) < 0) {
		int e = errno;
		if (f.committed)
			unlink(final);	/* not durable: as if never saved */
		mm_durable_withdraw(&f);
		errno = e;
		goto fail;
	}
	mm_durable_release(&f);
	mime_buf_free(&head);
	free(tmp);
	free(final);
	*idp = id;
	return 0;

fail:
	*err = mime_xasprintf("cannot save the original in %s: %s: %m", dir,
	    f.step);
	mime_buf_free(&head);
	free(tmp);
	free(final);
	free(id);
	return -1;
}
