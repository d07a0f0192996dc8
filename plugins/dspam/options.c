/*
 * NAME
 *	options - the dspam instance's options
 * SYNOPSIS
 *	#include "plugin.h"
 *
 *	struct dspam_inst *d = dspam_options(api, options, &err);
 *	dspam_inst_free(d);
 * DESCRIPTION
 *	Reads and checks every option (doc/plugins/dspam.md lists them);
 *	a bad value is reported at its line and column through
 *	api->opt_error() and the instance is not created. Probabilities
 *	are numbers from 0 to 1; a threshold left out is disabled.
 * DIAGNOSTICS
 *	NULL, with errors recorded at the options or *err set (malloc'ed).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

/* a threshold left out: no probability is above it */
#define DISABLED 2.0

static int
opt_prob(const struct mm_api *api, const mm_opt *o, const char *key,
    double def, double *out)
{
	const char *s;
	char *end;
	double v;

	if (api->opt_str(o, key, NULL, &s) < 0)
		return -1;
	if (s == NULL) {
		*out = def;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
		api->opt_error(api->opt_get(o, key), "%s: a number from 0 to 1", key);
		return -1;
	}
	*out = v;
	return 0;
}

static int
opt_num(const struct mm_api *api, const mm_opt *o, const char *key,
    double def, double min, double max, double *out)
{
	const char *s;
	char *end;
	double v;

	if (api->opt_str(o, key, NULL, &s) < 0)
		return -1;
	if (s == NULL) {
		*out = def;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= min && v <= max)) {
		api->opt_error(api->opt_get(o, key), "%s: a number from %g to %g",
		    key, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* a list of addresses, in the core's normal form and lower-cased */
static int
opt_addrs(const struct mm_api *api, const mm_opt *o, const char *key,
    struct addrlist *l)
{
	const mm_opt *n = api->opt_get(o, key);
	size_t i, len;

	memset(l, 0, sizeof(*l));
	if (n == NULL || api->opt_type(n) == MM_OPT_NONE)
		return 0;
	if (api->opt_type(n) == MM_OPT_SCALAR) {
		len = 1;
	} else if (api->opt_type(n) == MM_OPT_LIST) {
		len = api->opt_len(n);
	} else {
		api->opt_error(n, "%s: an address or a list of addresses", key);
		return -1;
	}
	if ((l->v = calloc(len ? len : 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		const mm_opt *it = api->opt_type(n) == MM_OPT_SCALAR ? n :
		    api->opt_at(n, i);
		const char *s = api->opt_scalar(it), *why;
		char *c, *norm;

		if (s == NULL || *s == '\0' || api->opt_type(it) != MM_OPT_SCALAR) {
			api->opt_error(it, "%s: an address", key);
			return -1;
		}
		if ((norm = api->addr_normalize(s, &why)) == NULL) {
			api->opt_error(it, "%s: '%s': %s", key, s, why);
			return -1;
		}
		l->v[l->n] = strdup(norm);
		api->free(norm);
		if (l->v[l->n] == NULL)
			return -1;
		for (c = l->v[l->n]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		l->n++;
	}
	return 0;
}

static void
addrlist_free(struct addrlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Is an envelope address in the list? Compared in the core's normal
 * form, so that "<trap@example.com.>", "<@relay:trap@example.com>" or
 * "\"trap\"@EXAMPLE.COM" is the honeypot trap@example.com; an address
 * the core cannot parse is in no list.
 */
int
addrlist_has(const struct mm_api *api, const struct addrlist *l,
    const char *addr)
{
	char *norm;
	size_t i;
	int hit = 0;

	if (addr == NULL || l->n == 0 || (norm = api->addr_normalize(addr, NULL)) == NULL)
		return 0;
	for (i = 0; i < l->n && !hit; i++)
		hit = strcasecmp(l->v[i], norm) == 0;
	api->free(norm);
	return hit;
}

void
dspam_inst_free(struct dspam_inst *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->database);
	pthread_mutex_destroy(&d->lock);
	free(d->dictionary);
	free(d->tag_text);
	addrlist_free(&d->spam_addrs);
	addrlist_free(&d->ham_addrs);
	addrlist_free(&d->honeypots);
	addrlist_free(&d->innocent_senders);
	for (i = 0; i < d->ngroups; i++) {
		free(d->groups[i].name);
		addrlist_free(&d->groups[i].members);
	}
	free(d->groups);
	free(d);
}

static int
read_groups(const struct mm_api *api, const mm_opt *o, struct dspam_inst *d)
{
	const mm_opt *g = api->opt_get(o, "groups");
	size_t i, n;

	if (g == NULL || api->opt_type(g) == MM_OPT_NONE)
		return 0;
	if (api->opt_type(g) != MM_OPT_MAP) {
		api->opt_error(g, "groups: a map of group name to addresses");
		return -1;
	}
	n = api->opt_len(g);
	if ((d->groups = calloc(n ? n : 1, sizeof(*d->groups))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const mm_opt *members;
		const char *name = api->opt_key_at(g, i, &members);
		struct dspam_group *dg = &d->groups[d->ngroups];

		if (name == NULL || (dg->name = malloc(strlen(name) + 7)) == NULL)
			return -1;
		strcpy(dg->name, "group:");
		strcat(dg->name, name);
		d->ngroups++;
		(void)members;
		if (opt_addrs(api, g, name, &dg->members) < 0)
			return -1;
	}
	return 0;
}

struct dspam_inst *
dspam_options(const struct mm_api *api, const mm_opt *o, char **err)
{
	struct dspam_inst *d = calloc(1, sizeof(*d));
	const char *db, *algo, *tok, *mode, *dict, *tag;
	long long max_size, max_tokens, purge_hits;
	double ttl;
	int per_rcpt;

	if (d == NULL) {
		*err = strdup("dspam: out of memory");
		return NULL;
	}
	combine_defaults(&d->c.cp);
	pthread_mutex_init(&d->lock, NULL);
	d->c.ds.api = api;
	if (api->opt_str(o, "database", "dspam", &db) < 0 ||
	    api->opt_duration(o, "purge_after", 30 * 86400.0, &d->c.ds.purge_after) < 0 ||
	    api->opt_int(o, "purge_hits", 0, 1000000, 1, &purge_hits) < 0 ||
	    api->opt_str(o, "algorithm", "fisher", &algo) < 0 ||
	    api->opt_str(o, "tokenizer", "words", &tok) < 0 ||
	    api->opt_str(o, "training", "teft", &mode) < 0 ||
	    opt_prob(api, o, "threshold", 0.5, &d->c.cp.threshold) < 0 ||
	    opt_num(api, o, "robs", d->c.cp.robs, 0.0001, 100.0, &d->c.cp.robs) < 0 ||
	    opt_prob(api, o, "robx", d->c.cp.robx, &d->c.cp.robx) < 0 ||
	    opt_num(api, o, "min_dev", d->c.cp.min_dev, 0.0, 0.5, &d->c.cp.min_dev) < 0 ||
	    api->opt_int(o, "max_tokens", 0, 1000000, 0, &max_tokens) < 0 ||
	    api->opt_str(o, "dictionary", "shared", &dict) < 0 ||
	    api->opt_bool(o, "per_recipient", 0, &per_rcpt) < 0 ||
	    api->opt_duration(o, "signature_ttl", 14 * 86400.0, &ttl) < 0 ||
	    api->opt_int(o, "max_size", 0, (long long)1 << 40, 1024 * 1024, &max_size) < 0 ||
	    opt_prob(api, o, "tag_above", DISABLED, &d->tag_above) < 0 ||
	    api->opt_str(o, "tag_text", "[SPAM]", &tag) < 0 ||
	    opt_prob(api, o, "quarantine_above", DISABLED, &d->quarantine_above) < 0 ||
	    opt_prob(api, o, "reject_above", DISABLED, &d->reject_above) < 0 ||
	    opt_prob(api, o, "triage_reject_above", DISABLED, &d->triage_above) < 0 ||
	    opt_addrs(api, o, "spam_addresses", &d->spam_addrs) < 0 ||
	    opt_addrs(api, o, "ham_addresses", &d->ham_addrs) < 0 ||
	    opt_addrs(api, o, "honeypots", &d->honeypots) < 0 ||
	    opt_addrs(api, o, "innocent_senders", &d->innocent_senders) < 0 ||
	    read_groups(api, o, d) < 0)
		goto fail;
	if (strcmp(algo, "fisher") == 0) {
		d->c.cp.algo = ALGO_FISHER;
	} else if (strcmp(algo, "burton") == 0 || strcmp(algo, "graham") == 0) {
		d->c.cp.algo = ALGO_BURTON;
	} else {
		api->opt_error(api->opt_get(o, "algorithm"), "algorithm: fisher or burton");
		goto fail;
	}
	if (strcmp(tok, "words") == 0) {
		d->tok.pairs = 0;
	} else if (strcmp(tok, "chain") == 0) {
		d->tok.pairs = 1;
	} else if (strcmp(tok, "osb") == 0) {
		d->tok.pairs = 4;
	} else {
		api->opt_error(api->opt_get(o, "tokenizer"), "tokenizer: words, chain or osb");
		goto fail;
	}
	if (train_mode_parse(mode, &d->c.mode) < 0) {
		api->opt_error(api->opt_get(o, "training"),
		    "training: teft, toe, tum or notrain");
		goto fail;
	}
	if (*dict == '\0') {
		api->opt_error(api->opt_get(o, "dictionary"), "dictionary: a name");
		goto fail;
	}
	if (strpbrk(tag, "\r\n")) {
		api->opt_error(api->opt_get(o, "tag_text"), "tag_text must be one line");
		goto fail;
	}
	d->c.cp.max_tokens = (size_t)max_tokens;
	d->per_recipient = per_rcpt;
	d->max_size = (size_t)max_size;
	d->c.sig_ttl = ttl;
	if ((d->dictionary = strdup(dict)) == NULL ||
	    (d->tag_text = strdup(tag)) == NULL) {
		*err = strdup("dspam: out of memory");
		goto fail;
	}
	if (*db == '\0' || strlen(db) > 200 ||
	    strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(db)) {
		api->opt_error(api->opt_get(o, "database"), "database: a store "
		    "database name (letters, digits, '.', '_', '-')");
		goto fail;
	}
	d->c.ds.purge_hits = (uint32_t)purge_hits;
	if ((d->database = strdup(db)) == NULL) {
		*err = strdup("dspam: out of memory");
		goto fail;
	}
	return d;
fail:
	dspam_inst_free(d);
	return NULL;
}
