/*
 * NAME
 *	archive - the archived copy of a message, one per watched address
 * SYNOPSIS
 *	#include "archive.h"
 *
 *	struct wt_pending *pend; size_t npend;
 *	if (wt_archive_write(conf, ctx, &plan, &pend, &npend) < 0)
 *		... tempfail (everything written was withdrawn)
 *	... later: wt_archive_commit(conf, pend, npend, tag) or
 *	wt_archive_withdraw(pend, npend)
 * DESCRIPTION
 *	wt_archive_write() runs at end of message. For every address a
 *	group with an archive matched (the sender for outgoing, each
 *	watched recipient for incoming), once per archive root and
 *	address, it writes into <archive>/<address>/tmp/ (maildir.c):
 *
 *	  Return-Path: <envelope sender>
 *	  X-Wiretap-Group: <group> (<direction>; queue id <id>)   one per group
 *	  X-Wiretap-Envelope-To: <every envelope recipient>       Bcc included
 *	  the message's headers, then a blank line, then the body
 *
 *	with LF line ends, as Maildir files have. The headers are the
 *	core's working list when this instance runs (the headers as
 *	received, plus the edits of plugins before it in the chain: put
 *	wiretap first to archive exactly what was received); the body is
 *	the one received, or the replacement of an earlier plugin.
 *
 *	The copies stay in tmp/ (complete, fsync'ed, invisible to Maildir
 *	readers) until the message's fate is known: wt_archive_commit()
 *	moves them into new/ once the message was accepted,
 *	wt_archive_withdraw() removes them when it was not (wiretap.c
 *	decides which, from the outcome the core gives msg_end).
 * DIAGNOSTICS
 *	Each copy written and each failure is logged with the queue id and
 *	the group. A failure of a group with archive_failure: tempfail
 *	makes wt_archive_write() withdraw every copy of the message and
 *	return -1; with archive_failure: continue it is logged as a
 *	warning and the message goes on without that copy.
 *	wt_archive_commit() runs after the hooks, where no verdict can be
 *	given any more: a failure there is logged as an error naming the
 *	complete copy left in tmp/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/msgwrite.h>

#include "archive.h"

/* One Maildir to write: an archive root and an address. */
struct entry {
	const char *root;
	const char *key;
	size_t first;		/* index of the first hit */
	int cont;		/* every group says archive_failure: continue */
};

struct writer {
	struct md_file *f;
	char *err;
	size_t errlen;
	int bad;
};

static void
put(struct writer *w, const void *p, size_t n)
{
	if (!w->bad && n && md_write(w->f, p, n, w->err, w->errlen) < 0)
		w->bad = 1;
}

static void
put_str(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* The writer as a sink of modmilter/msgwrite.h. */
static int
sink(void *arg, const void *p, size_t n)
{
	struct writer *w = arg;

	put(w, p, n);
	return w->bad ? -1 : 0;
}

static const char *
dir_words(unsigned dir)
{
	switch (dir) {
	case WT_OUT: return "outgoing";
	case WT_IN: return "incoming";
	case WT_OUT | WT_IN: return "outgoing, incoming";
	default: return "?";
	}
}

static int
in_entry(const struct wt_conf *c, const struct wt_hit *h, const struct entry *e)
{
	const struct wt_group *g = &c->groups[h->group];

	return h->dir != WT_FORGED && g->archive != NULL &&
	    strcmp(g->archive, e->root) == 0 && strcmp(h->key, e->key) == 0;
}

/* dirs[g]: the directions in which group g archives this entry */
static void
entry_groups(const struct wt_conf *c, const struct wt_plan *p,
    const struct entry *e, unsigned *dirs)
{
	memset(dirs, 0, c->ngroups * sizeof(*dirs));
	for (size_t i = e->first; i < p->nhits; i++)
		if (in_entry(c, &p->hits[i], e))
			dirs[p->hits[i].group] |= p->hits[i].dir;
}

static void
write_copy(const struct wt_conf *c, mm_ctx *ctx, const unsigned *dirs,
    struct writer *w)
{
	const struct mm_api *api = c->api;
	const char *from = api->mail_from(ctx), *name, *value;
	const unsigned char *body;
	size_t bodylen, nr = api->rcpt_count(ctx), col;
	char line[512];

	snprintf(line, sizeof(line), "Return-Path: <%s>\n", from ? from : "");
	put_str(w, line);
	for (size_t g = 0; g < c->ngroups; g++) {
		if (dirs[g] == 0)
			continue;
		snprintf(line, sizeof(line), "X-Wiretap-Group: %s (%s; queue id %s)\n",
		    c->groups[g].name, dir_words(dirs[g]), api->queue_id(ctx));
		put_str(w, line);
	}
	put_str(w, "X-Wiretap-Envelope-To:");
	col = 22;
	for (size_t i = 0; i < nr; i++) {
		const char *r = api->rcpt_at(ctx, i);
		size_t l = strlen(r) + 4;
		if (i && col + l > 76) {
			put_str(w, ",\n\t");
			col = 8;
		} else if (i) {
			put_str(w, ", ");
			col += 2;
		} else
			put_str(w, " ");
		put_str(w, "<");
		put_str(w, r);
		put_str(w, ">");
		col += l;
	}
	put_str(w, "\n");
	for (size_t i = 0; i < api->header_count(ctx); i++) {
		if (api->header_at(ctx, i, &name, &value) < 0)
			continue;
		if (mm_msg_header(sink, w, name, value, MM_MSG_LF) < 0)
			return;
	}
	put_str(w, "\n");
	if (!w->bad && api->body(ctx, &body, &bodylen) < 0) {
		snprintf(w->err, w->errlen, "the message body is not available");
		w->bad = 1;
	}
	if (!w->bad)
		(void)mm_msg_text(sink, w, body, bodylen, MM_MSG_LF);
}

/* "legal-hold,other": the groups archiving this entry, for the log */
static void
group_names(const struct wt_conf *c, const unsigned *dirs, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t g = 0; g < c->ngroups; g++)
		if (dirs[g] && n + strlen(c->groups[g].name) + 2 < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			    c->groups[g].name);
}

