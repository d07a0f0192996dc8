/*++
 * NAME
 *	bare-filter 1
 * SUMMARY
 *	minimal libmilter filter, baseline for modmilterd benchmarks
 * SYNOPSIS
 *	\fBbare-filter -p \fIsocket\fR [\fB-N\fR] [\fB-m\fR]
 * DESCRIPTION
 *	bare-filter does with plain libmilter what the "hello" plugin
 *	does inside modmilterd: at end of message it adds the header
 *	"X-Hello: world" and accepts the message. It negotiates away
 *	every event it does not use, keeping only MAIL and end of
 *	message, so that the difference between the two measures the
 *	cost of modmilterd and its plugin interface.
 *
 *	After opening the socket it sets TCP_NODELAY on it (inherited by
 *	accepted connections on Linux); \fB-N\fR leaves Nagle's
 *	algorithm on, to show what that costs.
 *
 *	\fB-m\fR receives the whole message as well: every header field
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
#include <unistd.h>
#include <libmilter/mfapi.h>

#include "nodelay.h"

static int whole_message;

static sfsistat bf_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			             unsigned long f2, unsigned long f3,
			             unsigned long *pf0, unsigned long *pf1,
			             unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx, (void) f2, (void) f3;
    if ((f0 & SMFIF_ADDHDRS) == 0)
	return (SMFIS_REJECT);
    *pf0 = SMFIF_ADDHDRS;
    *pf1 = f1 & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOHDRS
		 | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA);
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
    if (smfi_addheader(ctx, "X-Hello", "world") != MI_SUCCESS)
	return (SMFIS_TEMPFAIL);
    return (SMFIS_ACCEPT);
}

int     main(int argc, char **argv)
{
    struct smfiDesc desc = {
	.xxfi_name = "bare-filter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_envfrom = bf_envfrom,
	.xxfi_header = bf_header,
	.xxfi_body = bf_body,
	.xxfi_eom = bf_eom,
	.xxfi_negotiate = bf_negotiate,
    };
    char   *sock = NULL;
    char    err[256];
    int     nodelay = 1;
    int     ch;

    while ((ch = getopt(argc, argv, "p:Nm")) != -1) {
	if (ch == 'p')
	    sock = optarg;
	else if (ch == 'N')
	    nodelay = 0;
	else if (ch == 'm')
	    whole_message = 1;
	else
	    sock = NULL;
    }
    if (sock == NULL || optind < argc) {
	fprintf(stderr, "usage: bare-filter -p SOCKET [-N] [-m]\n");
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
