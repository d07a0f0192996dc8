/*
 * NAME
 *	options - the srs instance's options, checked
 * SYNOPSIS
 *	#include "srs_plugin.h"
 *
 *	struct srs_conf *c;
 *	char *err = NULL;
 *	if ((c = srs_conf_load(api, options, &err)) == NULL) ... (err or
 *	    errors recorded at their nodes)
 *	srs_conf_free(c);
 * DESCRIPTION
 *	The core reads the options of srs_option_table (fwdomain, secret
 *	or secret_file, maxage, hashlength, hashmin, separator, sign,
 *	local_domains, reject_spoofed, banned_users: modmilterd --describe
 *	srs prints it, the table of doc/plugins/srs.md is generated from
 *	it) with their defaults; this checks what a table cannot say and
 *	makes a struct srs_conf. Domains are kept in the core's normal
 *	form; banned users in lower case. The names and meanings of the
 *	SRS options are those of bms.py and pysrs, and so are the defaults
 *	of maxage and hashlength (8 days, 8 characters).
 *
 *	The secret file is read here, at init: modmilterd -t and a reload
 *	find out about a missing, unreadable or too open file before any
 *	mail does.
 * DIAGNOSTICS
 *	Problems of one option are recorded at its node (FILE:LINE:COL,
 *	key); problems with the secret file come back in *err. NULL is
 *	returned after reading every option, so that one mistake does not
 *	hide the next.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srs_plugin.h"

/* what the option table reads; srs_conf_load() moves it into srs_conf */
struct srs_opts {
	char *fwdomain, *secret_file;
	struct mm_strv secret, local_domains, banned_users;
	long long maxage, hashlength, hashmin;
	int separator, sign, reject_spoofed;
};

#define O(f)	offsetof(struct srs_opts, f)

static const char *const separator_w[] = { "=", "+", "-", NULL };
static const char *const sign_w[] = { "always", "relayed", "never", NULL };

/*
 * The options the core reads (modmilterd --describe srs; the table of
 * doc/plugins/srs.md is generated from it). sign's words are in the
 * order of SRS_SIGN_*.
 */
const struct mm_option srs_option_table[] = {
	{ "fwdomain", MM_OT_STRING, O(fwdomain), NULL, 0, 0, NULL, "required: "
	  "the domain of the SRS addresses; its MX must be this MTA, and its SPF "
	  "record must list the forwarding hosts", NULL },
	{ "secret", MM_OT_LIST, O(secret), NULL, 0, 0, NULL, "a secret, or a "
	  "list (the first signs, all verify); or else `secret_file`", NULL },
	{ "secret_file", MM_OT_STRING, O(secret_file), NULL, 0, 0, NULL,
	  "instead of `secret`: a file with one secret per line (first signs, all "
	  "verify; `#` comments and blank lines skipped). It must not be readable "
	  "or writable by group or others (mode 0600 or 0400) and readable by the "
	  "daemon user: `modmilterd -t` and a reload refuse anything else, naming "
	  "the file and the mode", NULL },
	{ "maxage", MM_OT_INT, O(maxage), "8", 1, 1023, NULL, "days an SRS "
	  "address stays valid", NULL },
	{ "hashlength", MM_OT_INT, O(hashlength), "8", 4, SRS_HASH_MAX, NULL,
	  "characters of the hashes made", NULL },
	{ "hashmin", MM_OT_INT, O(hashmin), NULL, 1, SRS_HASH_MAX, NULL, "fewest "
	  "characters accepted, at most `hashlength`; none: `hashlength`. When "
	  "raising `hashlength`, keep the old value here for `maxage` days", NULL },
	{ "separator", MM_OT_ENUM, O(separator), "=", 0, 0, separator_w,
	  "after SRS0/SRS1 in the addresses made (quote it: a bare `-` is YAML "
	  "syntax); all three are accepted in reversal",
	  "separator must be \"=\", \"+\" or \"-\" (quoted)" },
	{ "sign", MM_OT_ENUM, O(sign), "always", 0, 0, sign_w, "whose sender is "
	  "rewritten: `always` every message of the instance's chains, `relayed` "
	  "mail from internal clients, trusted relays and authenticated users, "
	  "`never` none (reverse and refuse only)", NULL },
	{ "local_domains", MM_OT_DOMAINS, O(local_domains), NULL, 0, 0, NULL,
	  "our domains (`.example.org`: its subdomains): their senders are not "
	  "rewritten, their recipients are protected by `reject_spoofed`", NULL },
	{ "reject_spoofed", MM_OT_BOOL, O(reject_spoofed), "false", 0, 0, NULL,
	  "refuse bounces to unsigned local recipients", NULL },
	{ "banned_users", MM_OT_LIST, O(banned_users),
	  "postmaster mailer-daemon clamav", 0, 0, NULL, "local parts whose mail "
	  "counts as a bounce (any case)", NULL },
	{ NULL }
};

