/*
 * NAME
 *	probe - verify one address at its domain's mail exchangers
 * SYNOPSIS
 *	#include "cbv.h"
 *
 *	struct probe_result res;
 *	probe_run(&cfg, "alice@example.net", NULL, 0, &res);	(a callback)
 *	probe_run(&cfg, "alice@example.net", msg, len, &res);	(a DSN)
 * DESCRIPTION
 *	Looks up the domain's MX hosts (mx.c), then tries them in order,
 *	each of their addresses in turn, until one gives a definite answer
 *	(the RCPT, or the DSN's DATA, accepted or refused with 5xx), at
 *	most max_mx hosts and max_addrs connections, all within
 *	total_timeout seconds. Addresses that are ours, loopback or private
 *	are never connected to (netcheck.c), nor is a host that greets us
 *	with our own name.
 *
 *	Outcome, as cached:
 *	  OK      the RCPT (and DATA) got 2xx;
 *	  BOUNCE  5xx on MAIL FROM, RCPT or DATA; null MX (RFC 7505); the
 *	          domain does not exist or has no address; every mail
 *	          exchanger is an address we refuse, or claims to be us;
 *	  DEFER   4xx, timeouts, unreachable hosts, DNS failures, the
 *	          overall deadline.
 *	host_failed is set when hosts were tried and none answered, for the
 *	backoff (a DNS failure on our side is not the domain's fault).
 * DIAGNOSTICS
 *	res->text says why, with the host and its answer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cbv.h"

#define ADDRS_PER_HOST 8

static void set(struct probe_result *, enum cbv_status, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
set(struct probe_result *r, enum cbv_status st, const char *fmt, ...)
{
	char raw[CBV_TEXT_MAX * 2];
	va_list ap;

	r->status = st;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	smtp_sanitize(raw, r->text, sizeof(r->text));
}

static void
addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

void
probe_run(const struct probe_cfg *cfg, const char *addr, const char *data,
    size_t datalen, struct probe_result *res)
{
	const char *domain = strrchr(addr, '@');
	struct cbv_mx mx;
	struct smtp_dialogue d = cfg->d;
	char err[CBV_TEXT_MAX], reply[CBV_TEXT_MAX], last[640];
	int tried = 0, refused = 0, answered = 0, temp = 0, dnstemp = 0;

	memset(res, 0, sizeof(*res));
	last[0] = 0;
	if (domain == NULL || domain[1] == 0) {
		set(res, CBV_BOUNCE, "not a domain address");
		return;
	}
	domain++;
	d.rcpt = addr;
	d.data = data;
	d.datalen = datalen;
	d.deadline = mm_clock_mono() + cfg->total_timeout;

	switch (mx_lookup(&cfg->dns, domain, &mx, err, sizeof(err))) {
	case MX_OK:
		break;
	case MX_TEMP:
		set(res, CBV_DEFER, "%s", err);
		return;
	default:
		set(res, CBV_BOUNCE, "%s", err);
		return;
	}
	for (size_t h = 0; h < mx.n && (int)h < cfg->max_mx; h++) {
		struct sockaddr_storage ss[ADDRS_PER_HOST];
		size_t n = 0;
		const char *host = mx.hosts[h].name;
		int r;

		if (mm_clock_mono() >= d.deadline)
			break;
		r = mx_addrs(&cfg->dns, host, ss, ADDRS_PER_HOST, &n, err, sizeof(err));
		if (r != MX_OK) {
			if (r == MX_TEMP)
				dnstemp = 1;
			snprintf(last, sizeof(last), "%s", err);
			if (mx.implicit && r != MX_TEMP) {
				mx_free(&mx);
				set(res, CBV_BOUNCE, "domain %s has no MX and no address",
				    domain);
				return;
			}
			continue;
		}
		for (size_t i = 0; i < n && tried < cfg->max_addrs; i++) {
			char ip[INET6_ADDRSTRLEN];
			const char *why;

			addr_str(&ss[i], ip, sizeof(ip));
			if ((why = addr_forbidden(cfg->own, (struct sockaddr *)&ss[i])) != NULL) {
				refused++;
				snprintf(last, sizeof(last), "mail exchanger %s [%s] refused: %s",
				    host, ip, why);
				continue;
			}
			if (mm_clock_mono() >= d.deadline)
				break;
			if (ss[i].ss_family == AF_INET6)
				((struct sockaddr_in6 *)(void *)&ss[i])->sin6_port =
				    htons((unsigned short)cfg->port);
			else
				((struct sockaddr_in *)(void *)&ss[i])->sin_port =
				    htons((unsigned short)cfg->port);
			tried++;
			r = smtp_run((struct sockaddr *)&ss[i], &d, reply, sizeof(reply));
			snprintf(last, sizeof(last), "%s [%s] %s", host, ip, reply);
			switch (r) {
			case SMTP_OK:
				mx_free(&mx);
				set(res, CBV_OK, "%s", last);
				return;
			case SMTP_REJECT:
				mx_free(&mx);
				set(res, CBV_BOUNCE, "%s", last);
				return;
			case SMTP_TEMP:
				answered = temp = 1;
				break;
			case SMTP_LOOP:
				refused++;
				tried--;
				break;
			default:
				break;
			}
		}
	}
	mx_free(&mx);
	if (tried == 0 && refused > 0 && !dnstemp) {
		set(res, CBV_BOUNCE, "no usable mail exchanger: %s", last);
		return;
	}
	/* only hosts we reached and that did not answer start a backoff; not
	   our own DNS failing to give their addresses */
	res->host_failed = tried > 0 && !answered;
	if (mm_clock_mono() >= d.deadline && !temp)
		set(res, CBV_DEFER, "deadline reached; last: %s",
		    last[0] ? last : "no attempt");
	else
		set(res, CBV_DEFER, "%s",
		    last[0] ? last : "no reachable mail exchanger");
}
