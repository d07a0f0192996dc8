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
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/clock.h>

#include "milterclient.h"

#define MC_CHUNK	65535		/* body chunk size */
#define MC_MAX_PACKET	(4 << 20)	/* largest reply accepted */
#define MC_OBUF_HIGH	(64 << 10)	/* flush buffered output above this */
#define MC_NSTAGES	7		/* SMFIM_CONNECT .. SMFIM_EOH */

struct MC_CONN {
    int     fd;
    int     timeout;			/* ms, per wait */
    int     broken;			/* after any failure */
    int     nomem;			/* output buffer allocation failed */
    uint32_t offer_act;			/* what we offered */
    uint32_t offer_proto;
    uint32_t version;			/* what the filter negotiated */
    uint32_t actions;
    uint32_t protocol;
    char   *symlist[MC_NSTAGES];
    char   *obuf;			/* output not yet written */
    size_t  olen;
    size_t  ocap;
    unsigned char *ibuf;		/* input read ahead */
    size_t  ipos;
    size_t  iend;
    size_t  icap;
    char   *body;			/* pending body chunk */
    size_t  blen;
    int     body_skip;			/* filter said SMFIR_SKIP */
    char   *reply;			/* last SMFIR_REPLYCODE text */
    char    err[256];
};

/* fail - record the first error, mark the connection unusable */

#ifdef __GNUC__
static int fail(MC_CONN *, const char *,...) __attribute__((format(printf, 2, 3)));
#endif

static int fail(MC_CONN *c, const char *fmt,...)
{
    va_list ap;

    if (!c->broken) {
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->broken = 1;
    }
    return (-1);
}

/* cmd_name - name an MTA command, for messages */

static const char *cmd_name(int cmd)
{
    switch (cmd) {
    case 'O': return ("negotiate");
    case 'D': return ("macro");
    case 'C': return ("connect");
    case 'H': return ("helo");
    case 'M': return ("mail");
    case 'R': return ("rcpt");
    case 'T': return ("data");
    case 'L': return ("header");
    case 'N': return ("eoh");
    case 'B': return ("body");
    case 'E': return ("eom");
    case 'A': return ("abort");
    case 'Q': return ("quit");
    case 'K': return ("quit_nc");
    default: return ("unknown command");
    }
}

/* mc_code_name - name a filter reply or modification */

const char *mc_code_name(int code)
{
    switch (code) {
    case MC_CONTINUE: return ("continue");
    case MC_ACCEPT: return ("accept");
    case MC_REJECT: return ("reject");
    case MC_TEMPFAIL: return ("tempfail");
    case MC_DISCARD: return ("discard");
    case MC_REPLYCODE: return ("replycode");
    case MC_CONNFAIL: return ("connfail");
    case MC_SHUTDOWN: return ("shutdown");
    case MC_SKIP: return ("skip");
    case 'p': return ("progress");
    case 'O': return ("negotiate");
    case 'l': return ("setsymlist");
    case MC_M_ADDHEADER: return ("addheader");
    case MC_M_INSHEADER: return ("insheader");
    case MC_M_CHGHEADER: return ("chgheader");
    case MC_M_ADDRCPT: return ("addrcpt");
    case MC_M_DELRCPT: return ("delrcpt");
    case MC_M_ADDRCPT_PAR: return ("addrcpt_par");
    case MC_M_CHGFROM: return ("chgfrom");
    case MC_M_REPLBODY: return ("replbody");
    case MC_M_QUARANTINE: return ("quarantine");
    default: return ("unknown");
    }
}

/* no_bit, nr_bit, sym_stage - per-event protocol bits and macro stage */

static uint32_t no_bit(int cmd)
{
    switch (cmd) {
    case 'C': return (MC_P_NOCONNECT);
    case 'H': return (MC_P_NOHELO);
    case 'M': return (MC_P_NOMAIL);
    case 'R': return (MC_P_NORCPT);
    case 'T': return (MC_P_NODATA);
    case 'L': return (MC_P_NOHDRS);
    case 'N': return (MC_P_NOEOH);
    case 'B': return (MC_P_NOBODY);
    default: return (0);
    }
}

