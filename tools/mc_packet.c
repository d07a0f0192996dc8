/*++
 * NAME
 *	mc_packet 3
 * SUMMARY
 *	milterclient packet I/O
 * SYNOPSIS
 *	#include "mc_conn.h"
 * DESCRIPTION
 *	mc_fail() records the first error of a connection and marks it
 *	unusable; it returns -1 for the caller to pass on.
 *
 *	Output is buffered: mc_pkt_begin() starts a packet of a command,
 *	mc_pkt_add() and mc_pkt_str() append data, mc_pkt_end() fills in
 *	the length and writes once the buffer is large; mc_flush_out()
 *	writes everything (with MSG_NOSIGNAL, waiting within the
 *	connection's timeout).
 *
 *	mc_get_packet() flushes the output and reads one packet; its data
 *	stays valid until the next read. mc_fill_in() buffers at least
 *	\fIneed\fR bytes of input. mc_take_u32() and mc_take_str()
 *	consume a number or a NUL-terminated string of reply data.
 *
 *	mc_wait_fd() polls the socket within the timeout; mc_now_ms() is
 *	the monotonic clock in milliseconds.
 * DIAGNOSTICS
 *	-1 after a timeout, an I/O error, a closed connection or a
 *	malformed packet, with the reason for mc_error().
 * SEE ALSO
 *	milterclient(3), the interface these serve
 *--*/

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <modmilter/clock.h>

#include "mc_conn.h"

/* fail - record the first error, mark the connection unusable */


int mc_fail(MC_CONN *c, const char *fmt,...)
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

/* now_ms - monotonic clock, in milliseconds */

long long mc_now_ms(void)
{
    return ((long long) (mm_clock_mono() * 1000));
}

/* wait_fd - wait until the socket is ready, within the timeout */

int mc_wait_fd(MC_CONN *c, short events, const char *what)
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
	    return (mc_fail(c, "timeout after %d ms while %s", c->timeout, what));
	if (errno != EINTR)
	    return (mc_fail(c, "poll: %s", strerror(errno)));
    }
}

/* flush_out - write all buffered output */

int mc_flush_out(MC_CONN *c)
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
	    if (mc_wait_fd(c, POLLOUT, "writing to filter") < 0)
		return (-1);
	} else if (n < 0 && errno != EINTR) {
	    return (mc_fail(c, "write to filter: %s", strerror(errno)));
	}
    }
    c->olen = 0;
    return (0);
}

/* pkt_add - append bytes to the output buffer */

void mc_pkt_add(MC_CONN *c, const void *data, size_t len)
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

void mc_pkt_str(MC_CONN *c, const char *s)
{
    mc_pkt_add(c, s, strlen(s) + 1);
}

/* pkt_begin - start a packet, return its offset in the output buffer */

size_t mc_pkt_begin(MC_CONN *c, int cmd)
{
    size_t  off = c->olen;
    unsigned char hdr[5] = {0, 0, 0, 0, (unsigned char) cmd};

    mc_pkt_add(c, hdr, sizeof(hdr));
    return (off);
}

/* pkt_end - fill in the packet length; flush when much is buffered */

int mc_pkt_end(MC_CONN *c, size_t off)
{
    uint32_t len;

    if (c->nomem)
	return (mc_fail(c, "out of memory"));
    len = htonl((uint32_t) (c->olen - off - 4));
    memcpy(c->obuf + off, &len, 4);
    if (c->olen >= MC_OBUF_HIGH)
	return (mc_flush_out(c));
    return (0);
}

/* fill_in - make sure that at least need bytes of input are buffered */

int mc_fill_in(MC_CONN *c, size_t need)
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
	    return (mc_fail(c, "out of memory"));
	c->ibuf = p;
	c->icap = cap;
    }
    while (c->iend < need) {
	n = recv(c->fd, c->ibuf + c->iend, c->icap - c->iend, 0);
	if (n > 0) {
	    c->iend += (size_t) n;
	} else if (n == 0) {
	    return (mc_fail(c, "filter closed the connection"));
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
	    if (mc_wait_fd(c, POLLIN, "waiting for filter reply") < 0)
		return (-1);
	} else if (errno != EINTR) {
	    return (mc_fail(c, "read from filter: %s", strerror(errno)));
	}
    }
    return (0);
}

/* get_packet - flush output, read one packet; data valid until next read */

int mc_get_packet(MC_CONN *c, int *cmd, const unsigned char **data,
		              size_t *len)
{
    uint32_t plen;

    if (mc_flush_out(c) < 0 || mc_fill_in(c, 4) < 0)
	return (-1);
    memcpy(&plen, c->ibuf + c->ipos, 4);
    plen = ntohl(plen);
    if (plen < 1 || plen > MC_MAX_PACKET)
	return (mc_fail(c, "bad packet length %lu from filter",
		     (unsigned long) plen));
    if (mc_fill_in(c, 4 + (size_t) plen) < 0)
	return (-1);
    *cmd = c->ibuf[c->ipos + 4];
    *data = c->ibuf + c->ipos + 5;
    *len = plen - 1;
    c->ipos += 4 + (size_t) plen;
    return (0);
}

/* take_u32, take_str - consume reply data */

int mc_take_u32(MC_CONN *c, const unsigned char **p, size_t *left,
		            uint32_t *val, int code)
{
    if (*left < 4)
	return (mc_fail(c, "%s reply too short", mc_code_name(code)));
    memcpy(val, *p, 4);
    *val = ntohl(*val);
    *p += 4;
    *left -= 4;
    return (0);
}

int mc_take_str(MC_CONN *c, const unsigned char **p, size_t *left,
		            char **out, int code)
{
    const unsigned char *nul;
    size_t  len;

    if ((nul = memchr(*p, 0, *left)) == NULL)
	return (mc_fail(c, "%s reply: string without terminator",
		     mc_code_name(code)));
    len = (size_t) (nul - *p);
    if ((*out = malloc(len + 1)) == NULL)
	return (mc_fail(c, "out of memory"));
    memcpy(*out, *p, len + 1);
    *p += len + 1;
    *left -= len + 1;
    return (0);
}
