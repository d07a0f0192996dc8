/*
 * NAME
 *	mime.h - the mime plugin's modules and what they share
 * SYNOPSIS
 *	#include "mime.h"
 * DESCRIPTION
 *	The plugin is split by job: options.c reads the configuration
 *	into struct mime_conf; names.c normalises a file name; sniff.c
 *	recognises executables and archives by their first bytes;
 *	decode.c undoes a transfer encoding within a size budget;
 *	fields.c takes the file names out of Content-* fields;
 *	policy.c decides whether a name or a content kind is banned for
 *	this message; archive.c lists archive members (libarchive);
 *	leaf.c examines one MIME leaf; walk.c walks the parts the core's
 *	MIME reader lists (struct mime_scan.reader) and finds the byte
 *	range of each part to replace, once per reading
 *	of a part with several Content-Type fields (readings.c); salvage.c
 *	looks at what a malformed message hides from the parser; rewrite.c
 *	builds the new body; save.c writes the original message to the
 *	save directory; plugin.c is the glue with the modmilter core.
 *
 *	All of it is reentrant: per-message state lives in struct
 *	mime_scan on the caller's stack, struct mime_conf is read-only
 *	after init.
 */
#ifndef MM_MIME_H
#define MM_MIME_H

#include <stddef.h>
#include <modmilter/plugin.h>

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

/*
 * Memory and growable buffers are the helper library's, under the
 * plugin's names. Running out of memory aborts, as GLib (which GMime
 * uses) does: there is no useful verdict to give without memory (a
 * struct mime_buf initialised with zeros aborts too).
 */
#define mime_xmalloc		mm_xmalloc
#define mime_xrealloc		mm_xrealloc
#define mime_xstrdup		mm_xstrdup
#define mime_xstrndup		mm_xstrndup
#define mime_xasprintf		mm_xasprintf
#define mime_buf		mm_buf
#define mime_buf_add		mm_buf_add
#define mime_buf_adds		mm_buf_adds
#define mime_buf_printf		mm_buf_printf
#define mime_buf_free		mm_buf_free

/* What the first bytes of a part say it is. */
enum mime_kind {
	MIME_KIND_NONE = 0,
	/* executables and scripts */
	MIME_KIND_EXE,		/* MZ / PE: Windows and DOS */
	MIME_KIND_ELF,
	MIME_KIND_MACHO,
	MIME_KIND_SCRIPT,	/* #! interpreter line */
	MIME_KIND_LNK,		/* Windows shell link */
	MIME_KIND_CHM,		/* compiled HTML help */
	/* containers libarchive can open */
	MIME_KIND_ZIP,
	MIME_KIND_7Z,
	MIME_KIND_RAR,
	MIME_KIND_GZIP,
	MIME_KIND_BZIP2,
	MIME_KIND_XZ,
	MIME_KIND_ZSTD,
	MIME_KIND_TAR,
	MIME_KIND_ISO,
	MIME_KIND_CAB,
	MIME_KIND_COUNT
};

/* Bytes of decoded content the sniffer looks at (an ISO 9660 volume
   descriptor sits at 32769). */
#define MIME_SNIFF_HEAD	(36 * 1024)

enum mime_action { MIME_ACT_REPLACE, MIME_ACT_REJECT, MIME_ACT_QUARANTINE,
	MIME_ACT_TAG };
enum mime_policy { MIME_POL_BAN, MIME_POL_ALLOW };
enum mime_malformed { MIME_MAL_TAG, MIME_MAL_ACCEPT, MIME_MAL_REJECT,
	MIME_MAL_TEMPFAIL };
enum mime_onlimit { MIME_LIM_TEMPFAIL, MIME_LIM_REJECT, MIME_LIM_BAN };

struct mime_exception {
	char *domain;		/* lower case; a leading '.' matches subdomains */
	char **items;		/* extensions or content kinds, lower case */
	size_t nitems;
};