static uint32_t nr_bit(int cmd)
{
    switch (cmd) {
    case 'C': return (MC_P_NR_CONN);
    case 'H': return (MC_P_NR_HELO);
    case 'M': return (MC_P_NR_MAIL);
    case 'R': return (MC_P_NR_RCPT);
    case 'T': return (MC_P_NR_DATA);
    case 'L': return (MC_P_NR_HDR);
    case 'N': return (MC_P_NR_EOH);
    case 'B': return (MC_P_NR_BODY);
    default: return (0);
    }
}

static int sym_stage(int cmd)
{
    switch (cmd) {
    case 'C': return (0);
    case 'H': return (1);
    case 'M': return (2);
    case 'R': return (3);
    case 'T': return (4);
    case 'E': return (5);
    case 'N': return (6);
    default: return (-1);
    }
}

/* now_ms - monotonic clock, in milliseconds */

static long long now_ms(void)
{
    return ((long long) (mm_clock_mono() * 1000));
}

/* wait_fd - wait until the socket is ready, within the timeout */

static int wait_fd(MC_CONN *c, short events, const char *what)
{
    struct pollfd pfd;
    int     n;

    pfd.fd = c->fd;
    pfd.events = events;
    for (;;) {
	n = poll(&pfd, 1, c->timeout);
	if (n > 0)
	    return (0);
	if (n == 0)
	    return (fail(c, "timeout after %d ms while %s", c->timeout, what));
	if (errno != EINTR)
	    return (fail(c, "poll: %s", strerror(errno)));
    }
}

/* flush_out - write all buffered output */

static int flush_out(MC_CONN *c)
{
    size_t  done = 0;
    ssize_t n;

    if (c->broken)
	return (-1);
    while (done < c->olen) {
	n = send(c->fd, c->obuf + done, c->olen - done, MSG_NOSIGNAL);
	if (n > 0) {
	    done += (size_t) n;
	} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
	    if (wait_fd(c, POLLOUT, "writing to filter") < 0)
		return (-1);
	} else if (n < 0 && errno != EINTR) {
	    return (fail(c, "write to filter: %s", strerror(errno)));
	}
    }
    c->olen = 0;
    return (0);
}

/* pkt_add - append bytes to the output buffer */

static void pkt_add(MC_CONN *c, const void *data, size_t len)
{
    size_t  cap;
    char   *p;

    if (c->nomem)
	return;
    if (c->olen + len > c->ocap) {
	for (cap = c->ocap ? c->ocap : 4096; cap < c->olen + len; cap *= 2)
	     /* void */ ;
	if ((p = realloc(c->obuf, cap)) == NULL) {
	    c->nomem = 1;
	    return;
	}
	c->obuf = p;
	c->ocap = cap;
    }
    memcpy(c->obuf + c->olen, data, len);
    c->olen += len;
}

static void pkt_str(MC_CONN *c, const char *s)
{
    pkt_add(c, s, strlen(s) + 1);
}

/* pkt_begin - start a packet, return its offset in the output buffer */

static size_t pkt_begin(MC_CONN *c, int cmd)
{
    size_t  off = c->olen;
    unsigned char hdr[5] = {0, 0, 0, 0, (unsigned char) cmd};

    pkt_add(c, hdr, sizeof(hdr));
    return (off);
}

/* pkt_end - fill in the packet length; flush when much is buffered */

static int pkt_end(MC_CONN *c, size_t off)
{
    uint32_t len;

    if (c->nomem)
	return (fail(c, "out of memory"));
    len = htonl((uint32_t) (c->olen - off - 4));
    memcpy(c->obuf + off, &len, 4);
    if (c->olen >= MC_OBUF_HIGH)
	return (flush_out(c));
    return (0);
}

/* fill_in - make sure that at least need bytes of input are buffered */

