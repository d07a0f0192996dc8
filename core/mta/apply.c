/*
 * NAME
 *	apply - an accepted message's modifications, as libmilter calls
 * SYNOPSIS
 *	#include "apply.h"
 *
 *	if (milter_apply(ctx, qid, &eom) < 0) ... (tempfail the message)
 * DESCRIPTION
 *	In the order the engine hands them over (DESIGN.md): sender change,
 *	recipients deleted, recipients added, the header edit script, the
 *	new body (in pieces of at most 64 KiB), quarantine. Addresses are
 *	given to libmilter in angle brackets (the null sender is <>).
 *	Header insertions count the Received: header the MTA adds itself.
 * DIAGNOSTICS
 *	Stops at the first call the MTA refuses, logs which kind it was and
 *	returns -1; the MTA then drops every modification of the message.
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "log.h"

/* An address in angle brackets, in buf (BRACKETED bytes) when it fits,
   else in *heap, which the caller frees. */
#define BRACKETED	512
static char *
bracket(char *buf, const char *addr, char **heap)
{
	size_t n = strlen(addr);

	if (n + 3 > BRACKETED)
		return *heap = xasprintf("<%s>", addr);
	buf[0] = '<';
	memcpy(buf + 1, addr, n);
	buf[n + 1] = '>';
	buf[n + 2] = 0;
	return buf;
}

int
milter_apply(SMFICTX *ctx, const char *qid, const struct eom_out *e)
{
	const char *step = NULL;
	char buf[BRACKETED], *heap = NULL;

	/* libmilter refuses an empty string: the null sender is <> */
	if (e->chgfrom && smfi_chgfrom(ctx, bracket(buf, e->chgfrom, &heap),
	    e->chgfrom_args) != MI_SUCCESS)
		step = "change sender";
	for (size_t i = 0; !step && i < e->ndelrcpt; i++) {
		free(heap);
		heap = NULL;
		if (smfi_delrcpt(ctx, bracket(buf, e->delrcpt[i], &heap)) != MI_SUCCESS)
			step = "delete recipient";
	}
	for (size_t i = 0; !step && i < e->naddrcpt; i++) {
		free(heap);
		heap = NULL;
		if (smfi_addrcpt(ctx, bracket(buf, e->addrcpt[i], &heap)) != MI_SUCCESS)
			step = "add recipient";
	}
	free(heap);
	for (size_t i = 0; !step && i < e->nhdrops; i++) {
		const struct hdrop *op = &e->hdrops[i];
		int r;
		switch (op->kind) {
		case HDROP_CHANGE:
		case HDROP_DELETE:
			r = smfi_chgheader(ctx, (char *)op->name, (int)op->index,
			    (char *)op->value);
			break;
		case HDROP_INSERT:
			/* Postfix and Sendmail count the Received: header they
			   add themselves, which the filter never saw: position
			   k below the top is k + 1 for them */
			r = smfi_insheader(ctx, (int)(op->index ? op->index + 1 : 0),
			    (char *)op->name, (char *)op->value);
			break;
		default:
			r = smfi_addheader(ctx, (char *)op->name, (char *)op->value);
			break;
		}
		if (r != MI_SUCCESS)
			step = "edit headers";
	}
	if (!step && e->body) {
		size_t off = 0;
		do {
			size_t n = e->bodylen - off > 65535 ? 65535 : e->bodylen - off;
			if (smfi_replacebody(ctx, (unsigned char *)e->body + off, (int)n) != MI_SUCCESS)
				step = "replace body";
			off += n;
		} while (!step && off < e->bodylen);
	}
	if (!step && e->quarantine && smfi_quarantine(ctx, e->quarantine) != MI_SUCCESS)
		step = "quarantine";
	if (step) {
		log_msg(MM_LOG_ERR, qid, NULL,
		    "the MTA refused to %s", step);
		return -1;
	}
	return 0;
}
