/*++
 * NAME
 *	milterclient 3
 * SUMMARY
 *	MTA side of the milter protocol, version 6
 * SYNOPSIS
 *	#include "milterclient.h"
 *
 *	MC_CONN	*mc_open(spec, timeout_ms, err, errlen)
 *	const char *spec;
 *	int	timeout_ms;
 *	char	*err;
 *	size_t	errlen;
 *
 *	int	mc_negotiate(conn, actions, protocol)
 *	MC_CONN	*conn;
 *	uint32_t actions;
 *	uint32_t protocol;
 *
 *	int	mc_connect(conn, macros, hostname, family, port, address)
 *	int	mc_helo(conn, macros, helo_name)
 *	int	mc_mail(conn, macros, args)
 *	int	mc_rcpt(conn, macros, args)
 *	int	mc_data(conn, macros)
 *	int	mc_header(conn, name, raw_value)
 *	int	mc_eoh(conn, macros)
 *	int	mc_body(conn, buf, len)
 *	int	mc_eom(conn, macros, result)
 *	const char *const *macros;
 *	const char *const *args;
 *	MC_RESULT *result;
 *
 *	int	mc_abort(conn)
 *	int	mc_quit(conn)
 *	int	mc_quit_nc(conn)
 *	void	mc_close(conn)
 *
 *	const char *mc_error(conn)
 *	uint32_t mc_version(conn)
 *	uint32_t mc_actions(conn)
 *	uint32_t mc_protocol(conn)
 *	const char *mc_symlist(conn, stage)
 *	const char *mc_reply_text(conn)
 *
 *	void	mc_result_init(result)
 *	void	mc_result_free(result)
 *	void	mc_result_print(fp, result)
 *	const char *mc_code_name(code)
 * DESCRIPTION
 *	This module plays the MTA in a conversation with a mail filter
 *	over the Sendmail milter protocol, version 6. Every packet is a
 *	32-bit length in network byte order (covering the command byte
 *	and the data), one command byte, and the data.
 *
 *	mc_open() connects to the filter socket \fIspec\fR, written as
 *	for libmilter: \fBinet:\fIport\fB@\fIhost\fR,
 *	\fBinet6:\fIport\fB@\fIhost\fR, \fBunix:\fIpath\fR,
 *	\fBlocal:\fIpath\fR or a bare path. Without \fB@\fIhost\fR the
 *	loopback address is used. \fItimeout_ms\fR bounds the connect
 *	and every later wait for the socket to become readable or
 *	writable.
 *
 *	mc_negotiate() sends the option negotiation with the actions
 *	(MC_ACT_*) and protocol steps (MC_P_*) the MTA offers, and reads
 *	back what the filter wants. A filter that asks for an action or
 *	a protocol step that was not offered is a protocol error. Macro
 *	lists sent back by the filter (smfi_setsymlist()) are kept and
 *	honoured: only the macros named there are sent for that stage.
 *
 *	The stage functions send one event. \fImacros\fR is NULL or a
 *	NULL-terminated list of name, value, name, value...; it is sent
 *	as a macro packet right before the event, as Postfix does, even
 *	when the filter asked not to receive the event itself. An event
 *	whose SMFIP_NO* bit the filter set is not sent, and an event
 *	whose SMFIP_NR_* bit it set is not waited for; both return
 *	MC_CONTINUE. Packets that need no reply stay buffered and go out
 *	together with the next packet that does, so that a run of
 *	headers costs one write.
 *
 *	mc_mail() and mc_rcpt() take the SMTP command arguments, address
 *	with angle brackets first, then any ESMTP parameters.
 *
 *	mc_header() takes the raw header value, the text after the
 *	colon. Unless the filter negotiated SMFIP_HDR_LEADSPC, one
 *	leading space is removed, as Sendmail and Postfix do. Folded
 *	values keep their line breaks as a newline followed by the
 *	continuation whitespace.
 *
 *	mc_body() collects body content (CRLF line endings, as the MTA
 *	has it) and sends it in chunks of at most 65535 bytes. After the
 *	filter answers a chunk with SMFIR_SKIP, the rest of the body is
 *	dropped and mc_body() returns MC_SKIP.
 *
 *	mc_eom() sends the last partial body chunk and the end of
 *	message, then reads modification requests (header, recipient,
 *	sender and body changes, quarantine) into \fIresult\fR until the
 *	final verdict, which it returns and also stores in
 *	result->verdict. Progress packets are skipped. \fIresult\fR may
 *	be NULL when the caller does not need the modifications.
 *
 *	mc_abort() queues an abort of the current message, no reply
 *	expected. mc_quit() sends QUIT. mc_quit_nc() sends QUIT_NC: the
 *	SMTP connection ends but the milter connection stays, for the next
 *	SMTP connection to start with mc_connect() (as Postfix and
 *	Sendmail do when they reuse a milter connection); no reply.
 *	mc_close() closes the socket and frees the handle, dropping any
 *	unsent output.
 *
 *	mc_version(), mc_actions() and mc_protocol() report what the
 *	filter negotiated. mc_symlist() returns the filter's macro list
 *	for an SMFIM_* stage, or NULL. mc_reply_text() returns the text
 *	of the last SMFIR_REPLYCODE reply.
 *
 *	mc_result_init() prepares a result, mc_result_free() releases
 *	what it holds, and mc_result_print() prints the verdict and the
 *	modifications, one per line. mc_code_name() names a reply code,
 *	e.g. "accept" or "addheader".
 * DIAGNOSTICS
 *	Functions returning a pointer return NULL, and functions
 *	returning an int return -1, after a failure; mc_open() writes
 *	the reason to \fIerr\fR, the others leave it for mc_error().
 *	A failure (timeout, I/O error, malformed or unexpected packet)
 *	leaves the connection unusable: later calls return -1 with the
 *	same message. Nothing here prints, exits or raises signals
 *	(writes use MSG_NOSIGNAL). Each connection may be used by one
 *	thread at a time; different connections are independent.
 * SEE ALSO
 *	libmilter/mfdef.h, protocol constants
 *--*/

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/clock.h>

