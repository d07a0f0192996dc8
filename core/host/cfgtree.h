/*
 * NAME
 *	cfgtree - a YAML file as a tree of nodes that remember line and column
 * SYNOPSIS
 *	#include "cfgtree.h"
 *
 *	struct cfgtree *t = cfgtree_load(path);
 *	const mm_opt *v = cfg_get(t->root, "listen");
 *	cfg_error(v, "bad socket '%s'", cfg_scalar(v));
 *	cfg_check_unknown(t->root);
 *	cfgtree_print_errors(t, stderr);
 *	cfgtree_free(t);
 * DESCRIPTION
 *	The same node type (mm_opt) serves the core's own keys and each
 *	plugin's options, so errors everywhere read "FILE:LINE:COL: message".
 *	Looking a key up marks it known; cfg_check_unknown() then reports
 *	every key of a subtree nobody asked for.
 * DIAGNOSTICS
 *	cfgtree_load() never returns NULL for a readable file with a syntax
 *	error: the tree is empty and holds the parser's error.
 */
#ifndef MM_CFGTREE_H
#define MM_CFGTREE_H

#include <stdio.h>
#include <modmilter/plugin.h>

struct cfgtree;

struct mm_opt {
	mm_opt_type type;
	char *scalar;
	int quoted;
	int line, col;			/* 1-based */
	size_t n;			/* items or pairs */
	struct mm_opt **items;		/* list items, or map values */
	struct mm_opt **keys;		/* map keys (scalar nodes) */
	unsigned char *used;		/* map: key looked up */
	struct cfgtree *tree;
};

struct cfgtree {
	char *file;
	struct mm_opt *root;		/* NULL for an empty document */
	char **errors;
	size_t nerrors;
	int too_deep;			/* "nesting too deep" reported */
};

struct cfgtree *cfgtree_load(const char *path);
struct cfgtree *cfgtree_parse(const char *name, const char *text, size_t len);
void cfgtree_free(struct cfgtree *t);
void cfgtree_print_errors(const struct cfgtree *t, FILE *fp);
void cfgtree_error_at(struct cfgtree *t, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void cfg_error(const mm_opt *node, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cfg_verror(const mm_opt *node, const char *fmt, va_list ap);

mm_opt_type cfg_type(const mm_opt *node);
const mm_opt *cfg_get(const mm_opt *map, const char *key);
size_t cfg_len(const mm_opt *node);
const mm_opt *cfg_at(const mm_opt *list, size_t i);
const char *cfg_key_at(const mm_opt *map, size_t i, const mm_opt **value);
const char *cfg_scalar(const mm_opt *node);
int cfg_is_null(const mm_opt *node);
void cfg_check_unknown(const mm_opt *node, const char *what);
void cfg_mark_used(const mm_opt *node);	/* e.g. options of a plugin that failed to load */

int cfg_str(const mm_opt *map, const char *key, const char *def, const char **out);
int cfg_int(const mm_opt *map, const char *key, long long min, long long max,
    long long def, long long *out);
int cfg_bool(const mm_opt *map, const char *key, int def, int *out);
int cfg_duration(const mm_opt *map, const char *key, double def, double *out);
/* A scalar or a list of scalars; returns count or -1. */
int cfg_strlist(const mm_opt *map, const char *key, const char ***out);
int cfg_parse_duration(const char *s, double *out);

#endif
