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
quoted(struct sbuf *b, const char *s)
{
	size_t n = 0;

	sb_addc(b, '"');
	for (; *s && n < VALUE_MAX; s++, n++) {
		int c = safe((unsigned char)*s);
		if (c == '"' || c == '\\')
			sb_addc(b, '\\');
		sb_addc(b, c);
	}
	if (*s)
		sb_adds(b, "...");
	sb_addc(b, '"');
}

/* Comment text: ctext, with '(' ')' '\' as quoted-pairs. */
static void
comment_text(struct sbuf *b, const char *s)
{
	size_t n = 0;

	for (; *s && n < VALUE_MAX; s++, n++) {
		int c = safe((unsigned char)*s);
		if (c == '(' || c == ')' || c == '\\')
			sb_addc(b, '\\');
		sb_addc(b, c);
	}
	if (*s)
		sb_adds(b, "...");
}

struct folder {
	struct sbuf *b;
	size_t line;		/* length of the current line */
};

/* Append " key=value;", folding before it when the line would grow long. */
static void
pair(struct folder *f, const char *key, const char *value)
{
	struct sbuf v = SBUF_INIT;

	if (dot_atom(value))
		sb_adds(&v, value);
	else
		quoted(&v, value);
	if (v.oom) {
		f->b->oom = 1;
		return;
	}
	if (f->line + strlen(key) + 1 + v.len + 2 > FOLD_AT) {
		sb_adds(f->b, "\n\t");
		f->line = 8;
	} else {
		sb_addc(f->b, ' ');
		f->line++;
	}
	sb_printf(f->b, "%s=%s;", key, v.s);
	f->line += strlen(key) + 2 + v.len;
	sb_free(&v);
}

static const char *
sender_of(const struct spf_report *r, struct sbuf *tmp)
{
	if (r->envelope_from && *r->envelope_from && !r->helo_identity)
		return r->envelope_from;
	sb_printf(tmp, "postmaster@%s", r->helo ? r->helo : "");
	return sb_str(tmp) ? tmp->s : "postmaster";
}

char *
spf_received_spf(const struct spf_report *r)
{
	struct sbuf b = SBUF_INIT, c = SBUF_INIT, tmp = SBUF_INIT;
	struct folder f;
	char ip[INET6_ADDRSTRLEN] = "unknown";
	const char *who = sender_of(r, &tmp);
	const char *recv = r->receiver && *r->receiver ? r->receiver : "unknown";

	if (r->ip)
		inet_ntop(r->ip->family, r->ip->a, ip, sizeof(ip));
	switch (r->result) {
	case SPFR_PASS:
		sb_printf(&c, "%s: domain of %s designates %s as permitted sender",
		    recv, who, ip);
		break;
	case SPFR_FAIL:
		sb_printf(&c, "%s: domain of %s does not designate %s as permitted sender",
		    recv, who, ip);
		break;
	case SPFR_SOFTFAIL:
		sb_printf(&c, "%s: transitioning domain of %s does not designate %s "
		    "as permitted sender", recv, who, ip);
		break;
	case SPFR_NEUTRAL:
		sb_printf(&c, "%s: %s is neither permitted nor denied by domain of %s",
		    recv, ip, who);
		break;
	case SPFR_NONE:
		sb_printf(&c, "%s: domain of %s does not designate permitted sender hosts",
		    recv, who);
		break;
	case SPFR_PERMERROR:
		sb_printf(&c, "%s: permanent error in the SPF record for %s", recv, who);
		break;
	default:
		sb_printf(&c, "%s: temporary error while checking %s", recv, who);
		break;
	}
	if (r->guessed)
		sb_printf(&c, "; best guess record: %s", spf_result_name(r->guess));

	sb_adds(&b, spf_result_name(r->result));
	sb_adds(&b, " (");
	comment_text(&b, sb_str(&c) ? c.s : "");
	sb_addc(&b, ')');
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
	sb_free(&c);
	sb_free(&tmp);
	if (b.oom) {
		sb_free(&b);
		return NULL;
	}
	return b.s;
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
	struct sbuf b = SBUF_INIT;
	const char *v = r->helo_identity ? r->helo : r->domain;

	sb_printf(&b, "spf=%s", spf_result_name(r->result));
	if (r->guessed)
		sb_printf(&b, " (best guess record: %s)", spf_result_name(r->guess));
	sb_adds(&b, r->helo_identity ? " smtp.helo=" : " smtp.mailfrom=");
	if (v && token(v))
		sb_adds(&b, v);
	else
		quoted(&b, v ? v : "");
	if (b.oom) {
		sb_free(&b);
		return NULL;
	}
	return b.s;
}

char *
spf_reply_sanitize(const char *s)
{
	struct sbuf b = SBUF_INIT;
	int space = 0;

	for (; *s && b.len < REPLY_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = b.len > 0;
			continue;
		}
		if (space)
			sb_addc(&b, ' ');
		space = 0;
		sb_addc(&b, c > 0x20 && c < 0x7f ? c : '?');
	}
	if (*s)
		sb_adds(&b, "...");
	if (sb_str(&b) == NULL) {
		sb_free(&b);
		return NULL;
	}
	return b.s;
}

int
spf_reply_for(const struct spf_report *r, enum spf_action act,
    const char *explanation, struct spf_reply *out)
{
	struct sbuf t = SBUF_INIT;
	char ip[INET6_ADDRSTRLEN] = "unknown";
	const char *d = r->domain && *r->domain ? r->domain : "(none)";
	int temp = act == SPF_ACT_TEMPFAIL;

	memset(out, 0, sizeof(*out));
	if (r->ip)
		inet_ntop(r->ip->family, r->ip->a, ip, sizeof(ip));
	strcpy(out->rcode, temp ? "451" : "550");
	strcpy(out->xcode, temp ? "4.7.1" : "5.7.1");
	if (r->helo_identity)
		sb_printf(&t, "HELO %s: ", r->helo ? r->helo : "");
	switch (r->result) {
	case SPFR_FAIL:
		if (explanation && *explanation)
			sb_adds(&t, explanation);
		else
			sb_printf(&t, "SPF fail: %s does not designate %s as permitted sender",
			    d, ip);
		break;
	case SPFR_PERMERROR:
		if (!temp)
			strcpy(out->xcode, "5.5.2");
		sb_printf(&t, "SPF permanent error for %s: %s", d,
		    r->problem && *r->problem ? r->problem : "invalid SPF record");
		break;
	case SPFR_TEMPERROR:
		if (temp)
			strcpy(out->xcode, "4.4.3");
		sb_printf(&t, "SPF temporary error for %s: %s", d,
		    r->problem && *r->problem ? r->problem : "DNS failure");
		break;
	case SPFR_SOFTFAIL:
		sb_printf(&t, "SPF softfail: %s does not designate %s as permitted sender",
		    d, ip);
		break;
	case SPFR_NEUTRAL:
		sb_printf(&t, "SPF neutral: %s neither permits nor denies %s", d, ip);
		break;
	case SPFR_NONE:
		sb_printf(&t, "SPF none: %s publishes no SPF record", d);
		break;
	default:
		sb_printf(&t, "SPF %s for %s: refused by local policy",
		    spf_result_name(r->result), d);
		break;
	}
	if (temp && r->result != SPFR_TEMPERROR)
		sb_adds(&t, "; try again later");
	out->text = sb_str(&t) ? spf_reply_sanitize(t.s) : NULL;
	sb_free(&t);
	return out->text ? 0 : -1;
}
