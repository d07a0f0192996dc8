/*
 * NAME
 *	cbv.h - callback verification: what the plugin's modules share
 * SYNOPSIS
 *	#include "cbv.h"
 * DESCRIPTION
 *	The cbv plugin is split in small modules with one job each:
 *	cache.c (Postfix verify(8) cache semantics over a key-value store),
 *	ratelimit.c (per-domain rate and backoff), netcheck.c (addresses
 *	we must never connect to), mx.c (MX and address lookup with
 *	res_nquery), smtp.c (one SMTP dialogue with deadlines), probe.c
 *	(several MX within one deadline), template.c (DSN templates),
 *	mimeenc.c (folding and encoding what a notice quotes), dsnguard.c
 *	(whom a notice may go to, and how many), dsn.c (RFC 3464
 *	notices), options.c and cbv.c (the plugin).
 *	Nothing here depends on the modmilter API except options.c and
 *	cbv.c, so the modules are unit-tested on their own.
 */
#ifndef CBV_H
#define CBV_H

#include <stddef.h>
#include <sys/socket.h>

#include <modmilter/clock.h>
#include <modmilter/strbuf.h>

#define CBV_TEXT_MAX	256	/* remote answer kept in the cache */
#define CBV_ADDR_MAX	320	/* RFC 5321: 64 + 1 + 255 */

/* ---- cache.c ---- */

enum cbv_status {
	CBV_NONE = 0,		/* nothing known */
	CBV_OK,			/* the address was accepted */
	CBV_BOUNCE,		/* the address, or its domain, was refused */
	CBV_DEFER		/* no definite answer (4xx, timeout, DNS) */
};

struct cbv_entry {
	enum cbv_status status;
	double updated;		/* when the status was learnt */
	double probed;		/* when the last refresh probe was started */
	char text[CBV_TEXT_MAX];	/* the answer, sanitized */
};

/* Lifetimes, in seconds (Postfix: address_verify_*_{expire,refresh}_time). */
struct cbv_ttl {
	double pos_expire, pos_refresh;
	double neg_expire, neg_refresh;
	double defer_expire;
};

/* The store the cache lives in (the core's store in the plugin, a table
   in the unit tests). get returns 1 found, 0 absent, -1 error; the value
   is malloc'ed (NUL-terminated) and released with release(). cas writes
   val only if the key still holds expect (NULL: is absent): 1 written,
   0 it did not, -1 error. */
struct cbv_kv {
	void *arg;
	int (*get)(void *arg, const char *key, char **val);
	int (*put)(void *arg, const char *key, const char *val, double ttl);
	int (*cas)(void *arg, const char *key, const char *expect,
	    const char *val, double ttl);
	void (*release)(void *arg, char *val);
	/* add delta to the counter of each of n keys, all or none; out[i]
	   is its new value; each expires ttl seconds after this change.
	   1 done, -1 error */
	int (*add)(void *arg, char *const *keys, size_t n, long long delta,
	    double ttl, long long *out);
};

enum cbv_lookup {
	CACHE_ERROR = -1,	/* the store failed */
	CACHE_MISS = 0,		/* absent or expired: probe now */
	CACHE_FRESH,		/* serve it */
	CACHE_STALE		/* serve it, and refresh it in the background */
};

void cache_key(const char *prefix, const char *addr, char *buf, size_t len);
const char *cache_status_name(enum cbv_status);
int cache_format(const struct cbv_entry *, char *buf, size_t len);
int cache_parse(const char *s, struct cbv_entry *);
double cache_expire(const struct cbv_ttl *, const struct cbv_entry *);
enum cbv_lookup cache_lookup(const struct cbv_kv *, const struct cbv_ttl *,
    const char *key, double now, struct cbv_entry *);
int cache_update(const struct cbv_kv *, const struct cbv_ttl *,
    const char *key, double now, enum cbv_status, const char *text);
int cache_mark_probed(const struct cbv_kv *, const struct cbv_ttl *,
    const char *key, double now, struct cbv_entry *);

/* ---- ratelimit.c ---- */

struct cbv_rl;
struct cbv_rl *rl_new(double per_minute, double backoff_min, double backoff_max);
void rl_free(struct cbv_rl *);
int rl_admit(const struct cbv_kv *, const struct cbv_rl *, const char *domain,
    double now, double *wait);
int rl_result(const struct cbv_kv *, const struct cbv_rl *, const char *domain,
    double now, int failed);

/* ---- netcheck.c ---- */

struct cbv_own;
struct cbv_own *own_new(int interfaces, char **err);
int own_add(struct cbv_own *, const char *addr);	/* -1: not an address */
int own_allow(struct cbv_own *, const char *network);	/* -1: malformed */
void own_free(struct cbv_own *);
const char *addr_forbidden(const struct cbv_own *, const struct sockaddr *);

/* ---- mx.c ---- */

struct cbv_mxhost {
	char name[256];
	int pref;
};

struct cbv_mx {
	struct cbv_mxhost *hosts;
	size_t n;
	int implicit;		/* no MX: the domain itself (RFC 5321 5.1) */
};

