/*
 * NAME
 *	pidfile - a locked pid file: one daemon per file
 * DESCRIPTION
 *	See pidfile.h. flock() rather than fcntl() locks: they belong to
 *	the open file, so no other descriptor of the process (a plugin
 *	reading the same path) can drop them by closing it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

static int pid_fd = -1;

int
pidfile_claim(const char *path, char *err, size_t errlen)
{
	char buf[32];
	struct stat st;
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "pidfile %s: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symbolic link: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "pidfile %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		buf[r > 0 ? r : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		snprintf(err, errlen, "pidfile %s is locked by another modmilterd%s%s%s",
		    path, buf[0] ? " (pid " : "", buf, buf[0] ? ")" : "");
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pid_fd = fd;	/* kept open: the lock lasts as long as we do */
	return 0;
}

void
pidfile_remove(const char *path)
{
	if (pid_fd < 0)
		return;
	/* after the privilege drop the directory may not let us unlink;
	   an empty file is then left, which no reader mistakes for a pid */
	if (unlink(path) < 0 && ftruncate(pid_fd, 0) < 0) {
		/* nothing more to do */
	}
	close(pid_fd);
	pid_fd = -1;
}
