/*
 * NAME
 *	checks - the policy plugin's decisions, as pure functions
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	policy_bad_ptr("localhost", "192.0.2.1");	   1
 *	policy_numeric_hello("192.0.2.1");		   1
 *	policy_sender_check(api, domains, internal, relay, "example.com", 0);
 *	policy_strikes_pass(&strikes, &why);
 * DESCRIPTION
 *	policy_bad_ptr(): the PTR "localhost" is only true of a loopback
 *	address, and "." of none.
 *
 *	policy_numeric_hello(): a HELO that is an IPv4 or IPv6 address
 *	without the brackets of an address literal.
 *
 *	policy_sender_check(): an internal client (internal network or
 *	SMTP AUTH) must use a MAIL FROM in internal_domains (else it is a
 *	zombie); an external client that is no trusted relay must not use
 *	one of them (a forgery) unless SPF passed for it. An empty
 *	internal_domains checks nothing; the null sender is never either.
 *
 *	policy_strikes_pass(): a sender whose domain publishes no SPF
 *	passes when the best guess passed, the HELO is valid, or the
 *	client has a good PTR; otherwise it has struck out three times.
 *
 *	policy_autoreply_subject(): read receipts and auto-replies, which
 *	must not whitelist their recipients.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

int
policy_bad_ptr(const char *host, const char *addr)
{
	unsigned char a[16];
	size_t len;

	if (host == NULL)
		return 0;
	if (strcmp(host, ".") == 0)
		return 1;
	len = strlen(host);
	if (len && host[len - 1] == '.')
		len--;
	if (len != 9 || strncasecmp(host, "localhost", 9) != 0)
		return 0;
	if (addr == NULL)
		return 1;
	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] != 127;
	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };
		return memcmp(a, lo, 16) != 0;
	}
	return 1;
}

int
policy_numeric_hello(const char *helo)
{
	unsigned char a[16];
	char buf[64];
	size_t len;

	if (helo == NULL || *helo == '[')
		return 0;
	len = strlen(helo);
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, helo, len + 1);
	if (buf[len - 1] == '.')	/* "192.0.2.1." is no better */
		buf[len - 1] = '\0';
	if (strncasecmp(buf, "ipv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, a) == 1;
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

int
policy_name_in(const struct mm_api *api, char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (api->domain_match(name, list[i]))
			return 1;
	return 0;
}

int
policy_addr_in(const struct mm_api *api, char *const *list, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	if (at == NULL)
		return 0;
	for (size_t i = 0; list && list[i]; i++) {
		const char *e = list[i], *eat = strrchr(e, '@');
		if (eat == NULL) {
			if (api->domain_match(at + 1, e))
				return 1;
		} else if (eat == e) {
			if (api->domain_match(at + 1, e + 1))
				return 1;
		} else if (strcasecmp(e, addr) == 0) {
			return 1;
		}
	}
	return 0;
}

enum policy_sender_verdict
policy_sender_check(const struct mm_api *api, char *const *internal_domains,
    int internal, int relay, const char *domain, int spf_pass)
{
	int ours;

	if (internal_domains == NULL || internal_domains[0] == NULL ||
	    domain == NULL || *domain == '\0')
		return POLICY_SENDER_OK;
	ours = policy_name_in(api, internal_domains, domain);
	if (internal)
		return ours ? POLICY_SENDER_OK : POLICY_SENDER_ZOMBIE;
	if (relay || !ours || spf_pass)
		return POLICY_SENDER_OK;
	return POLICY_SENDER_FORGED;
}

int
policy_strikes_pass(const struct policy_strikes *s, const char **why)
{
	if (!s->spf_none)
		*why = "SPF published";
	else if (s->guess_pass)
		*why = "best guess pass";
	else if (s->helo_valid)
		*why = "valid HELO";
	else if (s->ptr_good)
		*why = "good PTR";
	else {
		*why = "no PTR, HELO or SPF";
		return 0;
	}
	return 1;
}

int
policy_autoreply_subject(const char *folded)
{
	if (folded == NULL)
		return 0;
	while (*folded == ' ')
		folded++;
	return strncmp(folded, "read:", 5) == 0 ||
	    strstr(folded, "autoreply:") != NULL ||
	    strstr(folded, "auto-reply:") != NULL ||
	    strncmp(folded, "return receipt", 14) == 0;
}