struct mime_conf {
	char **banned_ext;	/* lower case, no dot */
	size_t nbanned_ext;
	unsigned banned_kinds;	/* 1u << enum mime_kind */
	enum mime_action action;
	int scan_archives;
	int max_depth;		/* message/rfc822 and archive nesting */
	long max_parts;		/* MIME parts plus archive members */
	size_t max_size;	/* bytes decoded or decompressed per message */
	enum mime_policy encrypted, corrupt, partial;
	enum mime_malformed malformed;
	enum mime_onlimit on_limit;
	char *save_dir;
	struct mime_exception *exc;
	size_t nexc;
};

/* One header as the MTA gave it: value without the space after the
   colon, folded lines joined by "\n". */
struct mime_header {
	const char *name, *value;
};

/* A growable list of strings. */
struct mime_strv {
	char **v;
	size_t n;
};

/* One examined message. */
struct mime_scan {
	const struct mime_conf *conf;
	struct mime_strv allow;	/* extensions and kinds exempted for it */
	long parts;		/* parts and members seen */
	size_t decoded;		/* bytes decoded or decompressed */
	char *limit;		/* the first limit reached, or NULL */
	char *malformed;	/* the first malformation seen, or NULL */
	struct mime_strv names;	/* every file name seen, normalised */
	void (*progress)(void *);	/* called now and then on long scans */
	void *progress_arg;
	size_t progress_mark;
	/* the core's MIME reader (its parts* members), and the message
	   as the core parsed it (NULL: parsed through the reader) */
	const struct mm_api *reader;
	mm_parts *(*message_parts)(void *arg);
	void *parts_arg;
};

/* Why one part is banned. */
struct mime_hit {
	char *name;		/* what to show: "a.zip: evil.exe" */
	char *reason;		/* "banned extension .exe" */
};

/* A part of the body to replace by a notice. */
struct mime_unit {
	size_t start, end;	/* byte range in the body */
	int whole;		/* the message itself: replace the whole body */
	struct mime_hit hit;
};

struct mime_result {
	struct mime_unit *u;
	size_t n;
};

/* names.c */
#define MIME_NAME_BIDI		0x01u	/* had bidirectional controls */
#define MIME_NAME_INVISIBLE	0x02u	/* had zero-width or control characters */
#define MIME_NAME_CLSID		0x04u	/* ends in .{CLSID} */
#define MIME_NAME_PADDED	0x08u	/* "a.pdf      .exe" */
#define MIME_NAME_TRIMMED	0x10u	/* trailing dots or spaces removed */

struct mime_name {
	char *clean;		/* normalised base name, UTF-8 */
	char ext[32];		/* last extension, case-folded, "" if none */
	unsigned flags;
};
int mime_name_clean(const char *raw, size_t len, struct mime_name *n);
void mime_name_free(struct mime_name *n);

/* sniff.c */
enum mime_kind mime_sniff(const unsigned char *p, size_t len);
const char *mime_kind_name(enum mime_kind k);
enum mime_kind mime_kind_by_name(const char *name);
int mime_kind_is_archive(enum mime_kind k);
int mime_ext_is_archive(const char *ext);
const char *mime_kind_description(enum mime_kind k);

/* decode.c: content-transfer-encoding values, from the header text */
enum mime_cte { MIME_CTE_IDENTITY, MIME_CTE_BASE64, MIME_CTE_QP,
	MIME_CTE_UUENCODE };
enum mime_cte mime_cte_parse(const char *value);
/* Decode at most max bytes; *more is set when the content has more,
   *bad when it holds characters its encoding does not allow. Returns
   a malloc'ed buffer (NUL-terminated, not counted in *outlen). */
unsigned char *mime_decode(enum mime_cte cte, const char *in, size_t inlen,
    size_t max, size_t *outlen, int *more, int *bad);

/* policy.c */
int mime_policy_allowed(const struct mime_scan *sc, const char *item);
int mime_policy_ext_banned(const struct mime_scan *sc, const char *ext);
int mime_policy_kind_banned(const struct mime_scan *sc, enum mime_kind k);
/* Fill sc->allow from the exceptions matching the sender's domain, or
   every recipient's domain. */
void mime_policy_exceptions(struct mime_scan *sc, const char *sender,
    const char *const *rcpts, size_t nrcpts);
/* Check one name; 1 with *hit filled when banned. where: "" or the
   archive's name, shown before the name. */
