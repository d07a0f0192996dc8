/*
 * NAME
 *	testplug - a plugin that does what its options say, badly if asked
 * SYNOPSIS
 *	t1: { module: .../testplug.so, options: {
 *	      fail_init: "message",		# init returns this error
 *	      init_file: /path,			# init creates it (whose uid?)
 *	      metrics: true,			# counts ends of message by client
 *					# class, observes sender lengths
 *	      verdicts: { envfrom: reject, eom: tempfail },	# per stage
 *	      reply: { code: "550", xcode: "5.7.1", text: "..." },
 *	      reject_rcpt: [bad@example.com],	# per-recipient reject
 *	      garbage_at: eom,			# return verdict 42
 *	      sleep_at: eom, sleep: 2s,		# sleep in that hook (or conn_open)
 *	      late_header: { name: X-L, value: v },	# queued after that sleep
 *	      late_fact: { key: k, value: v },	# set after that sleep
 *	      trace: X-Trace-t1,		# at EOM: header listing hooks seen
 *	      set_fact: { key: k, value: v },	# at envfrom
 *	      show_fact: k,			# at EOM: header X-Fact-<k>
 *	      add_header: { name: X-A, value: b },	# at EOM
 *	      insert_header: { name: X-I, value: c },	# at EOM, top
 *	      delete_header: Subject,		# at EOM, first of that name
 *	      add_rcpt: a@x, del_rcpt: b@y, change_from: c@z,
 *	      replace_body: "text", quarantine: "reason",
 *	      auth_result: "test=pass" } }
 * DESCRIPTION
 *	Proves the core's handling of every hook, verdict, action and
 *	failure. After its sleep a hook notes in the trace ("abandoned")
 *	whether the core gave up waiting for it (api->abandoned), then
 *	queues its late header and fact. conn_open and conn_close are
 *	logged, so that tests can count them. Not installed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <modmilter/plugin.h>

static const char *const stages[] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh",
	"body", "eom", "abort", "close", "unknown", "conn_open"
};
#define CONN_OPEN	MM_STAGE_COUNT	/* not an SMTP stage: after them */

struct tp {
	const struct mm_api *api;
	int verdict[MM_STAGE_COUNT + 1];
	int garbage_at, sleep_at;
	double sleep;
	char *code, *xcode, *text;
	char **reject_rcpt;
	size_t nreject;
	char *trace, *fact_key, *fact_value, *show_fact;
	char *add_name, *add_value, *ins_name, *ins_value, *del_header;
	char *add_rcpt, *del_rcpt, *change_from, *replace_body, *quarantine;
	char *auth_result;
	mm_metric *eoms, *sizes;
	char *late_name, *late_value, *late_key, *late_fact;
};

struct trace {
	char seen[512];
};

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
stage_of(const char *s)
{
	for (int i = 0; i <= CONN_OPEN; i++)
		if (strcmp(s, stages[i]) == 0)
			return i;
	return -1;
}

static int
verdict_of(const char *s)
{
	static const char *const v[] = { "continue", "accept", "reject",
		"tempfail", "discard", "skip", "error" };
	for (int i = 0; i < 7; i++)
		if (strcmp(s, v[i]) == 0)
			return i;
	return -1;
}

static int
pair(const struct mm_api *api, const mm_opt *o, const char *key, char **a,
    char **b, const char *ka, const char *kb)
{
	const mm_opt *m = api->opt_get(o, key);
	const char *x, *y;

	if (m == NULL)
		return 0;
	if (api->opt_type(m) != MM_OPT_MAP) {
		api->opt_error(m, "%s must be a map", key);
		return -1;
	}
	if (api->opt_str(m, ka, NULL, &x) < 0 || api->opt_str(m, kb, "", &y) < 0)
		return -1;
	*a = dup_or_null(x);
	*b = dup_or_null(y);
	return 0;
}

static void tp_fini(void *);

