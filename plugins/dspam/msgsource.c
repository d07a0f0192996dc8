/*
 * NAME
 *	msgsource - the messages an argument of modmilter-dspam names
 * SYNOPSIS
 *	#include "msgsource.h"
 *
 *	struct msgsource_cb cb = { on_message, on_error, arg };
 *	msgsource_walk("~/Maildir/.Junk", &cb);
 * DESCRIPTION
 *	An argument is recognised by what it is, not by its name:
 *
 *	-	a list of names read from standard input, one per line
 *		(empty lines skipped), each recognised as below;
 *	a directory with cur/ or new/
 *		a Maildir: the files of cur/ then new/, each one message,
 *		in name order (delivery order, for Maildir names); tmp/,
 *		dot files and the Maildir++ subfolders are left alone, so
 *		training ~/Maildir never takes in its .Junk folder;
 *	another directory
 *		a directory of Maildirs: each subdirectory that is a
 *		Maildir, in name order (one level deep);
 *	a file whose first line starts with "From "
 *		an mbox (mboxo or mboxrd);
 *	any other file
 *		one message (also /dev/stdin).
 *
 *	An mbox is split at each line starting with "From " that opens the
 *	file or follows an empty line: every mbox writer puts the empty
 *	line there, and so a "From " at the start of a paragraph of a
 *	writer that does not escape it is the only case taken wrongly. The
 *	separator and the empty line before it are not part of the
 *	message; ">From ", ">>From " ... lose one '>' (mboxrd; for mboxo,
 *	where only "From " was quoted, this undoes the quoting too). A
 *	message of an mbox is named FILE:LINE, the line of its separator,
 *	as editors take it.
 *
 *	The mbox is read a line at a time: memory holds one message, not
 *	the file. The splitting is done here rather than with GMime's
 *	mbox parser: the classifier wants each message's bytes, not a
 *	parsed MIME tree, GMime leaves ">From " quoted, and the mime plugin
 *	(GMime's only user) can be left out of the build.
 * DIAGNOSTICS
 *	A file or directory that cannot be read is reported through
 *	cb->error() and skipped; the walk goes on.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

#include "msgsource.h"

static int walk_path(const char *path, const struct msgsource_cb *cb);

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return mm_xasprintf("%.*s/%s", (int)n, dir, name);
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
is_maildir(const char *dir)
{
	char *cur = join(dir, "cur"), *new = join(dir, "new");
	int r = is_dir(cur) || is_dir(new);

	free(cur);
	free(new);
	return r;
}

/* byte order, not the locale's: the same order on every host */
static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_separator(const char *line, size_t n)
{
	return n >= 5 && memcmp(line, "From ", 5) == 0;
}

static int
is_blank(const char *line, size_t n)
{
	return (n == 1 && line[0] == '\n') || (n == 2 && line[0] == '\r' &&
	    line[1] == '\n');
}

/* one message of an mbox, without the empty line its writer added */
static int
emit(const char *path, unsigned long line, struct mm_buf *m,
    const struct msgsource_cb *cb)
{
	size_t len = m->len;
	char *name = mm_xasprintf("%s:%lu", path, line);
	int rc;

	if (len >= 2 && m->data[len - 1] == '\n' && m->data[len - 2] == '\n')
		len--;
	else if (len >= 4 && memcmp(m->data + len - 4, "\r\n\r\n", 4) == 0)
		len -= 2;
	else if (is_blank(m->data ? m->data : "", len))
		len = 0;
	rc = cb->message(cb->arg, name, (const unsigned char *)(m->data ?
	    m->data : ""), len);
	free(name);
	m->len = 0;
	return rc;
}

/* the rest of an mbox whose first line (its separator) is read */
static int
read_mbox(FILE *f, const char *path, char **line, size_t *cap,
    const struct msgsource_cb *cb)
{
	struct mm_buf m = { 0 };
	unsigned long lineno = 1, start = 1;
	int blank = 0, rc = 0;
	ssize_t n;

	while (rc == 0 && (n = getline(line, cap, f)) >= 0) {
		const char *p = *line;
		size_t len = (size_t)n, q;

		lineno++;
		if (blank && is_separator(p, len)) {
			rc = emit(path, start, &m, cb);
			start = lineno;
			blank = 0;
			continue;
		}
		blank = is_blank(p, len);
		q = strspn(p, ">");
		if (q > 0 && is_separator(p + q, len - q)) {
			p++;
			len--;
		}
		mm_buf_add(&m, p, len);
	}
	if (rc == 0 && ferror(f))
		cb->error(cb->arg, path, strerror(errno));
	else if (rc == 0)
		rc = emit(path, start, &m, cb);
	mm_buf_free(&m);
	return rc;
}

