/*++
 * NAME
 *	bare-filter 1
 * SUMMARY
 *	minimal libmilter filter, baseline for modmilterd benchmarks
 * SYNOPSIS
 *	\fBbare-filter -p \fIsocket\fR [\fB-N\fR] [\fB-m \fImode\fR] [\fB-M\fR]
 * DESCRIPTION
 *	bare-filter does with plain libmilter what the "hello" plugin
 *	does inside modmilterd: at end of message it adds the header
 *	"X-Hello: world" and accepts the message. It negotiates away
 *	every event it does not use, keeping only MAIL and end of
 *	message, so that the difference between the two measures the
 *	cost of modmilterd and its plugin interface.
 *
 *	\fB-m\fR adds the protocol work that a filter rewriting the
 *	envelope does (the srs plugin's loads, tests/srs/bench.sh), to
 *	measure the floor of any libmilter filter doing it:
 * .IP \fBrcpt-nr\fR
 *	RCPT is sent by the MTA but not answered (SMFIP_NR_RCPT), as
 *	modmilterd negotiates it when no plugin of the chain hooks RCPT;
 * .IP \fBrcpt\fR
 *	RCPT is negotiated with a reply, each recipient answered with
 *	continue;
 * .IP \fBchgfrom\fR
 *	as rcpt, and at end of message one CHGFROM to an address as long
 *	as an SRS0 one (smfi_chgfrom);
 * .IP \fBrcpt-swap\fR
 *	as rcpt, and at end of message the first recipient deleted and
 *	another added (smfi_delrcpt, smfi_addrcpt), as an SRS reversal.
 * .PP
 *	The X-Hello header is added in every mode.
 *
 *	After opening the socket it sets TCP_NODELAY on it (inherited by
 *	accepted connections on Linux); \fB-N\fR leaves Nagle's
 *	algorithm on, to show what that costs.
 *
 *	\fB-M\fR receives the whole message as well: every header field
 *	and body chunk is handed to a callback that does nothing, and
 *	neither gets a reply (SMFIP_NR_HDR, SMFIP_NR_BODY), as a content
 *	filter that reads and keeps nothing. The difference to the
 *	default measures libmilter's own cost of reading a message, one
 *	milter command per header field and body chunk: the floor of any
 *	libmilter content filter.
 * DIAGNOSTICS
 *	Problems are reported on the standard error; the exit status is
 *	non-zero when the socket cannot be opened.
 *--*/

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmilter/mfapi.h>

#include "nodelay.h"

#define MODE_HELLO	0
#define MODE_RCPT	1
#define MODE_CHGFROM	2
#define MODE_SWAP	3
#define MODE_RCPT_NR	4

static int mode = MODE_HELLO;
static int whole_message;

static sfsistat bf_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			             unsigned long f2, unsigned long f3,
			             unsigned long *pf0, unsigned long *pf1,
			             unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want = SMFIF_ADDHDRS;

    (void) ctx, (void) f2, (void) f3;
    if (mode == MODE_CHGFROM)
	want |= SMFIF_CHGFROM;
    else if (mode == MODE_SWAP)
	want |= SMFIF_ADDRCPT | SMFIF_DELRCPT;
    if ((f0 & want) != want)
	return (SMFIS_REJECT);
    *pf0 = want;
    *pf1 = f1 & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOHDRS
		 | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA
		 | (mode == MODE_HELLO ? SMFIP_NORCPT : 0)
		 | (mode == MODE_RCPT_NR ? SMFIP_NR_RCPT : 0));
    if (mode == MODE_RCPT_NR && (*pf1 & SMFIP_NR_RCPT) == 0)
	return (SMFIS_REJECT);
    if (whole_message) {
	if ((f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY)) != (SMFIP_NR_HDR | SMFIP_NR_BODY))
	    return (SMFIS_REJECT);
	*pf1 &= ~(SMFIP_NOHDRS | SMFIP_NOBODY);
	*pf1 |= SMFIP_NR_HDR | SMFIP_NR_BODY;
    }
    *pf2 = *pf3 = 0;
    return (SMFIS_CONTINUE);
}

static sfsistat bf_envfrom(SMFICTX *ctx, char **argv)
{
    (void) ctx, (void) argv;
    return (SMFIS_CONTINUE);
}

