/*
 * NAME
 *	metrics - the daemon's counters and histograms, for Prometheus
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	metrics_persist();			(the daemon: survive reloads)
 *	struct istats *st = metrics_instance("spf", "spf");
 *	metrics_message("inbound", "reject");
 *	metrics_format(&buf);			(text exposition format 0.0.4)
 *	metrics_serve("127.0.0.1:9890", milter_active, err, sizeof err);
 * DESCRIPTION
 *	Counters live in this module, not in a configuration generation:
 *	an instance's statistics are found again by instance name and
 *	module at every reload, so a scrape never sees them go back to
 *	zero (once metrics_persist() was called; before it, as in tests
 *	and tools, each instance gets its own). Hook latencies are kept as
 *	histograms per instance and stage. Labelled counters (messages by
 *	chain and verdict, ...) are found by their label values under a
 *	lock and bumped atomically.
 *
 *	metrics_serve() answers GET /metrics with libmicrohttpd on its own
 *	thread; any other path is 404.
 * DIAGNOSTICS
 *	metrics_serve() returns -1 with a message naming the address.
 */
#ifndef MM_METRICS_H
#define MM_METRICS_H

#include <modmilter/plugin.h>

#include "util.h"

/* Hook latency buckets, upper bounds in seconds (plus +Inf). */
#define MM_HIST_N	14
extern const double metrics_hist_bounds[MM_HIST_N];

struct istats {
	unsigned long long calls[MM_STAGE_COUNT];
	unsigned long long verdicts[MM_STAGE_COUNT][MM_ERROR + 1];
	unsigned long long nsec[MM_STAGE_COUNT];
	unsigned long long hist[MM_STAGE_COUNT][MM_HIST_N + 1];	/* last: +Inf */
	unsigned long long timeouts, errors;
};

void metrics_persist(void);
struct istats *metrics_instance(const char *instance, const char *module);
void metrics_instance_release(struct istats *st);	/* not persistent: freed */
void metrics_observe_hook(struct istats *st, mm_stage stage, double seconds);

void metrics_message(const char *chain, const char *verdict);
void metrics_connection(const char *chain, const char *outcome);
void metrics_recipient(const char *chain, const char *verdict);
void metrics_reload(int ok);
void metrics_store(const char *backend, const char *result);

/* Plugins' own metrics (the API table's metric_*): modmilter_<module>_<name>. */
struct mm_metric *metrics_plugin(const char *module, const char *instance,
    const char *name, const char *help, const char *label, const double *bounds,
    size_t nbounds, char *err, size_t errlen);
void metrics_plugin_add(struct mm_metric *m, const char *label_value, double v);
void metrics_plugin_observe(struct mm_metric *m, const char *label_value, double v);

void metrics_plugin_format(struct mm_buf *b);
void metrics_format(struct mm_buf *b);
/* active: how many milter connections are open now (the MTA side's
   count, handed down by the daemon) */
int metrics_serve(const char *listen, unsigned (*active)(void), char *err,
    size_t errlen);

#endif
