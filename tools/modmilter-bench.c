/*++
 * NAME
 *	modmilter-bench 1
 * SUMMARY
 *	milter throughput and latency benchmark
 * SYNOPSIS
 *	\fBmodmilter-bench -s \fIsocket\fR [\fB-c \fIconcurrency\fR]
 *		[\fB-n \fIcount\fR] [\fB--warmup \fIcount\fR]
 *		[\fB-f \fIsender\fR] [\fB-r \fIrecipient\fR]
 *		[\fB-t \fIseconds\fR] [\fB--json\fR] \fImessage.eml\fR...
 * DESCRIPTION
 *	modmilter-bench plays the MTA against a mail filter, the way
 *	Postfix does: one milter connection per message, with option
 *	negotiation, the connect, HELO, MAIL, RCPT and DATA events,
 *	the headers, end of headers, the body and end of message, then
 *	QUIT. It sends \fIcount\fR messages (default 1000), cycling over
 *	the given files, from \fIconcurrency\fR threads (default 8).
 *	Before that it sends \fB--warmup\fR messages (default 50) that
 *	are not counted.
 *
 *	Each file holds one RFC 5322 message. Its headers are sent one
 *	event each, folded values keeping their line breaks as newline
 *	plus continuation whitespace, and one space after the colon
 *	removed unless the filter negotiated SMFIP_HDR_LEADSPC. The body
 *	is sent with CRLF line endings.
 *
 *	The client is 192.0.2.1 (client.example.com); the macros are
 *	those Postfix sends by default for an unauthenticated client:
 *	\fBj\fR, \fB{daemon_name}\fR, \fB{daemon_addr}\fR, \fBv\fR and
 *	\fB_\fR at connect, \fBi\fR (a queue id unique to the message)
 *	and \fB{mail_addr}\fR at MAIL, \fBi\fR and \fB{rcpt_addr}\fR at
 *	RCPT, and \fBi\fR at DATA, end of headers and end of message.
 *	No \fB{auth_*}\fR macros are sent.
 *
 *	Latency is measured per message from opening the connection to
 *	the final reply. The report gives the number of messages, the
 *	elapsed time, messages per second, the 50th, 90th and 99th
 *	percentile and maximum latency in milliseconds, the count of
 *	each final verdict and of each modification request, and the
 *	number of errors.
 *
 *	Options:
 * .IP "\fB-s \fIsocket\fR"
 *	The filter socket, in libmilter syntax: \fBinet:\fIport\fB@\fIhost\fR,
 *	\fBinet6:\fIport\fB@\fIhost\fR, \fBunix:\fIpath\fR.
 * .IP "\fB-c \fIconcurrency\fR"
 *	Number of concurrent connections (threads).
 * .IP "\fB-n \fIcount\fR"
 *	Number of messages measured.
 * .IP "\fB--warmup \fIcount\fR"
 *	Number of messages sent first and not measured.
 * .IP "\fB-f \fIsender\fR, \fB-r \fIrecipient\fR"
 *	Envelope addresses.
 * .IP "\fB-t \fIseconds\fR"
 *	Connect and per-reply timeout (default 10).
 * .IP \fB--json\fR
 *	Print the report as one JSON object.
 * DIAGNOSTICS
 *	Per-message errors (connect failures, timeouts, protocol
 *	violations) are counted and the first one is reported. The exit
 *	status is 0 without errors, 1 when any message, warmup included,
 *	ended in an error, and 2 for usage or setup problems.
 * SEE ALSO
 *	milterclient(3), the protocol client
 *--*/

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <modmilter/alloc.h>
#include <modmilter/clock.h>

#include "milterclient.h"

#define CLIENT_NAME	"client.example.com"
#define CLIENT_ADDR	"192.0.2.1"
#define SERVER_NAME	"mx.example.org"
#define SERVER_ADDR	"192.0.2.25"

typedef struct HDR {
    char   *name;
    char   *value;			/* text after the colon, folds as \n */
} HDR;

