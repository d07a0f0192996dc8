/*++
 * NAME
 *	mc_socket 3
 * SUMMARY
 *	open a libmilter socket spec
 * SYNOPSIS
 *	#include "mc_conn.h"
 * DESCRIPTION
 *	mc_open_spec() connects, without blocking beyond \fItimeout\fR
 *	milliseconds, to \fBinet:\fIport\fB@\fIhost\fR,
 *	\fBinet6:\fIport\fB@\fIhost\fR, \fBunix:\fIpath\fR,
 *	\fBlocal:\fIpath\fR or a bare path, and returns the
 *	non-blocking socket.
 * DIAGNOSTICS
 *	-1 with the reason in \fIerr\fR.
 * SEE ALSO
 *	milterclient(3), the interface these serve
 *--*/

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mc_conn.h"

/* connect_fd - non-blocking connect with timeout */

static int connect_fd(int family, const struct sockaddr *sa, socklen_t salen,
		              int timeout, char *err, size_t errlen)
{
    long long deadline = mc_now_ms() + timeout;
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
	if (errno == EAGAIN && family == AF_UNIX && mc_now_ms() < deadline) {
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
	    n = poll(&pfd, 1, (int) (deadline > mc_now_ms() ? deadline - mc_now_ms() : 0));
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

int mc_open_spec(const char *spec, int timeout, char *err, size_t errlen)
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
