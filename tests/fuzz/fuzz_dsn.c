/*
 * NAME
 *	fuzz_dsn - libFuzzer target for cbv's DSN templates and notices
 * SYNOPSIS
 *	tests/fuzz/run.sh [SECONDS] dsn
 * DESCRIPTION
 *	An input is NUL-separated fields: a template, then the values a
 *	sender controls: the subject, the envelope sender, the HELO name,
 *	the client address, the SPF result and its error, the recipients
 *	(one a line) and the original header block. A missing field takes
 *	a plain default.
 *
 *	The template goes through template_parse() as the configuration
 *	check does; an accepted one is rendered with the values, as cbv.c
 *	does, and the notice built with dsn_build(). The notice must keep
 *	its shape whatever the values: every line ends in CRLF, its header
 *	is exactly From, To, Subject, Date, Message-ID, Auto-Submitted,
 *	MIME-Version and Content-Type (one field a line, within RFC 5322's
 *	998 characters), and its boundary
 *	opens each part and closes the last: a value can neither add a
 *	header field nor a part.
 * DIAGNOSTICS
 *	abort() when the notice has lost its shape.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_TEMPLATE, F_SUBJECT, F_SENDER, F_HELO, F_IP, F_RESULT, F_PERM,
	F_RCPTS, F_HEADERS, NF };

static const char *const defaults[NF] = {
	("Subject: notice about %(subject)s\nAction: failed\nStatus: 5.7.1\n\n"
	    "From %(sender)s via %(heloname)s [%(connectip)s] to %(rcpt)s\n"),
	"hello", "user@example.com", "mx.example.net", "192.0.2.1", "softfail",
	"", "rcpt@example.org", "From: user@example.com\nSubject: hello\n",
};

struct vals {
	const char *f[NF];
	const char *rcpt;	/* the recipients joined by ", " */
	char spf[512];
};

/* The values as cbv.c's var() gives them. */
static const char *
lookup(void *arg, const char *name)
{
	struct vals *v = arg;
	const char *at;

	if (strcmp(name, "sender") == 0)
		return v->f[F_SENDER];
	if (strcmp(name, "receiver") == 0)
		return "mx.example.org";
	if (strcmp(name, "heloname") == 0)
		return v->f[F_HELO];
	if (strcmp(name, "connectip") == 0)
		return v->f[F_IP];
	if (strcmp(name, "sender_domain") == 0)
		return (at = strrchr(v->f[F_SENDER], '@')) ? at + 1 : "";
	if (strcmp(name, "result") == 0)
		return v->f[F_RESULT];
	if (strcmp(name, "perm_error") == 0)
		return *v->f[F_PERM] ? v->f[F_PERM] : NULL;
	if (strcmp(name, "rcpt") == 0)
		return v->rcpt;
	if (strcmp(name, "subject") == 0)
		return v->f[F_SUBJECT];
	if (strcmp(name, "spf_result") == 0) {
		snprintf(v->spf, sizeof(v->spf), "spf=%s smtp.mailfrom=%s",
		    v->f[F_RESULT], v->f[F_SENDER]);
		return v->spf;
	}
	return "";
}

