/*
 * NAME
 *	stopwake - end libmilter's wait for connections as soon as it stops
 * DESCRIPTION
 *	See stopwake.h.
 */
#include "config.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "stopwake.h"
#include "util.h"

#ifdef HAVE_MI_STOP
/* libmilter's own (libmilter.h, not installed): MILTER_CONT (0) until
   smfi_stop() or a signal stops it */
extern int mi_stop(void);

/* connect to addr and wait up to a second for the connection to be
   made (the listener wakes when it is), then close */
static int
poke_addr(int family, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p;
	int fd, r;

	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = connect(fd, sa, len);
	if (r < 0) {
		p.fd = fd;
		p.events = POLLOUT;
		r = poll(&p, 1, 1000) == 1 ? 0 : -1;
	}
	close(fd);
	return r;
}

/* LISTEN as libmilter reads it: unix:PATH, local:PATH, a bare PATH,
   inet:PORT[@HOST], inet6:PORT[@HOST] (no host: any address, reached
   as the loopback) */
static int
poke(const char *listen)
{
	struct sockaddr_un sun;
	struct addrinfo hints, *res, *ai;
	const char *path = NULL, *at;
	char port[32];
	size_t plen;
	int family, r = -1;

	if (strncmp(listen, "unix:", 5) == 0)
		path = listen + 5;
	else if (strncmp(listen, "local:", 6) == 0)
		path = listen + 6;
	else if (strchr(listen, ':') == NULL)
		path = listen;
	if (path != NULL) {
		if (strlen(path) >= sizeof(sun.sun_path))
			return -1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, path);
		return poke_addr(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun));
	}
	if (strncmp(listen, "inet:", 5) == 0) {
		family = AF_INET;
		listen += 5;
	} else if (strncmp(listen, "inet6:", 6) == 0) {
		family = AF_INET6;
		listen += 6;
	} else {
		return -1;
	}
	at = strchr(listen, '@');
	plen = at ? (size_t)(at - listen) : strlen(listen);
	if (plen == 0 || plen >= sizeof(port))
		return -1;
	memcpy(port, listen, plen);
	port[plen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(at && at[1] ? at + 1 : family == AF_INET ? "127.0.0.1" :
	    "::1", port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && r < 0; ai = ai->ai_next)
		r = poke_addr(ai->ai_family, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	return r;
}

static void *
waker(void *arg)
{
	char *listen = arg;

	while (mi_stop() == 0)
		usleep(100000);
	if (poke(listen) < 0)
		log_debug("could not wake libmilter's listener on %s: it "
		    "stops at its own timeout", listen);
	free(listen);
	return NULL;
}

void
stopwake_start(const char *listen)
{
	pthread_t tid;
	char *l = xstrdup(listen);

	if (pthread_create(&tid, NULL, waker, l) != 0) {
		free(l);
		return;
	}
	pthread_detach(tid);
}
#else
void
stopwake_start(const char *listen)
{
	(void)listen;
}
#endif
