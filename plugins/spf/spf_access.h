/*
 * NAME
 *	spf_access - SPF policy overrides from a Sendmail-style access file
 * SYNOPSIS
 *	#include "spf_access.h"
 *
 *	struct spf_access *m = spf_access_parse(text, len, report, arg);
 *	act = spf_access_lookup(m, "user@example.com", "example.com", SPFR_FAIL);
 *	spf_access_free(m);
 *
 *	struct spf_access_file *f = spf_access_open("/etc/mail/access", report, arg);
 *	act = spf_access_file_lookup(f, sender, domain, result, now, report, arg);
 *	spf_access_close(f);
 * DESCRIPTION
 *	The text format of Sendmail's access file as bms.py read it for
 *	SPF: one entry per line, a key and a value separated by blanks;
 *	"#" starts a comment line; blank lines are ignored. Keys are
 *	"SPF-<Result>:" (Pass, Neutral, Softfail, Fail, PermError, None,
 *	TempError; any case) followed by a whole address, a domain, or
 *	nothing (the default for every sender). Values: OK (accept), CBV
 *	and DSN (verify: the sender is flagged for the cbv plugin, whose
 *	action says how), REJECT. Lines with other keys (Connect:, From:,
 *	plain addresses: the rest of a Sendmail access file) are not
 *	SPF's and are skipped.
 *
 *	A lookup tries the whole sender, then its domain, then the bare
 *	prefix, for the SPF result at hand, as bms.py did; the first entry
 *	found decides.
 *
 *	An access file is read at open and read again at a lookup (at
 *	most once a second) when its modification time, size or inode
 *	changed; a file that cannot be read then keeps the map already
 *	loaded. Lookups of several threads are safe.
 * DIAGNOSTICS
 *	The report callback receives each bad line as "FILE:LINE: problem"
 *	(FILE is "access" for spf_access_parse); spf_access_parse still
 *	returns the map of the good lines. NULL: out of memory, or for
 *	spf_access_open an unreadable file (reported).
 */
#ifndef MM_SPF_ACCESS_H
#define MM_SPF_ACCESS_H

#include <stddef.h>
#include <time.h>

#include "spf_eval.h"
#include "spf_policy.h"

struct spf_access;
struct spf_access_file;

typedef void (*spf_access_report)(void *arg, const char *msg);

struct spf_access *spf_access_parse(const char *text, size_t len,
    const char *name, spf_access_report report, void *arg, int *bad);
enum spf_action spf_access_lookup(const struct spf_access *m,
    const char *sender, const char *domain, spf_result r);
size_t spf_access_size(const struct spf_access *m);
void spf_access_free(struct spf_access *m);

struct spf_access_file *spf_access_open(const char *path,
    spf_access_report report, void *arg, int *bad);
enum spf_action spf_access_file_lookup(struct spf_access_file *f,
    const char *sender, const char *domain, spf_result r, time_t now,
    spf_access_report report, void *arg);
void spf_access_close(struct spf_access_file *f);

#endif