#include "mc_conn.h"

/* mc_open - connect to the filter */

MC_CONN *mc_open(const char *spec, int timeout_ms, char *err, size_t errlen)
{
    MC_CONN *c;
    int     fd;

    if ((fd = mc_open_spec(spec, timeout_ms, err, errlen)) < 0)
	return (NULL);
    if ((c = calloc(1, sizeof(*c))) == NULL) {
	snprintf(err, errlen, "out of memory");
	close(fd);
	return (NULL);
    }
    c->fd = fd;
    c->timeout = timeout_ms;
    return (c);
}

/* mc_close - disconnect and free */

void    mc_close(MC_CONN *c)
{
    int     i;

    if (c == NULL)
	return;
    if (c->fd >= 0)
	close(c->fd);
    for (i = 0; i < MC_NSTAGES; i++)
	free(c->symlist[i]);
    free(c->obuf);
    free(c->ibuf);
    free(c->body);
    free(c->reply);
    free(c);
}

const char *mc_error(const MC_CONN *c)
{
    return (c->broken ? c->err : "no error");
}

uint32_t mc_version(const MC_CONN *c)
{
    return (c->version);
}

uint32_t mc_actions(const MC_CONN *c)
{
    return (c->actions);
}

uint32_t mc_protocol(const MC_CONN *c)
{
    return (c->protocol);
}

const char *mc_symlist(const MC_CONN *c, int stage)
{
    return (stage >= 0 && stage < MC_NSTAGES ? c->symlist[stage] : NULL);
}

const char *mc_reply_text(const MC_CONN *c)
{
    return (c->reply);
}

/* mc_negotiate - option negotiation */

