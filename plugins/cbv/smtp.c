/*
 * NAME
 *	smtp - one SMTP client dialogue, every step under a deadline
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct smtp_dialogue d = { .helo_name = "mx.example.com",
 *		.probe_from = "", .rcpt = "alice@example.net",
 *		.step_timeout = 10, .deadline = mm_clock_mono() + 30 };
 *	switch (smtp_run(sa, &d, reply, sizeof(reply))) ...
 * DESCRIPTION
 *	Connects (non-blocking), reads the banner, says EHLO (HELO when
 *	EHLO is refused), MAIL FROM:<probe_from>, RCPT TO:<rcpt>, and, when
 *	a message is given, DATA with the message dot-stuffed; then QUIT.
 *	Every read and write waits with poll() for at most step_timeout
 *	and never past the dialogue's deadline. While waiting, the
 *	progress callback is called every progress_interval seconds, so the
 *	MTA waiting for our answer at end of message is kept patient.
 *	A banner or EHLO greeting whose host name is one of own_names is a
 *	mail exchanger pretending to be us: SMTP_LOOP, and we leave.
 * DIAGNOSTICS
 *	The return value says what happened (see cbv.h); reply receives
 *	the step and the remote answer, sanitized (printable ASCII, one
 *	line), or the local error ("connect: Connection refused",
 *	"timeout waiting for the banner").
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cbv.h"

#define LINE_MAX_SMTP	1000
#define REPLY_LINES_MAX	50

struct conn {
	int fd;
	const struct smtp_dialogue *d;
	double next_progress;
	char buf[4096];
	size_t len, off;
};

/* Printable ASCII on one line, at most outlen - 1 bytes. */
void
smtp_sanitize(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int space = 0;

	if (outlen == 0)
		return;
	for (; *in && o + 1 < outlen; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch < 0x20 || ch > 0x7e || ch == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < outlen)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)ch;
	}
	out[o] = 0;
}

/* 0 ready, -1 timeout or error */
static int
wait_fd(struct conn *c, short ev)
{
	const struct smtp_dialogue *d = c->d;
	double step_end = mm_clock_mono() + d->step_timeout;
	struct pollfd p = { .fd = c->fd, .events = ev };

	for (;;) {
		double now = mm_clock_mono(), end = step_end < d->deadline ?
		    step_end : d->deadline, w;
		int r;

		if (now >= end)
			return -1;
		if (d->progress && now >= c->next_progress) {
			d->progress(d->progress_arg);
			c->next_progress = now + d->progress_interval;
		}
		w = end - now;
		if (d->progress && c->next_progress - now < w)
			w = c->next_progress - now;
		r = poll(&p, 1, (int)(w * 1000) + 1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
send_all(struct conn *c, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (wait_fd(c, POLLOUT) < 0)
			return -1;
	}
	return 0;
}

/* One line without CRLF; -1 on timeout, EOF or an overlong line. */
static int
read_line(struct conn *c, char *line, size_t len)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->off));
			size_t k = n < len - 1 ? n : len - 1;
			memcpy(line, c->buf + c->off, k);
			line[k] = 0;
			if (k > 0 && line[k - 1] == '\r')
				line[k - 1] = 0;
			c->off += n + 1;
			return 0;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len >= sizeof(c->buf) || c->len > LINE_MAX_SMTP * 2)
			return -1;
		if (wait_fd(c, POLLIN) < 0)
			return -1;
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		c->len += (size_t)r;
	}
}

/*
 * A whole (multi-line) reply. Returns the code, -1 on failure. first
 * receives the first line, text the lines joined.
 */
static int
read_reply(struct conn *c, char *first, size_t flen, char *text, size_t tlen)
{
	char line[LINE_MAX_SMTP + 1];
	size_t t = 0;
	int code = -1;

	if (text && tlen)
		text[0] = 0;
	for (int i = 0; i < REPLY_LINES_MAX; i++) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != 0 && line[3] != ' ' && line[3] != '-'))
			return -1;
		int lc = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
		if (code >= 0 && lc != code)
			return -1;
		code = lc;
		if (i == 0 && first)
			snprintf(first, flen, "%s", line);
		if (text && t + 2 < tlen) {
			int n = snprintf(text + t, tlen - t, "%s%s", t ? " " : "",
			    i ? (line[3] ? line + 4 : "") : line);
			if (n > 0)
				t += (size_t)n < tlen - t ? (size_t)n : tlen - t - 1;
		}
		if (line[3] != '-')
			return code;
	}
	return -1;
}

/* Is the first word after the code one of our names? */
static int
names_us(const struct smtp_dialogue *d, const char *line)
{
	char host[256];
	size_t n = 0;

	if (d->own_names == NULL || strlen(line) < 5)
		return 0;
	for (line += 4; *line && *line != ' ' && n + 1 < sizeof(host); line++)
		host[n++] = *line;
	host[n] = 0;
	if (n > 0 && host[n - 1] == '.')
		host[n - 1] = 0;
	for (char *const *p = d->own_names; *p; p++)
		if (strcasecmp(*p, host) == 0)
			return 1;
	return 0;
}