int mime_policy_name(struct mime_scan *sc, const char *raw, size_t len,
    const char *where, struct mime_hit *hit, struct mime_name *out);
void mime_set_limit(struct mime_scan *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mime_set_malformed(struct mime_scan *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Count one more part or member; 0 when over max_parts. */
int mime_count_part(struct mime_scan *sc);
/* Account for n more decoded bytes; 0 when over max_size. */
int mime_count_bytes(struct mime_scan *sc, size_t n);

/* archive.c: 1 banned (*hit filled), 0 clean, -1 limit reached */
int mime_archive_scan(struct mime_scan *sc, const unsigned char *data,
    size_t len, const char *name, int depth, struct mime_hit *hit);

/* leaf.c: one leaf part, its names already known */
struct mime_leaf {
	const char *ctype;	/* "application/octet-stream" */
	const char *const *types;	/* every Content-Type field's media
					   type, lower case (may be none) */
	size_t ntypes;
	const char *const *names;	/* raw (decoded header) file names */
	size_t nnames;
	enum mime_cte cte;
	const char *data;	/* encoded content */
	size_t len;
	int depth;
};
int mime_leaf_scan(struct mime_scan *sc, const struct mime_leaf *leaf,
    struct mime_hit *hit);

/* walk.c: examine a whole message given as the header list and the
   body; units to replace go to *res. 0, or -1 when a limit was reached
   (sc->limit says which). */
int mime_walk(struct mime_scan *sc, const struct mime_header *h, size_t nh,
    const char *body, size_t bodylen, struct mime_result *res);
/* The part walk for an already decoded embedded message: 1 banned,
   0 clean, -1 limit. */
int mime_walk_embedded(struct mime_scan *sc, const char *msg, size_t len,
    int depth, struct mime_hit *hit);
void mime_result_free(struct mime_result *res);
/* readings.c: a part with several Content-Type fields is read once
   per field, each time with the others renamed (same length) */
#define MIME_MASKED_CT		"Xontent-Type"
#define MIME_MAX_READINGS	8	/* more fields in one part: a limit */
struct mime_readings {
	struct { size_t off, idx, count; } *f;	/* field, its place and
						   how many in its block */
	size_t n;
};
size_t mime_readings_find(const char *text, size_t len,
    struct mime_readings *rd);
char *mime_reading(const char *text, size_t len,
    const struct mime_readings *rd, size_t k);
void mime_readings_free(struct mime_readings *rd);
/* salvage.c: a malformed message's names outside the parsed parts */
void mime_salvage(struct mime_scan *sc, const char *text, size_t len,
    struct mime_result *res);
void mime_gmime_init(void);

/* rewrite.c */
/* The notice that stands for removed parts: a complete MIME part
   (headers, blank line, text) when part is set, else only the text,
   with *qp set when it is quoted-printable. */
void mime_notice(struct mime_buf *b, const struct mime_hit *hits, size_t nhits,
    const char *saved_id, int part, int *qp);
/* The new body: body with each unit's range replaced by a notice.
   Returns 1 when the body is the notice alone, quoted-printable. */
int mime_rewrite(const char *body, size_t len, const struct mime_result *res,
    const char *saved_id, struct mime_buf *out);
/* A printable ASCII copy of s for replies and logs, at most max bytes. */
char *mime_ascii(const char *s, size_t max);

/* save.c */
/* Append the message as it came from the MTA: "Name: value" lines
   with CRLF, a blank line, the body. */
void mime_message_text(struct mime_buf *b, const struct mime_header *h,
    size_t nh, const char *body, size_t bodylen);
/* Write it to dir under a new id (temp name, fsync, rename, fsync of
   the directory). 0 and *id (malloc'ed), or -1 and *err. */
int mime_save(const char *dir, const char *qid, const struct mime_header *h,
    size_t nh, const char *body, size_t bodylen, char **id, char **err);

/* util */
void mime_strv_add(struct mime_strv *v, const char *s);
void mime_strv_free(struct mime_strv *v);
void mime_hit_set(struct mime_hit *hit, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mime_hit_free(struct mime_hit *hit);
void mime_scan_free(struct mime_scan *sc);

#endif
