/*
 * NAME
 *	summary - the one log line per message an admin greps
 * DESCRIPTION
 *	See summary.h. Recipient lists are cut after a few addresses (the
 *	count stays exact) so that a line stays a line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "summary.h"

#define RCPTS_SHOWN	10

void
summary_log(struct session *s, const char *verdict, const struct reply *r)
{
	struct message *m = s->m;
	const char *kv[2 * 32 + 2 * 16];
	struct mm_buf client = { 0 }, rcpts = { 0 }, reply = { 0 };
	char size[32], secs[32], nr[16];
	size_t n = 0, shown;

	if (log_level() < MM_LOG_INFO)
		return;
	buf_printf(&client, "%s[%s]", s->host ? s->host : "unknown", s->addr);
	shown = m->nrcpts < RCPTS_SHOWN ? m->nrcpts : RCPTS_SHOWN;
	for (size_t i = 0; i < shown; i++)
		buf_printf(&rcpts, "%s<%s>", i ? "," : "", m->rcpts[i]);
	if (m->nrcpts > shown)
		buf_printf(&rcpts, ",+%zu", m->nrcpts - shown);
	if (r && r->text)
		buf_printf(&reply, "%s %s %s", r->rcode, r->xcode, r->text);
	snprintf(size, sizeof(size), "%zu", m->size);
	snprintf(secs, sizeof(secs), "%.3f", m->t0 > 0 ? mono_now() - m->t0 : 0.0);
	snprintf(nr, sizeof(nr), "%zu", m->nrcpts);

#define KV(k, v) do { kv[n++] = (k); kv[n++] = (v); } while (0)
	KV("client", client.data);
	KV("helo", s->helo ? s->helo : "-");
	KV("from", m->from ? (*m->from ? m->from : "<>") : "-");
	KV("nrcpt", nr);
	KV("rcpt", rcpts.data ? rcpts.data : "-");
	KV("chain", s->ch ? s->ch->name : "-");
	for (size_t i = 0; s->ch && i < s->ch->n && n + 8 < sizeof(kv) / sizeof(*kv); i++) {
		const struct instance *in = s->ch->plugins[i];
		const char *res = m->results && (size_t)in->index < m->nresults ?
		    m->results[in->index] : NULL;
		KV(in->name, res ? res : "-");
	}
	KV("verdict", verdict);
	KV("by", m->decider ? m->decider : "-");
	if (reply.data)
		KV("reply", reply.data);
	KV("size", size);
	KV("time", secs);
#undef KV
	log_fields(MM_LOG_INFO, m->qid, kv, n / 2);
	buf_free(&client);
	buf_free(&rcpts);
	buf_free(&reply);
}
