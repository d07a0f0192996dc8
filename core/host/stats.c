/*
 * NAME
 *	stats - per-plugin counters, served on a local socket
 * DESCRIPTION
 *	See stats.h. The counters are atomics bumped by engine/invoke.c;
 *	the dump reads them without locks (each number is exact, the set
 *	is not a snapshot).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "stats.h"

void
stats_format(const struct conf *c, struct mm_buf *b)
{
	for (size_t i = 0; i < c->ninst; i++) {
		const struct instance *in = c->inst[i];
		unsigned long long e = __atomic_load_n(&in->stats->errors, __ATOMIC_RELAXED);
		unsigned long long t = __atomic_load_n(&in->stats->timeouts, __ATOMIC_RELAXED);
		buf_printf(b, "%s module=%s mode=%s errors=%llu timeouts=%llu\n",
		    in->name, in->p ? in->p->name : "?",
		    in->monitor ? "monitor" : "enforce", e, t);
		for (int st = 0; st < MM_STAGE_COUNT; st++) {
			unsigned long long calls = __atomic_load_n(&in->stats->calls[st], __ATOMIC_RELAXED);
			unsigned long long ns = __atomic_load_n(&in->stats->nsec[st], __ATOMIC_RELAXED);
			if (calls == 0)
				continue;
			buf_printf(b, "%s %s calls=%llu", in->name, stage_name((mm_stage)st), calls);
			for (int v = 0; v <= MM_ERROR; v++) {
				unsigned long long n = __atomic_load_n(&in->stats->verdicts[st][v],
				    __ATOMIC_RELAXED);
				if (n)
					buf_printf(b, " %s=%llu", verdict_name((mm_verdict)v), n);
			}
			buf_printf(b, " avg_us=%.1f\n", (double)ns / 1000.0 / (double)calls);
		}
	}
}

static struct conf *(*current_conf)(void);	/* stats_serve() */

static void *
serve(void *arg)
{
	int lfd = (int)(long)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		struct mm_buf b = { 0 };
		struct conf *c;
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_err("stats socket: accept: %s", strerror(errno));
			return NULL;
		}
		if ((c = current_conf()) != NULL) {
			stats_format(c, &b);
			conf_unref(c);
		}
		for (size_t off = 0; off < b.len;) {
			ssize_t w = write(fd, b.data + off, b.len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		buf_free(&b);
		close(fd);
	}
}

int
stats_serve(const char *path, struct conf *(*current)(void), char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	int fd;
	pthread_t tid;
	mode_t old;

	current_conf = current;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "stats socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	/* created 0660 at bind: no moment where others may connect (the
	   daemon has no other thread yet, so the umask is ours to change) */
	old = umask(0117);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 16) < 0) {
		snprintf(err, errlen, "stats socket %s: %s", path, strerror(errno));
		umask(old);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	umask(old);
	if (pthread_create(&tid, NULL, serve, (void *)(long)fd) != 0) {
		snprintf(err, errlen, "stats socket: cannot start thread");
		close(fd);
		return -1;
	}
	pthread_detach(tid);
	return 0;
}

int
stats_query(const char *path, FILE *out)
{
	struct sockaddr_un sun;
	int fd;
	char buf[4096];
	ssize_t n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	close(fd);
	return n < 0 ? -1 : 0;
}