static int fill_in(MC_CONN *c, size_t need)
{
    unsigned char *p;
    size_t  cap;
    ssize_t n;

    if (c->iend - c->ipos >= need)
	return (0);
    if (c->ipos > 0) {
	memmove(c->ibuf, c->ibuf + c->ipos, c->iend - c->ipos);
	c->iend -= c->ipos;
	c->ipos = 0;
    }
    if (c->icap < need) {
	for (cap = c->icap ? c->icap : 8192; cap < need; cap *= 2)
	     /* void */ ;
	if ((p = realloc(c->ibuf, cap)) == NULL)
	    return (fail(c, "out of memory"));
	c->ibuf = p;
	c->icap = cap;
    }
    while (c->iend < need) {
	n = recv(c->fd, c->ibuf + c->iend, c->icap - c->iend, 0);
	if (n > 0) {
	    c->iend += (size_t) n;
	} else if (n == 0) {
	    return (fail(c, "filter closed the connection"));
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
	    if (wait_fd(c, POLLIN, "waiting for filter reply") < 0)
		return (-1);
	} else if (errno != EINTR) {
	    return (fail(c, "read from filter: %s", strerror(errno)));
	}
    }
    return (0);
}

/* get_packet - flush output, read one packet; data valid until next read */

static int get_packet(MC_CONN *c, int *cmd, const unsigned char **data,
		              size_t *len)
{
    uint32_t plen;

    if (flush_out(c) < 0 || fill_in(c, 4) < 0)
	return (-1);
    memcpy(&plen, c->ibuf + c->ipos, 4);
    plen = ntohl(plen);
    if (plen < 1 || plen > MC_MAX_PACKET)
	return (fail(c, "bad packet length %lu from filter",
		     (unsigned long) plen));
    if (fill_in(c, 4 + (size_t) plen) < 0)
	return (-1);
    *cmd = c->ibuf[c->ipos + 4];
    *data = c->ibuf + c->ipos + 5;
    *len = plen - 1;
    c->ipos += 4 + (size_t) plen;
    return (0);
}

/* take_u32, take_str - consume reply data */

static int take_u32(MC_CONN *c, const unsigned char **p, size_t *left,
		            uint32_t *val, int code)
{
    if (*left < 4)
	return (fail(c, "%s reply too short", mc_code_name(code)));
    memcpy(val, *p, 4);
    *val = ntohl(*val);
    *p += 4;
    *left -= 4;
    return (0);
}

static int take_str(MC_CONN *c, const unsigned char **p, size_t *left,
		            char **out, int code)
{
    const unsigned char *nul;
    size_t  len;

    if ((nul = memchr(*p, 0, *left)) == NULL)
	return (fail(c, "%s reply: string without terminator",
		     mc_code_name(code)));
    len = (size_t) (nul - *p);
    if ((*out = malloc(len + 1)) == NULL)
	return (fail(c, "out of memory"));
    memcpy(*out, *p, len + 1);
    *p += len + 1;
    *left -= len + 1;
    return (0);
}

/* connect_fd - non-blocking connect with timeout */

static int connect_fd(int family, const struct sockaddr *sa, socklen_t salen,
		              int timeout, char *err, size_t errlen)
{
    long long deadline = now_ms() + timeout;
    struct pollfd pfd;
    socklen_t len;
    int     fd;
    int     soerr;
    int     n;

    if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	snprintf(err, errlen, "socket: %s", strerror(errno));
	return (-1);
    }
    while (connect(fd, sa, salen) < 0) {
	/* A full AF_UNIX backlog says EAGAIN: retry until the deadline. */
	if (errno == EAGAIN && family == AF_UNIX && now_ms() < deadline) {
	    poll(NULL, 0, 1);
	    continue;
	}
	if (errno != EINPROGRESS && errno != EINTR) {
	    snprintf(err, errlen, "connect: %s", strerror(errno));
	    close(fd);
	    return (-1);
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
	    n = poll(&pfd, 1, (int) (deadline > now_ms() ? deadline - now_ms() : 0));
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
	    snprintf(err, errlen, "connect: %s",
		     n == 0 ? "timed out" : strerror(errno));
	    close(fd);
	    return (-1);
	}
	len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
	    soerr = errno;
	if (soerr != 0) {
	    snprintf(err, errlen, "connect: %s", strerror(soerr));
	    close(fd);
	    return (-1);
	}
	break;
    }
    return (fd);
}

/* open_spec - parse a libmilter socket spec and connect */

