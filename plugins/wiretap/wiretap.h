/*
 * NAME
 *	wiretap.h - what the modules of the wiretap plugin share
 * SYNOPSIS
 *	#include "wiretap.h"
 * DESCRIPTION
 *	The configuration of one instance (struct wt_conf, read-only once
 *	init has returned, so every connection thread may read it), the
 *	plan of one message (which groups and smart aliases match it), and
 *	the entry points of each module:
 *	options.c (options -> wt_conf), addr.c (address keys and matching),
 *	match.c (message -> plan), maildir.c (safe Maildir delivery),
 *	archive.c (the archived copy), act.c (recipients, Cc, audit log),
 *	wiretap.c (descriptor and hooks).
 */
#ifndef WIRETAP_H
#define WIRETAP_H

#include <stddef.h>
#include <modmilter/plugin.h>

/* Directions of a group, and of one match. */
#define WT_OUT		1u	/* the watched address sent it (internal or authenticated) */
#define WT_IN		2u	/* the watched address is a recipient */
#define WT_FORGED	4u	/* a match only: watched sender, but not from our side */

struct wt_group {
	char *name;
	char **watch;		/* address keys: "local@domain" or "@domain" */
	size_t nwatch;
	unsigned direction;	/* WT_OUT | WT_IN */
	char **copy_to;
	size_t ncopy;
	int blind;		/* 0: name the copies in a Cc header */
	int discard;		/* remove the original recipients */
	char *archive;		/* Maildir root, or NULL */
	int archive_continue;	/* a failed archive write does not tempfail */
};

struct wt_alias {
	char *from;		/* address key or "@domain" */
	char *to;		/* address key */
	char **deliver_to;
	size_t ndeliver;
};

struct wt_conf {
	const struct mm_api *api;
	struct wt_group *groups;
	size_t ngroups;
	struct wt_alias *aliases;
	size_t naliases;
	int case_sensitive_local;	/* compare local parts as written */
	char *delimiters;		/* recipient_delimiter: address extensions */
	int file_mode;			/* archived files; directories add x bits */
	char host[128];			/* host part of Maildir file names */
};

/* One thing that matched a message. */
struct wt_hit {
	size_t group;
	unsigned dir;			/* WT_OUT, WT_IN or WT_FORGED */
	char *key;			/* the matched address, as a key */
	const char *addr;		/* the envelope address as given */
};

struct wt_alias_hit {
	size_t alias;
	const char *rcpt;		/* the envelope recipient replaced */
};

struct wt_plan {
	struct wt_hit *hits;
	size_t nhits;
	struct wt_alias_hit *ahits;
	size_t nahits;
};

/* options.c */
extern const struct mm_option wt_option_table[];
int wt_conf_load(const struct mm_api *api, const mm_opt *opts,
    struct wt_conf **out);
void wt_conf_free(struct wt_conf *c);

/* addr.c */
char *wt_addr_key(const struct mm_api *api, const char *addr,
    int case_sensitive_local, const char *delimiters, const char **why);
char *wt_pattern_key(const struct mm_api *api, const char *s,
    int case_sensitive_local, const char *delimiters, const char **why);
int wt_addr_check(const char *s, int allow_domain, const char **why);
int wt_key_match(const char *pattern, const char *key);
int wt_dirname(const char *key, char *buf, size_t len);

/* match.c */
int wt_plan_make(const struct wt_conf *c, const char *from, int our_side,
    const char *const *rcpts, size_t nrcpts, struct wt_plan *p);
int wt_plan_acts(const struct wt_plan *p);
void wt_plan_free(struct wt_plan *p);

/* act.c */
void wt_log_matches(const struct wt_conf *c, mm_ctx *ctx,
    const struct wt_plan *p);
int wt_act(const struct wt_conf *c, mm_ctx *ctx, const struct wt_plan *p);

#endif /* WIRETAP_H */