static int
tp_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	struct tp *t = calloc(1, sizeof(*t));
	const char *s;
	const mm_opt *v, *r;
	double d;

	(void)ctx;
	t->api = api;
	t->garbage_at = t->sleep_at = -1;
	if (api->opt_str(o, "fail_init", NULL, &s) == 0 && s) {
		*err = strdup(s);
		free(t);
		return -1;
	}
	if (api->opt_str(o, "init_file", NULL, &s) == 0 && s) {
		FILE *fp = fopen(s, "w");
		if (fp == NULL) {
			*err = strdup("init_file: cannot create it");
			free(t);
			return -1;
		}
		fclose(fp);
	}
	{
		int on = 0;
		static const double b[] = { 10, 20, 100 };
		api->opt_bool(o, "metrics", 0, &on);
		if (on) {
			t->eoms = api->metric_counter(ctx, "eom_total",
			    "Ends of message seen, by client class", "class");
			t->sizes = api->metric_histogram(ctx, "sender_bytes",
			    "Lengths of MAIL FROM addresses", NULL, b, 3);
			if (t->eoms == NULL || t->sizes == NULL) {
				*err = strdup("metrics: registration failed");
				free(t);
				return -1;
			}
		}
	}
	if ((v = api->opt_get(o, "verdicts")) != NULL) {
		for (size_t i = 0; i < api->opt_len(v); i++) {
			const mm_opt *val;
			const char *k = api->opt_key_at(v, i, &val);
			int st = stage_of(k), vd = verdict_of(api->opt_scalar(val) ?
			    api->opt_scalar(val) : "");
			if (st < 0 || vd < 0) {
				api->opt_error(val, "bad stage/verdict %s", k);
				tp_fini(t);
				return -1;
			}
			t->verdict[st] = vd;
		}
	}
	if ((r = api->opt_get(o, "reply")) != NULL) {
		const char *c, *x, *tx;
		api->opt_str(r, "code", NULL, &c);
		api->opt_str(r, "xcode", NULL, &x);
		api->opt_str(r, "text", NULL, &tx);
		t->code = dup_or_null(c);
		t->xcode = dup_or_null(x);
		t->text = dup_or_null(tx);
	}
	if ((v = api->opt_get(o, "reject_rcpt")) != NULL) {
		t->nreject = api->opt_len(v);
		t->reject_rcpt = calloc(t->nreject + 1, sizeof(char *));
		for (size_t i = 0; i < t->nreject; i++)
			t->reject_rcpt[i] = strdup(api->opt_scalar(api->opt_at(v, i)));
	}
	if (api->opt_str(o, "garbage_at", NULL, &s) == 0 && s)
		t->garbage_at = stage_of(s);
	if (api->opt_str(o, "sleep_at", NULL, &s) == 0 && s)
		t->sleep_at = stage_of(s);
	api->opt_duration(o, "sleep", 0, &d);
	t->sleep = d;
	api->opt_str(o, "trace", NULL, &s);
	t->trace = dup_or_null(s);
	if (pair(api, o, "set_fact", &t->fact_key, &t->fact_value, "key", "value") < 0 ||
	    pair(api, o, "add_header", &t->add_name, &t->add_value, "name", "value") < 0 ||
	    pair(api, o, "insert_header", &t->ins_name, &t->ins_value, "name", "value") < 0 ||
	    pair(api, o, "late_header", &t->late_name, &t->late_value, "name", "value") < 0 ||
	    pair(api, o, "late_fact", &t->late_key, &t->late_fact, "key", "value") < 0) {
		tp_fini(t);
		return -1;
	}
	api->opt_str(o, "show_fact", NULL, &s);
	t->show_fact = dup_or_null(s);
	api->opt_str(o, "delete_header", NULL, &s);
	t->del_header = dup_or_null(s);
	api->opt_str(o, "add_rcpt", NULL, &s);
	t->add_rcpt = dup_or_null(s);
	api->opt_str(o, "del_rcpt", NULL, &s);
	t->del_rcpt = dup_or_null(s);
	api->opt_str(o, "change_from", NULL, &s);
	t->change_from = dup_or_null(s);
	api->opt_str(o, "replace_body", NULL, &s);
	t->replace_body = dup_or_null(s);
	api->opt_str(o, "quarantine", NULL, &s);
	t->quarantine = dup_or_null(s);
	api->opt_str(o, "auth_result", NULL, &s);
	t->auth_result = dup_or_null(s);
	*inst = t;
	return 0;
}

