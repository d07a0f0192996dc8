/*
 * NAME
 *	metrics - the daemon's counters and histograms, for Prometheus
 * DESCRIPTION
 *	See metrics.h. Label values come from the configuration (chain and
 *	instance names) or from fixed vocabularies (verdicts), never from
 *	mail, so the number of series stays bounded.
 */
#include "config.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "names.h"

const double metrics_hist_bounds[MM_HIST_N] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.5, 2.5, 10,
};

struct child {
	struct child *next;
	char *lv[2];
	unsigned long long v;
};

struct family {
	const char *name, *help;
	const char *lnames[2];
	struct child *children;
};

static struct family f_messages = { "modmilter_messages_total",
	"Messages by chain and final verdict as told to the MTA",
	{ "chain", "verdict" }, NULL };
static struct family f_connections = { "modmilter_connections_total",
	"Milter connections by chain and outcome", { "chain", "outcome" }, NULL };
static struct family f_recipients = { "modmilter_recipients_refused_total",
	"Recipients refused at RCPT, by chain and verdict", { "chain", "verdict" }, NULL };
static struct family f_reloads = { "modmilter_reloads_total",
	"Configuration reloads by result", { "result", NULL }, NULL };
static struct family f_store = { "modmilter_store_batches_total",
	"Store batches by backend and result", { "backend", "result" }, NULL };

struct inst_entry {
	struct inst_entry *next;
	char *name, *module;
	struct istats st;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inst_entry *instances;
static int persistent;
static unsigned (*active_fn)(void);	/* open milter connections (metrics_serve) */

void
metrics_persist(void)
{
	persistent = 1;
}

struct istats *
metrics_instance(const char *name, const char *module)
{
	struct inst_entry *e;

	pthread_mutex_lock(&lock);
	if (persistent)
		for (e = instances; e; e = e->next)
			if (strcmp(e->name, name) == 0 && strcmp(e->module, module) == 0) {
				pthread_mutex_unlock(&lock);
				return &e->st;
			}
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	e->module = xstrdup(module);
	e->next = instances;
	instances = e;
	pthread_mutex_unlock(&lock);
	return &e->st;
}

void
metrics_instance_release(struct istats *st)
{
	struct inst_entry **pp, *e;

	if (st == NULL || persistent)
		return;
	pthread_mutex_lock(&lock);
	for (pp = &instances; (e = *pp) != NULL; pp = &e->next)
		if (&e->st == st) {
			*pp = e->next;
			free(e->name);
			free(e->module);
			free(e);
			break;
		}
	pthread_mutex_unlock(&lock);
}

void
metrics_observe_hook(struct istats *st, mm_stage stage, double secs)
{
	int i = 0;

	while (i < MM_HIST_N && secs > metrics_hist_bounds[i])
		i++;
	__atomic_fetch_add(&st->hist[stage][i], 1, __ATOMIC_RELAXED);
}

static void
fam_add(struct family *f, const char *a, const char *b)
{
	struct child *c;

	a = a ? a : "";
	b = b ? b : "";
	pthread_mutex_lock(&lock);
	for (c = f->children; c; c = c->next)
		if (strcmp(c->lv[0], a) == 0 && strcmp(c->lv[1], b) == 0)
			break;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->lv[0] = xstrdup(a);
		c->lv[1] = xstrdup(b);
		c->next = f->children;
		f->children = c;
	}
	pthread_mutex_unlock(&lock);
	__atomic_fetch_add(&c->v, 1, __ATOMIC_RELAXED);
}

void
metrics_message(const char *chain, const char *verdict)
{
	fam_add(&f_messages, chain ? chain : "none", verdict);
}

void
metrics_connection(const char *chain, const char *outcome)
{
	fam_add(&f_connections, chain ? chain : "none", outcome);
}

void
metrics_recipient(const char *chain, const char *verdict)
{
	fam_add(&f_recipients, chain ? chain : "none", verdict);
}

void
metrics_reload(int ok)
{
	fam_add(&f_reloads, ok ? "ok" : "failed", NULL);
}

void
metrics_store(const char *backend, const char *result)
{
	fam_add(&f_store, backend, result);
}

/* --- exposition --- */

static void
label_value(struct mm_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_add(b, "\\", 1);
		if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_add(b, s, 1);
	}
}

