/*++
 * NAME
 *	nodelay 3
 * SUMMARY
 *	disable Nagle on listening TCP sockets
 * SYNOPSIS
 *	#include "nodelay.h"
 *
 *	int	mm_listen_nodelay(err, errlen)
 *	char	*err;
 *	size_t	errlen;
 * DESCRIPTION
 *	mm_listen_nodelay() finds the listening TCP sockets of the
 *	process and sets TCP_NODELAY on them. It is meant to be called
 *	once, after smfi_opensocket() and before smfi_main(): libmilter
 *	opens the listening socket itself and offers no hook for socket
 *	options, and on Linux an accepted socket inherits TCP_NODELAY
 *	from the listening socket.
 *
 *	Without it, a filter that answers end of message with two small
 *	packets (a modification, then the verdict) has the second one
 *	held back by Nagle's algorithm until the MTA acknowledges the
 *	first, which the MTA delays by up to 40 ms.
 *
 *	The descriptors are found in /proc/self/fd, or where that is
 *	missing by trying every descriptor below the open file limit
 *	(at most 65536). A descriptor counts when it is a socket with
 *	SO_ACCEPTCONN set, of family AF_INET or AF_INET6, type
 *	SOCK_STREAM. UNIX-domain sockets are left alone.
 * DIAGNOSTICS
 *	The result is the number of sockets changed, possibly 0, or -1
 *	when setting the option failed; then \fIerr\fR says why.
 *--*/

#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nodelay.h"

/* is_tcp_listener - listening TCP socket? */

static int is_tcp_listener(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int     val;

    len = sizeof(val);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || !val)
	return (0);
    len = sizeof(val);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) < 0
	|| val != SOCK_STREAM)
	return (0);
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
	return (0);
    return (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/* set_nodelay - one descriptor; 1 if changed, 0 if not ours, -1 on error */

static int set_nodelay(int fd, char *err, size_t errlen)
{
    int     on = 1;

    if (!is_tcp_listener(fd))
	return (0);
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0) {
	snprintf(err, errlen, "setsockopt(%d, TCP_NODELAY): %s",
		 fd, strerror(errno));
	return (-1);
    }
    return (1);
}

/* mm_listen_nodelay - set TCP_NODELAY on all listening TCP sockets */

int     mm_listen_nodelay(char *err, size_t errlen)
{
    struct dirent *de;
    DIR    *dir;
    char   *end;
    long    fd;
    long    max;
    int     count = 0;
    int     rc;

    if ((dir = opendir("/proc/self/fd")) != NULL) {
	while ((de = readdir(dir)) != NULL) {
	    fd = strtol(de->d_name, &end, 10);
	    if (*end || end == de->d_name || fd == dirfd(dir))
		continue;
	    if ((rc = set_nodelay((int) fd, err, errlen)) < 0) {
		closedir(dir);
		return (-1);
	    }
	    count += rc;
	}
	closedir(dir);
	return (count);
    }
    if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
	max = 65536;
    for (fd = 0; fd < max; fd++) {
	if ((rc = set_nodelay((int) fd, err, errlen)) < 0)
	    return (-1);
	count += rc;
    }
    return (count);
}
