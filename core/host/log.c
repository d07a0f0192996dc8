/*
 * NAME
 *	log - modmilterd's one logging family
 * DESCRIPTION
 *	See log.h. The level check comes first so that a debug call costs a
 *	compare on the hot path. Lines are written with one write(2) so that
 *	threads do not interleave.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_dest dest = LOG_DEST_STDERR;
static int cur_level = MM_LOG_INFO;
static const char *ident = "modmilterd";
static int out_fd = STDERR_FILENO;	/* stderr, or a file dup2'ed here */
static int also_stderr;			/* start-up: the admin's terminal too */

void
log_also_stderr(int on)
{
	also_stderr = on;
}

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"
};

void
log_open(enum log_dest d, int level, const char *id)
{
	dest = d;
	cur_level = level;
	if (id)
		ident = id;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_set_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if (path == NULL) {
		if (out_fd != STDERR_FILENO)
			dup2(STDERR_FILENO, out_fd);
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "log file %s: %s", path, strerror(errno));
		return -1;
	}
	if (out_fd == STDERR_FILENO) {
		out_fd = fd;
		return 0;
	}
	/* dup2 swaps the file under a writer atomically: lines go to the
	   old file or the new one, never to a closed descriptor */
	dup2(fd, out_fd);
	close(fd);
	return 0;
}

int
log_level(void)
{
	return cur_level;
}

int
log_parse_level(const char *s)
{
	for (int i = MM_LOG_ERR; i <= MM_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "err") == 0)
		return MM_LOG_ERR;
	if (strcmp(s, "warn") == 0)
		return MM_LOG_WARNING;
	return -1;
}

/* Append s to buf as JSON string contents. */
static size_t
json_escape(char *buf, size_t pos, size_t size, const char *s)
{
	for (; *s && pos + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c < 0x20) {
			pos += (size_t)snprintf(buf + pos, size - pos, "\\u%04x", c);
		} else
			buf[pos++] = (char)c;
	}
	return pos;
}

void
log_vmsg(int level, const char *qid, const char *who, const char *fmt,
    va_list ap)
{
	char text[2048], line[4096];
	size_t n;

	if (level > cur_level)
		return;
	if (level < 0 || level > MM_LOG_DEBUG)
		level = MM_LOG_ERR;
	vsnprintf(text, sizeof(text), fmt, ap);

	switch (dest) {
	case LOG_DEST_SYSLOG:
		syslog(level, "%s%s%s%s%s", qid ? qid : "", qid ? ": " : "",
		    who ? who : "", who ? ": " : "", text);
		if (!also_stderr)
			return;
		goto text;
	case LOG_DEST_JSON: {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"pid\":%ld",
		    (long long)ts.tv_sec, ts.tv_nsec / 1000000,
		    level_names[level], (long)getpid());
		if (qid) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"qid\":\"");
			n = json_escape(line, n, sizeof(line), qid);
			line[n++] = '"';
		}
		if (who) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"plugin\":\"");
			n = json_escape(line, n, sizeof(line), who);
			line[n++] = '"';
		}
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"msg\":\"");
		n = json_escape(line, n, sizeof(line), text);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
		break;
	}
	default:
	text:
		n = (size_t)snprintf(line, sizeof(line), "%s[%ld]: %s: %s%s%s%s%s\n",
		    ident, (long)getpid(), level_names[level],
		    qid ? qid : "", qid ? ": " : "",
		    who ? who : "", who ? ": " : "", text);
		break;
	}
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (dest != LOG_DEST_SYSLOG && write(out_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	if (also_stderr && (dest == LOG_DEST_SYSLOG || out_fd != STDERR_FILENO) &&
	    write(STDERR_FILENO, line, n) < 0) {
		/* nor there */
	}
}

/* One value of a key=value line: bare when it holds no blank, quote,
   backslash or '=', else quoted with \" and \\ escaped. */
static size_t
kv_value(char *buf, size_t pos, size_t size, const char *v)
{
	int quote = *v == 0 || strpbrk(v, " \t\"\\=") != NULL;

	if (quote && pos + 1 < size)
		buf[pos++] = '"';
	for (; *v && pos + 3 < size; v++) {
		if (*v == '"' || *v == '\\')
			buf[pos++] = '\\';
		buf[pos++] = (unsigned char)*v < 0x20 ? '_' : *v;
	}
	if (quote && pos + 1 < size)
		buf[pos++] = '"';
	return pos;
}

void
log_fields(int level, const char *qid, const char *const *kv, size_t n)
{
	char line[8192];
	size_t pos = 0;

	if (level > cur_level)
		return;
	if (dest == LOG_DEST_JSON) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		pos = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"pid\":%ld,\"qid\":\"",
		    (long long)ts.tv_sec, ts.tv_nsec / 1000000, level_names[level],
		    (long)getpid());
		pos = json_escape(line, pos, sizeof(line), qid ? qid : "");
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "\"");
		for (size_t i = 0; i + 1 < n + n && pos + 16 < sizeof(line); i += 2) {
			line[pos++] = ',';
			line[pos++] = '"';
			pos = json_escape(line, pos, sizeof(line), kv[i]);
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "\":\"");
			pos = json_escape(line, pos, sizeof(line), kv[i + 1] ? kv[i + 1] : "");
			line[pos++] = '"';
		}
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "}\n");
		if (pos >= sizeof(line)) {
			/* cut: keep the line a line, at the cost of the JSON */
			pos = sizeof(line) - 1;
			line[pos - 1] = '\n';
		}
		if (write(out_fd, line, pos) < 0) {
			/* nowhere left to report it */
		}
		return;
	}
	for (size_t i = 0; i + 1 < n + n && pos + 8 < sizeof(line) - 2; i += 2) {
		if (pos)
			line[pos++] = ' ';
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%s=", kv[i]);
		if (pos >= sizeof(line) - 2)
			break;
		pos = kv_value(line, pos, sizeof(line) - 2, kv[i + 1] ? kv[i + 1] : "-");
	}
	line[pos] = 0;
	log_msg(level, qid, NULL, "%s", line);
}

void
log_msg(int level, const char *qid, const char *who, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, qid, who, fmt, ap);
	va_end(ap);
}