static void
head(struct mm_buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
fam_format(struct mm_buf *b, struct family *f)
{
	head(b, f->name, "counter", f->help);
	for (struct child *c = f->children; c; c = c->next) {
		buf_printf(b, "%s{%s=\"", f->name, f->lnames[0]);
		label_value(b, c->lv[0]);
		if (f->lnames[1]) {
			buf_printf(b, "\",%s=\"", f->lnames[1]);
			label_value(b, c->lv[1]);
		}
		buf_printf(b, "\"} %llu\n", __atomic_load_n(&c->v, __ATOMIC_RELAXED));
	}
}

static void
inst_labels(struct mm_buf *b, const struct inst_entry *e)
{
	buf_adds(b, "instance=\"");
	label_value(b, e->name);
	buf_adds(b, "\",module=\"");
	label_value(b, e->module);
	buf_adds(b, "\"");
}

/* One counter per instance, the istats member at off. */
static void
inst_counter(struct mm_buf *b, const char *name, const char *help, size_t off)
{
	head(b, name, "counter", help);
	for (struct inst_entry *e = instances; e; e = e->next) {
		const unsigned long long *v =
		    (const unsigned long long *)((const char *)&e->st + off);
		buf_printf(b, "%s{", name);
		inst_labels(b, e);
		buf_printf(b, "} %llu\n", __atomic_load_n(v, __ATOMIC_RELAXED));
	}
}

static void
inst_format(struct mm_buf *b)
{
	struct inst_entry *e;

	head(b, "modmilter_plugin_verdicts_total", "counter",
	    "Verdicts of each plugin instance by stage (after on_error and monitor mode)");
	for (e = instances; e; e = e->next)
		for (int st = 0; st < MM_STAGE_COUNT; st++)
			for (int v = 0; v <= MM_ERROR; v++) {
				unsigned long long n = __atomic_load_n(&e->st.verdicts[st][v],
				    __ATOMIC_RELAXED);
				if (n == 0)
					continue;
				buf_adds(b, "modmilter_plugin_verdicts_total{");
				inst_labels(b, e);
				buf_printf(b, ",stage=\"%s\",verdict=\"%s\"} %llu\n",
				    stage_name((mm_stage)st), verdict_name((mm_verdict)v), n);
			}
	inst_counter(b, "modmilter_plugin_errors_total",
	    "Hook calls that failed or returned an invalid verdict",
	    offsetof(struct istats, errors));
	inst_counter(b, "modmilter_plugin_timeouts_total",
	    "Hook calls that ran past the instance's timeout",
	    offsetof(struct istats, timeouts));
	head(b, "modmilter_hook_duration_seconds", "histogram",
	    "Time spent in each plugin hook, by instance and stage");
	for (e = instances; e; e = e->next)
		for (int st = 0; st < MM_STAGE_COUNT; st++) {
			unsigned long long calls = __atomic_load_n(&e->st.calls[st], __ATOMIC_RELAXED);
			unsigned long long cum = 0;
			if (calls == 0)
				continue;
			for (int i = 0; i <= MM_HIST_N; i++) {
				cum += __atomic_load_n(&e->st.hist[st][i], __ATOMIC_RELAXED);
				buf_adds(b, "modmilter_hook_duration_seconds_bucket{");
				inst_labels(b, e);
				if (i < MM_HIST_N)
					buf_printf(b, ",stage=\"%s\",le=\"%g\"} %llu\n",
					    stage_name((mm_stage)st), metrics_hist_bounds[i], cum);
				else
					buf_printf(b, ",stage=\"%s\",le=\"+Inf\"} %llu\n",
					    stage_name((mm_stage)st), cum);
			}
			buf_adds(b, "modmilter_hook_duration_seconds_sum{");
			inst_labels(b, e);
			buf_printf(b, ",stage=\"%s\"} %.9f\n", stage_name((mm_stage)st),
			    (double)__atomic_load_n(&e->st.nsec[st], __ATOMIC_RELAXED) / 1e9);
			buf_adds(b, "modmilter_hook_duration_seconds_count{");
			inst_labels(b, e);
			buf_printf(b, ",stage=\"%s\"} %llu\n", stage_name((mm_stage)st), cum);
		}
}

void
metrics_format(struct mm_buf *b)
{
	pthread_mutex_lock(&lock);
	head(b, "modmilter_build_info", "gauge", "Version of modmilterd and of its plugin SDK");
	buf_printf(b, "modmilter_build_info{version=\"%s\",sdk=\"%d.%d\"} 1\n",
	    PACKAGE_VERSION, MM_SDK_MAJOR, MM_SDK_MINOR);
	head(b, "modmilter_connections_active", "gauge", "Milter connections open now");
	buf_printf(b, "modmilter_connections_active %u\n", active_fn ? active_fn() : 0);
	fam_format(b, &f_messages);
	fam_format(b, &f_connections);
	fam_format(b, &f_recipients);
	fam_format(b, &f_reloads);
	fam_format(b, &f_store);
	inst_format(b);
	pthread_mutex_unlock(&lock);
	metrics_plugin_format(b);
}

/* --- HTTP --- */

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct MHD_Response *r;
	struct mm_buf b = { 0 };
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;

	(void)cls; (void)version; (void)upload; (void)upload_len; (void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		buf_adds(&b, "only GET\n");
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		buf_adds(&b, "see /metrics\n");
		code = MHD_HTTP_NOT_FOUND;
	} else
		metrics_format(&b);
	r = MHD_create_response_from_buffer(b.len, b.data ? b.data : (char *)"",
	    b.data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", code == MHD_HTTP_OK ?
	    "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

int
metrics_serve(const char *listen, unsigned (*active)(void), char *err,
    size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char *host = xstrdup(listen), *port;
	struct MHD_Daemon *d;
	int r;

	/* HOST:PORT or [V6]:PORT */
	port = strrchr(host, ':');
	if (port == NULL || port == host || port[1] == 0) {
		snprintf(err, errlen, "metrics listen %s: not HOST:PORT", listen);
		free(host);
		return -1;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "metrics listen %s: %s", listen, gai_strerror(r));
		free(host);
		return -1;
	}
	active_fn = active;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    answer, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	freeaddrinfo(ai);
	free(host);
	if (d == NULL) {
		snprintf(err, errlen, "metrics listen %s: cannot listen (%s)", listen,
		    strerror(errno));
		return -1;
	}
	return 0;
}
