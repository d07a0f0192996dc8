/*
 * NAME
 *	modmilter-test - replay a message through a configured chain, no MTA
 * SYNOPSIS
 *	modmilter-test -c FILE [--from A] [--rcpt B]... [--client-ip IP]
 *	    [--client-host H] [--helo H] [--auth USER] [--daemon NAME]
 *	    [--plugin-dir DIR] [--json] [--verbose] MESSAGE.eml
 * DESCRIPTION
 *	Loads the configuration exactly as modmilterd does, then plays one
 *	SMTP session in-process through the session engine: connect, HELO,
 *	MAIL, each RCPT, DATA, the headers, the body, end of message. It
 *	prints each stage that did not simply continue, the merged verdict
 *	with its reply, and the actions the MTA would be asked for.
 *	Exit status: 0 accepted (with or without changes), 1 usage or
 *	configuration error, 2 rejected, 3 tempfailed, 4 discarded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eml.h"
#include "log.h"
#include "session.h"

struct opts {
	const char *from, *client_ip, *client_host, *helo, *auth, *daemon;
	const char **rcpts;
	size_t nrcpts;
	int json;
};

static struct opts o;
static char qid[] = "TEST0001";

static const char *
t_macro(void *b, const char *name)
{
	(void)b;
	if (strcmp(name, "i") == 0)
		return qid;
	if (strcmp(name, "{auth_authen}") == 0)
		return o.auth;
	if (strcmp(name, "{daemon_name}") == 0)
		return o.daemon;
	if (strcmp(name, "j") == 0)
		return "modmilter-test";
	if (strcmp(name, "{client_addr}") == 0)
		return o.client_ip;
	return NULL;
}

static int
t_progress(void *b)
{
	(void)b;
	return 0;
}

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

struct event {
	const char *stage;
	const char *arg;
	struct stage_out out;
};

static struct event events[4096];
static size_t nevents;

/* Record a stage that did not just continue; return 1 if the session ends. */
static int
note(const char *stage, const char *arg, struct stage_out *out)
{
	int stop = out->verdict == MM_REJECT || out->verdict == MM_TEMPFAIL ||
	    out->verdict == MM_DISCARD;

	if (strcmp(stage, "envrcpt") == 0 && out->verdict != MM_DISCARD)
		stop = 0;	/* per-recipient answer */
	if ((out->verdict == MM_CONTINUE || out->verdict == MM_SKIP ||
	    out->verdict == MM_ACCEPT) && strcmp(stage, "eom") != 0) {
		if (out->verdict != MM_CONTINUE && nevents < 4096) {
			events[nevents].stage = stage;
			events[nevents].arg = arg;
			events[nevents++].out = *out;
		} else
			stage_out_free(out);
		return 0;
	}
	if (nevents < 4096) {
		events[nevents].stage = stage;
		events[nevents].arg = arg;
		events[nevents++].out = *out;
	}
	return stop;
}

static void
usage(void)
{
	fprintf(stderr, "usage: modmilter-test -c FILE [--from A] [--rcpt B]... "
	    "[--client-ip IP] [--client-host H] [--helo H] [--auth USER] "
	    "[--daemon NAME] [--plugin-dir DIR] [--json] [--verbose] MESSAGE.eml\n");
	exit(1);
}

static const char *const kinds[] = { "change", "delete", "insert", "add" };

static void
print_text(const struct stage_out *final, const char *final_stage,
    const struct eom_out *e, int eom_reached)
{
	for (size_t i = 0; i < nevents; i++) {
		const struct event *ev = &events[i];
		if (ev->out.verdict == MM_REJECT || ev->out.verdict == MM_TEMPFAIL)
			printf("%s%s%s: %s %s %s %s\n", ev->stage, ev->arg ? " " : "",
			    ev->arg ? ev->arg : "", verdict_name(ev->out.verdict),
			    ev->out.reply.rcode, ev->out.reply.xcode, ev->out.reply.text);
		else if (strcmp(ev->stage, "eom") != 0)
			printf("%s%s%s: %s\n", ev->stage, ev->arg ? " " : "",
			    ev->arg ? ev->arg : "", verdict_name(ev->out.verdict));
	}
	printf("verdict: %s", final->verdict == MM_CONTINUE ? "accept" : verdict_name(final->verdict));
	if (final->verdict == MM_REJECT || final->verdict == MM_TEMPFAIL)
		printf(" %s %s %s", final->reply.rcode, final->reply.xcode, final->reply.text);
	printf(" (at %s)\n", final_stage);
	if (!eom_reached)
		return;
	if (e->chgfrom)
		printf("change-from: <%s>%s%s\n", e->chgfrom, e->chgfrom_args ? " " : "",
		    e->chgfrom_args ? e->chgfrom_args : "");
	for (size_t i = 0; i < e->ndelrcpt; i++)
		printf("delete-rcpt: <%s>\n", e->delrcpt[i]);
	for (size_t i = 0; i < e->naddrcpt; i++)
		printf("add-rcpt: <%s>\n", e->addrcpt[i]);
	for (size_t i = 0; i < e->nhdrops; i++) {
		const struct hdrop *h = &e->hdrops[i];
		printf("header-%s: %s", kinds[h->kind], h->name);
		if (h->kind != HDROP_ADD)
			printf("[%zu]", h->index);
		if (h->value)
			printf(": %s", h->value);
		printf("\n");
	}
	if (e->body)
		printf("body-replaced: %zu bytes\n", e->bodylen);
	if (e->quarantine)
		printf("quarantine: %s\n", e->quarantine);
}