/* rcpt-swap: the first recipient, in the connection's private data */
static sfsistat bf_envrcpt(SMFICTX *ctx, char **argv)
{
    char   *r;

    if (mode == MODE_RCPT_NR)
	return (SMFIS_NOREPLY);
    if (mode == MODE_SWAP && smfi_getpriv(ctx) == NULL) {
	if ((r = strdup(argv[0])) == NULL)
	    return (SMFIS_TEMPFAIL);
	smfi_setpriv(ctx, r);
    }
    return (SMFIS_CONTINUE);
}

static void bf_forget(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
}

static sfsistat bf_header(SMFICTX *ctx, char *name, char *value)
{
    (void) ctx, (void) name, (void) value;
    return (SMFIS_NOREPLY);
}

static sfsistat bf_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    (void) ctx, (void) data, (void) len;
    return (SMFIS_NOREPLY);
}

static sfsistat bf_eom(SMFICTX *ctx)
{
    char   *r = smfi_getpriv(ctx);
    int     ok = 1;

    if (mode == MODE_CHGFROM)
	ok = smfi_chgfrom(ctx, "<SRS0=HHHHHHHH=TT=example.net=alice@corp.example>",
			  NULL) == MI_SUCCESS;
    else if (mode == MODE_SWAP && r != NULL)
	ok = smfi_delrcpt(ctx, r) == MI_SUCCESS
	    && smfi_addrcpt(ctx, "<alice@example.net>") == MI_SUCCESS;
    bf_forget(ctx);
    if (!ok || smfi_addheader(ctx, "X-Hello", "world") != MI_SUCCESS)
	return (SMFIS_TEMPFAIL);
    return (SMFIS_ACCEPT);
}

static sfsistat bf_abort(SMFICTX *ctx)
{
    bf_forget(ctx);
    return (SMFIS_CONTINUE);
}

static sfsistat bf_close(SMFICTX *ctx)
{
    bf_forget(ctx);
    return (SMFIS_CONTINUE);
}

int     main(int argc, char **argv)
{
    struct smfiDesc desc = {
	.xxfi_name = "bare-filter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT,
	.xxfi_envfrom = bf_envfrom,
	.xxfi_envrcpt = bf_envrcpt,
	.xxfi_header = bf_header,
	.xxfi_body = bf_body,
	.xxfi_eom = bf_eom,
	.xxfi_abort = bf_abort,
	.xxfi_close = bf_close,
	.xxfi_negotiate = bf_negotiate,
    };
    char   *sock = NULL;
    char    err[256];
    int     nodelay = 1;
    int     ch;

    while ((ch = getopt(argc, argv, "p:Nm:M")) != -1) {
	if (ch == 'p')
	    sock = optarg;
	else if (ch == 'N')
	    nodelay = 0;
	else if (ch == 'm' && strcmp(optarg, "hello") == 0)
	    mode = MODE_HELLO;
	else if (ch == 'm' && strcmp(optarg, "rcpt-nr") == 0)
	    mode = MODE_RCPT_NR;
	else if (ch == 'm' && strcmp(optarg, "rcpt") == 0)
	    mode = MODE_RCPT;
	else if (ch == 'm' && strcmp(optarg, "chgfrom") == 0)
	    mode = MODE_CHGFROM;
	else if (ch == 'm' && strcmp(optarg, "rcpt-swap") == 0)
	    mode = MODE_SWAP;
	else if (ch == 'M')
	    whole_message = 1;
	else
	    sock = NULL;
    }
    if (sock == NULL || optind < argc) {
	fprintf(stderr, "usage: bare-filter -p SOCKET [-N] "
		"[-m hello|rcpt-nr|rcpt|chgfrom|rcpt-swap] [-M]\n");
	return (2);
    }
    if (smfi_setconn(sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	|| smfi_opensocket(true) != MI_SUCCESS) {
	fprintf(stderr, "bare-filter: cannot open %s\n", sock);
	return (1);
    }
    if (nodelay && mm_listen_nodelay(err, sizeof(err)) < 0)
	fprintf(stderr, "bare-filter: %s\n", err);
    return (smfi_main() == MI_SUCCESS ? 0 : 1);
}
