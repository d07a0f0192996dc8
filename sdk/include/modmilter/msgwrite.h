/*
 * NAME
 *	modmilter/msgwrite.h - a message written back as header fields and body
 * SYNOPSIS
 *	#include <modmilter/msgwrite.h>
 *
 *	struct mm_buf b = MM_BUF_INIT;
 *	for (size_t i = 0; i < api->header_count(ctx); i++) {
 *		api->header_at(ctx, i, &name, &value);
 *		mm_msg_header(mm_msg_to_buf, &b, name, value, MM_MSG_AS_RECEIVED);
 *	}
 *	mm_msg_text(mm_msg_to_buf, &b, "\r\n", 2, 0);
 *	mm_buf_add(&b, body, bodylen);
 * DESCRIPTION
 *	The MTA hands a filter each header field as a name and a value
 *	(folded lines joined by line ends, the space after the colon
 *	removed) and the body apart. These put them back together, into
 *	anything a sink takes: a struct mm_buf (mm_msg_to_buf), a file
 *	(a sink around mm_durable_write() or write(2)), a socket.
 *
 *	mm_msg_header() writes "Name: value" and a line end. With
 *	MM_MSG_AS_RECEIVED the space after the colon is left out where
 *	the field had none: when the value is empty or starts with a tab
 *	or a line end (the MTA removes exactly one space after the colon,
 *	and only a space), which gives most messages back byte for byte.
 *
 *	mm_msg_text() writes text with its line ends made CRLF (the wire
 *	form; a CR already before an LF is kept), or, with MM_MSG_LF,
 *	made LF (the form of a Unix file such as a Maildir's; a lone CR
 *	is kept). Header values go through it.
 * DIAGNOSTICS
 *	A sink returns 0, or -1 to stop; the writers then return -1.
 */
#ifndef MODMILTER_MSGWRITE_H
#define MODMILTER_MSGWRITE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*mm_msg_sink)(void *arg, const void *p, size_t n);

#define MM_MSG_LF		0x1	/* LF line ends, not CRLF */
#define MM_MSG_AS_RECEIVED	0x2	/* no space after the colon where none was */

int mm_msg_header(mm_msg_sink put, void *arg, const char *name,
    const char *value, unsigned flags);
int mm_msg_text(mm_msg_sink put, void *arg, const void *p, size_t n,
    unsigned flags);

/* A sink appending to the struct mm_buf at arg; -1 after an out-of-memory. */
int mm_msg_to_buf(void *arg, const void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_MSGWRITE_H */