static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
srs_conf_free(struct srs_conf *c)
{
	if (c == NULL)
		return;
	srs_secrets_free(c->codec.secrets, c->codec.nsecrets);
	free(c->fwdomain);
	strv_free(c->local_domains);
	strv_free(c->banned);
	free(c);
}

/* a list the table read, taken over as a NULL-terminated array */
static char **
take(struct mm_strv *l, size_t *n)
{
	char **v = l->v != NULL ? l->v : calloc(1, sizeof(char *));

	if (n != NULL)
		*n = l->n;
	l->v = NULL;
	l->n = 0;
	return v;
}

/* secret (one or a list: the first signs) or secret_file, not both */
static int
secrets(const struct mm_api *api, const mm_opt *opts, struct srs_opts *o,
    struct srs_codec *codec, char **err)
{
	const mm_opt *inl = api->opt_get(opts, "secret");
	char buf[512];

	if ((o->secret.n > 0) == (o->secret_file != NULL)) {
		api->opt_error(inl ? inl : opts, "give either secret or secret_file "
		    "(a file only the daemon user may read)");
		return -1;
	}
	if (o->secret.n > SRS_SECRETS_MAX) {
		api->opt_error(inl, "secret: more than %d secrets", SRS_SECRETS_MAX);
		return -1;
	}
	if (o->secret.n > 0) {
		codec->secrets = take(&o->secret, &codec->nsecrets);
		return codec->secrets != NULL ? 0 : -1;
	}
	if (srs_secrets_read(o->secret_file, &codec->secrets, &codec->nsecrets,
	    buf, sizeof(buf)) < 0) {
		*err = strdup(buf);
		return -1;
	}
	return 0;
}

/* fwdomain, unless the table reported it (told) */
static int
fwdomain(const struct mm_api *api, const mm_opt *opts, const char *s,
    int told, struct srs_conf *c)
{
	const char *why;
	char *d;

	if (s == NULL) {
		if (!told)
				api->opt_error(opts, "fwdomain is required: the domain of the "
			    "SRS addresses (its MX must be this MTA)");
		return -1;
	}
	if ((d = api->domain_normalize(s, &why)) == NULL || d[0] == '.') {
		api->opt_error(api->opt_get(opts, "fwdomain"), "fwdomain: '%s' is "
		    "not a domain: %s", s, d ? "a leading dot" : why);
		if (d != NULL)
			api->free(d);
		return -1;
	}
	/* the core's allocator is not ours: keep a copy we free */
	c->fwdomain = strdup(d);
	api->free(d);
	return c->fwdomain != NULL ? 0 : -1;
}

/*
 * What the table cannot say, then the table's values into c; bad: the
 * table reported a value (the others are still checked, the secrets
 * are not read).
 */
static int
conf_from(const struct mm_api *api, const mm_opt *opts, struct srs_opts *o,
    struct srs_conf *c, int bad, char **err)
{
	if (fwdomain(api, opts, o->fwdomain, bad, c) < 0)
		bad = 1;
	if (o->hashmin == 0)		/* absent: hashlength */
		o->hashmin = o->hashlength;
	else if (o->hashmin > o->hashlength) {
		api->opt_error(api->opt_get(opts, "hashmin"), "hashmin %lld is more "
		    "than hashlength %lld: our own addresses would be refused",
		    o->hashmin, o->hashlength);
		bad = 1;
	}
	c->codec.maxage = (int)o->maxage;
	c->codec.hashlength = (int)o->hashlength;
	c->codec.hashmin = (int)o->hashmin;
	c->codec.separator = separator_w[o->separator][0];
	c->sign = o->sign;
	c->reject_spoofed = o->reject_spoofed;
	c->local_domains = take(&o->local_domains, NULL);
	c->banned = take(&o->banned_users, NULL);
	if (c->local_domains == NULL || c->banned == NULL)
		return -1;
	for (size_t i = 0; c->banned[i] != NULL; i++)
		for (char *p = c->banned[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	if (!bad && secrets(api, opts, o, &c->codec, err) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

struct srs_conf *
srs_conf_load(const struct mm_api *api, const mm_opt *opts, char **err)
{
	struct srs_conf *c = calloc(1, sizeof(*c));
	struct srs_opts o;
	int rc;

	*err = NULL;
	if (c == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	if (!MM_API_HAS(api, opt_table)) {
		*err = strdup("srs needs a modmilterd that reads options by table");
		free(c);
		return NULL;
	}
	c->api = api;
	memset(&o, 0, sizeof(o));
	rc = api->opt_table(opts, srs_option_table, &o);
	rc = conf_from(api, opts, &o, c, rc < 0, err);
	if (o.secret.v != NULL) {	/* secrets do not linger in freed memory */
		size_t n;
		char **v = take(&o.secret, &n);
		srs_secrets_free(v, n);
	}
	api->opt_table_free(srs_option_table, &o);
	if (rc < 0) {
		srs_conf_free(c);
		return NULL;
	}
	return c;
}
