/*
 * NAME
 *	addr - envelope addresses and domains, parsed and normalised
 * SYNOPSIS
 *	#include <modmilter/addr.h>
 * DESCRIPTION
 *	See modmilter/addr.h. The grammar is RFC 5321 4.1.2 (Path, Mailbox,
 *	Local-part, Domain, address-literal) with RFC 6531's UTF-8 taken
 *	as atext, and with the leniency real MTAs show for the dots of an
 *	unquoted local part. A normalised address is what plugins and the
 *	core compare, so that "alice@corp.example." or
 *	"<@relay:\"alice\"@CORP.example>" cannot pass for another mailbox
 *	than alice@corp.example.
 * DIAGNOSTICS
 *	NULL with a static reason for malformed input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <modmilter/addr.h>
#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>

/* A domain longer than this is not one (RFC 1035 2.3.4). */
#define DOMAIN_MAX	255

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext, plus UTF-8 bytes (RFC 6531). */
static int
is_atext(unsigned char c)
{
	return c >= 0x80 || is_alnum(c) ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A byte of a domain label: letters, digits, '-', and the '_' and
   UTF-8 that real domains carry although RFC 5321 has no room for them. */
static int
is_label(unsigned char c)
{
	return c >= 0x80 || is_alnum(c) || c == '-' || c == '_';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void
add_lower(struct mm_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = lower(s[i]);
		mm_buf_add(b, &c, 1);
	}
}

static const char *
skip_wsp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Read a domain or address literal at p; append its normal form to out
 * when out is not NULL. Returns the first byte after it, or NULL with
 * *why set.
 */
static const char *
parse_domain(const char *p, struct mm_buf *out, const char **why)
{
	const char *start = p, *end;

	if (*p == '[') {
		for (p++; *p != ']'; p++)
			if (*p == 0) {
				*why = "unterminated address literal";
				return NULL;
			} else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 ||
			    *p == '[' || *p == '\\' || *p == '@') {
				/* no '@': the domain must follow the last one */
				*why = "bad character in an address literal";
				return NULL;
			}
		if (p == start + 1) {
			*why = "empty address literal";
			return NULL;
		}
		p++;
		if (out)
			add_lower(out, start, (size_t)(p - start));
		return p;
	}
	for (;;) {
		const char *label = p;
		while (is_label((unsigned char)*p))
			p++;
		if (p == label) {
			*why = p == start ? "empty domain" : "empty label in the domain";
			return NULL;
		}
		if (*p != '.')
			break;
		p++;
		if (*p == '.') {
			*why = "empty label in the domain";
			return NULL;
		}
		if (!is_label((unsigned char)*p))
			break;		/* one trailing dot: the root */
	}
	end = p[-1] == '.' ? p - 1 : p;
	if (end - start > DOMAIN_MAX) {
		*why = "domain too long";
		return NULL;
	}
	if (out)
		add_lower(out, start, (size_t)(end - start));
	return p;
}

/* RFC 5322 dot-atom: atext runs joined by single dots. */
static int
dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The local part's content, in its one written form. */
static void
emit_local(struct mm_buf *out, const char *s, size_t n)
{
	if (dot_atom(s, n)) {
		mm_buf_add(out, s, n);
		return;
	}
	mm_buf_adds(out, "\"");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			mm_buf_adds(out, "\\");
		mm_buf_add(out, &s[i], 1);
	}
	mm_buf_adds(out, "\"");
}

/* Read a local part at p, append its normal form. NULL with *why. */
static const char *
parse_local(const char *p, struct mm_buf *out, const char **why)
{
	const char *start = p;
	struct mm_buf content = { 0 };

	if (*p != '"') {
		while (is_atext((unsigned char)*p) || *p == '.')
			p++;
		if (p == start) {
			*why = *p == '@' ? "empty local part" :
			    "bad character in the local part";
			return NULL;
		}
		emit_local(out, start, (size_t)(p - start));
		return p;
	}
	for (p++; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\')
			c = (unsigned char)*++p;
		if (c == 0) {
			*why = "unterminated quoted local part";
			mm_buf_free(&content);
			return NULL;
		}
		if (c < ' ' || c == 127) {
			*why = "control character in the local part";
			mm_buf_free(&content);
			return NULL;
		}
		mm_buf_add(&content, p, 1);
	}
	emit_local(out, content.data ? content.data : "", content.len);
	mm_buf_free(&content);
	return p + 1;
}

