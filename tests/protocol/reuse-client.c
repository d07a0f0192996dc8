/*
 * NAME
 *	reuse-client - one milter connection, several SMTP connections (QUIT_NC)
 * SYNOPSIS
 *	reuse-client SOCKET {CLIENT-IP | wait:FILE}... [hangup]
 * DESCRIPTION
 *	Plays an MTA that reuses its milter connection, as Postfix and
 *	Sendmail do: it negotiates once, then for each CLIENT-IP runs a
 *	whole SMTP connection (connect, HELO, MAIL, RCPT to
 *	good@example.com and bad@example.com, DATA, two headers, the body,
 *	end of message) and ends it with QUIT_NC, the last one with QUIT
 *	- or, with "hangup" last, with QUIT_NC, after which it closes the
 *	socket without a word, as an MTA that drops an idle connection.
 *	"wait:FILE" waits (up to 20 s) for FILE to exist before the next
 *	SMTP connection, so that a test can reload the daemon between two.
 *	An SMTP connection refused at connect ends there, as the MTA would
 *	end it.
 *	It prints every reply and the modifications at end of message, one
 *	per line, for the caller to compare (tests/protocol/reuse.sh).
 * DIAGNOSTICS
 *	Exit 1 after a protocol error or a broken connection, with the
 *	reason on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milterclient.h"

static MC_CONN *conn;

/* Print a stage's reply; give up on an error. */
static void
show(const char *what, int rc)
{
	if (rc < 0) {
		fprintf(stderr, "reuse-client: %s: %s\n", what, mc_error(conn));
		exit(1);
	}
	printf("%s %s", what, mc_code_name(rc));
	if (rc == MC_REPLYCODE)
		printf(" %s", mc_reply_text(conn));
	printf("\n");
}

static void
smtp_connection(int n, const char *ip)
{
	const char *const conn_mac[] = { "j", "mx.example.com", "{daemon_name}", "MTA", NULL };
	char qid[32];
	const char *const mail_mac[] = { "i", qid, NULL };
	const char *const from[] = { "<a@example.net>", NULL };
	const char *const good[] = { "<good@example.com>", NULL };
	const char *const bad[] = { "<bad@example.com>", NULL };
	static const char body[] = "hello\r\n";
	MC_RESULT r;
	int rc;

	snprintf(qid, sizeof(qid), "REUSE%d", n);
	printf("smtp %d from %s\n", n, ip);
	rc = mc_connect(conn, conn_mac, "client.example", MC_FAM_INET, 40000, ip);
	show("connect", rc);
	if (rc != MC_CONTINUE)
		return;
	show("helo", mc_helo(conn, NULL, "client.example"));
	show("mail", mc_mail(conn, mail_mac, from));
	show("rcpt good", mc_rcpt(conn, NULL, good));
	show("rcpt bad", mc_rcpt(conn, NULL, bad));
	show("data", mc_data(conn, NULL));
	show("header", mc_header(conn, "From", " <a@example.net>"));
	show("header", mc_header(conn, "Subject", " reuse"));
	show("eoh", mc_eoh(conn, NULL));
	show("body", mc_body(conn, body, strlen(body)));
	mc_result_init(&r);
	if (mc_eom(conn, NULL, &r) < 0)
		show("eom", -1);
	mc_result_print(stdout, &r);
	mc_result_free(&r);
}

static void
wait_for(const char *path)
{
	for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
		usleep(100 * 1000);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc < 3) {
		fprintf(stderr, "usage: reuse-client SOCKET CLIENT-IP...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((conn = mc_open(argv[1], 10000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "reuse-client: %s\n", err);
		return 1;
	}
	if (mc_negotiate(conn, MC_ACT_ALL, MC_P_ALL) < 0)
		show("negotiate", -1);
	for (int i = 2, n = 1; i < argc; i++) {
		if (strncmp(argv[i], "wait:", 5) == 0) {
			wait_for(argv[i] + 5);
			continue;
		}
		if (strcmp(argv[i], "hangup") == 0) {
			printf("hangup\n");
			mc_close(conn);
			return 0;
		}
		smtp_connection(n++, argv[i]);
		if (i + 1 < argc) {
			if (mc_quit_nc(conn) < 0)
				show("quit_nc", -1);
			printf("quit_nc\n");
		}
	}
	if (mc_quit(conn) < 0)
		show("quit", -1);
	printf("quit\n");
	mc_close(conn);
	return 0;
}