static size_t
collect(const struct wt_conf *c, const struct wt_plan *p, struct entry *ents)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nhits; i++) {
		const struct wt_hit *h = &p->hits[i];
		const struct wt_group *g = &c->groups[h->group];
		size_t k;

		if (h->dir == WT_FORGED || g->archive == NULL)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(ents[k].root, g->archive) == 0 &&
			    strcmp(ents[k].key, h->key) == 0)
				break;
		if (k == n) {
			ents[n].root = g->archive;
			ents[n].key = h->key;
			ents[n].first = i;
			ents[n].cont = 1;
			n++;
		}
		if (!g->archive_continue)
			ents[k].cont = 0;
	}
	return n;
}

int
wt_archive_write(const struct wt_conf *c, mm_ctx *ctx, const struct wt_plan *p,
    struct wt_pending **pendp, size_t *npendp)
{
	const struct mm_api *api = c->api;
	struct entry *ents;
	struct wt_pending *pend = NULL;
	unsigned *dirs = NULL;
	size_t nents, npend = 0;
	char err[1024], groups[256], dirname[256], path[4096];

	*pendp = NULL;
	*npendp = 0;
	if (p->nhits == 0)
		return 0;
	if ((ents = calloc(p->nhits, sizeof(*ents))) == NULL ||
	    (pend = calloc(p->nhits, sizeof(*pend))) == NULL ||
	    (dirs = calloc(c->ngroups, sizeof(*dirs))) == NULL) {
		free(ents);
		free(pend);
		api->log(ctx, MM_LOG_ERR, "archive: out of memory; message tempfailed");
		return -1;
	}
	nents = collect(c, p, ents);
	for (size_t i = 0; i < nents; i++) {
		const struct entry *e = &ents[i];
		struct wt_pending *pe = &pend[npend];
		struct writer w = { &pe->f, err, sizeof(err), 0 };

		entry_groups(c, p, e, dirs);
		group_names(c, dirs, groups, sizeof(groups));
		if (i > 0)
			api->progress(ctx);	/* fsyncs take time: keep the MTA waiting */
		if (wt_dirname(e->key, dirname, sizeof(dirname)) < 0) {
			snprintf(err, sizeof(err), "no directory name for this address");
			w.bad = 1;
		} else if (md_create(&pe->f, e->root, dirname, c->host, c->file_mode,
		    err, sizeof(err)) < 0)
			w.bad = 1;
		else {
			write_copy(c, ctx, dirs, &w);
			if (!w.bad && md_finish(&pe->f, err, sizeof(err)) < 0)
				w.bad = 1;
		}
		if (w.bad) {
			md_withdraw(&pe->f);
			if (e->cont) {
				api->log(ctx, MM_LOG_WARNING, "group=%s archive address=<%s> "
				    "failed: %s; archive_failure is continue: the message "
				    "goes on without this copy", groups, e->key, err);
				continue;
			}
			api->log(ctx, MM_LOG_ERR, "group=%s archive address=<%s> failed: "
			    "%s; message tempfailed", groups, e->key, err);
			wt_archive_withdraw(pend, npend);
			free(pend);
			free(ents);
			free(dirs);
			return -1;
		}
		pe->key = strdup(e->key);
		pe->groups = strdup(groups);
		md_path(&pe->f, "new", path, sizeof(path));
		api->log(ctx, MM_LOG_INFO, "group=%s archive address=<%s> file=%s",
		    groups, e->key, path);
		npend++;
	}
	free(ents);
	free(dirs);
	if (npend == 0) {
		free(pend);
		pend = NULL;
	}
	*pendp = pend;
	*npendp = npend;
	return 0;
}

void
wt_archive_commit(const struct wt_conf *c, struct wt_pending *pend, size_t n,
    const char *tag)
{
	char err[1024], path[4096];

	for (size_t i = 0; i < n; i++) {
		struct wt_pending *pe = &pend[i];
		if (pe->f.d.state == MM_DURABLE_READY &&
		    md_commit(&pe->f, err, sizeof(err)) < 0) {
			md_path(&pe->f, pe->f.d.state == MM_DURABLE_DONE ? "new" : "tmp", path,
			    sizeof(path));
			c->api->log(NULL, MM_LOG_ERR, "%s: group=%s archive address=<%s>: "
			    "%s; the complete copy is %s", tag, pe->groups ? pe->groups : "?",
			    pe->key ? pe->key : "?", err, path);
		}
		md_release(&pe->f);	/* never removes: the copy stays */
		free(pe->key);
		free(pe->groups);
	}
}

void
wt_archive_withdraw(struct wt_pending *pend, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		md_withdraw(&pend[i].f);
		free(pend[i].key);
		free(pend[i].groups);
		pend[i].key = pend[i].groups = NULL;
	}
}
