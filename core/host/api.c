/*
 * NAME
 *	api - the function table plugins call back into
 * SYNOPSIS
 *	#include "api.h"
 *
 *	p->init(ictx, api_table(), opts, &data, &err);
 * DESCRIPTION
 *	See api.h. This file holds the table itself and the entries that
 *	need no message: logging, the instance name, options (cfgtree),
 *	per-connection and per-message plugin data, the store, metrics,
 *	narrow, and the helpers; api_msg.c and api_act.c the rest.
 *	Outside a connection (init, fini) only logging, options, the store
 *	and metrics work. A plugin abandoned after a timeout is told so by
 *	mm_abandoned().
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_parts.h"
#include "cfgtree.h"
#include "ctx.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "msgparts.h"
#include "opttab.h"
#include "session.h"
#include "store.h"

static void
api_vlog(mm_ctx *c, mm_log_level level, const char *fmt, va_list ap)
{
	log_vmsg((int)level, c && c->msg ? c->msg->qid : NULL,
	    c && c->inst ? c->inst->name : NULL, fmt, ap);
}

static void
api_log(mm_ctx *c, mm_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_level())
		return;
	va_start(ap, fmt);
	api_vlog(c, level, fmt, ap);
	va_end(ap);
}

static const char *
api_instance_name(mm_ctx *c)
{
	return c && c->inst ? c->inst->name : NULL;
}

static void
api_opt_error(const mm_opt *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(node, fmt, ap);
	va_end(ap);
}

static int
api_abandoned(mm_ctx *c)
{
	return ctx_abandoned(c);
}

static void
api_set_conn_data(mm_ctx *c, void *d, void (*destroy)(void *))
{
	if (c == NULL || c->s == NULL)
		return;
	if (c->conn_free && c->conn_data && c->conn_data != d)
		c->conn_free(c->conn_data);
	c->conn_data = d;
	c->conn_free = destroy;
}

static void *
api_conn_data(mm_ctx *c)
{
	return c ? c->conn_data : NULL;
}

static void
api_set_msg_data(mm_ctx *c, void *d, void (*destroy)(void *))
{
	if (c == NULL || c->s == NULL)
		return;
	if (c->msg_free && c->msg_data && c->msg_data != d)
		c->msg_free(c->msg_data);
	c->msg_data = d;
	c->msg_free = destroy;
}

static void *
api_msg_data(mm_ctx *c)
{
	return c ? c->msg_data : NULL;
}

static mm_store *
api_store_open(mm_ctx *c, const char *dbname, char **err)
{
	struct conf *conf = c && c->inst ? c->inst->conf : NULL;

	if (conf == NULL) {
		if (err)
			*err = xstrdup("no configuration");
		return NULL;
	}
	return store_open(&conf->store, dbname, err);
}

static int
api_narrow(mm_ctx *c, unsigned actions, unsigned flags)
{
	struct instance *in = c ? c->inst : NULL;

	if (in == NULL || c->s != NULL || in->p == NULL ||
	    (actions & ~in->p->actions) || (flags & ~in->p->flags))
		return -1;
	in->actions = actions;
	in->flags = flags;
	return 0;
}

static mm_metric *
api_metric(mm_ctx *c, const char *name, const char *help, const char *label,
    const double *bounds, size_t nb)
{
	struct instance *in = c ? c->inst : NULL;
	struct mm_metric *m;
	char err[256];

	if (in == NULL || in->p == NULL || c->s != NULL) {
		log_msg(MM_LOG_ERR, NULL, in ? in->name : NULL,
		    "metrics are registered at init, with the init context");
		return NULL;
	}
	m = metrics_plugin(in->p->name, in->name, name, help, label, bounds, nb,
	    err, sizeof(err));
	if (m == NULL)
		log_msg(MM_LOG_ERR, NULL, in->name, "%s", err);
	return m;
}

static mm_metric *
api_metric_counter(mm_ctx *c, const char *name, const char *help, const char *label)
{
	return api_metric(c, name, help, label, NULL, 0);
}

static mm_metric *
api_metric_histogram(mm_ctx *c, const char *name, const char *help,
    const char *label, const double *bounds, size_t nb)
{
	if (bounds == NULL) {
		log_msg(MM_LOG_ERR, NULL, c && c->inst ? c->inst->name : NULL,
		    "metric %s: a histogram needs bounds", name ? name : "(null)");
		return NULL;
	}
	return api_metric(c, name, help, label, bounds, nb);
}

static void
api_free(void *p)
{
	free(p);
}

static double
api_now(mm_ctx *c)
{
	(void)c;
	return wall_now();
}

const struct mm_api core_api = {
	.size = sizeof(struct mm_api),
	.sdk_major = MM_SDK_MAJOR,
	.sdk_minor = MM_SDK_MINOR,
	.log = api_log,
	.vlog = api_vlog,
	.instance_name = api_instance_name,
	.opt_type = cfg_type,
	.opt_get = cfg_get,
	.opt_len = cfg_len,
	.opt_at = cfg_at,
	.opt_key_at = cfg_key_at,
	.opt_scalar = cfg_scalar,
	.opt_str = cfg_str,
	.opt_int = cfg_int,
	.opt_bool = cfg_bool,
	.opt_duration = cfg_duration,
	.opt_error = api_opt_error,
	.set_conn_data = api_set_conn_data,
	.conn_data = api_conn_data,
	.set_msg_data = api_set_msg_data,
	.msg_data = api_msg_data,
	.client_addr = api_client_addr,
	.client_sockaddr = api_client_sockaddr,
	.client_host = api_client_host,
	.client_class = api_client_class,
	.helo = api_helo,
	.auth_user = api_auth_user,
	.macro = api_macro,
	.queue_id = api_queue_id,
	.mail_from = api_mail_from,
	.rcpt_count = api_rcpt_count,
	.rcpt_at = api_rcpt_at,
	.fact_set = api_fact_set,
	.fact_get = api_fact_get,
	.header_count = api_header_count,
	.header_at = api_header_at,
	.header_get = api_header_get,
	.body = api_body,
	.set_reply = api_set_reply,
	.add_header = api_add_header,
	.insert_header = api_insert_header,
	.change_header = api_change_header,
	.add_rcpt = api_add_rcpt,
	.del_rcpt = api_del_rcpt,
	.change_from = api_change_from,
	.replace_body = api_replace_body,
	.quarantine = api_quarantine,
	.auth_result = api_auth_result,
	.progress = api_progress,
	.store_open = api_store_open,
	.store_get = store_get,
	.store_put = store_put,
	.store_del = store_del,
	.free = api_free,
	.now = api_now,
	.narrow = api_narrow,
	.store_batch = store_batch,
	.store_batch_get = store_batch_get,
	.store_batch_put = store_batch_put,
	.store_batch_del = store_batch_del,
	.store_batch_add = store_batch_add,
	.store_batch_expect = store_batch_expect,
	.store_batch_run = store_batch_run,
	.store_result = store_result,
	.store_batch_free = store_batch_free,
	.store_counter = store_counter,
	.store_scan = store_scan,
	.store_expire = store_expire,
	.metric_counter = api_metric_counter,
	.metric_histogram = api_metric_histogram,
	.metric_add = metrics_plugin_add,
	.metric_observe = metrics_plugin_observe,
	.addr_normalize = addr_normalize,
	.domain_normalize = domain_normalize,
	.domain_match = domain_match,
	.abandoned = api_abandoned,
	.set_result = api_set_result,
	.received_header_count = api_received_header_count,
	.received_header_at = api_received_header_at,
	/* SDK 1.3: options by table */
	.opt_table = opttab_read,
	.opt_table_free = opttab_free,
	/* SDK 1.3: message parts */
	.parts = api_parts,
	.parts_parse = msgparts_parse,
	.parts_free = msgparts_free,
	.parts_count = msgparts_count,
	.part_at = msgparts_at,
	.part_data = msgparts_data,
	.part_text = msgparts_text,
	.part_raw = msgparts_raw,
	.parts_problems = msgparts_problems,
	.header_decode = msgparts_header_decode,
};

/* Where the table of each SDK 1.x minor ends. */
static size_t
table_end(unsigned minor)
{
	switch (minor) {
	case 0:
		return offsetof(struct mm_api, now) + sizeof(core_api.now);
	case 1:
		return offsetof(struct mm_api, narrow) + sizeof(core_api.narrow);
	case 2:
		return offsetof(struct mm_api, store_expire) +
		    sizeof(core_api.store_expire);
	default:
		return sizeof(struct mm_api);
	}
}

const struct mm_api *
api_table(void)
{
	static struct mm_api older[MM_SDK_MINOR];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	unsigned minor = loader_sdk_minor();
	size_t end;

	if (minor >= MM_SDK_MINOR)
		return &core_api;
	/* a test pretends to be an older core: the table as that core
	   had it, the members it did not have zeroed */
	end = table_end(minor);
	pthread_mutex_lock(&lock);
	older[minor] = core_api;
	memset((char *)&older[minor] + end, 0, sizeof(struct mm_api) - end);
	older[minor].size = end;
	older[minor].sdk_minor = minor;
	pthread_mutex_unlock(&lock);
	return &older[minor];
}
