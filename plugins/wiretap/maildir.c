/*
 * NAME
 *	maildir - deliver one file into a Maildir, never half-written
 * SYNOPSIS
 *	#include "maildir.h"
 * DESCRIPTION
 *	The Maildir protocol (cr.yp.to/proto/maildir.html): a file is
 *	created under a unique name in <dir>/tmp/, written, fsync'ed and
 *	closed; only then is it linked into <dir>/new/ and removed from
 *	tmp/, and new/ is fsync'ed. A reader of new/ therefore sees whole
 *	files or nothing.
 *
 *	md_create() makes <root>/<sub>/{tmp,new,cur} when they are missing
 *	(the root itself must exist: a missing archive root is a mistake
 *	to report, not to paper over) and opens a fresh file in tmp/ with
 *	O_EXCL under the name "SECONDS.MUSECPPIDQCOUNTER.HOST". The
 *	counter is process-wide and atomic, so threads never race for a
 *	name; O_EXCL catches anything else. Files get the given mode,
 *	directories that mode plus search permission where it allows
 *	reading (0600 -> 0700, 0640 -> 0750), both less the umask.
 *
 *	md_write() buffers; md_finish() flushes, fsyncs and closes: the
 *	file is then complete in tmp/ and invisible to Maildir readers.
 *	md_commit() moves it into new/ (link + unlink; rename where the
 *	file system has no hard links) and fsyncs new/. md_withdraw()
 *	removes whatever md_create() left in tmp/, whatever the state;
 *	md_release() frees the handle and leaves the file where it is.
 *
 *	md_hostname() gives the host part of names, with "/" and ":"
 *	written as \057 and \072 as the protocol asks.
 *
 *	Plain POSIX, no allocation after md_create(), thread-safe.
 * DIAGNOSTICS
 *	Functions that can fail return -1 with "what path: strerror" in
 *	err; the file is then withdrawn (md_create, md_write, md_finish)
 *	or left where it was (md_commit: still complete in tmp/).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"

#define MD_BUFSIZE	65536

static atomic_ulong md_counter;

/*
 * strerror_r() is the XSI one (int, fills the buffer) or the GNU one
 * (char *, may return a static string), depending on feature macros;
 * both are thread-safe, strerror() is not. _Generic picks the right
 * reading of the result without evaluating anything twice.
 */
static const char *
xsi_reason(int rc, char *buf)
{
	return rc == 0 ? buf : "unknown error";
}

static const char *
gnu_reason(char *s, char *buf)
{
	(void)buf;
	return s;
}

#define REASON(e, buf) _Generic(strerror_r((e), (buf), sizeof(buf)),	\
	int: xsi_reason, default: gnu_reason)(strerror_r((e), (buf), sizeof(buf)), (buf))

/* "what path: reason" */
static void
seterr(char *err, size_t errlen, const char *what, const char *path, int e)
{
	char reason[128];

	snprintf(err, errlen, "%s %s: %s", what, path, REASON(e, reason));
}

void
md_hostname(char *buf, size_t len)
{
	char h[256];
	size_t n = 0;

	if (gethostname(h, sizeof(h)) != 0 || h[0] == 0)
		strcpy(h, "localhost");
	h[sizeof(h) - 1] = 0;
	for (const char *p = h; *p && n + 5 < len; p++) {
		if (*p == '/' || *p == ':') {
			memcpy(buf + n, *p == '/' ? "\\057" : "\\072", 4);
			n += 4;
		} else
			buf[n++] = *p;
	}
	buf[n] = 0;
}

