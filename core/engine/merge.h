/*
 * NAME
 *	merge - one verdict for a stage from many plugins
 * SYNOPSIS
 *	#include "merge.h"
 *
 *	struct merge m;
 *	merge_init(&m);
 *	merge_add(&m, plugin_index, verdict, &reply);	(in chain order)
 *	if (merge_decided(&m)) stop calling plugins;
 *	m.verdict, m.who, m.reply
 *	merge_free(&m);
 * DESCRIPTION
 *	The merge rules of DESIGN.md: the most severe verdict wins
 *	(DISCARD > REJECT > TEMPFAIL > CONTINUE); a tie goes to the earliest
 *	plugin, whose reply is kept. ACCEPT and SKIP are not stage verdicts:
 *	they change the plugin's own bookkeeping and count as CONTINUE here.
 *	Nothing can exceed DISCARD, so the stage is decided once one appears.
 */
#ifndef MM_MERGE_H
#define MM_MERGE_H

#include "reply.h"

struct merge {
	mm_verdict verdict;	/* MM_CONTINUE, MM_TEMPFAIL, MM_REJECT, MM_DISCARD */
	int who;		/* chain position of the deciding plugin, -1 */
	struct reply reply;	/* sanitized; text NULL for CONTINUE/DISCARD */
};

int verdict_severity(mm_verdict v);
const char *verdict_name(mm_verdict v);
void merge_init(struct merge *m);
/* reply may be NULL; it is sanitized for the verdict. */
void merge_add(struct merge *m, int who, mm_verdict v, const struct reply *r);
int merge_decided(const struct merge *m);
void merge_free(struct merge *m);

#endif