static void
tp_fini(void *inst)
{
	struct tp *t = inst;

	for (size_t i = 0; i < t->nreject; i++)
		free(t->reject_rcpt[i]);
	free(t->reject_rcpt);
	free(t->code); free(t->xcode); free(t->text); free(t->trace);
	free(t->fact_key); free(t->fact_value); free(t->show_fact);
	free(t->add_name); free(t->add_value); free(t->ins_name); free(t->ins_value);
	free(t->del_header); free(t->add_rcpt); free(t->del_rcpt);
	free(t->change_from); free(t->replace_body); free(t->quarantine);
	free(t->auth_result);
	free(t->late_name); free(t->late_value); free(t->late_key); free(t->late_fact);
	free(t);
}

static void
seen(mm_ctx *ctx, struct tp *t, int st)
{
	struct trace *tr = t->api->conn_data(ctx);

	if (tr == NULL) {
		tr = calloc(1, sizeof(*tr));
		t->api->set_conn_data(ctx, tr, free);
	}
	if (st == MM_STAGE_HEADER || st == MM_STAGE_BODY) {
		/* once per message is enough for the trace */
		size_t l = strlen(tr->seen), sl = strlen(stages[st]);
		if (l >= sl && strcmp(tr->seen + l - sl, stages[st]) == 0)
			return;
	}
	if (strlen(tr->seen) + 12 < sizeof(tr->seen)) {
		if (tr->seen[0])
			strcat(tr->seen, ",");
		strcat(tr->seen, stages[st]);
	}
}

static mm_verdict
common(mm_ctx *ctx, struct tp *t, int st)
{
	seen(ctx, t, st);
	if (st == t->sleep_at && t->sleep > 0) {
		struct timespec ts = { (time_t)t->sleep,
			(long)((t->sleep - (double)(time_t)t->sleep) * 1e9) };
		nanosleep(&ts, NULL);
		if (MM_API_HAS(t->api, abandoned) && t->api->abandoned(ctx)) {
			struct trace *tr = t->api->conn_data(ctx);
			if (tr && strlen(tr->seen) + 12 < sizeof(tr->seen))
				strcat(tr->seen, ",abandoned");
		}
		if (t->late_name)
			t->api->add_header(ctx, t->late_name, t->late_value);
		if (t->late_key)
			t->api->fact_set(ctx, t->late_key, t->late_fact);
	}
	if (st == t->garbage_at)
		return (mm_verdict)42;
	if (t->verdict[st] == MM_REJECT || t->verdict[st] == MM_TEMPFAIL)
		if (t->code || t->text)
			t->api->set_reply(ctx, t->code, t->xcode, t->text);
	return (mm_verdict)t->verdict[st];
}

static mm_verdict
tp_connect(mm_ctx *ctx, void *i, const char *host, const struct sockaddr *sa)
{
	(void)host; (void)sa;
	return common(ctx, i, MM_STAGE_CONNECT);
}

static mm_verdict
tp_helo(mm_ctx *ctx, void *i, const char *h)
{
	(void)h;
	return common(ctx, i, MM_STAGE_HELO);
}

static mm_verdict
tp_envfrom(mm_ctx *ctx, void *i, char *const *argv)
{
	struct tp *t = i;

	(void)argv;
	if (t->fact_key)
		t->api->fact_set(ctx, t->fact_key, t->fact_value);
	return common(ctx, i, MM_STAGE_ENVFROM);
}

static mm_verdict
tp_envrcpt(mm_ctx *ctx, void *i, char *const *argv)
{
	struct tp *t = i;

	for (size_t k = 0; k < t->nreject; k++)
		if (strcasestr(argv[0], t->reject_rcpt[k])) {
			seen(ctx, t, MM_STAGE_ENVRCPT);
			t->api->set_reply(ctx, "550", "5.1.1", "No such user here");
			return MM_REJECT;
		}
	return common(ctx, i, MM_STAGE_ENVRCPT);
}

static mm_verdict
tp_data(mm_ctx *ctx, void *i)
{
	return common(ctx, i, MM_STAGE_DATA);
}