typedef struct MSG {
    const char *path;
    HDR    *hdrs;
    size_t  nhdrs;
    char   *body;			/* CRLF line endings */
    size_t  blen;
} MSG;

typedef struct STATS {
    long    verdicts[256];
    long    mods[256];
    long    errors;
} STATS;

typedef struct WORKER {
    pthread_t tid;
    STATS   st;
} WORKER;

static const char *opt_socket;
static const char *opt_from = "sender@example.org";
static const char *opt_rcpt = "recipient@example.net";
static int opt_timeout = 10000;

static MSG *msgs;
static size_t nmsgs;

static atomic_long next_msg;		/* next message index in this phase */
static long phase_total;		/* messages in this phase */
static double *latency;			/* ms per message, < 0 after an error */
static atomic_ulong queue_seq;

static const char *phase = "message";	/* for error messages */
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[512];

/* add_body_line - append a line and CRLF */

static void add_body_line(MSG *m, const char *line, size_t len, size_t *cap)
{
    if (m->blen + len + 2 > *cap) {
	while (m->blen + len + 2 > *cap)
	    *cap = *cap ? 2 * *cap : 8192;
	m->body = mm_xrealloc(m->body, *cap);
    }
    memcpy(m->body + m->blen, line, len);
    memcpy(m->body + m->blen + len, "\r\n", 2);
    m->blen += len + 2;
}

/* load_message - read and split one message file */

static int load_message(const char *path, MSG *m)
{
    FILE   *fp;
    char   *text = NULL;
    size_t  len = 0;
    size_t  cap = 0;
    size_t  n;
    size_t  bcap = 0;
    char   *line;
    char   *end;
    char   *colon;
    size_t  llen;
    size_t  nlen;
    int     in_header = 1;
    HDR    *h;

    memset(m, 0, sizeof(*m));
    m->path = path;
    if ((fp = fopen(path, "r")) == NULL) {
	fprintf(stderr, "modmilter-bench: %s: %s\n", path, strerror(errno));
	return (-1);
    }
    do {
	if (len + 65536 > cap)
	    text = mm_xrealloc(text, cap = len + 65536 + 1);
	n = fread(text + len, 1, cap - len - 1, fp);
	len += n;
    } while (n > 0);
    if (ferror(fp)) {
	fprintf(stderr, "modmilter-bench: %s: read error\n", path);
	fclose(fp);
	free(text);
	return (-1);
    }
    fclose(fp);
    text[len] = 0;

    for (line = text; line < text + len; line = end + 1) {
	if ((end = memchr(line, '\n', text + len - line)) == NULL)
	    end = text + len;
	llen = end - line;
	if (llen > 0 && line[llen - 1] == '\r')
	    llen--;
	if (in_header) {
	    /* An mbox separator is not part of the message. */
	    if (line == text && llen >= 5 && strncmp(line, "From ", 5) == 0)
		continue;
	    if (llen == 0) {
		in_header = 0;
		continue;
	    }
	    if ((line[0] == ' ' || line[0] == '\t') && m->nhdrs > 0) {
		h = m->hdrs + m->nhdrs - 1;
		n = strlen(h->value);
		h->value = mm_xrealloc(h->value, n + 1 + llen + 1);
		h->value[n] = '\n';
		memcpy(h->value + n + 1, line, llen);
		h->value[n + 1 + llen] = 0;
		continue;
	    }
	    colon = memchr(line, ':', llen);
	    for (nlen = colon ? (size_t) (colon - line) : 0;
		 nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t');
		 nlen--)
		 /* void */ ;
	    if (nlen == 0 || memchr(line, ' ', nlen) || memchr(line, '\t', nlen)) {
		/* Not a header: the body starts here, as in Postfix. */
		in_header = 0;
	    } else {
		m->hdrs = mm_xrealloc(m->hdrs, (m->nhdrs + 1) * sizeof(*m->hdrs));
		h = m->hdrs + m->nhdrs++;
		h->name = mm_xstrndup(line, nlen);
		h->value = mm_xstrndup(colon + 1, line + llen - colon - 1);
		continue;
	    }
	}
	add_body_line(m, line, llen, &bcap);
    }
    free(text);
    if (m->nhdrs == 0) {
	fprintf(stderr, "modmilter-bench: %s: no message headers\n", path);
	return (-1);
    }
    return (0);
}