/* At the end of the path: '>' when bracketed, else blanks to the end. */
static int
path_end(const char *p, int bracketed)
{
	p = skip_wsp(p);
	return bracketed ? *p == '>' : *p == 0;
}

char *
mm_addr_normalize(const char *in, const char **why)
{
	const char *p, *dummy;
	struct mm_buf b = { 0 };
	int bracketed = 0;

	if (why == NULL)
		why = &dummy;
	p = skip_wsp(in);
	if (*p == '<') {
		bracketed = 1;
		p = skip_wsp(p + 1);
	}
	if (path_end(p, bracketed)) {
		mm_buf_adds(&b, "");	/* the null sender */
		goto tail;
	}
	if (*p == '@') {
		/* a source route: the relays are no part of the mailbox */
		for (;;) {
			if ((p = parse_domain(p + 1, NULL, why)) == NULL)
				goto fail;
			if (*p == ':')
				break;
			if (*p != ',' || p[1] != '@') {
				*why = "malformed source route";
				goto fail;
			}
			p++;
		}
		p++;
	} else if (strncasecmp(p, "postmaster", 10) == 0 &&
	    path_end(p + 10, bracketed)) {
		mm_buf_adds(&b, "postmaster");	/* RFC 5321 4.5.1, any case */
		p += 10;
		goto tail;
	}
	if ((p = parse_local(p, &b, why)) == NULL)
		goto fail;
	if (*p != '@') {
		*why = *p == 0 || *p == '>' || *p == ' ' || *p == '\t' ?
		    "no domain (user@domain)" : "bad character in the local part";
		goto fail;
	}
	mm_buf_adds(&b, "@");
	if ((p = parse_domain(p + 1, &b, why)) == NULL)
		goto fail;
tail:
	p = skip_wsp(p);
	if (bracketed) {
		if (*p != '>') {
			*why = *p == 0 ? "missing '>'" : "unexpected character in the address";
			goto fail;
		}
		p = skip_wsp(p + 1);
	}
	if (*p != 0) {
		*why = "unexpected character in the address";
		goto fail;
	}
	return b.data ? b.data : mm_xstrdup("");
fail:
	mm_buf_free(&b);
	return NULL;
}

char *
mm_domain_normalize(const char *in, const char **why)
{
	const char *p = in, *dummy;
	struct mm_buf b = { 0 };

	if (why == NULL)
		why = &dummy;
	if (*p == '.') {
		mm_buf_adds(&b, ".");	/* ".example.com": its subdomains */
		p++;
		if (*p == '[') {
			*why = "an address literal has no subdomains";
			goto fail;
		}
	}
	if ((p = parse_domain(p, &b, why)) == NULL)
		goto fail;
	if (*p != 0) {
		*why = "bad character in the domain";
		goto fail;
	}
	return b.data;
fail:
	mm_buf_free(&b);
	return NULL;
}

int
mm_domain_match(const char *domain, const char *pattern)
{
	size_t dl, pl;

	if (domain == NULL || pattern == NULL)
		return 0;
	dl = strlen(domain);
	pl = strlen(pattern);
	if (dl > 1 && domain[dl - 1] == '.')
		dl--;
	if (pl > 1 && pattern[pl - 1] == '.')
		pl--;
	if (pl == 0 || (pattern[0] == '.' && pl == 1))
		return 0;
	if (pattern[0] == '.')
		return dl > pl && strncasecmp(domain + dl - pl, pattern, pl) == 0;
	return dl == pl && strncasecmp(domain, pattern, pl) == 0;
}

const char *
mm_addr_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? at + 1 : NULL;
}

char *
mm_addr_strip(const char *arg)
{
	size_t n;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	if (*arg == '<')
		arg++;
	n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
		n--;
	if (n > 0 && arg[n - 1] == '>')
		n--;
	return mm_xstrndup(arg, n);
}

/* Length without one trailing dot. */
static size_t
name_len(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

int
mm_domain_equal(const char *a, const char *b)
{
	size_t al = name_len(a), bl = name_len(b);

	return al == bl && al > 0 && strncasecmp(a, b, al) == 0;
}

int
mm_domain_within(const char *name, const char *domain)
{
	size_t n = name_len(name), d = name_len(domain);

	if (d == 0 || n < d)
		return 0;
	if (strncasecmp(name + n - d, domain, d) != 0)
		return 0;
	return n == d || name[n - d - 1] == '.';
}
