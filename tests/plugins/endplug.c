/*
 * NAME
 *	endplug - records how each message ended (the msg_end hook)
 * SYNOPSIS
 *	e1: { module: .../endplug.so, options: {
 *	      file: /path,		# one line per msg_end, appended
 *	      sleep: 2s,		# sleep in msg_end (a hung hook)
 *	      accept: true } }		# ACCEPT at MAIL FROM (needs no more)
 * DESCRIPTION
 *	At MAIL FROM it sets message data and a fact; in msg_end it appends
 *	one line to the file:
 *
 *	  end qid=Q verdict=V aborted=0|1 stage=S by=I|- rcpts=A/V/I,...
 *	      changed=0xN quarantined=0|1 discarded=0|1 from=F fact=F
 *	      data=yes|no act=refused|allowed reply=refused|allowed
 *
 *	(one line) and, when the message data is freed afterwards, a line
 *	"free qid=Q". "act" and "reply" tell whether the core refused an
 *	action and a reply inside msg_end, as it must. Not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <modmilter/plugin.h>

struct ep {
	const struct mm_api *api;
	char *file;
	double sleep;
	int accept;
};

struct epmsg {
	const struct ep *e;
	char qid[64];
};

static const char *const vnames[] = {
	"continue", "accept", "reject", "tempfail", "discard", "skip", "error"
};
static const char *const snames[] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh",
	"body", "eom", "abort", "close", "unknown"
};

static const char *
vname(mm_verdict v)
{
	return (unsigned)v < 7 ? vnames[v] : "?";
}

static void
append(const struct ep *e, const char *line)
{
	FILE *f = fopen(e->file, "a");

	if (f == NULL)
		return;
	fputs(line, f);
	fputc('\n', f);
	fclose(f);
}

static int
ep_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	struct ep *e = calloc(1, sizeof(*e));
	const char *f = NULL;

	(void)ctx;
	if (e == NULL)
		return -1;
	e->api = api;
	api->opt_str(o, "file", NULL, &f);
	api->opt_duration(o, "sleep", 0, &e->sleep);
	api->opt_bool(o, "accept", 0, &e->accept);
	if (f == NULL) {
		*err = strdup("endplug needs a file");
		free(e);
		return -1;
	}
	e->file = strdup(f);
	*inst = e;
	return 0;
}

static void
ep_fini(void *inst)
{
	struct ep *e = inst;

	free(e->file);
	free(e);
}

static void
msg_free(void *p)
{
	struct epmsg *m = p;
	char line[128];

	snprintf(line, sizeof(line), "free qid=%s", m->qid);
	append(m->e, line);
	free(m);
}

static mm_verdict
ep_envfrom(mm_ctx *ctx, void *inst, char *const *argv)
{
	struct ep *e = inst;
	struct epmsg *m = calloc(1, sizeof(*m));

	(void)argv;
	if (m == NULL)
		return MM_ERROR;
	m->e = e;
	e->api->set_msg_data(ctx, m, msg_free);
	e->api->fact_set(ctx, "endplug.seen", "yes");
	return e->accept ? MM_ACCEPT : MM_CONTINUE;
}

static void
ep_msg_end(mm_ctx *ctx, void *inst, const struct mm_outcome *o)
{
	struct ep *e = inst;
	const struct mm_api *api = e->api;
	struct epmsg *m = api->msg_data(ctx);
	char line[2048], rc[1024] = "";
	const char *from = api->mail_from(ctx), *fact = api->fact_get(ctx, "endplug.seen");
	int act, reply;
	size_t n = 0;

	if (e->sleep > 0) {
		struct timespec ts;
		ts.tv_sec = (time_t)e->sleep;
		ts.tv_nsec = (long)((e->sleep - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < o->nrcpts && n < sizeof(rc) - 200; i++)
		n += (size_t)snprintf(rc + n, sizeof(rc) - n, "%s%s/%s/%s", i ? "," : "",
		    o->rcpts[i].addr, vname(o->rcpts[i].verdict),
		    o->rcpts[i].decided_by ? o->rcpts[i].decided_by : "-");
	act = api->add_header(ctx, "X-Too-Late", "yes");
	reply = api->set_reply(ctx, "550", "5.7.1", "too late");
	if (m)
		snprintf(m->qid, sizeof(m->qid), "%s", api->queue_id(ctx));
	snprintf(line, sizeof(line), "end qid=%s verdict=%s aborted=%d stage=%s by=%s "
	    "rcpts=%s changed=0x%x quarantined=%d discarded=%d from=%s fact=%s "
	    "data=%s act=%s reply=%s size=%s", api->queue_id(ctx), vname(o->verdict),
	    o->aborted, (unsigned)o->stage < MM_STAGE_COUNT ? snames[o->stage] : "?",
	    o->decided_by ? o->decided_by : "-", *rc ? rc : "-", o->changed,
	    o->quarantined, o->discarded, from ? (*from ? from : "<>") : "-",
	    fact ? fact : "-", m ? "yes" : "no", act < 0 ? "refused" : "allowed",
	    reply < 0 ? "refused" : "allowed",
	    o->size == sizeof(*o) ? "ok" : "bad");
	append(e, line);
}

MM_PLUGIN(endplug, "1.0", "test plugin: records how messages ended",
	.actions = MM_ACT_ADDHDRS,
	.init = ep_init,
	.fini = ep_fini,
	.envfrom = ep_envfrom,
	.msg_end = ep_msg_end);
