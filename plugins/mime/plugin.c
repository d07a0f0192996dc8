/*
 * NAME
 *	mime - modmilter plugin: banned attachments, found however they
 *	hide, removed without losing the mail
 * SYNOPSIS
 *	plugins:
 *	  mime: { module: mime, options: { action: replace,
 *	          save_dir: /var/lib/modmilter/mime-saved } }
 * DESCRIPTION
 *	At end of message, with the whole message buffered by the core
 *	(MM_F_MESSAGE), walks its MIME structure (walk.c) and judges
 *	every part and archive member (leaf.c, archive.c, policy.c).
 *	Then, by the configured action:
 *
 *	replace: the original message is saved (save.c) before anything
 *	changes, each banned part becomes a WARNING.TXT notice in a new
 *	body (rewrite.c), replaced once through the core, and an
 *	X-Modmilter-Mime field records what was removed and under which
 *	id the original is kept. If the original cannot be saved the
 *	message is tempfailed: nothing is removed that cannot be given
 *	back.
 *	reject: 550 5.7.1 naming the first banned file.
 *	quarantine: the MTA holds the message; the field records why.
 *	tag: only the field.
 *
 *	A scan limit (depth, parts, decoded size) is never a pass: the
 *	on_limit policy tempfails (default), rejects, or bans the whole
 *	message (replaced by a notice, the original saved). Malformed
 *	MIME is judged as far as it parses, then the malformed policy
 *	tags (default), accepts, rejects or tempfails it.
 *
 *	Facts for later plugins: mime.names (every file name seen,
 *	separated by '/', which no base name contains) and, when
 *	something was banned, mime.banned (the banned names, likewise).
 * DIAGNOSTICS
 *	Each finding is logged at notice level with the action taken; a
 *	failure to save is logged as an error and tempfails the message.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include <modmilter/plugin.h>
#include "mime.h"
#include "options.h"

#define RECORD_FIELD	"X-Modmilter-Mime"
#define FACT_MAX	4096

struct mime_inst {
	const struct mm_api *api;
	struct mime_conf *conf;
	mm_metric *scans;		/* NULL before SDK 1.3 */
};

struct progress_arg {
	const struct mm_api *api;
	mm_ctx *ctx;
};

static int
mime_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct mime_inst *m;

	if (!MM_API_HAS(api, part_raw)) {
		*err = strdup("mime needs a core with SDK 1.3 (message parts)");
		return -1;
	}
	mime_gmime_init();
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->api = api;
	if (MM_API_HAS(api, metric_observe))
		m->scans = api->metric_counter(ctx, "messages_total",
		    "Messages walked, by finding: clean, banned, malformed, limit",
		    "finding");
	if ((m->conf = mime_options(api, opts)) == NULL) {
		free(m);
		return -1;	/* the option's position is reported */
	}
	*instance = m;
	return 0;
}

static void
mime_fini(void *instance)
{
	struct mime_inst *m = instance;

	mime_conf_free(m->conf);
	free(m);
}

static void
progress(void *arg)
{
	struct progress_arg *p = arg;

	p->api->progress(p->ctx);
}

/* The core's parse of the message, shared with the chain. */
static mm_parts *
message_parts(void *arg)
{
	struct progress_arg *p = arg;

	return p->api->parts(p->ctx);
}

/* names joined by '/', at most FACT_MAX bytes */
static char *
joined(char *const *v, size_t n)
{
	struct mime_buf b = { 0 };

	mime_buf_adds(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (b.len + strlen(v[i]) + 1 > FACT_MAX)
			break;
		mime_buf_printf(&b, "%s%s", i ? "/" : "", v[i]);
	}
	return b.data;
}

/* "\n\t<name> (<reason>)" per finding; a non-ASCII name as RFC 2047
   encoded words, which mail readers decode in an unstructured field */
static char *
record(const char *what, const struct mime_result *res)
{
	struct mime_buf b = { 0 };