static int
connect_to(struct conn *c, const struct sockaddr *sa, char *err, size_t errlen)
{
	socklen_t sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int e = 0;
	socklen_t el = sizeof(e);

	if ((c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, sa, sl) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		return -1;
	}
	if (wait_fd(c, POLLOUT) < 0) {
		snprintf(err, errlen, "connect: timed out");
		return -1;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0) {
		snprintf(err, errlen, "connect: %s", strerror(e ? e : errno));
		return -1;
	}
	return 0;
}

/* The message with leading dots doubled and a final CRLF. */
static char *
dot_stuff(const char *s, size_t n, size_t *outlen)
{
	char *o = malloc(n * 2 + 8), *p = o;
	int bol = 1;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (bol && s[i] == '.')
			*p++ = '.';
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			*p++ = '\r';
		*p++ = s[i];
		bol = s[i] == '\n';
	}
	if (!bol) {
		*p++ = '\r';
		*p++ = '\n';
	}
	memcpy(p, ".\r\n", 3);
	p += 3;
	*outlen = (size_t)(p - o);
	return o;
}

/* Send a command, read its reply; the reply's class, or -1. */
static int
command(struct conn *c, const char *cmd, const char *step, char *reply,
    size_t rlen)
{
	char text[CBV_TEXT_MAX];
	int code;

	if (cmd && send_all(c, cmd, strlen(cmd)) < 0) {
		snprintf(reply, rlen, "%s: connection lost or timed out", step);
		return -1;
	}
	if ((code = read_reply(c, NULL, 0, text, sizeof(text))) < 0) {
		snprintf(reply, rlen, "%s: no valid reply before the deadline", step);
		return -1;
	}
	char raw[CBV_TEXT_MAX + 32];
	snprintf(raw, sizeof(raw), "%s: %s", step, text);
	smtp_sanitize(raw, reply, rlen);
	return code / 100;
}

static int
classify(int cls)
{
	return cls == 2 || cls == 3 ? SMTP_OK : cls == 5 ? SMTP_REJECT :
	    cls == 4 ? SMTP_TEMP : SMTP_FAIL;
}

int
smtp_run(const struct sockaddr *sa, const struct smtp_dialogue *d, char *reply,
    size_t rlen)
{
	struct conn c = { .fd = -1, .d = d };
	char first[LINE_MAX_SMTP + 1], text[CBV_TEXT_MAX], cmd[CBV_ADDR_MAX + 32];
	int code, rc = SMTP_FAIL, cls;

	c.next_progress = mm_clock_mono() + d->progress_interval;
	if (connect_to(&c, sa, reply, rlen) < 0)
		goto out;
	if ((code = read_reply(&c, first, sizeof(first), text, sizeof(text))) < 0) {
		snprintf(reply, rlen, "banner: none before the deadline");
		goto out;
	}
	if (code / 100 != 2) {
		char raw[CBV_TEXT_MAX + 16];
		snprintf(raw, sizeof(raw), "banner: %s", text);
		smtp_sanitize(raw, reply, rlen);
		goto quit;
	}
	if (names_us(d, first)) {
		smtp_sanitize(first, text, sizeof(text));
		snprintf(reply, rlen, "banner names us: %s", text);
		rc = SMTP_LOOP;
		goto quit;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", d->helo_name);
	if (send_all(&c, cmd, strlen(cmd)) < 0 ||
	    (code = read_reply(&c, first, sizeof(first), text, sizeof(text))) < 0) {
		snprintf(reply, rlen, "EHLO: no valid reply before the deadline");
		goto out;
	}
	if (code / 100 != 2) {
		snprintf(cmd, sizeof(cmd), "HELO %s\r\n", d->helo_name);
		if (send_all(&c, cmd, strlen(cmd)) < 0 ||
		    (code = read_reply(&c, first, sizeof(first), text,
		    sizeof(text))) < 0 || code / 100 != 2) {
			snprintf(reply, rlen, "HELO: refused or no reply");
			goto quit;
		}
	}
	if (names_us(d, first)) {
		smtp_sanitize(first, text, sizeof(text));
		snprintf(reply, rlen, "EHLO reply names us: %s", text);
		rc = SMTP_LOOP;
		goto quit;
	}
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", d->probe_from);
	if ((cls = command(&c, cmd, "MAIL FROM", reply, rlen)) != 2) {
		rc = classify(cls);
		goto quit;
	}
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", d->rcpt);
	if ((cls = command(&c, cmd, "RCPT TO", reply, rlen)) != 2) {
		rc = classify(cls);
		goto quit;
	}
	if (d->data) {
		size_t n;
		char *s;
		if ((cls = command(&c, "DATA\r\n", "DATA", reply, rlen)) != 3) {
			rc = classify(cls == 2 ? -1 : cls);
			goto quit;
		}
		if ((s = dot_stuff(d->data, d->datalen, &n)) == NULL) {
			snprintf(reply, rlen, "out of memory");
			goto out;
		}
		int w = send_all(&c, s, n);
		free(s);
		if (w < 0) {
			snprintf(reply, rlen, "DATA: connection lost or timed out");
			goto out;
		}
		if ((cls = command(&c, NULL, "end of DATA", reply, rlen)) != 2) {
			rc = classify(cls == 3 ? -1 : cls);
			goto quit;
		}
	}
	rc = SMTP_OK;
quit:
	if (c.fd >= 0) {
		/* best effort: no waiting for the answer */
		(void)send(c.fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
out:
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