int     mc_negotiate(MC_CONN *c, uint32_t actions, uint32_t protocol)
{
    const unsigned char *p;
    uint32_t v[3];
    uint32_t stage = 0;
    size_t  off;
    size_t  left;
    char   *list;
    int     cmd;
    int     i;

    if (c->broken)
	return (-1);
    c->offer_act = actions;
    c->offer_proto = protocol;
    v[0] = htonl(MC_VERSION);
    v[1] = htonl(actions);
    v[2] = htonl(protocol);
    off = mc_pkt_begin(c, 'O');
    mc_pkt_add(c, v, sizeof(v));
    if (mc_pkt_end(c, off) < 0 || mc_get_packet(c, &cmd, &p, &left) < 0)
	return (-1);
    if (cmd != 'O')
	return (mc_fail(c, "unexpected %s reply to negotiate", mc_code_name(cmd)));
    for (i = 0; i < 3; i++)
	if (mc_take_u32(c, &p, &left, &v[i], cmd) < 0)
	    return (-1);
    c->version = v[0];
    c->actions = v[1];
    c->protocol = v[2];
    if (c->version < 2 || c->version > MC_VERSION)
	return (mc_fail(c, "filter protocol version %lu, expected 2..%d",
		     (unsigned long) c->version, MC_VERSION));
    if (c->actions & ~actions)
	return (mc_fail(c, "filter wants actions 0x%lx, offered 0x%lx",
		     (unsigned long) c->actions, (unsigned long) actions));
    if (c->protocol & ~protocol)
	return (mc_fail(c, "filter wants protocol 0x%lx, offered 0x%lx",
		     (unsigned long) c->protocol, (unsigned long) protocol));
    while (left > 0) {
	if (mc_take_u32(c, &p, &left, &stage, cmd) < 0
	    || mc_take_str(c, &p, &left, &list, cmd) < 0)
	    return (-1);
	if (stage < MC_NSTAGES) {
	    free(c->symlist[stage]);
	    c->symlist[stage] = list;
	} else {
	    free(list);
	}
    }
    return (0);
}

/* mc_connect - SMTP client connection */

int     mc_connect(MC_CONN *c, const char *const *macros, const char *host,
		           int family, unsigned port, const char *addr)
{
    unsigned char fam = (unsigned char) family;
    uint16_t nport = htons((uint16_t) port);
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, 'C', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    mc_pkt_str(c, host);
    mc_pkt_add(c, &fam, 1);
    if (family != MC_FAM_UNKNOWN) {
	mc_pkt_add(c, &nport, 2);
	mc_pkt_str(c, addr);
    }
    return (mc_stage_close(c, 'C', off, NULL));
}

/* mc_helo - HELO/EHLO */

int     mc_helo(MC_CONN *c, const char *const *macros, const char *name)
{
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, 'H', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    mc_pkt_str(c, name);
    return (mc_stage_close(c, 'H', off, NULL));
}

/* envelope - MAIL FROM or RCPT TO with ESMTP arguments */

static int envelope(MC_CONN *c, int cmd, const char *const *macros,
		            const char *const *args)
{
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, cmd, macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    for (; *args; args++)
	mc_pkt_str(c, *args);
    return (mc_stage_close(c, cmd, off, NULL));
}

int     mc_mail(MC_CONN *c, const char *const *macros, const char *const *args)
{
    return (envelope(c, 'M', macros, args));
}

int     mc_rcpt(MC_CONN *c, const char *const *macros, const char *const *args)
{
    return (envelope(c, 'R', macros, args));
}

/* mc_data - DATA command */

int     mc_data(MC_CONN *c, const char *const *macros)
{
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, 'T', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    return (mc_stage_close(c, 'T', off, NULL));
}

/* mc_header - one message header; value is the text after the colon */

