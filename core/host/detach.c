/*
 * NAME
 *	detach - become a daemon before anything else starts
 * DESCRIPTION
 *	See detach.h. Two pipes: the child's stderr, copied by the parent
 *	as it arrives, and a status pipe that carries one byte when the
 *	child is ready. The status pipe decides: a child that dies closes
 *	it without writing, whatever its descendants keep open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "detach.h"

static int status_fd = -1;

/* Copy what is readable now: 1 copied, 0 end of file, -1 nothing now. */
static int
copy_out(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR ? 1 : -1;
	if (n == 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, buf + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += w;
	}
	return 1;
}

static void
parent_wait(int errfd, int stfd)
{
	struct pollfd p[2] = { { errfd, POLLIN, 0 }, { stfd, POLLIN, 0 } };
	char st = 0;
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP)) &&
		    copy_out(errfd) == 0)
			p[0].fd = -1;
		if (!(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		if ((n = read(stfd, &st, 1)) < 0 && errno == EINTR)
			continue;
		/* what the child wrote before its verdict, without waiting
		   on descendants that may hold the pipe */
		fcntl(errfd, F_SETFL, O_NONBLOCK);
		while (p[0].fd >= 0 && copy_out(errfd) > 0)
			;
		_exit(n == 1 && st == '0' ? 0 : 1);
	}
}

int
detach_start(void)
{
	int errp[2], stp[2], fd;
	pid_t pid;

	if (pipe2(errp, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(stp, O_CLOEXEC) < 0) {
		close(errp[0]);
		close(errp[1]);
		return -1;
	}
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(errp[1]);
		close(stp[1]);
		parent_wait(errp[0], stp[0]);
	}
	close(errp[0]);
	close(stp[0]);
	setsid();
	if (chdir("/") < 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	dup2(errp[1], STDERR_FILENO);
	close(errp[1]);
	status_fd = stp[1];
	return 0;
}

void
detach_ready(void)
{
	int fd;

	if (status_fd < 0)
		return;
	/* stderr first: the parent exits as soon as it reads the status */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(status_fd, "0", 1) < 0) {
		/* the parent is gone: nobody to tell */
	}
	close(status_fd);
	status_fd = -1;
}