	mime_buf_adds(&b, what);
	for (size_t i = 0; i < res->n; i++) {
		const char *raw = res->u[i].hit.name ? res->u[i].hit.name : "";
		gchar *cut = g_utf8_make_valid(raw, -1), *enc = NULL;
		char *shown;

		if (g_utf8_strlen(cut, -1) > 120) {
			gchar *end = g_utf8_offset_to_pointer(cut, 120);
			*end = 0;
		}
		for (const char *p = cut; *p; p++)
			if ((unsigned char)*p >= 0x80) {
				enc = g_mime_utils_header_encode_text(NULL, cut, "utf-8");
				break;
			}
		shown = mime_ascii(enc ? enc : cut, 1000);
		mime_buf_printf(&b, "\n\t%s (%s)%s", shown, res->u[i].hit.reason,
		    i + 1 < res->n ? ";" : "");
		free(shown);
		g_free(enc);
		g_free(cut);
	}
	return b.data;
}

static size_t
count_fields(const struct mm_api *api, mm_ctx *ctx, const char *name)
{
	size_t n = 0;

	while (n < 1000 && api->header_get(ctx, name, n + 1))
		n++;
	return n;
}

/* Delete the fields named name from the keep+1st on, last first (the
   loop is bounded: in monitor mode a deletion changes nothing). */
static int
delete_from(const struct mm_api *api, mm_ctx *ctx, const char *name, size_t keep)
{
	int r = 0;

	for (size_t i = count_fields(api, ctx, name); i > keep; i--)
		r |= api->change_header(ctx, name, i, NULL);
	return r;
}

/* A body that is the notice alone: make the top-level fields say so. */
static int
retype_top(const struct mm_api *api, mm_ctx *ctx, int qp)
{
	const char *ct = qp ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii";
	const char *cte = qp ? "quoted-printable" : "7bit";
	int r = 0;

	r |= delete_from(api, ctx, "Content-Type", 1);
	r |= delete_from(api, ctx, "Content-Transfer-Encoding", 1);
	r |= delete_from(api, ctx, "Content-Disposition", 0);
	r |= api->header_get(ctx, "Content-Type", 1) ?
	    api->change_header(ctx, "Content-Type", 1, ct) :
	    api->add_header(ctx, "Content-Type", ct);
	r |= api->header_get(ctx, "Content-Transfer-Encoding", 1) ?
	    api->change_header(ctx, "Content-Transfer-Encoding", 1, cte) :
	    api->add_header(ctx, "Content-Transfer-Encoding", cte);
	if (api->header_get(ctx, "MIME-Version", 1) == NULL)
		r |= api->add_header(ctx, "MIME-Version", "1.0");
	return r ? -1 : 0;
}

static mm_verdict
replace(struct mime_inst *m, mm_ctx *ctx, const struct mime_header *h,
    size_t nh, const char *body, size_t bodylen, const struct mime_result *res)
{
	const struct mm_api *api = m->api;
	struct mime_buf nb = { 0 };
	char *id = NULL, *err = NULL, *rec, *what;
	int qp, whole = 0;

	if (mime_save(m->conf->save_dir, api->queue_id(ctx), h, nh, body,
	    bodylen, &id, &err) < 0) {
		api->log(ctx, MM_LOG_ERR, "%s; message tempfailed", err);
		free(err);
		api->set_reply(ctx, "451", "4.3.0",
		    "Cannot keep a copy of the message, please try again later");
		return MM_TEMPFAIL;
	}
	for (size_t i = 0; i < res->n; i++)
		whole |= res->u[i].whole;
	qp = mime_rewrite(body, bodylen, res, id, &nb);
	what = mime_xasprintf("removed %zu attachment%s, original saved as %s:",
	    res->n, res->n > 1 ? "s" : "", id);
	rec = record(what, res);
	if (api->replace_body(ctx, (const unsigned char *)nb.data, nb.len) < 0 ||
	    (whole && retype_top(api, ctx, qp) < 0) ||
	    api->add_header(ctx, RECORD_FIELD, rec) < 0) {
		api->log(ctx, MM_LOG_ERR, "cannot queue the changes; original "
		    "saved as %s; message tempfailed", id);
		api->set_reply(ctx, "451", "4.3.0",
		    "Temporary local problem, please try again later");
		free(rec);
		free(what);
		free(id);
		mime_buf_free(&nb);
		return MM_TEMPFAIL;
	}
	for (size_t i = 0; i < res->n; i++) {
		char *name = mime_ascii(res->u[i].hit.name, 300);
		api->log(ctx, MM_LOG_NOTICE, "removed \"%s\" (%s); original saved "
		    "as %s", name, res->u[i].hit.reason, id);
		free(name);
	}
	free(rec);
	free(what);
	free(id);
	mime_buf_free(&nb);
	return MM_CONTINUE;
}

