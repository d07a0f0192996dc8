/*
 * NAME
 *	msgparts.h - the core's one MIME reader: a message as its parts
 * SYNOPSIS
 *	#include "msgparts.h"
 *
 *	struct mm_parts *p = msgparts_parse(msg, len);	(standalone)
 *	struct mm_parts *p = msgparts_from(fields, nfields, body, blen);
 *	n = msgparts_count(p); part = msgparts_at(p, i);
 *	msgparts_data(p, i, &data, &len); msgparts_text(p, i, &t, &tl);
 *	msgparts_free(p);
 *	msgparts_reader.parts_parse(msg, len);	(as mm_api, without a daemon)
 * DESCRIPTION
 *	msgparts.c reads the message and lists the parts, parttree.c
 *	parses its MIME tree (GMime) into that list, partfields.c reads
 *	their Content-* fields; parttext.c undoes
 *	transfer encodings and converts text to UTF-8. The SDK's
 *	mm_api.parts* members are these functions (api.c adds the per-
 *	message cache). Nothing here depends on a session, so the command
 *	line tools and the fuzz target use the reader as it is.
 */
#ifndef MM_MSGPARTS_H
#define MM_MSGPARTS_H

#include <pthread.h>
#include <stddef.h>
#include <modmilter/plugin.h>

/* A block of memory the parse's strings and arrays live in. */
struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

/* What a leaf's content is made of, once asked for. */
struct part_slot {
	size_t cs, ce;			/* encoded content in text (ce < cs: none) */
	unsigned char *data;		/* decoded; NULL: not yet (or the text's own) */
	size_t dlen;
	int have_data;
	char *utf8;			/* converted; may point into data */
	size_t ulen;
	int have_text;
	int own_data, own_text;
};

struct mm_parts {
	char *text;			/* what was parsed: header, blank line, body */
	size_t len, body_off;
	struct mm_part *p;
	struct part_slot *slot;
	size_t n, cap;
	unsigned problems;
	char *why;
	struct arena_blk *arena;
	pthread_mutex_t lock;		/* the lazy slots */
};

/* One header field as the MTA passes it (core/hdrlist.c). */
struct msgparts_field {
	const char *name, *value;
};

struct mm_parts *msgparts_parse(const unsigned char *msg, size_t len);
struct mm_parts *msgparts_from(const struct msgparts_field *f, size_t nf,
    const unsigned char *body, size_t blen);
void msgparts_free(struct mm_parts *p);
size_t msgparts_count(const struct mm_parts *p);
const struct mm_part *msgparts_at(const struct mm_parts *p, size_t i);
unsigned msgparts_problems(const struct mm_parts *p, const char **why);

/* Shared by msgparts.c, parttree.c and partfields.c. */
struct parts_strv {		/* a growable array of strings */
	const char **v;
	size_t n;
};
void *parts_alloc(struct mm_parts *p, size_t n);
char *parts_strndup(struct mm_parts *p, const char *s, size_t n);
char *parts_strdup(struct mm_parts *p, const char *s);
char *parts_lower(struct mm_parts *p, const char *s);
void parts_strv_add(struct parts_strv *sv, struct mm_parts *p, const char *s);
const char *const *parts_strv_finish(struct parts_strv *sv, struct mm_parts *p,
    size_t *n);
void parts_problem(struct mm_parts *p, unsigned bit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *parts_unfold(struct mm_parts *p, const char *v);
mm_cte parts_cte_parse(const char *v);
mm_cte parts_detect(const char *s, size_t n);
/* the names of a GMimeParamList (void *: no GMime in this header) */
void parts_param_names(void *pl, struct parts_strv *out, struct mm_parts *p);
void parts_read_fields(struct mm_parts *p, struct mm_part *pt, int fast);
/* msgparts.c: a new part at the end of the list (no content yet) */
struct mm_part *parts_new_part(struct mm_parts *p, mm_part_kind kind,
    int parent, int depth);
/* parttree.c: does the root's Content-Type need the MIME parser; the
   list from GMime's tree of p->text */
int parts_needs_parser(const struct mm_part *root);
void parts_parse_gmime(struct mm_parts *p);

/* parttext.c */
int msgparts_data(struct mm_parts *p, size_t i, const unsigned char **data,
    size_t *len);
int msgparts_text(struct mm_parts *p, size_t i, const char **text,
    size_t *len);
int msgparts_raw(struct mm_parts *p, size_t i, const unsigned char **data,
    size_t *len);
char *msgparts_header_decode(const char *value);
/* Decode in (len) from encoding cte into a malloc'ed buffer. */
unsigned char *msgparts_decode(mm_cte cte, const char *in, size_t len,
    size_t *outlen);
/* s (len) in charset cs as valid UTF-8, malloc'ed; NULL when s is
   already valid UTF-8 and needs no change. */
char *msgparts_to_utf8(const char *cs, const char *s, size_t len,
    size_t *outlen);
void msgparts_gmime_init(void);

/* An API table with only the reader's members (parts_parse, parts_free,
   parts_count, part_at, part_data, part_text, part_raw,
   parts_problems, header_decode, free), for the command line tools,
   the tests and the fuzz targets, which run no daemon. */
extern const struct mm_api msgparts_reader;

#endif
