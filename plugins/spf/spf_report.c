/*
 * NAME
 *	spf_report - Received-SPF, Authentication-Results and SMTP replies
 * SYNOPSIS
 *	See spf_report.h.
 * DESCRIPTION
 *	Everything the plugin writes for others to read is built here,
 *	from values that may come from a hostile client (HELO, MAIL FROM)
 *	or a hostile DNS zone (explanation, record text in a problem).
 *	Syntax: RFC 5322 §3.2.3 (atext, dot-atom), §3.2.4 (quoted-string),
 *	§3.2.2 (comment); RFC 2045 §5.1 (token) for Authentication-Results.
 * DIAGNOSTICS
 *	See spf_report.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spf_report.h"

#define VALUE_MAX	200	/* characters of one header value */
#define REPLY_MAX	450	/* characters of a reply text */
#define FOLD_AT		72

static int
atext(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
dot_atom(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VALUE_MAX || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (*s != '.' && !atext((unsigned char)*s))
			return 0;
	return 1;
}

/* A visible ASCII character or a space; anything else becomes '?'. */
static int
safe(unsigned char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

static void
quoted(struct mm_buf *b, const char *s)
{
	size_t n = 0;

	mm_buf_addc(b, '"');
	for (; *s && n < VALUE_MAX; s++, n++) {
		int c = safe((unsigned char)*s);
		if (c == '"' || c == '\\')
			mm_buf_addc(b, '\\');
		mm_buf_addc(b, c);
	}
	if (*s)
		mm_buf_adds(b, "...");
	mm_buf_addc(b, '"');
}

/* Comment text: ctext, with '(' ')' '\' as quoted-pairs. */
static void
comment_text(struct mm_buf *b, const char *s)
{
	size_t n = 0;

	for (; *s && n < VALUE_MAX; s++, n++) {
		int c = safe((unsigned char)*s);
		if (c == '(' || c == ')' || c == '\\')
			mm_buf_addc(b, '\\');
		mm_buf_addc(b, c);
	}
	if (*s)
		mm_buf_adds(b, "...");
}

struct folder {
	struct mm_buf *b;
	size_t line;		/* length of the current line */
};

/* Append " key=value;", folding before it when the line would grow long. */
static void
pair(struct folder *f, const char *key, const char *value)
{
	struct mm_buf v = MM_BUF_SOFT_INIT;

	if (dot_atom(value))
		mm_buf_adds(&v, value);
	else
		quoted(&v, value);
	if (v.oom) {
		f->b->oom = 1;
		return;
	}
	if (f->line + strlen(key) + 1 + v.len + 2 > FOLD_AT) {
		mm_buf_adds(f->b, "\n\t");
		f->line = 8;
	} else {
		mm_buf_addc(f->b, ' ');
		f->line++;
	}
	mm_buf_printf(f->b, "%s=%s;", key, v.data);
	f->line += strlen(key) + 2 + v.len;
	mm_buf_free(&v);
}

static const char *
sender_of(const struct spf_report *r, struct mm_buf *tmp)
{
	if (r->envelope_from && *r->envelope_from && !r->helo_identity)
		return r->envelope_from;
	mm_buf_printf(tmp, "postmaster@%s", r->helo ? r->helo : "");
	return mm_buf_str(tmp) ? tmp->data : "postmaster";
}

char *
spf_received_spf(const struct spf_report *r)
{
	struct mm_buf b = MM_BUF_SOFT_INIT, c = MM_BUF_SOFT_INIT, tmp = MM_BUF_SOFT_INIT;
	struct folder f;
	char ip[INET6_ADDRSTRLEN] = "unknown";
	const char *who = sender_of(r, &tmp);
	const char *recv = r->receiver && *r->receiver ? r->receiver : "unknown";

	if (r->ip)
		inet_ntop(r->ip->family, r->ip->a, ip, sizeof(ip));
	switch (r->result) {
	case SPFR_PASS:
		mm_buf_printf(&c, "%s: domain of %s designates %s as permitted sender",
		    recv, who, ip);
		break;
	case SPFR_FAIL:
		mm_buf_printf(&c, "%s: domain of %s does not designate %s as permitted sender",
		    recv, who, ip);
		break;
	case SPFR_SOFTFAIL:
		mm_buf_printf(&c, "%s: transitioning domain of %s does not designate %s "
		    "as permitted sender", recv, who, ip);
		break;
	case SPFR_NEUTRAL:
		mm_buf_printf(&c, "%s: %s is neither permitted nor denied by domain of %s",
		    recv, ip, who);
		break;
	case SPFR_NONE:
		mm_buf_printf(&c, "%s: domain of %s does not designate permitted sender hosts",
		    recv, who);
		break;
	case SPFR_PERMERROR:
		mm_buf_printf(&c, "%s: permanent error in the SPF record for %s", recv, who);
		break;
	default:
		mm_buf_printf(&c, "%s: temporary error while checking %s", recv, who);
		break;
	}
	if (r->guessed)
		mm_buf_printf(&c, "; best guess record: %s", spf_result_name(r->guess));

	mm_buf_adds(&b, spf_result_name(r->result));
	mm_buf_adds(&b, " (");
	comment_text(&b, mm_buf_str(&c) ? c.data : "");
	mm_buf_addc(&b, ')');
	f.b = &b;
	f.line = 15 + b.len;	/* "Received-SPF: " and the result */
	pair(&f, "receiver", recv);
	pair(&f, "client-ip", ip);
	pair(&f, "envelope-from", r->envelope_from ? r->envelope_from : "");
	pair(&f, "helo", r->helo ? r->helo : "");
	pair(&f, "identity", r->helo_identity ? "helo" : "mailfrom");
	if (r->mechanism && *r->mechanism)
		pair(&f, "mechanism", r->mechanism);
	if (r->problem && *r->problem)
		pair(&f, "problem", r->problem);
	mm_buf_free(&c);
	mm_buf_free(&tmp);
	if (b.oom) {
		mm_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* RFC 2045 token: no space, control or tspecial */
static int
token(const char *s)
{
	if (*s == 0 || strlen(s) > VALUE_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", *s))
			return 0;
	return 1;
}

char *
spf_authres(const struct spf_report *r)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;
	const char *v = r->helo_identity ? r->helo : r->domain;

	mm_buf_printf(&b, "spf=%s", spf_result_name(r->result));
	if (r->guessed)
		mm_buf_printf(&b, " (best guess record: %s)", spf_result_name(r->guess));
	mm_buf_adds(&b, r->helo_identity ? " smtp.helo=" : " smtp.mailfrom=");
	if (v && token(v))
		mm_buf_adds(&b, v);
	else
		quoted(&b, v ? v : "");
	if (b.oom) {
		mm_buf_free(&b);
		return NULL;
	}
	return b.data;
}

char *
spf_reply_sanitize(const char *s)
{
	struct mm_buf b = MM_BUF_SOFT_INIT;
	int space = 0;

	for (; *s && b.len < REPLY_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = b.len > 0;
			continue;
		}
		if (space)
			mm_buf_addc(&b, ' ');
		space = 0;
		mm_buf_addc(&b, c > 0x20 && c < 0x7f ? c : '?');
	}
	if (*s)
		mm_buf_adds(&b, "...");
	if (mm_buf_str(&b) == NULL) {
		mm_buf_free(&b);
		return NULL;
	}
	return b.data;
}

int
spf_reply_for(const struct spf_report *r, enum spf_action act,
    const char *explanation, struct spf_reply *out)
{
	struct mm_buf t = MM_BUF_SOFT_INIT;
	char ip[INET6_ADDRSTRLEN] = "unknown";
	const char *d = r->domain && *r->domain ? r->domain : "(none)";
	int temp = act == SPF_ACT_TEMPFAIL;

	memset(out, 0, sizeof(*out));
	if (r->ip)
		inet_ntop(r->ip->family, r->ip->a, ip, sizeof(ip));
	strcpy(out->rcode, temp ? "451" : "550");
	strcpy(out->xcode, temp ? "4.7.1" : "5.7.1");
	if (r->helo_identity)
		mm_buf_printf(&t, "HELO %s: ", r->helo ? r->helo : "");
	switch (r->result) {
	case SPFR_FAIL:
		if (explanation && *explanation)
			mm_buf_adds(&t, explanation);
		else
			mm_buf_printf(&t, "SPF fail: %s does not designate %s as permitted sender",
			    d, ip);
		break;
	case SPFR_PERMERROR:
		if (!temp)
			strcpy(out->xcode, "5.5.2");
		mm_buf_printf(&t, "SPF permanent error for %s: %s", d,
		    r->problem && *r->problem ? r->problem : "invalid SPF record");
		break;
	case SPFR_TEMPERROR:
		if (temp)
			strcpy(out->xcode, "4.4.3");
		mm_buf_printf(&t, "SPF temporary error for %s: %s", d,
		    r->problem && *r->problem ? r->problem : "DNS failure");
		break;
	case SPFR_SOFTFAIL:
		mm_buf_printf(&t, "SPF softfail: %s does not designate %s as permitted sender",
		    d, ip);
		break;
	case SPFR_NEUTRAL:
		mm_buf_printf(&t, "SPF neutral: %s neither permits nor denies %s", d, ip);
		break;
	case SPFR_NONE:
		mm_buf_printf(&t, "SPF none: %s publishes no SPF record", d);
		break;
	default:
		mm_buf_printf(&t, "SPF %s for %s: refused by local policy",
		    spf_result_name(r->result), d);
		break;
	}
	if (temp && r->result != SPFR_TEMPERROR)
		mm_buf_adds(&t, "; try again later");
	out->text = mm_buf_str(&t) ? spf_reply_sanitize(t.data) : NULL;
	mm_buf_free(&t);
	return out->text ? 0 : -1;
}
