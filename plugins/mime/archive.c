/*
 * NAME
 *	archive - judge the members of an archive (libarchive)
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	r = mime_archive_scan(&sc, data, len, "a.zip", depth, &hit);
 * DESCRIPTION
 *	Opens the archive in memory with libarchive (zip, 7z, rar, rar5,
 *	tar, iso9660, cab, lha, cpio; gzip, bzip2, xz, lzma, lzip, zstd
 *	and compress streams, and a single compressed file) and looks at
 *	every member: its name (names.c, policy.c), whether it is
 *	encrypted (the `encrypted` policy), the kind of its first bytes
 *	(sniff.c) and, when it is itself an archive and archive scanning
 *	is on, its members, one level deeper. Names at one level are all
 *	judged before any nested archive is opened, so that a banned name
 *	is found even in an archive that also holds itself.
 *
 *	Only the filters libarchive implements itself are enabled: one
 *	that would run an external program is left out (checked once, at
 *	first use). The mtree format, which can refer to files on the
 *	local disk, is never enabled.
 *
 *	Cost is bounded by the scan's budget: every member counts against
 *	max_parts; every byte read counts against max_size, and so does
 *	every byte skipped in a compressed stream (7z, rar, tar.gz...),
 *	where skipping means decompressing. Nesting deeper than
 *	max_depth is a limit, not a pass.
 *
 *	Data that does not open as an archive (a ".zip" that is not one),
 *	or fails half-way, is judged by the `corrupt` policy.
 * DIAGNOSTICS
 *	1: banned, *hit filled; 0: nothing banned; -1: a limit was
 *	reached (sc->limit says which).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <archive.h>
#include <archive_entry.h>

#include "mime.h"

typedef int (*support_fn)(struct archive *);

static const support_fn filters[] = {
	archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
	archive_read_support_filter_xz, archive_read_support_filter_lzma,
	archive_read_support_filter_lzip, archive_read_support_filter_zstd,
	archive_read_support_filter_compress,
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))
static int filter_ok[NFILTERS];
static pthread_once_t filters_once = PTHREAD_ONCE_INIT;

/* Which filters work without an external program? */
static void
probe_filters(void)
{
	for (size_t i = 0; i < NFILTERS; i++) {
		struct archive *a = archive_read_new();
		filter_ok[i] = a && filters[i](a) == ARCHIVE_OK;
		if (a)
			archive_read_free(a);
	}
}

static struct archive *
reader(const unsigned char *data, size_t len)
{
	struct archive *a;

	pthread_once(&filters_once, probe_filters);
	if ((a = archive_read_new()) == NULL)
		return NULL;
	for (size_t i = 0; i < NFILTERS; i++)
		if (filter_ok[i])
			filters[i](a);
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Is the failure about encryption (no passphrase)? */
static int
encryption_error(struct archive *a)
{
	const char *e = archive_error_string(a);

	if (archive_read_has_encrypted_entries(a) > 0)
		return 1;
	return e && (strstr(e, "ncrypt") || strstr(e, "assphrase"));
}

/* Skipping data costs decompression unless the format seeks. */
static int
skip_costs(struct archive *a)
{
	int f = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;

	if (archive_filter_count(a) > 1)
		return 1;
	return !(f == ARCHIVE_FORMAT_ZIP || f == ARCHIVE_FORMAT_TAR ||
	    f == ARCHIVE_FORMAT_ISO9660 || f == ARCHIVE_FORMAT_CPIO);
}

/* The name stored in a gzip header (FNAME), or NULL. */
static char *
gzip_fname(const unsigned char *p, size_t len)
{
	size_t i = 10;

	if (len < 10 || p[0] != 0x1f || p[1] != 0x8b || !(p[3] & 0x08))
		return NULL;
	if (p[3] & 0x04) {	/* FEXTRA */
		if (len < 12)
			return NULL;
		i = 12 + (size_t)(p[10] | p[11] << 8);
	}
	for (size_t j = i; j < len && j < i + 1024; j++)
		if (p[j] == 0)
			return j > i ? mime_xstrndup((const char *)p + i, j - i) : NULL;
	return NULL;
}

/* "a.txt.gz" -> "a.txt": the name of a single compressed file */
static char *
strip_compression_suffix(const char *name)
{
	static const char *const sfx[] = { ".gz", ".bz2", ".xz", ".zst",
		".lz", ".lzma", ".z", ".gzip" };
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);
		if (n > l && strcasecmp(name + n - l, sfx[i]) == 0)
			return mime_xstrndup(name, n - l);
	}
	return mime_xstrdup(name);
}