int
md_path(const struct md_file *f, const char *sub, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", f->dir, sub, f->name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
mkdir_ok(const char *path, mode_t mode)
{
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* <dir>, <dir>/tmp, <dir>/new, <dir>/cur */
static int
make_maildir(const char *root, const char *dir, mode_t mode, char *err,
    size_t errlen)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[4096];
	struct stat st;

	if (stat(root, &st) != 0) {
		seterr(err, errlen, "archive directory", root, errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "archive directory", root, ENOTDIR);
		return -1;
	}
	if (mkdir_ok(dir, mode) < 0) {
		seterr(err, errlen, "mkdir", dir, errno);
		return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		if (mkdir_ok(path, mode) < 0) {
			seterr(err, errlen, "mkdir", path, errno);
			return -1;
		}
	}
	return 0;
}

static void
md_clear(struct md_file *f)
{
	free(f->dir);
	free(f->name);
	free(f->buf);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

int
md_create(struct md_file *f, const char *root, const char *sub,
    const char *host, int mode, char *err, size_t errlen)
{
	mode_t dmode = (mode_t)(mode | ((mode & 0444) >> 2));
	char path[4096];
	size_t dlen = strlen(root) + strlen(sub) + 2, nlen;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (dlen + 96 + strlen(host) > sizeof(path)) {
		seterr(err, errlen, "archive path", root, ENAMETOOLONG);
		return -1;
	}
	nlen = 96 + strlen(host);
	if ((f->dir = malloc(dlen)) == NULL || (f->name = malloc(nlen)) == NULL ||
	    (f->buf = malloc(MD_BUFSIZE)) == NULL) {
		snprintf(err, errlen, "out of memory");
		md_clear(f);
		return -1;
	}
	snprintf(f->dir, dlen, "%s/%s", root, sub);
	for (int attempt = 0; attempt < 4; attempt++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(f->name, nlen, "%lld.M%06ldP%ldQ%lu.%s", (long long)ts.tv_sec,
		    ts.tv_nsec / 1000, (long)getpid(),
		    (unsigned long)atomic_fetch_add(&md_counter, 1) + 1, host);
		snprintf(path, sizeof(path), "%s/tmp/%s", f->dir, f->name);
		f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    (mode_t)mode);
		if (f->fd >= 0) {
			f->state = MD_WRITING;
			return 0;
		}
		if ((errno == ENOENT || errno == ENOTDIR) && attempt == 0) {
			/* first copy for this address: make its Maildir */
			if (make_maildir(root, f->dir, dmode, err, errlen) < 0) {
				md_clear(f);
				return -1;
			}
			continue;
		}
		if (errno != EEXIST)
			break;
	}
	seterr(err, errlen, "create", path, errno);
	md_clear(f);
	return -1;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
flush(struct md_file *f, char *err, size_t errlen)
{
	char path[4096];

	if (f->blen && write_all(f->fd, f->buf, f->blen) < 0) {
		int e = errno;
		md_path(f, "tmp", path, sizeof(path));
		seterr(err, errlen, "write", path, e);
		md_withdraw(f);
		return -1;
	}
	f->blen = 0;
	return 0;
}

int
md_write(struct md_file *f, const void *data, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *p = data;

	if (f->state != MD_WRITING) {
		snprintf(err, errlen, "archive file not open for writing");
		return -1;
	}
	while (len > 0) {
		size_t room = MD_BUFSIZE - f->blen, n = len < room ? len : room;
		memcpy(f->buf + f->blen, p, n);
		f->blen += n;
		p += n;
		len -= n;
		if (f->blen == MD_BUFSIZE && flush(f, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
md_finish(struct md_file *f, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	if (f->state != MD_WRITING) {
		snprintf(err, errlen, "archive file not open for writing");
		return -1;
	}
	if (flush(f, err, errlen) < 0)
		return -1;
	md_path(f, "tmp", path, sizeof(path));
	if (fsync(f->fd) != 0) {
		seterr(err, errlen, "fsync", path, errno);
		md_withdraw(f);
		return -1;
	}
	fd = f->fd;
	f->fd = -1;
	if (close(fd) != 0) {
		seterr(err, errlen, "close", path, errno);
		md_withdraw(f);
		return -1;
	}
	free(f->buf);
	f->buf = NULL;
	f->state = MD_READY;
	return 0;
}

/* link(2) failed because the file system has no hard links (not
   because the name exists): rename(2) is the way there */
static int
no_hard_links(int e)
{
	return e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS ||
	    e == EMLINK;
}

int
md_commit(struct md_file *f, char *err, size_t errlen)
{
	char tmp[4096], dst[4096], newdir[4096];
	int dfd, rc = 0;

	if (f->state != MD_READY) {
		snprintf(err, errlen, "archive file not complete");
		return -1;
	}
	md_path(f, "tmp", tmp, sizeof(tmp));
	md_path(f, "new", dst, sizeof(dst));
	if (link(tmp, dst) == 0)
		(void)unlink(tmp);	/* a leftover in tmp/ is harmless */
	else if (!no_hard_links(errno) || rename(tmp, dst) != 0) {
		seterr(err, errlen, "link into new/", dst, errno);
		return -1;
	}
	f->state = MD_DONE;
	snprintf(newdir, sizeof(newdir), "%s/new", f->dir);
	if ((dfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		seterr(err, errlen, "fsync", newdir, errno);
		rc = -1;
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

void
md_release(struct md_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	md_clear(f);
}

void
md_withdraw(struct md_file *f)
{
	char path[4096];

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if ((f->state == MD_WRITING || f->state == MD_READY) && f->dir && f->name &&
	    md_path(f, "tmp", path, sizeof(path)) == 0)
		(void)unlink(path);
	md_clear(f);
}
