/*
 * NAME
 *	secrets - the SRS secrets from a file only the daemon user may read
 * SYNOPSIS
 *	#include "srs.h"
 *
 *	char **v; size_t n; char err[256];
 *	if (srs_secrets_read(path, &v, &n, err, sizeof(err)) < 0) ...
 *	srs_secrets_free(v, n);
 * DESCRIPTION
 *	Reads one secret per line: the first signs, every one verifies (a
 *	new secret goes first, the old ones stay below it until the
 *	addresses they signed have expired). Blank lines and lines that
 *	start with '#' are skipped; a line keeps its inner blanks but not
 *	its line end or trailing blanks.
 *
 *	The file must be a regular file that neither its group nor others
 *	may read or write (mode 0600 or 0400), opened by the user the daemon
 *	runs as: a secret that others can read lets them sign addresses
 *	that our reverse path accepts.
 * DIAGNOSTICS
 *	-1 with a message in err: the file cannot be opened or read, is
 *	not a regular file, has group or other permissions, holds no
 *	secret, or holds more than SRS_SECRETS_MAX of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srs.h"

void
srs_secrets_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] != NULL) {
			/* secrets do not linger in freed memory */
			volatile char *p = v[i];
			while (*p)
				*p++ = 0;
		}
		free(v[i]);
	}
	free(v);
}

int
srs_secrets_read(const char *path, char ***out, size_t *nout, char *err,
    size_t errlen)
{
	struct stat st;
	FILE *fp;
	char *line = NULL, **v = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	int fd;

	*out = NULL;
	*nout = 0;
	if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "secret_file %s: %s (it must be readable "
		    "by the user the daemon runs as, uid %ld)", path,
		    strerror(errno), (long)geteuid());
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret_file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "secret_file %s: mode %04o lets its group or "
		    "others read or change it: chmod 600 it and give it to the "
		    "daemon user", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "secret_file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((v = calloc(SRS_SECRETS_MAX, sizeof(*v))) == NULL)
		goto nomem;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		    line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = 0;
		if (len == 0 || line[0] == '#')
			continue;
		if (n == SRS_SECRETS_MAX) {
			snprintf(err, errlen, "secret_file %s: more than %d secrets",
			    path, SRS_SECRETS_MAX);
			goto fail;
		}
		if ((v[n] = strdup(line)) == NULL)
			goto nomem;
		n++;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "secret_file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (n == 0) {
		snprintf(err, errlen, "secret_file %s: no secret in it", path);
		goto fail;
	}
	if (line != NULL)
		memset(line, 0, cap);
	free(line);
	fclose(fp);
	*out = v;
	*nout = n;
	return 0;
nomem:
	snprintf(err, errlen, "secret_file %s: out of memory", path);
fail:
	if (line != NULL)
		memset(line, 0, cap);
	free(line);
	if (v != NULL)
		srs_secrets_free(v, n);
	fclose(fp);
	return -1;
}
