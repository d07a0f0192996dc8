/*
 * NAME
 *	dynptr - does a PTR name look assigned to a dynamic address?
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	int dyn = policy_dynamic_ptr("c-71-63-151-151.hsd1.mn.comcast.net",
 *	    "71.63.151.151");
 *	int none = policy_no_ptr("[192.0.2.1]");
 * DESCRIPTION
 *	Access providers name the addresses they hand out after the
 *	address itself, in a handful of ways. A name counts as dynamic
 *	when (doc/plugins/policy.md, "The dynamic PTR heuristic"):
 *
 *	1. the client's IPv4 octets appear in it as numbers, all four or
 *	   three consecutive ones, in either order ("71-63-151-151",
 *	   "151.151.63.71", "host86-150-12-34"), leading zeros allowed;
 *	2. two consecutive octets (the last two, in either order) appear
 *	   and a label also carries a generic word (host, ip, client,
 *	   cust, user, res, cable, static, range, bb, ...);
 *	3. the address is written in hex ("ip5f5ab8c2", "p5B0C1A2F") or
 *	   as zero-padded decimal digits run together ("094219012034");
 *	4. a label other than the last two (the registered domain) carries
 *	   a word only access networks use: dyn, dynamic, dhcp, dial,
 *	   dialup, ppp, pppoe, dsl, adsl, xdsl, vdsl, cpe, pool,
 *	   broadband, residential; or the name says it has no reverse
 *	   ("unknown", "no-reverse", "unassigned", "not-assigned").
 *
 *	Words are the pieces of a label between '-', '_' and the changes
 *	from letters to digits ("host86" is "host", "86"). Mail servers
 *	of providers ("mail-lf1-f54.google.com",
 *	"a27-12.smtp-out.amazonses.com") carry at most one or two octets
 *	and no such word, and are not dynamic.
 *
 *	For an IPv6 client only rules 4 and the hex form of its last 32
 *	bits apply.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define MAXRUNS	32
#define WORDLEN	16

static const char *const strong_words[] = {
	"dyn", "dynamic", "dynip", "dhcp", "dial", "dialup", "dialin", "ppp",
	"pppoe", "dsl", "adsl", "xdsl", "vdsl", "sdsl", "dslb", "cpe", "pool",
	"pools", "broadband", "residential", "unknown", "unassigned", NULL
};

static const char *const weak_words[] = {
	"host", "ip", "client", "clients", "cust", "customer", "user", "users",
	"res", "cable", "cbl", "static", "range", "bb", "node", "adsl", "dsl",
	"dyn", "dynamic", "pool", "ppp", "cpe", "dhcp", NULL
};

static int
in_words(const char *const *list, const char *w)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], w) == 0)
			return 1;
	return 0;
}

int
policy_no_ptr(const char *host)
{
	return host == NULL || *host == '\0' || *host == '[' ||
	    strcasecmp(host, "unknown") == 0;
}

/*
 * Walk the words of labels [0, upto) of host; flags: 1 a strong word,
 * 2 a weak word.
 */
static int
words_of(const char *host, size_t upto)
{
	char w[WORDLEN + 1];
	size_t label = 0, n = 0;
	int flags = 0, kind = 0;	/* kind: 1 alpha, 2 digit */

	for (const char *p = host;; p++) {
		int c = (unsigned char)*p, k = isalpha(c) ? 1 : isdigit(c) ? 2 : 0;

		if (label >= upto)
			break;
		if (k == 0 || (kind != 0 && k != kind)) {
			if (kind == 1 && n <= WORDLEN) {
				w[n] = '\0';
				if (in_words(strong_words, w))
					flags |= 1;
				if (in_words(weak_words, w))
					flags |= 2;
			}
			n = 0;
			kind = 0;
		}
		if (c == '\0')
			break;
		if (c == '.')
			label++;
		if (k != 0) {
			if (n < sizeof(w))
				w[n] = (char)tolower(c);
			n++;
			kind = k;
		}
	}
	return flags;
}

/* The numbers of 1 to 3 digits in host, in order. */
static size_t
runs_of(const char *host, int *runs)
{
	size_t n = 0;

	for (const char *p = host; *p && n < MAXRUNS;) {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		const char *s = p;
		int v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p - '0');
			if (v > 100000)
				v = 100000;
			p++;
		}
		if (p - s <= 3)
			runs[n++] = v;
	}
	return n;
}

/* Does seq (len k) occur among runs as consecutive items? */
static int
has_seq(const int *runs, size_t n, const int *seq, size_t k)
{
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k && runs[i + j] == seq[j])
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

/* The octets found in host: 4, 3 or 2 consecutive ones, else 0. */
static int
octets_in(const char *host, const unsigned char *a)
{
	int runs[MAXRUNS], fw[4], bw[4];
	size_t n = runs_of(host, runs);

	for (int i = 0; i < 4; i++) {
		fw[i] = a[i];
		bw[i] = a[3 - i];
	}
	if (has_seq(runs, n, fw, 4) || has_seq(runs, n, bw, 4))
		return 4;
	if (has_seq(runs, n, fw, 3) || has_seq(runs, n, fw + 1, 3) ||
	    has_seq(runs, n, bw, 3) || has_seq(runs, n, bw + 1, 3))
		return 3;
	if (has_seq(runs, n, fw + 2, 2) || has_seq(runs, n, bw, 2))
		return 2;
	return 0;
}

static int
contains_ci(const char *host, const char *needle)
{
	size_t hl = strlen(host), nl = strlen(needle);

	for (size_t i = 0; i + nl <= hl; i++)
		if (strncasecmp(host + i, needle, nl) == 0)
			return 1;
	return 0;
}

static size_t
label_count(const char *host)
{
	size_t n = 1;

	for (const char *p = host; *p; p++)
		if (*p == '.' && p[1] != '\0')
			n++;
	return n;
}

int
policy_dynamic_ptr(const char *host, const char *addr)
{
	unsigned char a[16];
	char buf[40];
	size_t labels;
	int words, v4 = 0, oct;

	if (policy_no_ptr(host))
		return 1;
	if (contains_ci(host, "no-reverse") || contains_ci(host, "not-assigned"))
		return 1;
	labels = label_count(host);
	/* the registered domain (last two labels) says nothing about the host */
	words = words_of(host, labels > 2 ? labels - 2 : 0);
	if (words & 1)
		return 1;
	if (addr != NULL && inet_pton(AF_INET, addr, a) == 1)
		v4 = 1;
	else if (addr == NULL || inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	if (v4) {
		if ((oct = octets_in(host, a)) >= 3)
			return 1;
		if (oct == 2 && (words & 2))
			return 1;
		snprintf(buf, sizeof(buf), "%03u%03u%03u", a[0], a[1], a[2]);
		if (strstr(host, buf))
			return 1;
		snprintf(buf, sizeof(buf), "%03u%03u%03u", a[1], a[2], a[3]);
		if (strstr(host, buf))
			return 1;
		snprintf(buf, sizeof(buf), "%02x%02x%02x%02x", a[0], a[1], a[2], a[3]);
	} else {
		snprintf(buf, sizeof(buf), "%02x%02x%02x%02x", a[12], a[13], a[14],
		    a[15]);
	}
	return contains_ci(host, buf);
}