/* note_error - count an error and keep the first message */

static void note_error(STATS *st, long idx, const char *what, const char *why)
{
    st->errors++;
    pthread_mutex_lock(&err_lock);
    if (first_error[0] == 0)
	snprintf(first_error, sizeof(first_error), "%s %ld (%s): %s: %s",
		 phase, idx, msgs[idx % nmsgs].path, what, why);
    pthread_mutex_unlock(&err_lock);
}

/* one_message - one milter session for one message */

static void one_message(long idx, STATS *st)
{
    MSG    *m = msgs + idx % nmsgs;
    MC_CONN *c;
    MC_RESULT res;
    char    err[256];
    char    qid[32];
    char    from[512];
    char    rcpt[512];
    const char *conn_mac[] = {
	"j", SERVER_NAME,
	"{daemon_name}", SERVER_NAME,
	"{daemon_addr}", SERVER_ADDR,
	"v", "modmilter-bench",
	"_", CLIENT_NAME " [" CLIENT_ADDR "]",
	NULL,
    };
    const char *mail_mac[] = {"i", qid, "{mail_addr}", opt_from, NULL};
    const char *rcpt_mac[] = {"i", qid, "{rcpt_addr}", opt_rcpt, NULL};
    const char *qid_mac[] = {"i", qid, NULL};
    const char *mail_args[] = {from, NULL};
    const char *rcpt_args[] = {rcpt, NULL};
    const char *what;
    size_t  i;
    double  t0;
    int     rc;

    snprintf(qid, sizeof(qid), "%04X%08lX", (unsigned) getpid() & 0xFFFF,
	     (unsigned long) atomic_fetch_add(&queue_seq, 1) & 0xFFFFFFFFUL);
    snprintf(from, sizeof(from), "<%s>", opt_from);
    snprintf(rcpt, sizeof(rcpt), "<%s>", opt_rcpt);
    latency[idx] = -1;

    t0 = mm_clock_mono();
    if ((c = mc_open(opt_socket, opt_timeout, err, sizeof(err))) == NULL) {
	note_error(st, idx, "connect", err);
	return;
    }
    mc_result_init(&res);
    what = "negotiate";
    if (mc_negotiate(c, MC_ACT_ALL, MC_P_ALL) < 0)
	goto error;
    what = "connect";
    rc = mc_connect(c, conn_mac, CLIENT_NAME, MC_FAM_INET,
		    (unsigned) (1024 + idx % 64000), CLIENT_ADDR);
    if (rc != MC_CONTINUE)
	goto early;
    what = "helo";
    if ((rc = mc_helo(c, NULL, CLIENT_NAME)) != MC_CONTINUE)
	goto early;
    what = "mail";
    if ((rc = mc_mail(c, mail_mac, mail_args)) != MC_CONTINUE)
	goto early;
    what = "rcpt";
    if ((rc = mc_rcpt(c, rcpt_mac, rcpt_args)) != MC_CONTINUE)
	goto early;
    what = "data";
    if ((rc = mc_data(c, qid_mac)) != MC_CONTINUE)
	goto early;
    what = "header";
    for (i = 0; i < m->nhdrs; i++)
	if ((rc = mc_header(c, m->hdrs[i].name, m->hdrs[i].value)) != MC_CONTINUE)
	    goto early;
    what = "eoh";
    if ((rc = mc_eoh(c, qid_mac)) != MC_CONTINUE)
	goto early;
    what = "body";
    if ((rc = mc_body(c, m->body, m->blen)) != MC_CONTINUE && rc != MC_SKIP)
	goto early;
    what = "eom";
    if ((rc = mc_eom(c, qid_mac, &res)) < 0)
	goto error;
    latency[idx] = (mm_clock_mono() - t0) * 1000.0;
    st->verdicts[rc & 0xFF]++;
    for (i = 0; i < res.nmods; i++)
	st->mods[res.mods[i].kind & 0xFF]++;
    what = "quit";
    if (mc_quit(c) < 0)
	goto error;
    goto done;

early:
    /* A verdict before the end of message ends the transaction. */
    if (rc < 0)
	goto error;
    latency[idx] = (mm_clock_mono() - t0) * 1000.0;
    st->verdicts[rc & 0xFF]++;
    what = "quit";
    if (mc_abort(c) < 0 || mc_quit(c) < 0)
	goto error;
    goto done;

error:
    latency[idx] = -1;
    note_error(st, idx, what, mc_error(c));
done:
    mc_result_free(&res);
    mc_close(c);
}