static mm_verdict
act(struct mime_inst *m, mm_ctx *ctx, const struct mime_header *h, size_t nh,
    const char *body, size_t bodylen, const struct mime_result *res)
{
	const struct mm_api *api = m->api;
	char *name = mime_ascii(res->u[0].hit.name, 200), *text, *rec;
	mm_verdict v = MM_CONTINUE;

	switch (m->conf->action) {
	case MIME_ACT_REPLACE:
		free(name);
		return replace(m, ctx, h, nh, body, bodylen, res);
	case MIME_ACT_REJECT:
		text = mime_xasprintf("Message refused: attachment \"%s\" is not "
		    "allowed (%s)", name, res->u[0].hit.reason);
		api->set_reply(ctx, "550", "5.7.1", text);
		api->log(ctx, MM_LOG_NOTICE, "rejected: \"%s\" (%s)", name,
		    res->u[0].hit.reason);
		free(text);
		v = MM_REJECT;
		break;
	case MIME_ACT_QUARANTINE:
		text = mime_xasprintf("banned attachment \"%s\" (%s)", name,
		    res->u[0].hit.reason);
		rec = record("quarantined for banned attachments:", res);
		if (api->quarantine(ctx, text) < 0 ||
		    api->add_header(ctx, RECORD_FIELD, rec) < 0)
			v = MM_ERROR;
		api->log(ctx, MM_LOG_NOTICE, "quarantined: %s", text);
		free(rec);
		free(text);
		break;
	case MIME_ACT_TAG:
		rec = record("banned attachments found, not removed:", res);
		if (api->add_header(ctx, RECORD_FIELD, rec) < 0)
			v = MM_ERROR;
		api->log(ctx, MM_LOG_NOTICE, "tagged: \"%s\" (%s)", name,
		    res->u[0].hit.reason);
		free(rec);
		break;
	}
	free(name);
	return v;
}

/* on_limit: never a pass */
static mm_verdict
limit_reached(struct mime_inst *m, mm_ctx *ctx, struct mime_scan *sc,
    struct mime_result *res)
{
	const struct mm_api *api = m->api;
	char *text;

	api->log(ctx, MM_LOG_NOTICE, "scan limit reached: %s", sc->limit);
	switch (m->conf->on_limit) {
	case MIME_LIM_REJECT:
		text = mime_xasprintf("Message refused: too complex to scan for "
		    "attachments (%s)", sc->limit);
		api->set_reply(ctx, "550", "5.7.1", text);
		free(text);
		return MM_REJECT;
	case MIME_LIM_BAN:
		mime_result_free(res);
		res->u = mime_xmalloc(sizeof(*res->u));
		res->n = 1;
		memset(res->u, 0, sizeof(*res->u));
		res->u[0].whole = 1;
		mime_hit_set(&res->u[0].hit, "the whole message",
		    "it could not be scanned: %s", sc->limit);
		return MM_CONTINUE;	/* acted on as a banned part */
	case MIME_LIM_TEMPFAIL:
	default:
		text = mime_xasprintf("Message too complex to scan for attachments "
		    "(%s), please try again later", sc->limit);
		api->set_reply(ctx, "451", "4.7.0", text);
		free(text);
		return MM_TEMPFAIL;
	}
}

