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
 *	The file itself is the helper library's (modmilter/durable.h);
 *	this module names it, makes the Maildir and words the errors.
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
	f->dir = f->name = NULL;
}

/* The durable file's failure, worded "what path: reason"; withdrawn. */
static int
md_failed(struct md_file *f, const char *what, char *err, size_t errlen)
{
	seterr(err, errlen, what, f->d.step_path, errno);
	md_withdraw(f);
	return -1;
}

int
md_create(struct md_file *f, const char *root, const char *sub,
    const char *host, int mode, char *err, size_t errlen)
{
	mode_t dmode = (mode_t)(mode | ((mode & 0444) >> 2));
	char path[4096];
	size_t dlen = strlen(root) + strlen(sub) + 2, nlen;

	memset(f, 0, sizeof(*f));
	f->d.fd = -1;
	if (dlen + 96 + strlen(host) > sizeof(path)) {
		seterr(err, errlen, "archive path", root, ENAMETOOLONG);
		return -1;
	}
	nlen = 96 + strlen(host);
	if ((f->dir = malloc(dlen)) == NULL || (f->name = malloc(nlen)) == NULL) {
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
		if (mm_durable_create(&f->d, path, mode) == 0)
			return 0;
		if (errno == ENOMEM) {
			snprintf(err, errlen, "out of memory");
			md_clear(f);
			return -1;
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

int
md_write(struct md_file *f, const void *data, size_t len, char *err,
    size_t errlen)
{
	if (f->d.state != MM_DURABLE_WRITING) {
		snprintf(err, errlen, "archive file not open for writing");
		return -1;
	}
	if (mm_durable_write(&f->d, data, len) < 0)
		return md_failed(f, "write", err, errlen);
	return 0;
}

int
md_finish(struct md_file *f, char *err, size_t errlen)
{
	if (f->d.state != MM_DURABLE_WRITING) {
		snprintf(err, errlen, "archive file not open for writing");
		return -1;
	}
	if (mm_durable_finish(&f->d) < 0)
		return md_failed(f, f->d.step, err, errlen);
	return 0;
}

int
md_commit(struct md_file *f, char *err, size_t errlen)
{
	char dst[4096];

	if (f->d.state != MM_DURABLE_READY) {
		snprintf(err, errlen, "archive file not complete");
		return -1;
	}
	md_path(f, "new", dst, sizeof(dst));
	if (mm_durable_commit(&f->d, dst, MM_DURABLE_LINK) < 0) {
		seterr(err, errlen, f->d.committed ? "fsync" : "link into new/",
		    f->d.step_path, errno);
		return -1;
	}
	return 0;
}

void
md_release(struct md_file *f)
{
	mm_durable_release(&f->d);
	md_clear(f);
}

void
md_withdraw(struct md_file *f)
{
	mm_durable_withdraw(&f->d);
	md_clear(f);
}
