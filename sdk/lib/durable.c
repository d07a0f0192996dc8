/*
 * NAME
 *	durable - files that appear whole or not at all
 * SYNOPSIS
 *	#include <modmilter/durable.h>
 * DESCRIPTION
 *	See modmilter/durable.h. Plain POSIX; a handle belongs to one
 *	thread at a time, different handles to any.
 * DIAGNOSTICS
 *	-1 with errno, f->step and f->step_path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modmilter/durable.h>

#define BUFSIZE		65536

int
mm_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mm_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* -1 with errno kept, the step and its path noted */
static int
failed(struct mm_durable *f, const char *step, const char *path)
{
	int e = errno;

	f->step = step;
	snprintf(f->step_path, sizeof(f->step_path), "%s", path);
	errno = e;
	return -1;
}

static void
clear(struct mm_durable *f)
{
	free(f->tmp);
	free(f->buf);
	f->tmp = NULL;
	f->buf = NULL;
	f->blen = 0;
	f->fd = -1;
	f->state = MM_DURABLE_NONE;
}

int
mm_durable_create(struct mm_durable *f, const char *tmp, int mode)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if ((f->tmp = strdup(tmp)) == NULL || (f->buf = malloc(BUFSIZE)) == NULL) {
		clear(f);
		errno = ENOMEM;
		return failed(f, "create", tmp);
	}
	f->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    (mode_t)mode);
	if (f->fd < 0) {
		int e = errno;
		clear(f);
		errno = e;
		return failed(f, "create", tmp);
	}
	f->state = MM_DURABLE_WRITING;
	return 0;
}

static int
flush(struct mm_durable *f)
{
	if (f->blen && mm_write_all(f->fd, f->buf, f->blen) < 0)
		return failed(f, "write", f->tmp);
	f->blen = 0;
	return 0;
}

int
mm_durable_write(struct mm_durable *f, const void *p, size_t n)
{
	const unsigned char *c = p;

	if (f->state != MM_DURABLE_WRITING) {
		errno = EBADF;
		return failed(f, "write", f->tmp ? f->tmp : "");
	}
	if (n >= BUFSIZE - f->blen) {
		/* a large piece goes straight through, after what waits */
		if (flush(f) < 0)
			return -1;
		if (n >= BUFSIZE)
			return mm_write_all(f->fd, c, n) < 0 ?
			    failed(f, "write", f->tmp) : 0;
	}
	memcpy(f->buf + f->blen, c, n);
	f->blen += n;
	return 0;
}

int
mm_durable_finish(struct mm_durable *f)
{
	int fd;

	if (f->state != MM_DURABLE_WRITING) {
		errno = EBADF;
		return failed(f, "close", f->tmp ? f->tmp : "");
	}
	if (flush(f) < 0)
		return -1;
	if (fsync(f->fd) < 0)
		return failed(f, "fsync", f->tmp);
	fd = f->fd;
	f->fd = -1;
	if (close(fd) < 0)
		return failed(f, "close", f->tmp);
	free(f->buf);
	f->buf = NULL;
	f->state = MM_DURABLE_READY;
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
mm_durable_commit(struct mm_durable *f, const char *final, unsigned flags)
{
	char dir[4096];
	const char *slash;

	if (f->state != MM_DURABLE_READY) {
		errno = EINVAL;
		return failed(f, "rename", final);
	}
	if (flags & MM_DURABLE_LINK) {
		if (link(f->tmp, final) == 0)
			(void)unlink(f->tmp);	/* a leftover is harmless */
		else if (!no_hard_links(errno) || rename(f->tmp, final) != 0)
			return failed(f, "link", final);
	} else if (rename(f->tmp, final) != 0)
		return failed(f, "rename", final);
	f->state = MM_DURABLE_DONE;
	f->committed = 1;
	slash = strrchr(final, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == final)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - final), final);
	if (mm_fsync_dir(dir) < 0)
		return failed(f, "fsync the directory", dir);
	return 0;
}

void
mm_durable_withdraw(struct mm_durable *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if ((f->state == MM_DURABLE_WRITING || f->state == MM_DURABLE_READY) &&
	    f->tmp)
		(void)unlink(f->tmp);
	clear(f);
}

void
mm_durable_release(struct mm_durable *f)
{
	if (f->fd >= 0)
		close(f->fd);
	clear(f);
}
