/*
 * NAME
 *	plugin.h - the dspam plugin's instance, shared by its glue files
 * DESCRIPTION
 *	An instance is read-only once init() returns, so every connection
 *	thread may use it without a lock, except for the store handle, set
 *	once under the lock when first needed; the store does its own
 *	locking.
 */
#ifndef DSPAM_PLUGIN_H
#define DSPAM_PLUGIN_H

#include <pthread.h>
#include <modmilter/plugin.h>

#include "dspam.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

struct dspam_group {
	char *name;		/* "group:NAME", the dictionary's name */
	struct mm_strv members;
};

struct dspam_inst {
	const struct mm_api *api;
	mm_ctx *ictx;		/* the instance's context, for store_open */
	mm_metric *classes;	/* messages by X-DSPAM-Result */
	mm_metric *lost;	/* durability: queued: training lost */
	pthread_mutex_t lock;	/* the store's first opening */
	int gc_failed;		/* no writer thread: commit alone */
	char *database;		/* store database of the dictionaries */
	struct classifier c;
	struct tokopts tok;
	char *dictionary;	/* shared / screener dictionary */
	int per_recipient;
	struct dspam_group *groups;
	size_t ngroups;
	size_t max_size;	/* bytes of body; 0: no limit */
	double tag_above, quarantine_above, reject_above, triage_above;
	char *tag_text;
	struct mm_strv spam_addrs, ham_addrs, honeypots, innocent_senders;
	const struct mm_api *optapi;	/* frees what the option table read */
	struct {
		long long purge_hits, max_tokens, queue_max;
		int algorithm, tokenizer, training, durability, headers;
						/* word indexes */
	} opt;
};

extern const struct mm_option dspam_option_table[];

struct dspam_inst *dspam_options(const struct mm_api *api, const mm_opt *o,
    char **err);
void dspam_inst_free(struct dspam_inst *d);
int addrlist_has(const struct mm_api *api, const struct mm_strv *l,
    const char *addr);

/* trust.c: 1 when addr is vouched for (internal client, SMTP AUTH, SPF
   pass for its domain); why says how, or why not */
int sender_trusted(const struct mm_api *api, mm_ctx *ctx, const char *addr,
    char *why, size_t size);

#endif
