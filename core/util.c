/*
 * NAME
 *	util - whole files for the core and tools
 * SYNOPSIS
 *	#include "util.h"
 * DESCRIPTION
 *	See util.h; allocation, strings and clocks are the helper
 *	library's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *
read_file(const char *path, size_t max, size_t *len, char **err)
{
	int fd;
	struct stat st;
	char *data;
	size_t got = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*err = xasprintf("cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*err = xasprintf("not a regular file");
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size > max) {
		*err = xasprintf("file too large (%lld bytes)", (long long)st.st_size);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = xasprintf("read error: %s", r < 0 ? strerror(errno) : "short read");
			free(data);
			close(fd);
			return NULL;
		}
		got += (size_t)r;
	}
	close(fd);
	data[got] = 0;
	if (len)
		*len = got;
	return data;
}