static mm_verdict
malformed(struct mime_inst *m, mm_ctx *ctx, struct mime_scan *sc)
{
	const struct mm_api *api = m->api;
	char *text;

	api->log(ctx, MM_LOG_NOTICE, "malformed MIME: %s", sc->malformed);
	switch (m->conf->malformed) {
	case MIME_MAL_REJECT:
		text = mime_xasprintf("Message refused: malformed MIME (%s)",
		    sc->malformed);
		api->set_reply(ctx, "550", "5.6.0", text);
		free(text);
		return MM_REJECT;
	case MIME_MAL_TEMPFAIL:
		text = mime_xasprintf("Malformed MIME (%s), please try again later",
		    sc->malformed);
		api->set_reply(ctx, "451", "4.6.0", text);
		free(text);
		return MM_TEMPFAIL;
	case MIME_MAL_TAG:
		text = mime_xasprintf("malformed MIME: %s", sc->malformed);
		if (api->add_header(ctx, RECORD_FIELD, text) < 0) {
			free(text);
			return MM_ERROR;
		}
		free(text);
		return MM_CONTINUE;
	case MIME_MAL_ACCEPT:
	default:
		return MM_CONTINUE;
	}
}

static mm_verdict
mime_eom(mm_ctx *ctx, void *instance)
{
	struct mime_inst *m = instance;
	const struct mm_api *api = m->api;
	const unsigned char *body;
	size_t bodylen, nh, nr;
	struct mime_header *h;
	const char **rcpts;
	struct mime_scan sc;
	struct mime_result res = { NULL, 0 };
	struct progress_arg pa = { api, ctx };
	mm_verdict v = MM_CONTINUE;
	char *fact;

	if (api->body(ctx, &body, &bodylen) < 0) {
		api->log(ctx, MM_LOG_ERR, "the message body is not available");
		return MM_ERROR;
	}
	nh = api->header_count(ctx);
	h = mime_xmalloc((nh ? nh : 1) * sizeof(*h));
	for (size_t i = 0; i < nh; i++)
		if (api->header_at(ctx, i, &h[i].name, &h[i].value) < 0)
			h[i].name = h[i].value = "";
	nr = api->rcpt_count(ctx);
	rcpts = mime_xmalloc((nr ? nr : 1) * sizeof(*rcpts));
	for (size_t i = 0; i < nr; i++)
		rcpts[i] = api->rcpt_at(ctx, i);

	memset(&sc, 0, sizeof(sc));
	sc.conf = m->conf;
	sc.progress = progress;
	sc.progress_arg = &pa;
	sc.reader = api;
	sc.message_parts = message_parts;
	sc.parts_arg = &pa;
	mime_policy_exceptions(&sc, api->mail_from(ctx), rcpts, nr);
	mime_walk(&sc, h, nh, (const char *)body, bodylen, &res);

	fact = joined(sc.names.v, sc.names.n);
	api->fact_set(ctx, "mime.names", fact);
	free(fact);
	if (sc.limit && (v = limit_reached(m, ctx, &sc, &res)) != MM_CONTINUE)
		goto out;
	if (res.n > 0) {
		char **names = mime_xmalloc(res.n * sizeof(char *));
		for (size_t i = 0; i < res.n; i++)
			names[i] = res.u[i].hit.name;
		fact = joined(names, res.n);
		api->fact_set(ctx, "mime.banned", fact);
		free(fact);
		free(names);
	}
	if (sc.malformed && (v = malformed(m, ctx, &sc)) != MM_CONTINUE)
		goto out;
	if (res.n > 0)
		v = act(m, ctx, h, nh, (const char *)body, bodylen, &res);
out:
	if (m->scans) {
		const char *f = res.n > 0 ? "banned" : sc.limit ? "limit" :
		    sc.malformed ? "malformed" : "clean";
		api->metric_add(m->scans, f, 1);
		api->set_result(ctx, "%s", f);
	}
	mime_result_free(&res);
	mime_scan_free(&sc);
	free(rcpts);
	free(h);
	return v;
}

MM_PLUGIN(mime, "1.0", "banned attachments: found in names, content and "
    "archives; replaced by a notice, the original saved",
	.actions = MM_ACT_ADDHDRS | MM_ACT_CHGHDRS | MM_ACT_CHGBODY |
	    MM_ACT_QUARANTINE,
	.options = mime_option_table,
	.flags = MM_F_MESSAGE,
	.init = mime_init,
	.fini = mime_fini,
	.eom = mime_eom);