static void
print_json(const struct stage_out *final, const char *final_stage,
    const struct eom_out *e, int eom_reached)
{
	printf("{\"verdict\":\"%s\",\"stage\":\"%s\"", final->verdict == MM_CONTINUE ? "accept" : verdict_name(final->verdict),
	    final_stage);
	if (final->verdict == MM_REJECT || final->verdict == MM_TEMPFAIL) {
		printf(",\"reply\":{\"code\":\"%s\",\"xcode\":\"%s\",\"text\":",
		    final->reply.rcode, final->reply.xcode);
		json_str(stdout, final->reply.text);
		printf("}");
	}
	printf(",\"stages\":[");
	for (size_t i = 0; i < nevents; i++) {
		const struct event *ev = &events[i];
		printf("%s{\"stage\":\"%s\",\"verdict\":\"%s\"", i ? "," : "", ev->stage,
		    verdict_name(ev->out.verdict));
		if (ev->arg) {
			printf(",\"arg\":");
			json_str(stdout, ev->arg);
		}
		if (ev->out.reply.text) {
			printf(",\"reply\":");
			json_str(stdout, ev->out.reply.text);
			printf(",\"code\":\"%s\"", ev->out.reply.rcode);
		}
		printf("}");
	}
	printf("]");
	if (eom_reached) {
		printf(",\"change_from\":");
		if (e->chgfrom)
			json_str(stdout, e->chgfrom);
		else
			printf("null");
		printf(",\"del_rcpt\":[");
		for (size_t i = 0; i < e->ndelrcpt; i++) {
			printf(i ? "," : "");
			json_str(stdout, e->delrcpt[i]);
		}
		printf("],\"add_rcpt\":[");
		for (size_t i = 0; i < e->naddrcpt; i++) {
			printf(i ? "," : "");
			json_str(stdout, e->addrcpt[i]);
		}
		printf("],\"headers\":[");
		for (size_t i = 0; i < e->nhdrops; i++) {
			const struct hdrop *h = &e->hdrops[i];
			printf("%s{\"op\":\"%s\",\"name\":", i ? "," : "", kinds[h->kind]);
			json_str(stdout, h->name);
			printf(",\"index\":%zu,\"value\":", h->index);
			if (h->value)
				json_str(stdout, h->value);
			else
				printf("null");
			printf("}");
		}
		printf("],\"body_replaced\":%s", e->body ? "true" : "false");
		if (e->body)
			printf(",\"body_length\":%zu", e->bodylen);
		printf(",\"quarantine\":");
		if (e->quarantine)
			json_str(stdout, e->quarantine);
		else
			printf("null");
	}
	printf("}\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "client-host", required_argument, NULL, 'H' },
		{ "helo", required_argument, NULL, 'e' },
		{ "auth", required_argument, NULL, 'a' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cpath = NULL, *final_stage = "eom";
	struct conf *c;
	struct session *s;
	struct backend be = { t_macro, t_progress, 1, NULL, NULL };
	struct eml m;
	struct stage_out out, final;
	struct eom_out e;
	struct sockaddr_storage ss;
	char *err = NULL, *fromarg = NULL, *argvbuf[2];
	int ch, verbose = 0, eom_reached = 0, rc, rcpts_owned = 0;

	memset(&o, 0, sizeof(o));
	o.from = "sender@example.net";
	o.client_ip = "192.0.2.1";
	o.helo = "client.example.net";
	o.daemon = "smtpd";
	while ((ch = getopt_long(argc, argv, "c:f:r:jvP:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': cpath = optarg; break;
		case 'f': o.from = optarg; break;
		case 'r':
			o.rcpts = xrealloc(o.rcpts, (o.nrcpts + 1) * sizeof(char *));
			o.rcpts[o.nrcpts++] = optarg;
			rcpts_owned = 1;
			break;
		case 'i': o.client_ip = optarg; break;
		case 'H': o.client_host = optarg; break;
		case 'e': o.helo = optarg; break;
		case 'a': o.auth = optarg; break;
		case 'd': o.daemon = optarg; break;
		case 'j': o.json = 1; break;
		case 'v': verbose = 1; break;
		case 'P': conf_default_plugin_dir = optarg; break;
		default: usage();
		}
	}
	if (cpath == NULL || optind != argc - 1)
		usage();
	if (o.nrcpts == 0) {
		static const char *def = "postmaster@example.com";
		o.rcpts = &def;
		o.nrcpts = 1;
	}
	log_open(LOG_DEST_STDERR, verbose ? MM_LOG_DEBUG : MM_LOG_WARNING, "modmilter-test");
	if ((c = conf_load(cpath, stderr)) == NULL)
		return 1;
	log_open(LOG_DEST_STDERR, verbose ? MM_LOG_DEBUG : MM_LOG_WARNING, "modmilter-test");
	if (eml_load(argv[optind], &m, &err) < 0) {
		fprintf(stderr, "%s: %s\n", argv[optind], err);
		return 1;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, o.client_ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(25);
	} else if (inet_pton(AF_INET6, o.client_ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(25);
	} else {
		fprintf(stderr, "bad --client-ip %s\n", o.client_ip);
		return 1;
	}
	if (o.client_host == NULL) {
		static char bracket[80];
		snprintf(bracket, sizeof(bracket), "[%s]", o.client_ip);
		o.client_host = bracket;
	}

	s = session_new(c, &be, NULL);
	conf_unref(c);
	memset(&final, 0, sizeof(final));
	memset(&e, 0, sizeof(e));
#define STAGE(name, arg, call) do { call; final_stage = name;			\
	if (note(name, arg, &out)) { final.verdict = out.verdict;		\
		reply_copy(&final.reply, &out.reply); goto done; }		\
	} while (0)
	STAGE("connect", o.client_ip, session_connect(s, o.client_host, (struct sockaddr *)&ss, &out));
	STAGE("helo", o.helo, session_helo(s, o.helo, &out));
	fromarg = xasprintf("<%s>", o.from);
	argvbuf[0] = fromarg;
	argvbuf[1] = NULL;
	STAGE("envfrom", o.from, session_envfrom(s, argvbuf, &out));
	{
		size_t accepted = 0;
		for (size_t i = 0; i < o.nrcpts; i++) {
			char *ra = xasprintf("<%s>", o.rcpts[i]);
			char *rv[2] = { ra, NULL };
			session_envrcpt(s, rv, &out);
			if (out.verdict == MM_CONTINUE || out.verdict == MM_ACCEPT)
				accepted++;
			final_stage = "envrcpt";
			if (note("envrcpt", o.rcpts[i], &out)) {
				final.verdict = out.verdict;
				reply_copy(&final.reply, &out.reply);
				free(ra);
				goto done;
			}
			free(ra);
		}
		if (accepted == 0) {
			/* every recipient refused: the MTA would end here */
			for (size_t i = nevents; i-- > 0;)
				if (strcmp(events[i].stage, "envrcpt") == 0) {
					final.verdict = events[i].out.verdict;
					reply_copy(&final.reply, &events[i].out.reply);
					break;
				}
			goto done;
		}
	}
	STAGE("data", NULL, session_data(s, &out));
	for (size_t i = 0; i < m.nhdrs; i++)
		STAGE("header", m.names[i], session_header(s, m.names[i], m.values[i], &out));
	STAGE("eoh", NULL, session_eoh(s, &out));
	for (size_t off = 0; off < m.bodylen || off == 0; ) {
		size_t n = m.bodylen - off > 65536 ? 65536 : m.bodylen - off;
		session_body(s, m.body + off, n, &out);
		final_stage = "body";
		if (out.verdict == MM_SKIP) {
			stage_out_free(&out);
			break;
		}
		if (note("body", NULL, &out)) {
			final.verdict = out.verdict;
			reply_copy(&final.reply, &out.reply);
			goto done;
		}
		off += n;
		if (off >= m.bodylen)
			break;
	}
	session_eom(s, &out, &e);
	final_stage = "eom";
	eom_reached = out.verdict == MM_CONTINUE;
	final = out;
done:
	if (o.json)
		print_json(&final, final_stage, &e, eom_reached);
	else
		print_text(&final, final_stage, &e, eom_reached);
	switch (final.verdict) {
	case MM_REJECT: rc = 2; break;
	case MM_TEMPFAIL: rc = 3; break;
	case MM_DISCARD: rc = 4; break;
	default: rc = 0; break;
	}
	eom_out_free(&e);
	session_free(s);
	eml_free(&m);
	stage_out_free(&final);
	for (size_t i = 0; i < nevents; i++)
		stage_out_free(&events[i].out);
	free(fromarg);
	if (rcpts_owned)
		free(o.rcpts);
	return rc;
}