static int
starts(const char *s, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

/* The notice's shape, as the description says. */
static void
check_notice(const char *m, size_t len, int with_headers)
{
	static const char *const fields[] = { "From: ", "To: <", "Subject: ",
		"Date: ", "Message-ID: <", "Auto-Submitted: auto-replied",
		"MIME-Version: 1.0", "Content-Type: multipart/report;",
		"\tboundary=\"", NULL };
	const char *p = m, *end = m + len, *b = NULL;
	size_t blen = 0, opens = 0, closes = 0;
	int i = 0;

	if (strlen(m) != len)
		abort();
	for (size_t k = 0; k < len; k++)
		if ((m[k] == '\n' && (k == 0 || m[k - 1] != '\r')) ||
		    (m[k] == '\r' && (k + 1 == len || m[k + 1] != '\n')))
			abort();
	/* the header, field by field, up to the empty line */
	while (p < end) {
		const char *e = strstr(p, "\r\n");

		if (e == NULL)
			abort();
		if (e == p) {
			p += 2;
			break;
		}
		/* a folded field goes on on lines that start with a blank
		   (but the boundary has a line of its own) */
		if (i > 0 && (*p == ' ' || *p == '\t') &&
		    !(fields[i] && starts(p, e, fields[i]))) {
			if (e - p > 998)
				abort();
			p = e + 2;
			continue;
		}
		if (fields[i] == NULL || !starts(p, e, fields[i]) || e - p > 998)
			abort();
		if (fields[i + 1] == NULL) {
			b = p + strlen(fields[i]);
			blen = (size_t)(e - 1 - b);	/* without the closing quote */
		}
		i++;
		p = e + 2;
	}
	if (fields[i] != NULL || b == NULL)
		abort();
	/* the parts: the text, the report, the headers when given */
	while (p < end) {
		const char *e = strstr(p, "\r\n");

		if (e == NULL)
			abort();
		if ((size_t)(e - p) == blen + 2 && starts(p, e, "--") &&
		    memcmp(p + 2, b, blen) == 0)
			opens++;
		else if ((size_t)(e - p) == blen + 4 && starts(p, e, "--") &&
		    memcmp(p + 2, b, blen) == 0 && memcmp(p + 2 + blen, "--", 2) == 0)
			closes++;
		p = e + 2;
	}
	if (opens != (with_headers ? 3u : 2u) || closes != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *p, err[512], *joined, **rcpts = NULL, *msg;
	struct cbv_template *t;
	struct cbv_rendered r;
	struct dsn_info di;
	struct vals v;
	size_t n = 0, nrcpt = 0, len;

	/* NUL-terminated fields; the copy ends with one more NUL */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	for (p = text; n < NF && p <= text + size; n++) {
		v.f[n] = p;
		p += strlen(p) + 1;
	}
	for (; n < NF; n++)
		v.f[n] = defaults[n];

	if ((t = template_parse("fuzz", v.f[F_TEMPLATE], err, sizeof(err))) == NULL) {
		free(text);
		return 0;
	}
	if ((joined = malloc(strlen(v.f[F_RCPTS]) * 2 + 1)) == NULL)
		abort();
	joined[0] = 0;
	for (const char *s = v.f[F_RCPTS]; *s; ) {
		size_t l = strcspn(s, "\n");

		if ((rcpts = realloc(rcpts, (nrcpt + 1) * sizeof(*rcpts))) == NULL ||
		    (rcpts[nrcpt] = strndup(s, l)) == NULL)
			abort();
		if (nrcpt++)
			strcat(joined, ", ");
		strcat(joined, rcpts[nrcpt - 1]);
		s += l + (s[l] == '\n');
	}
	v.rcpt = joined;

	if (template_render(t, lookup, &v, &r) == 0) {
		memset(&di, 0, sizeof(di));
		di.reporting_mta = "mx.example.org";
		di.from = "MAILER-DAEMON <postmaster@mx.example.org>";
		di.to = v.f[F_SENDER];
		di.client_helo = v.f[F_HELO];
		di.client_ip = v.f[F_IP];
		di.arrival = 1700000000;
		di.now = 1700000060;
		di.rcpts = rcpts;
		di.nrcpt = nrcpt;
		di.action = r.action;
		di.status = r.status;
		di.diagnostic = v.f[F_RESULT];
		di.subject = r.subject;
		di.text = r.body;
		di.headers = v.f[F_HEADERS];
		if ((msg = dsn_build(&di, &len)) != NULL) {
			check_notice(msg, len, *v.f[F_HEADERS] != 0);
			free(msg);
		}
		template_rendered_free(&r);
	}
	for (size_t i = 0; i < nrcpt; i++)
		free(rcpts[i]);
	free(rcpts);
	free(joined);
	template_free(t);
	free(text);
	return 0;
}
