/*
 * NAME
 *	message - one message's data: envelope, facts, headers, body, and
 *	the actions queued on it
 * SYNOPSIS
 *	#include "engine.h"
 *
 *	struct message *m = message_new();
 *	message_body_append(m, conf, data, len);
 *	session_body_get(s, &data, &len);
 *	graveyard_add(m, old_string);
 *	message_free(m);
 * DESCRIPTION
 *	struct message (session.h) is what plugins read and change through
 *	the API. The body is kept in memory up to message_memory_limit,
 *	then spilled to an unlinked file of tmpdir and mapped for readers;
 *	a mapping a plugin may still hold stays until the message is freed,
 *	as do replaced strings (the graveyard).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "msgparts.h"
#include "session.h"

struct message *
message_new(void)
{
	struct message *m = xcalloc(1, sizeof(*m));

	m->body.fd = -1;
	return m;
}

/* Keep a replaced string until the message is freed. */
void
graveyard_add(struct message *m, char *p)
{
	m->graveyard = xrealloc(m->graveyard, (m->ngraveyard + 1) * sizeof(char *));
	m->graveyard[m->ngraveyard++] = p;
}

/* Keep a piece of the body, in memory up to memory_limit, then in an
   unlinked file of tmpdir; -1 when writing that file failed. */
int
message_body_append(struct message *m, const struct conf *c,
    const unsigned char *data, size_t len)
{
	struct body_buf *b = &m->body;
	int rc = 0;

	if (b->fd < 0 && b->mem.len + len > (size_t)c->memory_limit) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/modmilter-body.XXXXXX", c->tmpdir);
		b->fd = mkstemp(path);
		if (b->fd >= 0) {
			unlink(path);
			if (write(b->fd, b->mem.data, b->mem.len) != (ssize_t)b->mem.len) {
				close(b->fd);
				b->fd = -1;
			} else
				buf_free(&b->mem);
		}
		if (b->fd < 0)
			log_msg(MM_LOG_WARNING, m->qid, NULL,
			    "cannot spill body to %s; keeping it in memory", c->tmpdir);
	}
	if (b->fd >= 0) {
		if (write(b->fd, data, len) != (ssize_t)len)
			rc = -1;
	} else
		buf_add(&b->mem, data, len);
	b->len += len;
	return rc;
}

int
session_body_get(struct session *s, const unsigned char **data, size_t *len)
{
	struct body_buf *b = &s->m->body;

	if (s->m->newbody) {
		*data = s->m->newbody;
		*len = s->m->newbodylen;
		return 0;
	}
	if (!s->buffer_body)
		return -1;
	if (b->fd < 0) {
		*data = (const unsigned char *)(b->mem.data ? b->mem.data : "");
		*len = b->mem.len;
		return 0;
	}
	if (b->len > 0 && (b->map == NULL || b->maplen != b->len)) {
		/* the body grew since it was last mapped; the old mapping
		   stays (a plugin may hold it) until the message ends */
		void *p = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE, b->fd, 0);
		if (p == MAP_FAILED)
			return -1;
		if (b->map) {
			b->oldmaps = xrealloc(b->oldmaps, (b->noldmaps + 1) * sizeof(*b->oldmaps));
			b->oldmaps[b->noldmaps].p = b->map;
			b->oldmaps[b->noldmaps++].len = b->maplen;
		}
		b->map = p;
		b->maplen = b->len;
	}
	*data = b->map ? b->map : (const unsigned char *)"";
	*len = b->len;
	return 0;
}


void
message_free(struct message *m)
{
	free(m->qid);
	free(m->auth_user);
	free(m->from);
	if (m->from_argv)
		for (size_t i = 0; m->from_argv[i]; i++)
			free(m->from_argv[i]);
	free(m->from_argv);
	mm_strv_free(m->rcpts, m->nrcpts);
	for (size_t i = 0; i < m->nfacts; i++) {
		free(m->facts[i].key);
		free(m->facts[i].value);
	}
	free(m->facts);
	mm_strv_free(m->graveyard, m->ngraveyard);
	hdrlist_reset(&m->hdrs);
	buf_free(&m->body.mem);
	if (m->body.map)
		munmap(m->body.map, m->body.maplen);
	for (size_t i = 0; i < m->body.noldmaps; i++)
		munmap(m->body.oldmaps[i].p, m->body.oldmaps[i].len);
	free(m->body.oldmaps);
	if (m->body.fd >= 0)
		close(m->body.fd);
	free(m->newbody);
	free(m->chgfrom);
	free(m->chgfrom_args);
	mm_strv_free(m->addrcpt, m->naddrcpt);
	mm_strv_free(m->delrcpt, m->ndelrcpt);
	buf_free(&m->quarantine);
	mm_strv_free(m->authres, m->nauthres);
	buf_free(&m->monitor);
	mm_strv_free(m->results, m->nresults);
	free(m->decider);
	for (size_t i = 0; i < m->nrouts; i++)
		free((char *)m->routs[i].addr);
	free(m->routs);
	msgparts_free(m->parts);
	for (size_t i = 0; i < m->nparts_old; i++)
		msgparts_free(m->parts_old[i]);
	free(m->parts_old);
	free(m);
}