enum mx_rc { MX_OK, MX_NULL, MX_NODOMAIN, MX_NONE, MX_TEMP };

struct cbv_dns {
	double timeout;		/* per query, seconds */
	int tries;
};

int mx_lookup(const struct cbv_dns *, const char *domain, struct cbv_mx *,
    char *err, size_t errlen);
void mx_free(struct cbv_mx *);
int mx_addrs(const struct cbv_dns *, const char *host,
    struct sockaddr_storage *out, size_t max, size_t *n, char *err, size_t errlen);

/* ---- smtp.c ---- */

enum smtp_rc {
	SMTP_OK,		/* RCPT (and the DSN's DATA) accepted */
	SMTP_REJECT,		/* 5xx on MAIL FROM, RCPT or DATA */
	SMTP_TEMP,		/* 4xx on MAIL FROM, RCPT or DATA */
	SMTP_FAIL,		/* connection, banner, EHLO, timeout: next MX */
	SMTP_LOOP		/* the peer calls itself by our name */
};

struct smtp_dialogue {
	const char *helo_name;		/* what we say in EHLO */
	const char *probe_from;		/* "" for the null sender */
	const char *rcpt;		/* the address under test */
	const char *data;		/* NULL: probe; else the message (CRLF) */
	size_t datalen;
	double step_timeout;		/* each read or write */
	double deadline;		/* absolute, mm_clock_mono() */
	char *const *own_names;		/* NULL-terminated; names meaning us */
	void (*progress)(void *arg);	/* called every progress_interval */
	void *progress_arg;
	double progress_interval;
};

int smtp_run(const struct sockaddr *, const struct smtp_dialogue *,
    char *reply, size_t replylen);
void smtp_sanitize(const char *in, char *out, size_t outlen);

/* ---- probe.c ---- */

struct probe_cfg {
	struct cbv_dns dns;
	const struct cbv_own *own;
	int port;
	int max_mx;			/* hosts tried */
	int max_addrs;			/* addresses tried in all */
	struct smtp_dialogue d;		/* template: rcpt/data set per probe */
	double total_timeout;
};

struct probe_result {
	enum cbv_status status;
	int host_failed;		/* no MX answered: back off the domain */
	char text[CBV_TEXT_MAX];
};

void probe_run(const struct probe_cfg *, const char *addr, const char *data,
    size_t datalen, struct probe_result *);

/* ---- template.c ---- */

struct cbv_template;
struct cbv_rendered {
	char *subject, *action, *status, *body;
};

extern const char *const template_vars[];
struct cbv_template *template_load(const char *dir, const char *name,
    char *err, size_t errlen);
struct cbv_template *template_parse(const char *name, const char *text,
    char *err, size_t errlen);
const char *template_name(const struct cbv_template *);
void template_free(struct cbv_template *);
int template_render(const struct cbv_template *,
    const char *(*lookup)(void *arg, const char *var), void *arg,
    struct cbv_rendered *);
void template_rendered_free(struct cbv_rendered *);

/* ---- mimeenc.c ---- */

/* Buffers are the helper library's soft struct mm_buf (MM_BUF_SOFT_INIT):
   oom set after an allocation failure means the result is void. */
void mbuf_text(struct mm_buf *, const char *);	/* line ends made CRLF */
void mime_header(struct mm_buf *, const char *name, const char *value,
    int unstructured);
int mime_needs_qp(const char *);
void mime_qp(struct mm_buf *, const char *);
char *mime_utf8(const char *);

/* ---- dsnguard.c ---- */

struct dsn_sender {
	const char *domain;		/* of the MAIL FROM address */
	const char *spf_result;		/* fact spf.result, or NULL */
	const char *spf_domain;		/* fact spf.domain, or NULL */
	int internal;			/* client class internal */
	int auth;			/* SMTP AUTH */
};

struct dsn_caps {
	long long total;		/* notices per period, in all */
	long long per_domain;		/* notices per period to one domain */
	double period;			/* seconds */
};

int dsn_sender_ok(const struct dsn_sender *, char *why, size_t len);
int dsn_caps_admit(const struct cbv_kv *, const struct dsn_caps *,
    const char *domain, double now, char *why, size_t len);

/* ---- dsn.c ---- */

struct dsn_info {
	const char *reporting_mta;	/* our host name */
	const char *from;		/* From: of the notice */
	const char *to;			/* the original MAIL FROM */
	const char *client_helo;	/* Received-From-MTA */
	const char *client_ip;
	double arrival;			/* unix time */
	double now;
	char *const *rcpts;		/* original recipients */
	size_t nrcpt;
	const char *action;		/* RFC 3464 Action: default "delayed" */
	const char *status;		/* RFC 3464 Status: default "4.7.0" */
	const char *diagnostic;		/* Diagnostic-Code text, or NULL */
	const char *subject;
	const char *text;		/* human-readable part */
	const char *headers;		/* original header block, or NULL */
};

char *dsn_build(const struct dsn_info *, size_t *len);
int dsn_quote_header(struct mm_buf *, size_t max, const char *name,
    const char *value);

#endif