static int open_spec(const char *spec, int timeout, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct addrinfo hints;
    struct addrinfo *res;
    struct addrinfo *ai;
    const char *path = NULL;
    const char *at;
    char    port[32];
    char    host[256];
    size_t  hlen;
    int     family;
    int     fd = -1;
    int     rc;

    if (strncmp(spec, "unix:", 5) == 0)
	path = spec + 5;
    else if (strncmp(spec, "local:", 6) == 0)
	path = spec + 6;
    else if (strchr(spec, ':') == NULL)
	path = spec;
    if (path) {
	if (*path == 0 || strlen(path) >= sizeof(sun.sun_path)) {
	    snprintf(err, errlen, "bad socket path in \"%s\"", spec);
	    return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = connect_fd(AF_UNIX, (struct sockaddr *) &sun, sizeof(sun),
			timeout, err, errlen);
	return (fd);
    }
    if (strncmp(spec, "inet:", 5) == 0) {
	family = AF_INET;
	spec += 5;
    } else if (strncmp(spec, "inet6:", 6) == 0) {
	family = AF_INET6;
	spec += 6;
    } else {
	snprintf(err, errlen, "unknown socket type in \"%s\"", spec);
	return (-1);
    }
    at = strchr(spec, '@');
    hlen = at ? (size_t) (at - spec) : strlen(spec);
    if (hlen == 0 || hlen >= sizeof(port)) {
	snprintf(err, errlen, "bad port in \"%s\"", spec);
	return (-1);
    }
    memcpy(port, spec, hlen);
    port[hlen] = 0;
    if (at == NULL || at[1] == 0) {
	strcpy(host, family == AF_INET ? "127.0.0.1" : "::1");
    } else {
	at++;
	hlen = strlen(at);
	if (*at == '[' && hlen > 2 && at[hlen - 1] == ']') {
	    at++;
	    hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
	    snprintf(err, errlen, "host name too long");
	    return (-1);
	}
	memcpy(host, at, hlen);
	host[hlen] = 0;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
	snprintf(err, errlen, "%s port %s: %s", host, port, gai_strerror(rc));
	return (-1);
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
	fd = connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
			timeout, err, errlen);
    freeaddrinfo(res);
    return (fd);
}

/* mc_open - connect to the filter */

MC_CONN *mc_open(const char *spec, int timeout_ms, char *err, size_t errlen)
{
    MC_CONN *c;
    int     fd;

    if ((fd = open_spec(spec, timeout_ms, err, errlen)) < 0)
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
    off = pkt_begin(c, 'O');
    pkt_add(c, v, sizeof(v));
    if (pkt_end(c, off) < 0 || get_packet(c, &cmd, &p, &left) < 0)
	return (-1);
    if (cmd != 'O')
	return (fail(c, "unexpected %s reply to negotiate", mc_code_name(cmd)));
    for (i = 0; i < 3; i++)
	if (take_u32(c, &p, &left, &v[i], cmd) < 0)
	    return (-1);
    c->version = v[0];
    c->actions = v[1];
    c->protocol = v[2];
    if (c->version < 2 || c->version > MC_VERSION)
	return (fail(c, "filter protocol version %lu, expected 2..%d",
		     (unsigned long) c->version, MC_VERSION));
    if (c->actions & ~actions)
	return (fail(c, "filter wants actions 0x%lx, offered 0x%lx",
		     (unsigned long) c->actions, (unsigned long) actions));
    if (c->protocol & ~protocol)
	return (fail(c, "filter wants protocol 0x%lx, offered 0x%lx",
		     (unsigned long) c->protocol, (unsigned long) protocol));
    while (left > 0) {
	if (take_u32(c, &p, &left, &stage, cmd) < 0
	    || take_str(c, &p, &left, &list, cmd) < 0)
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

/* same_macro - compare macro names, ignoring {braces} */

static int same_macro(const char *a, size_t alen, const char *b)
{
    size_t  blen = strlen(b);

    if (alen > 2 && a[0] == '{' && a[alen - 1] == '}')
	a++, alen -= 2;
    if (blen > 2 && b[0] == '{' && b[blen - 1] == '}')
	b++, blen -= 2;
    return (alen == blen && memcmp(a, b, alen) == 0);
}

/* want_macro - is the macro in the filter's list for this stage? */

static int want_macro(const char *list, const char *name)
{
    const char *cp = list;
    size_t  len;

    if (list == NULL)
	return (1);
    while (*cp) {
	cp += strspn(cp, " ,\t");
	len = strcspn(cp, " ,\t");
	if (len > 0 && same_macro(cp, len, name))
	    return (1);
	cp += len;
    }
    return (0);
}

/* send_macros - queue the macro packet for an event */

static int send_macros(MC_CONN *c, int cmd, const char *const *macros)
{
    const char *list;
    const char *const *mp;
    unsigned char stage = (unsigned char) cmd;
    size_t  off;
    size_t  start;
    int     stg;

    if (macros == NULL)
	return (0);
    stg = sym_stage(cmd);
    list = stg >= 0 ? c->symlist[stg] : NULL;
    off = pkt_begin(c, 'D');
    pkt_add(c, &stage, 1);
    start = c->olen;
    for (mp = macros; mp[0] && mp[1]; mp += 2) {
	if (want_macro(list, mp[0])) {
	    pkt_str(c, mp[0]);
	    pkt_str(c, mp[1]);
	}
    }
    if (c->olen == start && !c->nomem) {
	c->olen = off;				/* nothing to send */
	return (0);
    }
    return (pkt_end(c, off));
}

/* stage_open - macros, then start the event packet unless skipped */

static int stage_open(MC_CONN *c, int cmd, const char *const *macros,
		              size_t *off)
{
    if (c->broken)
	return (-1);
    if (send_macros(c, cmd, macros) < 0)
	return (-1);
    if (c->protocol & no_bit(cmd))
	return (0);
    *off = pkt_begin(c, cmd);
    return (1);
}

/* need_action - the action a modification request needs */

static uint32_t need_action(int kind)
{
    switch (kind) {
    case MC_M_ADDHEADER: return (MC_ACT_ADDHDRS);
    case MC_M_INSHEADER: return (MC_ACT_ADDHDRS);
    case MC_M_CHGHEADER: return (MC_ACT_CHGHDRS);
    case MC_M_ADDRCPT: return (MC_ACT_ADDRCPT);
    case MC_M_DELRCPT: return (MC_ACT_DELRCPT);
    case MC_M_ADDRCPT_PAR: return (MC_ACT_ADDRCPT_PAR);
    case MC_M_CHGFROM: return (MC_ACT_CHGFROM);
    case MC_M_REPLBODY: return (MC_ACT_CHGBODY);
    case MC_M_QUARANTINE: return (MC_ACT_QUARANTINE);
    default: return (0);
    }
}

/* add_mod - parse one modification request into the result */

static int add_mod(MC_CONN *c, MC_RESULT *r, int kind,
		           const unsigned char *p, size_t left)
{
    MC_MOD  m;
    MC_MOD *mods;
    size_t  n;

    if ((c->actions & need_action(kind)) == 0)
	return (fail(c, "%s request without negotiating it",
		     mc_code_name(kind)));
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    switch (kind) {
    case MC_M_INSHEADER:
    case MC_M_CHGHEADER:
	if (take_u32(c, &p, &left, &m.index, kind) < 0)
	    goto bad;
	/* FALLTHROUGH */
    case MC_M_ADDHEADER:
	if (take_str(c, &p, &left, &m.s1, kind) < 0
	    || take_str(c, &p, &left, &m.s2, kind) < 0)
	    goto bad;
	break;
    case MC_M_ADDRCPT_PAR:
    case MC_M_CHGFROM:
	if (take_str(c, &p, &left, &m.s1, kind) < 0
	    || (left > 0 && take_str(c, &p, &left, &m.s2, kind) < 0))
	    goto bad;
	break;
    case MC_M_ADDRCPT:
    case MC_M_DELRCPT:
    case MC_M_QUARANTINE:
	if (take_str(c, &p, &left, &m.s1, kind) < 0)
	    goto bad;
	break;
    case MC_M_REPLBODY:
	if ((m.s1 = malloc(left + 1)) == NULL) {
	    fail(c, "out of memory");
	    goto bad;
	}
	memcpy(m.s1, p, left);
	m.s1[left] = 0;
	m.len = left;
	left = 0;
	break;
    }
    if (left > 0) {
	fail(c, "%s reply with %lu bytes of excess data",
	     mc_code_name(kind), (unsigned long) left);
	goto bad;
    }
    if (m.len == 0 && m.s1)
	m.len = strlen(m.s1);
    if (r->nmods == r->amods) {
	n = r->amods ? 2 * r->amods : 4;
	if ((mods = realloc(r->mods, n * sizeof(*mods))) == NULL) {
	    fail(c, "out of memory");
	    goto bad;
	}
	r->mods = mods;
	r->amods = n;
    }
    r->mods[r->nmods++] = m;
    return (0);

bad:
    free(m.s1);
    free(m.s2);
    return (-1);
}

/* read_reply - read replies to an event until a verdict */

static int read_reply(MC_CONN *c, int cmd, MC_RESULT *r)
{
    const unsigned char *p;
    size_t  left;
    char   *text;
    int     code;

    for (;;) {
	if (get_packet(c, &code, &p, &left) < 0)
	    return (-1);
	switch (code) {
	case 'p':
	    continue;
	case MC_CONTINUE:
	case MC_ACCEPT:
	case MC_REJECT:
	case MC_TEMPFAIL:
	case MC_DISCARD:
	case MC_CONNFAIL:
	case MC_SHUTDOWN:
	case MC_SKIP:
	    if (left != 0)
		return (fail(c, "%s reply to %s with %lu bytes of data",
			     mc_code_name(code), cmd_name(cmd),
			     (unsigned long) left));
	    if (code == MC_SKIP && cmd != 'B')
		return (fail(c, "skip reply to %s", cmd_name(cmd)));
	    if (r)
		r->verdict = code;
	    return (code);
	case MC_REPLYCODE:
	    if (take_str(c, &p, &left, &text, code) < 0)
		return (-1);
	    free(c->reply);
	    c->reply = text;
	    if (left != 0 || (text[0] != '4' && text[0] != '5')
		|| text[1] < '0' || text[1] > '9'
		|| text[2] < '0' || text[2] > '9'
		|| (text[3] != ' ' && text[3] != '-' && text[3] != 0))
		return (fail(c, "malformed replycode reply to %s: %.100s",
			     cmd_name(cmd), text));
	    if (r) {
		r->verdict = code;
		free(r->reply);
		if ((r->reply = strdup(text)) == NULL)
		    return (fail(c, "out of memory"));
	    }
	    return (code);
	default:
	    if (cmd != 'E' || need_action(code) == 0)
		return (fail(c, "unexpected %s reply (0x%02x) to %s",
			     mc_code_name(code), code, cmd_name(cmd)));
	    if (add_mod(c, r, code, p, left) < 0)
		return (-1);
	    continue;
	}
    }
}

/* stage_close - finish the event packet, wait for the reply if any */

static int stage_close(MC_CONN *c, int cmd, size_t off, MC_RESULT *r)
{
    if (pkt_end(c, off) < 0)
	return (-1);
    if (c->protocol & nr_bit(cmd))
	return (MC_CONTINUE);
    return (read_reply(c, cmd, r));
}

/* mc_connect - SMTP client connection */

int     mc_connect(MC_CONN *c, const char *const *macros, const char *host,
		           int family, unsigned port, const char *addr)
{
    unsigned char fam = (unsigned char) family;
    uint16_t nport = htons((uint16_t) port);
    size_t  off;
    int     rc;

    if ((rc = stage_open(c, 'C', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    pkt_str(c, host);
    pkt_add(c, &fam, 1);
    if (family != MC_FAM_UNKNOWN) {
	pkt_add(c, &nport, 2);
	pkt_str(c, addr);
    }
    return (stage_close(c, 'C', off, NULL));
}

/* mc_helo - HELO/EHLO */

int     mc_helo(MC_CONN *c, const char *const *macros, const char *name)
{
    size_t  off;
    int     rc;

    if ((rc = stage_open(c, 'H', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    pkt_str(c, name);
    return (stage_close(c, 'H', off, NULL));
}

/* envelope - MAIL FROM or RCPT TO with ESMTP arguments */

static int envelope(MC_CONN *c, int cmd, const char *const *macros,
		            const char *const *args)
{
    size_t  off;
    int     rc;

    if ((rc = stage_open(c, cmd, macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    for (; *args; args++)
	pkt_str(c, *args);
    return (stage_close(c, cmd, off, NULL));
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

    if ((rc = stage_open(c, 'T', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    return (stage_close(c, 'T', off, NULL));
}

/* mc_header - one message header; value is the text after the colon */

int     mc_header(MC_CONN *c, const char *name, const char *value)
{
    size_t  off;
    int     rc;

    if ((rc = stage_open(c, 'L', NULL, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    if ((c->protocol & MC_P_HDR_LEADSPC) == 0 && *value == ' ')
	value++;
    pkt_str(c, name);
    pkt_str(c, value);
    return (stage_close(c, 'L', off, NULL));
}

/* mc_eoh - end of headers */

int     mc_eoh(MC_CONN *c, const char *const *macros)
{
    size_t  off;
    int     rc;

    if ((rc = stage_open(c, 'N', macros, &off)) <= 0)
	return (rc < 0 ? -1 : MC_CONTINUE);
    return (stage_close(c, 'N', off, NULL));
}

/* send_body - send the pending body chunk */

static int send_body(MC_CONN *c)
{
    size_t  off;
    int     rc;

    off = pkt_begin(c, 'B');
    pkt_add(c, c->body, c->blen);
    c->blen = 0;
    if ((rc = stage_close(c, 'B', off, NULL)) == MC_SKIP)
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
	return (fail(c, "out of memory"));
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
    if (send_macros(c, 'E', macros) < 0)
	return (-1);
    off = pkt_begin(c, 'E');
    if (r != NULL)
	return (stage_close(c, 'E', off, r));
    mc_result_init(&scratch);
    rc = stage_close(c, 'E', off, &scratch);
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
    off = pkt_begin(c, 'A');
    return (pkt_end(c, off));
}

/* mc_quit - end the session */

int     mc_quit(MC_CONN *c)
{
    size_t  off;

    if (c->broken)
	return (-1);
    off = pkt_begin(c, 'Q');
    if (pkt_end(c, off) < 0)
	return (-1);
    return (flush_out(c));
}

/* mc_quit_nc - end the SMTP connection, keep the milter connection */

int     mc_quit_nc(MC_CONN *c)
{
    size_t  off;

    if (c->broken)
	return (-1);
    c->blen = 0;
    c->body_skip = 0;
    off = pkt_begin(c, 'K');
    if (pkt_end(c, off) < 0)
	return (-1);
    return (flush_out(c));
}

/* mc_result_init, mc_result_free - result bookkeeping */

void    mc_result_init(MC_RESULT *r)
{
    memset(r, 0, sizeof(*r));
}

void    mc_result_free(MC_RESULT *r)
{
    size_t  i;

    for (i = 0; i < r->nmods; i++) {
	free(r->mods[i].s1);
	free(r->mods[i].s2);
    }
    free(r->mods);
    free(r->reply);
    mc_result_init(r);
}

/* mc_result_print - one line per modification, then the verdict */

void    mc_result_print(FILE *fp, const MC_RESULT *r)
{
    const MC_MOD *m;
    size_t  i;

    for (i = 0; i < r->nmods; i++) {
	m = r->mods + i;
	fprintf(fp, "%s", mc_code_name(m->kind));
	switch (m->kind) {
	case MC_M_INSHEADER:
	case MC_M_CHGHEADER:
	    fprintf(fp, " %lu", (unsigned long) m->index);
	    /* FALLTHROUGH */
	case MC_M_ADDHEADER:
	    fprintf(fp, " %s: %s\n", m->s1, m->s2);
	    break;
	case MC_M_REPLBODY:
	    fprintf(fp, " %lu bytes\n", (unsigned long) m->len);
	    break;
	default:
	    fprintf(fp, " %s%s%s\n", m->s1, m->s2 ? " " : "",
		    m->s2 ? m->s2 : "");
	    break;
	}
    }
    fprintf(fp, "verdict %s%s%s\n", r->verdict ? mc_code_name(r->verdict) :
	    "none", r->reply ? " " : "", r->reply ? r->reply : "");
}