static void *worker(void *arg)
{
    WORKER *w = arg;
    long    idx;

    while ((idx = atomic_fetch_add(&next_msg, 1)) < phase_total)
	one_message(idx, &w->st);
    return (NULL);
}

/* run_phase - send count messages from conc threads, merge statistics */

static double run_phase(long count, int conc, STATS *total)
{
    WORKER *w = mm_xrealloc(NULL, conc * sizeof(*w));
    double  t0;
    int     i;
    int     j;
    int     err;

    memset(w, 0, conc * sizeof(*w));
    memset(total, 0, sizeof(*total));
    atomic_store(&next_msg, 0);
    phase_total = count;
    t0 = mm_clock_mono();
    for (i = 0; i < conc; i++) {
	if ((err = pthread_create(&w[i].tid, NULL, worker, w + i)) != 0) {
	    fprintf(stderr, "modmilter-bench: pthread_create: %s\n", strerror(err));
	    exit(2);
	}
    }
    for (i = 0; i < conc; i++) {
	pthread_join(w[i].tid, NULL);
	for (j = 0; j < 256; j++) {
	    total->verdicts[j] += w[i].st.verdicts[j];
	    total->mods[j] += w[i].st.mods[j];
	}
	total->errors += w[i].st.errors;
    }
    t0 = mm_clock_mono() - t0;
    free(w);
    return (t0);
}

static int cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a;
    double  y = *(const double *) b;

    return ((x > y) - (x < y));
}

/* pct - nearest-rank percentile of a sorted array */

static double pct(const double *v, size_t n, unsigned p)
{
    size_t  rank = (p * n + 99) / 100;

    return (v[rank > 0 ? rank - 1 : 0]);
}

/* json_str - print a JSON string */

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
	if (*s == '"' || *s == '\\')
	    printf("\\%c", *s);
	else if ((unsigned char) *s < 0x20)
	    printf("\\u%04x", (unsigned char) *s);
	else
	    putchar(*s);
    }
    putchar('"');
}

/* print_counts - verdict or modification counts, text or JSON */

static void print_counts(const long *counts, int json)
{
    int     i;
    int     first = 1;

    if (json)
	putchar('{');
    for (i = 0; i < 256; i++) {
	if (counts[i] == 0)
	    continue;
	if (json) {
	    printf("%s", first ? "" : ",");
	    json_str(mc_code_name(i));
	    printf(":%ld", counts[i]);
	} else {
	    printf(" %s %ld", mc_code_name(i), counts[i]);
	}
	first = 0;
    }
    if (json)
	putchar('}');
    else
	printf("%s\n", first ? " none" : "");
}

static void usage(void)
{
    fprintf(stderr,
	    "usage: modmilter-bench -s SOCKET [-c CONCURRENCY] [-n N]"
	    " [--warmup K]\n"
	    "       [-f FROM] [-r RCPT] [-t SECONDS] [--json] MESSAGE.eml...\n");
    exit(2);
}

static long num_arg(const char *s, long min, long max, const char *what)
{
    char   *end;
    long    v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
	fprintf(stderr, "modmilter-bench: bad %s: %s\n", what, s);
	exit(2);
    }
    return (v);
}