/* Read up to want bytes of the current member; -1 on error. */
static long
read_some(struct archive *a, unsigned char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		la_ssize_t r = archive_read_data(a, buf + got, want - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

struct nested {
	unsigned char *data;
	size_t len;
	char *name;
};

struct level {
	struct mime_scan *sc;
	struct archive *a;
	const char *name;	/* this archive, as shown */
	int depth;		/* of its members */
	struct nested *nest;
	size_t nnest;
	unsigned char *head;
};

/* Rest of a member that is itself an archive, within the budget. */
static int
read_nested(struct level *l, const char *member, size_t headlen)
{
	size_t cap = headlen * 2 + 65536, len = headlen;
	unsigned char *buf = mime_xmalloc(cap);
	struct nested *n;

	memcpy(buf, l->head, headlen);
	for (;;) {
		la_ssize_t r;
		if (cap - len < 65536) {
			cap *= 2;
			buf = mime_xrealloc(buf, cap);
		}
		r = archive_read_data(l->a, buf + len, cap - len);
		if (r < 0) {
			free(buf);
			return -2;
		}
		if (r == 0)
			break;
		if (!mime_count_bytes(l->sc, (size_t)r)) {
			free(buf);
			return -1;
		}
		len += (size_t)r;
	}
	l->nest = mime_xrealloc(l->nest, (l->nnest + 1) * sizeof(*l->nest));
	n = &l->nest[l->nnest++];
	n->data = buf;
	n->len = len;
	n->name = mime_xasprintf("%s: %s", l->name, member);
	return 0;
}

/* Judge by policy; 1 banned, 0 allowed */
static int
policy_hit(struct level *l, enum mime_policy pol, struct mime_hit *hit,
    const char *what)
{
	if (pol != MIME_POL_BAN)
		return 0;
	mime_hit_set(hit, l->name, "%s", what);
	return 1;
}

/* One member: 1 banned, 0 fine, -1 limit, -2 read error */
static int
member(struct level *l, struct archive_entry *e, struct mime_hit *hit)
{
	struct mime_scan *sc = l->sc;
	const char *path = archive_entry_pathname_utf8(e);
	char *name;
	struct mime_name nm;
	long headlen;
	enum mime_kind kind;
	int r = 0;

	if (!mime_count_part(sc))
		return -1;
	if (path == NULL)
		path = archive_entry_pathname(e);
	if ((archive_format(l->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW)
		name = strip_compression_suffix(l->name);
	else
		name = mime_xstrdup(path ? path : "");
	if (mime_policy_name(sc, name, strlen(name), l->name, hit, &nm)) {
		free(name);
		mime_name_free(&nm);
		return 1;
	}
	if (archive_entry_is_encrypted(e)) {
		r = policy_hit(l, sc->conf->encrypted, hit, "encrypted archive");
		goto out;
	}
	if (archive_entry_filetype(e) != AE_IFREG)
		goto out;
	headlen = read_some(l->a, l->head, MIME_SNIFF_HEAD);
	if (headlen < 0) {
		r = -2;
		goto out;
	}
	if (!mime_count_bytes(sc, (size_t)headlen)) {
		r = -1;
		goto out;
	}
	kind = mime_sniff(l->head, (size_t)headlen);
	if (mime_policy_kind_banned(sc, kind)) {
		char *shown = mime_xasprintf("%s: %s", l->name, nm.clean);
		mime_hit_set(hit, shown, "%s content", mime_kind_description(kind));
		free(shown);
		r = 1;
		goto out;
	}
	if (kind == MIME_KIND_GZIP) {
		char *inner = gzip_fname(l->head, (size_t)headlen);
		if (inner) {
			char *where = mime_xasprintf("%s: %s", l->name, nm.clean);
			r = mime_policy_name(sc, inner, strlen(inner), where, hit, NULL);
			free(where);
			free(inner);
			if (r)
				goto out;
		}
	}
	if (sc->conf->scan_archives && headlen > 0 &&
	    (mime_kind_is_archive(kind) || mime_ext_is_archive(nm.ext))) {
		if (l->depth + 1 > sc->conf->max_depth) {
			mime_set_limit(sc, "archives nested deeper than %d levels",
			    sc->conf->max_depth);
			r = -1;
			goto out;
		}
		r = read_nested(l, nm.clean, (size_t)headlen);
	} else if (skip_costs(l->a)) {
		/* skipping decompresses: it counts like reading */
		if (archive_entry_size_is_set(e) &&
		    archive_entry_size(e) > headlen) {
			if (!mime_count_bytes(sc, (size_t)(archive_entry_size(e) - headlen)))
				r = -1;
		} else if (!archive_entry_size_is_set(e)) {
			long got;
			while ((got = read_some(l->a, l->head, MIME_SNIFF_HEAD)) > 0)
				if (!mime_count_bytes(sc, (size_t)got)) {
					r = -1;
					break;
				}
			if (got < 0 && r == 0)
				r = -2;
		}
	}
out:
	free(name);
	mime_name_free(&nm);
	return r;
}

int
mime_archive_scan(struct mime_scan *sc, const unsigned char *data, size_t len,
    const char *name, int depth, struct mime_hit *hit)
{
	struct level l;
	struct archive_entry *e;
	int r = 0, rr;

	memset(&l, 0, sizeof(l));
	l.sc = sc;
	l.name = name;
	l.depth = depth;
	if ((l.a = reader(data, len)) == NULL) {
		mime_hit_set(hit, name, "unreadable archive");
		return sc->conf->corrupt == MIME_POL_BAN;
	}
	l.head = mime_xmalloc(MIME_SNIFF_HEAD);
	while ((rr = archive_read_next_header(l.a, &e)) == ARCHIVE_OK ||
	    rr == ARCHIVE_WARN) {
		if ((archive_format(l.a) & ARCHIVE_FORMAT_BASE_MASK) ==
		    ARCHIVE_FORMAT_RAW && archive_filter_count(l.a) <= 1) {
			/* nothing but the raw reader took it: not an archive */
			rr = ARCHIVE_FATAL;
			break;
		}
		r = member(&l, e, hit);
		if (r != 0 && r != -2)
			break;
		if (r == -2) {
			rr = ARCHIVE_FATAL;
			r = 0;
			break;
		}
	}
	if (r == 0 && rr != ARCHIVE_EOF) {
		if (encryption_error(l.a))
			r = policy_hit(&l, sc->conf->encrypted, hit, "encrypted archive");
		else
			r = policy_hit(&l, sc->conf->corrupt, hit,
			    "corrupt or unreadable archive");
	}
	archive_read_free(l.a);
	free(l.head);
	for (size_t i = 0; i < l.nnest; i++) {
		if (r == 0)
			r = mime_archive_scan(sc, l.nest[i].data, l.nest[i].len,
			    l.nest[i].name, depth + 1, hit);
		free(l.nest[i].data);
		free(l.nest[i].name);
	}
	free(l.nest);
	return r;
}
