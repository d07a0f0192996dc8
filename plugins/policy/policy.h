/*
 * NAME
 *	policy.h - the policy plugin's configuration, checks and auto-whitelist
 * SYNOPSIS
 *	#include "policy.h"
 * DESCRIPTION
 *	The site policy of a mail host (connection, HELO, zombie and
 *	forgery, three strikes, Subject words, Sender:, auto-whitelist).
 *	The checks are pure functions of what they are given (checks.c,
 *	dynptr.c, words.c) so that the unit tests run them without a
 *	daemon; dns.c asks DNS; whitelist.c keeps the auto-whitelist in
 *	the core's store; options.c reads the options; plugin.c wires it
 *	all to the SMTP stages.
 */
#ifndef MM_POLICY_H
#define MM_POLICY_H

#include <stddef.h>
#include <sys/socket.h>

#include <modmilter/plugin.h>

#define POLICY_DB	"policy"
#define POLICY_WL_PREFIX	"aw:"	/* auto-whitelist keys: aw:<address> */
#define POLICY_FACT_DSPAM	"policy.dspam"	/* whitelisted | exempt | rescinded */

struct policy_conf {
	int reject_bad_ptr;		/* PTR "localhost" (not loopback) or "." */
	int reject_numeric_hello;	/* a bare IPv4/IPv6 literal */
	int require_hello;		/* MAIL before HELO */
	char **hello_blacklist;		/* our names and domains, normalised */
	char **internal_domains;	/* domains; ".example.com": subdomains */
	int three_strikes;		/* reject_noptr configured */
	int reject_noptr;		/* 1 refuse, 0 flag for cbv */
	int confirm_ptr;		/* forward-confirm the PTR name in DNS */
	double dns_timeout;
	char **porn_words, **spam_words;	/* folded (words.c) */
	int supply_sender;
	char **whitelist_senders;	/* "user@domain" or "@domain", lower case */
	int auto_whitelist;		/* look senders up in the auto-whitelist */
	double auto_whitelist_ttl;
	char **dspam_exempt;		/* recipients: no dspam screening */
	char **dspam_whitelist;		/* senders: not scanned by dspam */
	char *db;			/* the store's database */
};

/* options.c: the table the core reads (the descriptor's .options) */
extern const struct mm_option policy_option_table[];
int policy_conf_load(const struct mm_api *api, const mm_opt *o,
    struct policy_conf *c);
void policy_conf_free(struct policy_conf *c);

/* dynptr.c: does a PTR name look assigned to a dynamic address?
   addr is the client address in text form (IPv4 or IPv6). */
int policy_dynamic_ptr(const char *host, const char *addr);
/* No usable PTR name: "[192.0.2.1]", "unknown", empty. */
int policy_no_ptr(const char *host);

/* checks.c */
/* A PTR name no host may have: "localhost" from a non-loopback address,
   or ".". */
int policy_bad_ptr(const char *host, const char *addr);
/* An IPv4 or IPv6 literal written without brackets. */
int policy_numeric_hello(const char *helo);
/* A name in the list (exact, or a subdomain of an entry ".x"). */
int policy_name_in(const struct mm_api *api, char *const *list,
    const char *name);
/* Address lists: "user@domain" (whole address, case-insensitive) or
   "@domain" / "domain" (every address of the domain). addr is in the
   core's normal form. */
int policy_addr_in(const struct mm_api *api, char *const *list,
    const char *addr);

enum policy_sender_verdict {
	POLICY_SENDER_OK = 0,
	POLICY_SENDER_ZOMBIE,		/* internal client, foreign MAIL FROM */
	POLICY_SENDER_FORGED		/* external client, one of our domains */
};
/* internal: internal class or SMTP AUTH; relay: trusted relay;
   domain: of MAIL FROM (NULL for the null sender); spf_pass: SPF (not
   a guess) passed for that domain. */
enum policy_sender_verdict policy_sender_check(const struct mm_api *api,
    char *const *internal_domains, int internal, int relay,
    const char *domain, int spf_pass);

/* The three strikes. What is known of the client and the sender; a
   field is 1 when it holds. */
struct policy_strikes {
	int spf_none;		/* the domain publishes no SPF (or unknown) */
	int guess_pass;		/* the spf plugin's best guess passed */
	int helo_valid;		/* HELO SPF pass, or client in A/MX of HELO /24 */
	int ptr_good;		/* forward-confirmed PTR, not dynamic */
};
/* 1 the sender passes (with why set to what saved it), 0 it struck out */
int policy_strikes_pass(const struct policy_strikes *s, const char **why);

/* Auto-reply subjects ("Read:", "Autoreply:", "Return receipt") do not
   whitelist their recipients. */
int policy_autoreply_subject(const char *folded);

/* words.c: RFC 2047 decoding and folding (case, accents, look-alike
   letters, invisible characters) into a malloc'ed string to match
   words in; NULL when out of memory. */
char *policy_fold_header(const struct mm_api *api, const char *value);
char *policy_fold(const char *utf8, size_t len);
/* The first word of list contained in folded, or NULL. */
const char *policy_word_in(char *const *list, const char *folded);

/* dns.c: 1 when name has an address equal to the client's in its first
   bits (A/AAAA; with mx also the addresses of its MX hosts), 0 not,
   -1 DNS failed. */
int policy_dns_addr_match(const char *name, const struct sockaddr *sa,
    int v4bits, int v6bits, int mx, double timeout);

/* whitelist.c */
struct policy_rcpt {
	const char *addr;
	int accepted;
};
/* The key of an address (lower case, normal form) into buf; -1 when
   it is no mailbox. */
int policy_wl_key(const struct mm_api *api, const char *addr, char *buf,
    size_t size);
/* Add or renew each accepted recipient outside internal_domains;
   returns how many were written, -1 on a store error. */
int policy_wl_learn(const struct mm_api *api, mm_store *st,
    char *const *internal_domains, const struct policy_rcpt *r, size_t n,
    double now, double ttl, const char *by);
/* 1 listed, 0 not, -1 store error */
int policy_wl_has(const struct mm_api *api, mm_store *st, const char *addr);
int policy_wl_del(const struct mm_api *api, mm_store *st, const char *addr);

#endif