int     mc_header(MC_CONN *c, const char *name, const char *value)
{
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, 'L', NULL, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    if ((c->protocol & MC_P_HDR_LEADSPC) == 0 && *value == ' ')
	value++;
    mc_pkt_str(c, name);
    mc_pkt_str(c, value);
    return (mc_stage_close(c, 'L', off, NULL));
}

/* mc_eoh - end of headers */

int     mc_eoh(MC_CONN *c, const char *const *macros)
{
    size_t  off;
    int     rc;

    if ((rc = mc_stage_open(c, 'N', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    return (mc_stage_close(c, 'N', off, NULL));
}

/* send_body - send the pending body chunk */

static int send_body(MC_CONN *c)
{
    size_t  off;
    int     rc;

    off = mc_pkt_begin(c, 'B');
    mc_pkt_add(c, c->body, c->blen);
    c->blen = 0;
    if ((rc = mc_stage_close(c, 'B', off, NULL)) == MC_SKIP)
	c->body_skip = 1;
    return (rc);
}

/* mc_body - body content, sent in chunks of at most 65535 bytes */

int     mc_body(MC_CONN *c, const void *buf, size_t len)
{
    const char *cp = buf;
    size_t  n;
    int     rc;

    if (c->broken)
	return (-1);
    if (c->body_skip)
	return (MC_SKIP);
    if (c->protocol & MC_P_NOBODY)
	return (MC_CONTINUE);
    if (c->body == NULL && (c->body = malloc(MC_CHUNK)) == NULL)
	return (mc_fail(c, "out of memory"));
    while (len > 0) {
	n = MC_CHUNK - c->blen;
	if (n > len)
	    n = len;
	memcpy(c->body + c->blen, cp, n);
	c->blen += n;
	cp += n;
	len -= n;
	if (c->blen == MC_CHUNK && (rc = send_body(c)) != MC_CONTINUE)
	    return (rc);
    }
    return (MC_CONTINUE);
}

/* mc_eom - end of message: collect modifications and the verdict */

int     mc_eom(MC_CONN *c, const char *const *macros, MC_RESULT *r)
{
    MC_RESULT scratch;
    size_t  off;
    int     rc;

    if (c->broken)
	return (-1);
    if (c->blen > 0 && !c->body_skip && (c->protocol & MC_P_NOBODY) == 0) {
	rc = send_body(c);
	if (rc != MC_CONTINUE && rc != MC_SKIP) {
	    if (r && rc > 0)
		r->verdict = rc;
	    return (rc);
	}
    }
    c->blen = 0;
    c->body_skip = 0;
    if (mc_send_macros(c, 'E', macros) < 0)
	return (-1);
    off = mc_pkt_begin(c, 'E');
    if (r != NULL)
	return (mc_stage_close(c, 'E', off, r));
    mc_result_init(&scratch);
    rc = mc_stage_close(c, 'E', off, &scratch);
    mc_result_free(&scratch);
    return (rc);
}

/* mc_abort - abort the current message; no reply */

int     mc_abort(MC_CONN *c)
{
    size_t  off;

    if (c->broken)
	return (-1);
    c->blen = 0;
    c->body_skip = 0;
    off = mc_pkt_begin(c, 'A');
    return (mc_pkt_end(c, off));
}

/* mc_quit - end the session */

int     mc_quit(MC_CONN *c)
{
    size_t  off;

    if (c->broken)
	return (-1);
    off = mc_pkt_begin(c, 'Q');
    if (mc_pkt_end(c, off) < 0)
	return (-1);
    return (mc_flush_out(c));
}

/* mc_quit_nc - end the SMTP connection, keep the milter connection */

int     mc_quit_nc(MC_CONN *c)
{
    size_t  off;

    if (c->broken)
	return (-1);
    c->blen = 0;
    c->body_skip = 0;
    off = mc_pkt_begin(c, 'K');
    if (mc_pkt_end(c, off) < 0)
	return (-1);
    return (mc_flush_out(c));
}

