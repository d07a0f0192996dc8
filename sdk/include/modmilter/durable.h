/*
 * NAME
 *	modmilter/durable.h - files that appear whole or not at all
 * SYNOPSIS
 *	#include <modmilter/durable.h>
 *
 *	struct mm_durable f;
 *
 *	if (mm_durable_create(&f, "/var/spool/x/.id.tmp", 0600) < 0 ||
 *	    mm_durable_write(&f, data, len) < 0 ||
 *	    mm_durable_finish(&f) < 0 ||
 *	    mm_durable_commit(&f, "/var/spool/x/id.eml", 0) < 0) {
 *		log("%s %s: %s", f.step, f.step_path, strerror(errno));
 *		mm_durable_withdraw(&f);
 *	} else
 *		mm_durable_release(&f);
 * DESCRIPTION
 *	The write-then-rename protocol: a file is created under a
 *	temporary name (O_EXCL, O_NOFOLLOW, the given mode less the
 *	umask), written through a 64 KiB buffer, fsync'ed and closed by
 *	mm_durable_finish(): it is then complete under its temporary name.
 *	mm_durable_commit() gives it its final name and fsyncs the final
 *	name's directory, so once it returns 0 the file is there, whole,
 *	across a crash. With MM_DURABLE_LINK the final name is made with
 *	link(2) and the temporary name removed (Maildir's way: an existing
 *	final name is an error, never replaced); rename(2) is used where
 *	the file system has no hard links, and without the flag.
 *
 *	mm_durable_withdraw() closes the file and removes the temporary
 *	name, whatever the state (a committed file stays);
 *	mm_durable_release() frees the handle and leaves the file where it
 *	is. One of them ends every handle mm_durable_create() filled in,
 *	even after a failure.
 *
 *	mm_write_all() writes a whole buffer to a descriptor (EINTR and
 *	short writes retried); mm_fsync_dir() makes a directory's entries
 *	durable.
 * DIAGNOSTICS
 *	Functions that can fail return -1 with errno set, f->step naming
 *	what failed ("create", "write", "fsync", "close", "rename",
 *	"link", "fsync the directory") and f->step_path the path it was
 *	done on (the temporary name, the final name or the directory).
 *	After a failure of mm_durable_write() or mm_durable_finish() the
 *	file can only be withdrawn; after one of mm_durable_commit() the
 *	file is complete under its temporary name or, when only the
 *	directory's fsync failed (f->committed is set), under its final
 *	name.
 */
#ifndef MODMILTER_DURABLE_H
#define MODMILTER_DURABLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mm_durable_state {
	MM_DURABLE_NONE,	/* nothing, or withdrawn */
	MM_DURABLE_WRITING,	/* open under the temporary name */
	MM_DURABLE_READY,	/* complete under the temporary name */
	MM_DURABLE_DONE		/* under the final name */
};

struct mm_durable {
	enum mm_durable_state state;
	int fd;			/* open while writing, else -1 */
	char *tmp;		/* the temporary name */
	unsigned char *buf;
	size_t blen;
	int committed;		/* the final name exists */
	const char *step;	/* what failed */
	char step_path[4096];	/* where */
};

#define MM_DURABLE_LINK	0x1	/* link(2) then unlink(2), not rename(2) */

int mm_durable_create(struct mm_durable *f, const char *tmp, int mode);
int mm_durable_write(struct mm_durable *f, const void *p, size_t n);
int mm_durable_finish(struct mm_durable *f);
int mm_durable_commit(struct mm_durable *f, const char *final, unsigned flags);
void mm_durable_withdraw(struct mm_durable *f);
void mm_durable_release(struct mm_durable *f);

int mm_write_all(int fd, const void *p, size_t n);
int mm_fsync_dir(const char *dir);

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_DURABLE_H */
