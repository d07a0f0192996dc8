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
 *	Reads fwdomain, secret or secret_file, maxage, hashlength,
 *	hashmin, separator, sign, local_domains, reject_spoofed and
 *	banned_users (doc/plugins/srs.md) into a struct srs_conf. Domains
 *	are kept in the core's normal form; banned users in lower case.
 *	The names and meanings of the SRS options are those of bms.py and
 *	pysrs, and so are the defaults of maxage and hashlength (8 days,
 *	8 characters).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srs_plugin.h"

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

/*
 * map[key]: one string or a list of them, into a NULL-terminated vector
 * (absent: defaults, or empty), kept as written, in lower case, or
 * normalised as domains.
 */
enum form { AS_WRITTEN, LOWER, DOMAIN };

static int
strings(const struct mm_api *api, const mm_opt *map, const char *key,
    const char *const *defaults, enum form form, char ***out)
{
	const mm_opt *v = api->opt_get(map, key);
	int scalar = v != NULL && api->opt_type(v) == MM_OPT_SCALAR;
	size_t n = 0;

	*out = NULL;
	if (v == NULL) {
		while (defaults != NULL && defaults[n] != NULL)
			n++;
	} else if (scalar)
		n = 1;
	else if (api->opt_type(v) == MM_OPT_LIST)
		n = api->opt_len(v);
	else {
		api->opt_error(v, "%s must be a string or a list of them", key);
		return -1;
	}
	if ((*out = calloc(n + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const mm_opt *it = v == NULL ? NULL : scalar ? v : api->opt_at(v, i);
		const char *s = v == NULL ? defaults[i] : api->opt_scalar(it), *why;
		char *d;

		if (s == NULL || *s == 0) {
			api->opt_error(it, "%s: each item must be a non-empty string", key);
			return -1;
		}
		if (form == DOMAIN) {
			if ((d = api->domain_normalize(s, &why)) == NULL) {
				api->opt_error(it, "%s: '%s' is not a domain: %s", key, s, why);
				return -1;
			}
			(*out)[i] = strdup(d);
			api->free(d);
		} else if (((*out)[i] = strdup(s)) != NULL && form == LOWER)
			for (char *p = (*out)[i]; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		if ((*out)[i] == NULL)
			return -1;
	}
	return 0;
}

/* secret: one string or a list of them (the first signs) */
static int
inline_secrets(const struct mm_api *api, const mm_opt *opts,
    struct srs_codec *codec)
{
	char **list;
	size_t n = 0;

	if (strings(api, opts, "secret", NULL, AS_WRITTEN, &list) < 0) {
		strv_free(list);
		return -1;
	}
	while (list[n] != NULL)
		n++;
	if (n > SRS_SECRETS_MAX) {
		api->opt_error(api->opt_get(opts, "secret"), "secret: more than %d "
		    "secrets", SRS_SECRETS_MAX);
		strv_free(list);
		return -1;
	}
	codec->secrets = list;
	codec->nsecrets = n;
	return 0;
}

static int
secrets(const struct mm_api *api, const mm_opt *opts, struct srs_codec *codec,
    char **err)
{
	const mm_opt *inl = api->opt_get(opts, "secret");
	const char *file;
	char buf[512];

	if (api->opt_str(opts, "secret_file", NULL, &file) < 0)
		return -1;
	if ((inl != NULL) == (file != NULL)) {
		api->opt_error(inl ? inl : opts, "give either secret or secret_file "
		    "(a file only the daemon user may read)");
		return -1;
	}
	if (inl != NULL)
		return inline_secrets(api, opts, codec);
	if (srs_secrets_read(file, &codec->secrets, &codec->nsecrets, buf,
	    sizeof(buf)) < 0) {
		*err = strdup(buf);
		return -1;
	}
	return 0;
}

static int
sign_mode(const struct mm_api *api, const mm_opt *opts, int *mode)
{
	const char *s;

	*mode = SRS_SIGN_ALWAYS;
	if (api->opt_str(opts, "sign", "always", &s) < 0)
		return -1;
	if (strcmp(s, "always") == 0)
		return 0;
	if (strcmp(s, "relayed") == 0)
		*mode = SRS_SIGN_RELAYED;
	else if (strcmp(s, "never") == 0)
		*mode = SRS_SIGN_NEVER;
	else {
		api->opt_error(api->opt_get(opts, "sign"), "sign must be always, "
		    "relayed or never, not '%s'", s);
		return -1;
	}
	return 0;
}

static const char *const banned_default[] = { "postmaster", "mailer-daemon",
    "clamav", NULL };

struct srs_conf *
srs_conf_load(const struct mm_api *api, const mm_opt *opts, char **err)
{
	struct srs_conf *c = calloc(1, sizeof(*c));
	long long v;
	const char *s, *why;
	int bad = 0;

	*err = NULL;
	if (c == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	c->api = api;
	c->codec.separator = '=';
	if (api->opt_str(opts, "fwdomain", NULL, &s) < 0)
		bad = 1;
	else if (s == NULL) {
		api->opt_error(opts, "fwdomain is required: the domain of the SRS "
		    "addresses (its MX must be this MTA)");
		bad = 1;
	} else if ((c->fwdomain = api->domain_normalize(s, &why)) == NULL ||
	    c->fwdomain[0] == '.') {
		api->opt_error(api->opt_get(opts, "fwdomain"), "fwdomain: '%s' is "
		    "not a domain: %s", s, c->fwdomain ? "a leading dot" : why);
		bad = 1;
	} else {
		/* the core's allocator is not ours: keep a copy we free */
		char *d = strdup(c->fwdomain);
		api->free(c->fwdomain);
		if ((c->fwdomain = d) == NULL)
			bad = 1;
	}
	if (api->opt_int(opts, "maxage", 1, 1023, 8, &v) < 0)
		bad = 1;
	c->codec.maxage = (int)v;
	if (api->opt_int(opts, "hashlength", 4, SRS_HASH_MAX, 8, &v) < 0)
		bad = 1;
	c->codec.hashlength = (int)v;
	if (api->opt_int(opts, "hashmin", 1, SRS_HASH_MAX, c->codec.hashlength, &v) < 0)
		bad = 1;
	else if (v > c->codec.hashlength) {
		api->opt_error(api->opt_get(opts, "hashmin"), "hashmin %lld is more than "
		    "hashlength %d: our own addresses would be refused", v,
		    c->codec.hashlength);
		bad = 1;
	}
	c->codec.hashmin = (int)v;
	if (api->opt_str(opts, "separator", "=", &s) < 0)
		bad = 1;
	else if (strlen(s) != 1 || strchr("=+-", s[0]) == NULL) {
		api->opt_error(api->opt_get(opts, "separator"), "separator must be "
		    "\"=\", \"+\" or \"-\" (quoted), not '%s'", s);
		bad = 1;
	} else
		c->codec.separator = s[0];
	if (sign_mode(api, opts, &c->sign) < 0)
		bad = 1;
	if (api->opt_bool(opts, "reject_spoofed", 0, &c->reject_spoofed) < 0)
		bad = 1;
	if (strings(api, opts, "local_domains", NULL, DOMAIN, &c->local_domains) < 0)
		bad = 1;
	if (strings(api, opts, "banned_users", banned_default, LOWER, &c->banned) < 0)
		bad = 1;
	if (!bad && secrets(api, opts, &c->codec, err) < 0)
		bad = 1;
	if (bad) {
		srs_conf_free(c);
		return NULL;
	}
	return c;
}