/* a file: one message, or an mbox when allowed and it looks like one */
static int
read_file_msgs(const char *path, int mbox_ok, const struct msgsource_cb *cb)
{
	FILE *f = fopen(path, "r");
	struct mm_buf m = { 0 };
	char *line = NULL, chunk[65536];
	size_t cap = 0, k;
	ssize_t n;
	int rc = 0;

	if (f == NULL) {
		cb->error(cb->arg, path, strerror(errno));
		return 0;
	}
	n = getline(&line, &cap, f);
	if (n > 0 && mbox_ok && is_separator(line, (size_t)n)) {
		rc = read_mbox(f, path, &line, &cap, cb);
	} else {
		if (n > 0)
			mm_buf_add(&m, line, (size_t)n);
		while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			mm_buf_add(&m, chunk, k);
		if (ferror(f))
			cb->error(cb->arg, path, strerror(errno));
		else
			rc = cb->message(cb->arg, path, (const unsigned char *)
			    (m.data ? m.data : ""), m.len);
	}
	free(line);
	mm_buf_free(&m);
	fclose(f);
	return rc;
}

static int
walk_maildir(const char *dir, const struct msgsource_cb *cb)
{
	static const char *const sub[] = { "cur", "new" };
	size_t s;
	int rc = 0;

	for (s = 0; s < 2 && rc == 0; s++) {
		char *d = join(dir, sub[s]);
		struct dirent **ents;
		int i, n;

		if (!is_dir(d)) {
			free(d);
			continue;
		}
		if ((n = scandir(d, &ents, NULL, by_name)) < 0) {
			cb->error(cb->arg, d, strerror(errno));
			free(d);
			continue;
		}
		for (i = 0; i < n; i++) {
			char *p = join(d, ents[i]->d_name);
			struct stat st;

			/* dot files are the MUA's or the MDA's, not mail */
			if (rc == 0 && ents[i]->d_name[0] != '.') {
				if (stat(p, &st) < 0)
					cb->error(cb->arg, p, strerror(errno));
				else if (S_ISREG(st.st_mode))
					rc = read_file_msgs(p, 0, cb);
			}
			free(p);
			free(ents[i]);
		}
		free(ents);
		free(d);
	}
	return rc;
}

static int
walk_maildirs(const char *dir, const struct msgsource_cb *cb)
{
	struct dirent **ents;
	int i, n, found = 0, rc = 0;

	if ((n = scandir(dir, &ents, NULL, by_name)) < 0) {
		cb->error(cb->arg, dir, strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (rc == 0 && strcmp(e, ".") != 0 && strcmp(e, "..") != 0) {
			char *p = join(dir, e);

			if (is_maildir(p)) {
				found++;
				rc = walk_maildir(p, cb);
			}
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	if (rc == 0 && !found)
		cb->error(cb->arg, dir, "neither a Maildir (no cur/ or new/) "
		    "nor a directory of Maildirs");
	return rc;
}

static int
walk_path(const char *path, const struct msgsource_cb *cb)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		cb->error(cb->arg, path, strerror(errno));
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return is_maildir(path) ? walk_maildir(path, cb) :
		    walk_maildirs(path, cb);
	return read_file_msgs(path, 1, cb);
}

/* names from standard input, as find(1) prints them */
static int
walk_list(FILE *in, const struct msgsource_cb *cb)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (strcmp(line, "-") == 0)
			cb->error(cb->arg, line, "'-' in the list read from "
			    "standard input");
		else
			rc = walk_path(line, cb);
	}
	if (rc == 0 && ferror(in))
		cb->error(cb->arg, "-", strerror(errno));
	free(line);
	return rc;
}

int
msgsource_walk(const char *arg, const struct msgsource_cb *cb)
{
	if (strcmp(arg, "-") == 0)
		return walk_list(stdin, cb);
	return walk_path(arg, cb);
}
