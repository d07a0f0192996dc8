/*
 * NAME
 *	addr - address keys, matching and Maildir directory names
 * SYNOPSIS
 *	#include "wiretap.h"
 *
 *	char *key = wt_addr_key(api, "<Alice+x@Corp.Example.>", 0, "+", &why);
 *	char *pat = wt_pattern_key(api, "@Subsidiary.Example", 0, "+", &why);
 *	int ok = wt_addr_check("@subsidiary.example", 1, &why) == 0;
 *	int hit = wt_key_match("@corp.example", key);
 *	wt_dirname(key, buf, sizeof(buf));
 * DESCRIPTION
 *	An address key is the form in which two addresses compare equal
 *	when they name the same mailbox. It starts from the core's normal
 *	form (api->addr_normalize: no brackets or source route, the domain
 *	in lower case without a trailing dot, a needlessly quoted local
 *	part unquoted), then lower-cases the local part unless
 *	case_sensitive_local is set, and removes the address extension
 *	when delimiters (Postfix's recipient_delimiter) is not empty:
 *	"<@relay:\"Alice+x\"@Corp.Example.>" becomes "alice@corp.example".
 *	Keys of the configured addresses and of the envelope addresses
 *	are made the same way, so matching compares strings.
 *
 *	wt_pattern_key() makes the key of a configured watch or from
 *	entry: an address, or "@domain" (a whole domain, its domain
 *	normalised the same way).
 *
 *	wt_addr_check() validates a configured address: one "@", a
 *	non-empty domain, no white space, control characters or angle
 *	brackets; "@domain" (a whole domain) only when allow_domain is set.
 *
 *	wt_key_match() tells whether a pattern ("local@domain" or
 *	"@domain") matches an address key.
 *
 *	wt_dirname() turns a key into one safe directory name: bytes
 *	outside a conservative set, a leading dot and "%" itself are
 *	written as %XX, so no key can climb out of the archive or collide
 *	with another; a name that would be longer than 182 bytes is cut
 *	and ends with "~" and a hash of the whole key ("~" is always
 *	encoded elsewhere, so a cut name equals no other).
 * DIAGNOSTICS
 *	wt_addr_key() and wt_pattern_key() return NULL with *why set to
 *	the core's reason for a malformed address, or with *why NULL when
 *	memory runs out; wt_addr_check() returns -1 with a reason;
 *	wt_dirname() returns -1 when buf is too small for any name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wiretap.h"

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* The key of a normalised address. */
static char *
key_of(const char *n, int case_sensitive_local, const char *delimiters)
{
	const char *at = strrchr(n, '@');
	size_t llen = at ? (size_t)(at - n) : strlen(n);
	size_t cut = llen;
	char *key, *p;

	/* "alice+tag": the extension starts at the first delimiter, not
	   at the very start (a local part "+x" stays whole); a local part
	   that stays quoted has no extension to cut */
	if (delimiters && *delimiters && n[0] != '"')
		for (size_t i = 1; i < llen; i++)
			if (strchr(delimiters, n[i])) {
				cut = i;
				break;
			}
	if ((key = malloc(strlen(n) + 1)) == NULL)
		return NULL;
	p = key;
	for (size_t i = 0; i < cut; i++)
		*p++ = case_sensitive_local ? n[i] : lower(n[i]);
	if (at)
		strcpy(p, at);	/* the normal form's domain is lower case */
	else
		*p = 0;
	return key;
}

char *
wt_addr_key(const struct mm_api *api, const char *addr,
    int case_sensitive_local, const char *delimiters, const char **why)
{
	char *n, *key;

	*why = NULL;
	if ((n = api->addr_normalize(addr, why)) == NULL)
		return NULL;
	key = key_of(n, case_sensitive_local, delimiters);
	api->free(n);
	return key;
}

char *
wt_pattern_key(const struct mm_api *api, const char *s,
    int case_sensitive_local, const char *delimiters, const char **why)
{
	char *d, *key;

	*why = NULL;
	if (s[0] != '@' || strchr(s + 1, '@') != NULL)
		return wt_addr_key(api, s, case_sensitive_local, delimiters, why);
	if (s[1] == '.') {
		*why = "a whole domain is written @domain";
		return NULL;
	}
	if ((d = api->domain_normalize(s + 1, why)) == NULL)
		return NULL;
	if ((key = malloc(strlen(d) + 2)) != NULL) {
		key[0] = '@';
		strcpy(key + 1, d);
	}
	api->free(d);
	return key;
}

int
wt_addr_check(const char *s, int allow_domain, const char **why)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || at[1] == 0) {
		*why = "an address needs a domain (user@domain)";
		return -1;
	}
	if (at == s && !allow_domain) {
		*why = "a whole domain (@domain) is not allowed here";
		return -1;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 127 || *p == '<' ||
		    *p == '>' || *p == ',') {
			*why = "white space, control characters, '<', '>' and ',' "
			    "are not allowed in an address";
			return -1;
		}
	return 0;
}

int
wt_key_match(const char *pattern, const char *key)
{
	const char *at;

	if (pattern[0] != '@')
		return strcmp(pattern, key) == 0;
	if ((at = strrchr(key, '@')) == NULL)
		return 0;
	return strcmp(pattern, at) == 0;
}

static int
safe_byte(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	/* not '~': only a cut name has one (see wt_dirname) */
	return ch != 0 && strchr("@.-_+=!#$&'*^`{|}?", ch) != NULL;
}

/* FNV-1a, 64 bits: only to keep cut names apart. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define WT_DIRNAME_MAX	200

int
wt_dirname(const char *key, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (len < WT_DIRNAME_MAX + 1)
		return -1;
	for (const char *p = key; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (n + 3 > WT_DIRNAME_MAX - 18) {
			/* too long for one path component: cut, add a hash */
			snprintf(buf + n, len - n, "~%016llx",
			    (unsigned long long)fnv1a(key));
			return 0;
		}
		if (safe_byte(ch) && !(p == key && ch == '.'))
			buf[n++] = (char)ch;
		else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = 0;
	if (n == 0)
		return -1;
	return 0;
}