int     main(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'J'},
	{"warmup", required_argument, NULL, 'W'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
    };
    long    count = 1000;
    long    warmup = 50;
    int     conc = 8;
    int     json = 0;
    STATS   st;
    STATS   wst;
    double  secs;
    double *ok;
    size_t  nok = 0;
    long    i;
    int     ch;

    while ((ch = getopt_long(argc, argv, "s:c:n:f:r:t:h", longopts, NULL)) != -1) {
	switch (ch) {
	case 's': opt_socket = optarg; break;
	case 'c': conc = (int) num_arg(optarg, 1, 10000, "concurrency"); break;
	case 'n': count = num_arg(optarg, 1, LONG_MAX / 2, "message count"); break;
	case 'f': opt_from = optarg; break;
	case 'r': opt_rcpt = optarg; break;
	case 't': opt_timeout = (int) num_arg(optarg, 1, 86400, "timeout") * 1000; break;
	case 'J': json = 1; break;
	case 'W': warmup = num_arg(optarg, 0, LONG_MAX / 2, "warmup count"); break;
	default: usage();
	}
    }
    if (opt_socket == NULL || optind >= argc)
	usage();
    nmsgs = argc - optind;
    msgs = mm_xrealloc(NULL, nmsgs * sizeof(*msgs));
    for (i = 0; i < (long) nmsgs; i++)
	if (load_message(argv[optind + i], msgs + i) < 0)
	    exit(2);

    latency = mm_xrealloc(NULL, (count > warmup ? count : warmup) * sizeof(double));
    memset(&wst, 0, sizeof(wst));
    if (warmup > 0) {
	phase = "warmup message";
	(void) run_phase(warmup, conc, &wst);
	phase = "message";
    }
    secs = run_phase(count, conc, &st);

    ok = mm_xrealloc(NULL, count * sizeof(double));
    for (i = 0; i < count; i++)
	if (latency[i] >= 0)
	    ok[nok++] = latency[i];
    qsort(ok, nok, sizeof(double), cmp_double);

    if (json) {
	printf("{\"socket\":");
	json_str(opt_socket);
	printf(",\"concurrency\":%d,\"warmup\":%ld,\"messages\":%ld,"
	       "\"seconds\":%.3f,\"messages_per_second\":%.1f,\"latency_ms\":",
	       conc, warmup, count, secs, count / secs);
	if (nok > 0)
	    printf("{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
		   pct(ok, nok, 50), pct(ok, nok, 90), pct(ok, nok, 99),
		   ok[nok - 1]);
	else
	    printf("null");
	printf(",\"verdicts\":");
	print_counts(st.verdicts, 1);
	printf(",\"modifications\":");
	print_counts(st.mods, 1);
	printf(",\"errors\":%ld,\"warmup_errors\":%ld", st.errors, wst.errors);
	if (first_error[0]) {
	    printf(",\"first_error\":");
	    json_str(first_error);
	}
	printf("}\n");
    } else {
	printf("socket:        %s\n", opt_socket);
	printf("concurrency:   %d (warmup %ld messages)\n", conc, warmup);
	printf("messages:      %ld\n", count);
	printf("seconds:       %.3f\n", secs);
	printf("messages/s:    %.1f\n", count / secs);
	if (nok > 0)
	    printf("latency ms:    p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
		   pct(ok, nok, 50), pct(ok, nok, 90), pct(ok, nok, 99),
		   ok[nok - 1]);
	else
	    printf("latency ms:    none (no message completed)\n");
	printf("verdicts:     ");
	print_counts(st.verdicts, 0);
	printf("modifications:");
	print_counts(st.mods, 0);
	printf("errors:        %ld", st.errors);
	if (wst.errors)
	    printf(" (and %ld during warmup)", wst.errors);
	printf("\n");
	if (first_error[0])
	    printf("first error:   %s\n", first_error);
    }
    free(ok);
    return (st.errors || wst.errors ? 1 : 0);
}
