/*
 * NAME
 *	merge - one verdict for a stage from many plugins
 * DESCRIPTION
 *	See merge.h.
 */
#include "config.h"

#include <string.h>

#include "merge.h"

int
verdict_severity(mm_verdict v)
{
	switch (v) {
	case MM_TEMPFAIL:
		return 1;
	case MM_REJECT:
		return 2;
	case MM_DISCARD:
		return 3;
	default:
		return 0;
	}
}

const char *
verdict_name(mm_verdict v)
{
	static const char *const names[] = {
		"continue", "accept", "reject", "tempfail", "discard", "skip", "error"
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "invalid";
}

void
merge_init(struct merge *m)
{
	memset(m, 0, sizeof(*m));
	m->verdict = MM_CONTINUE;
	m->who = -1;
}

void
merge_add(struct merge *m, int who, mm_verdict v, const struct reply *r)
{
	if (verdict_severity(v) <= verdict_severity(m->verdict))
		return;
	reply_free(&m->reply);
	m->verdict = v;
	m->who = who;
	if (v == MM_REJECT || v == MM_TEMPFAIL)
		reply_make(&m->reply, v, r ? r->rcode : NULL, r ? r->xcode : NULL,
		    r ? r->text : NULL);
}

int
merge_decided(const struct merge *m)
{
	return m->verdict == MM_DISCARD;
}

void
merge_free(struct merge *m)
{
	reply_free(&m->reply);
}