static mm_verdict
tp_header(mm_ctx *ctx, void *i, const char *n, const char *v)
{
	(void)n; (void)v;
	return common(ctx, i, MM_STAGE_HEADER);
}

static mm_verdict
tp_eoh(mm_ctx *ctx, void *i)
{
	return common(ctx, i, MM_STAGE_EOH);
}

static mm_verdict
tp_body(mm_ctx *ctx, void *i, const unsigned char *d, size_t l)
{
	(void)d; (void)l;
	return common(ctx, i, MM_STAGE_BODY);
}

static mm_verdict
tp_eom(mm_ctx *ctx, void *i)
{
	struct tp *t = i;
	const struct mm_api *api = t->api;
	mm_verdict v = common(ctx, i, MM_STAGE_EOM);
	struct trace *tr = api->conn_data(ctx);

	if (t->eoms) {
		static const char *const cls[] = { "external", "internal", "trusted" };
		mm_client_class c = api->client_class(ctx);
		const char *from = api->mail_from(ctx);
		api->metric_add(t->eoms, (unsigned)c < 3 ? cls[c] : "other", 1);
		api->metric_observe(t->sizes, NULL, from ? (double)strlen(from) : 0);
	}
	if (v != MM_CONTINUE)
		return v;
	if (t->trace && tr)
		api->add_header(ctx, t->trace, tr->seen);
	if (t->show_fact) {
		const char *f = api->fact_get(ctx, t->show_fact);
		char name[128];
		snprintf(name, sizeof(name), "X-Fact-%s", t->show_fact);
		api->add_header(ctx, name, f ? f : "(unset)");
	}
	if (t->add_name)
		api->add_header(ctx, t->add_name, t->add_value);
	if (t->ins_name)
		api->insert_header(ctx, 0, t->ins_name, t->ins_value);
	if (t->del_header)
		api->change_header(ctx, t->del_header, 1, NULL);
	if (t->add_rcpt)
		api->add_rcpt(ctx, t->add_rcpt);
	if (t->del_rcpt)
		api->del_rcpt(ctx, t->del_rcpt);
	if (t->change_from)
		api->change_from(ctx, t->change_from, NULL);
	if (t->replace_body)
		api->replace_body(ctx, (const unsigned char *)t->replace_body,
		    strlen(t->replace_body));
	if (t->quarantine)
		api->quarantine(ctx, t->quarantine);
	if (t->auth_result)
		api->auth_result(ctx, t->auth_result);
	return MM_CONTINUE;
}

static void
tp_abort(mm_ctx *ctx, void *i)
{
	seen(ctx, i, MM_STAGE_ABORT);
}

static mm_verdict
tp_conn_open(mm_ctx *ctx, void *i)
{
	struct tp *t = i;

	t->api->log(ctx, MM_LOG_NOTICE, "conn_open");
	if (t->sleep_at != CONN_OPEN && t->verdict[CONN_OPEN] == MM_CONTINUE)
		return MM_CONTINUE;
	return common(ctx, t, CONN_OPEN);
}

static void
tp_conn_close(mm_ctx *ctx, void *i)
{
	struct tp *t = i;
	struct trace *tr = t->api->conn_data(ctx);

	t->api->log(ctx, MM_LOG_NOTICE, "conn_close after %s", tr ? tr->seen : "nothing");
}

MM_PLUGIN(testplug, "1.0", "test plugin: does what its options say",
	.actions = MM_ACT_ADDHDRS | MM_ACT_CHGHDRS | MM_ACT_CHGBODY |
	    MM_ACT_ADDRCPT | MM_ACT_DELRCPT | MM_ACT_QUARANTINE |
	    MM_ACT_CHGFROM | MM_ACT_AUTHRES,
	.init = tp_init, .fini = tp_fini,
	.connect = tp_connect, .helo = tp_helo, .envfrom = tp_envfrom,
	.envrcpt = tp_envrcpt, .data = tp_data, .header = tp_header,
	.eoh = tp_eoh, .body = tp_body, .eom = tp_eom, .abort = tp_abort,
	.conn_open = tp_conn_open, .conn_close = tp_conn_close);
