/*
 * NAME
 *	srs-client - one SMTP transaction over the milter protocol, replies printed
 * SYNOPSIS
 *	srs-client SOCKET CLIENT-IP FROM RCPT...
 * DESCRIPTION
 *	Plays the MTA for tests/srs/protocol.sh: negotiates (every action
 *	and protocol step offered), then connect from CLIENT-IP, HELO,
 *	MAIL FROM, each RCPT TO, DATA, two headers, the body and end of
 *	message, and QUIT. A recipient refused by the filter is dropped, as
 *	the MTA would; when none is left the transaction is aborted after
 *	the last RCPT. Addresses are given with their angle brackets.
 *
 *	It prints each reply ("rcpt <x> reject 550 5.7.1 ...") and then
 *	the verdict and modifications of end of message, one per line
 *	(chgfrom, delrcpt, addrcpt ...), for the caller to grep.
 * DIAGNOSTICS
 *	Exit 1 after a protocol error or a broken connection, with the
 *	reason on stderr; 2 on a usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milterclient.h"

static MC_CONN *conn;

static int
show(const char *what, const char *arg, int rc)
{
	if (rc < 0) {
		fprintf(stderr, "srs-client: %s: %s\n", what, mc_error(conn));
		exit(1);
	}
	printf("%s%s%s %s", what, arg ? " " : "", arg ? arg : "", mc_code_name(rc));
	if (rc == MC_REPLYCODE)
		printf(" %s", mc_reply_text(conn));
	printf("\n");
	return rc;
}

/* A refusal: reject, tempfail, or a reply code that is not 2xx. */
static int
refused(int rc)
{
	return rc == MC_REJECT || rc == MC_TEMPFAIL || rc == MC_DISCARD ||
	    (rc == MC_REPLYCODE && mc_reply_text(conn)[0] != '2');
}

int
main(int argc, char **argv)
{
	const char *const conn_mac[] = { "j", "mx.corp.example", "{daemon_name}",
	    "MTA", NULL };
	const char *const mail_mac[] = { "i", "SRSTEST1", NULL };
	static const char body[] = "forwarded body\r\n";
	char err[256];
	const char *from[2] = { NULL, NULL }, *to[2] = { NULL, NULL };
	MC_RESULT r;
	int ok = 0, rc;

	if (argc < 5) {
		fprintf(stderr, "usage: srs-client SOCKET CLIENT-IP FROM RCPT...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((conn = mc_open(argv[1], 10000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "srs-client: %s\n", err);
		return 1;
	}
	if (mc_negotiate(conn, MC_ACT_ALL, MC_P_ALL) < 0)
		show("negotiate", NULL, -1);
	show("connect", NULL, mc_connect(conn, conn_mac, "client.example",
	    MC_FAM_INET, 40000, argv[2]));
	show("helo", NULL, mc_helo(conn, NULL, "client.example"));
	from[0] = argv[3];
	if (refused(show("mail", argv[3], mc_mail(conn, mail_mac, from)))) {
		mc_quit(conn);
		return 0;
	}
	for (int i = 4; i < argc; i++) {
		to[0] = argv[i];
		if (!refused(show("rcpt", argv[i], mc_rcpt(conn, NULL, to))))
			ok++;
	}
	if (ok == 0) {
		if (mc_abort(conn) < 0)
			show("abort", NULL, -1);
		printf("abort\n");
	} else if ((rc = show("data", NULL, mc_data(conn, NULL))) == MC_CONTINUE) {
		show("header", NULL, mc_header(conn, "From", " <a@example.net>"));
		show("header", NULL, mc_header(conn, "Subject", " srs"));
		show("eoh", NULL, mc_eoh(conn, NULL));
		show("body", NULL, mc_body(conn, body, strlen(body)));
		mc_result_init(&r);
		if (mc_eom(conn, NULL, &r) < 0)
			show("eom", NULL, -1);
		mc_result_print(stdout, &r);
		mc_result_free(&r);
	}
	/* anything else at DATA: the filter wants no more of this message */
	if (mc_quit(conn) < 0)
		show("quit", NULL, -1);
	mc_close(conn);
	return 0;
}
