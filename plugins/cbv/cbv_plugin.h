/*
 * NAME
 *	cbv_plugin.h - the cbv plugin instance (options.c, prober.c, cbv.c)
 * DESCRIPTION
 *	One struct cbv per configured instance: its options, read once by
 *	cbv_options(), and the state its connections share (the store
 *	handle, the rate limiter, the probes in flight, the refresh worker).
 */
#ifndef CBV_PLUGIN_H
#define CBV_PLUGIN_H

#include <pthread.h>
#include <modmilter/plugin.h>

#include "cbv.h"

enum cbv_stage { CBV_STAGE_RCPT, CBV_STAGE_EOM };

struct cbv_tmap {
	char *result;			/* spf.result value */
	struct cbv_template *t;
};

struct inflight {
	char *key;
	struct inflight *next;
};

struct refresh {
	char *key, *addr;
	struct refresh *next;
};

struct cbv {
	const struct mm_api *api;
	mm_ctx *ictx;
	mm_metric *m_cache, *m_probes, *m_probe_secs;	/* metrics */

	/* options */
	int always;			/* verify: always */
	char **domains, **skip_domains, **local_domains;
	enum cbv_stage stage;
	int dsn;			/* action: dsn */
	struct cbv_template *deftpl;	/* template: */
	struct cbv_tmap *tmap;		/* templates: { result: name } */
	size_t ntmap;
	char *helo_name, *dsn_from, *probe_from, *db;
	char **own_names;		/* helo_name and own_names, NULL-ended */
	struct cbv_own *own;
	struct probe_cfg pc;
	struct cbv_ttl ttl;
	int temp_accept;		/* on_tempfail: accept */
	int dsn_any_sender;		/* dsn_senders: any */
	struct dsn_caps caps;		/* dsn_limit */
	size_t headers_max;		/* dsn_headers_max */
	double progress_interval;

	/* shared state */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a probe in flight finished */
	mm_store *st;
	struct cbv_kv kv;
	struct cbv_rl *rl;
	struct inflight *inflight;
	struct refresh *queue;
	size_t queued;
	pthread_cond_t work;		/* the worker has something to do */
	pthread_t worker;
	int have_worker, stop;
};

int cbv_options(struct cbv *, const struct mm_api *, const mm_opt *, char **err);
void cbv_options_free(struct cbv *);
int cbv_domain_in(const struct mm_api *api, char *const *list,
    const char *domain);

/* prober.c */
struct probe_result;
struct cbv_entry;

struct progress_arg {		/* for cbv_progress_cb */
	const struct mm_api *api;
	mm_ctx *ctx;
};

void cbv_kv_init(struct cbv *);
const struct cbv_kv *cbv_store(struct cbv *, mm_ctx *);
int cbv_inflight_claim(struct cbv *, const char *key);
void cbv_inflight_release(struct cbv *, const char *key);
void cbv_probe_and_cache(struct cbv *, mm_ctx *, const char *key,
    const char *addr, const char *data, size_t len, struct probe_result *);
void cbv_schedule_refresh(struct cbv *, mm_ctx *, const struct cbv_kv *,
    const char *key, const char *addr, struct cbv_entry *);
void *cbv_worker(void *);
const char *cbv_domain_of(const char *addr);
void cbv_progress_cb(void *arg);

#endif
