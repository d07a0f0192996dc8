/*
 * NAME
 *	plugin.h - the policy plugin's instance, connection and message state
 * SYNOPSIS
 *	#include "plugin.h"
 * DESCRIPTION
 *	Shared by the hooks (plugin.c) and the three strikes (strikes.c).
 *	policy_refuse() refuses with 550 5.7.1, logs the reason and counts
 *	it; policy_count() counts and shows a result; policy_conn() is the
 *	connection's state (the PTR classified at first use).
 */
#ifndef MM_POLICY_PLUGIN_H
#define MM_POLICY_PLUGIN_H

#include <pthread.h>

#include "policy.h"

struct policy {
	const struct mm_api *api;
	mm_ctx *ictx;
	struct policy_conf c;
	pthread_mutex_t lock;
	mm_store *st;
	mm_metric *checks;
};

struct conn {
	int noptr, dynamic;
	int ptr_good, helo_valid;	/* -1: not known yet */
	char helo_for[256];		/* helo_valid is for this HELO */
};

struct msg {
	int whitelisted, exempt, wl_sender, autoreply, has_sender, flagged;
	char *from_domain;		/* of the From: header */
	char *subject;			/* folded */
	char *sender;			/* MAIL FROM, normalised, lower case */
};

mm_verdict policy_refuse(struct policy *p, mm_ctx *ctx, const char *what,
    const char *text, const char *detail);
void policy_count(struct policy *p, mm_ctx *ctx, const char *what);
struct conn *policy_conn(struct policy *p, mm_ctx *ctx);
int policy_fact_is(const char *fact, const char *value);
mm_verdict policy_strikes(struct policy *p, mm_ctx *ctx, struct msg *m,
    const char *from);

#endif
