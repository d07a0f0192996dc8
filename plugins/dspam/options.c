/*
 * NAME
 *	options - the dspam instance's options
 * SYNOPSIS
 *	#include "plugin.h"
 *
 *	struct dspam_inst *d = dspam_options(api, options, &err);
 *	dspam_inst_free(d);
 * DESCRIPTION
 *	The core reads the options of dspam_option_table (modmilterd
 *	--describe dspam prints it) and the groups through the same
 *	reader; this checks what a table cannot say (database and
 *	dictionary names, one-line tag). A bad value is reported at its
 *	line and column and the instance is not created. Probabilities
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

#define O(f)	offsetof(struct dspam_inst, f)
#define PROB(key, f, doc) \
	{ key, MM_OT_NUMBER, O(f), NULL, 0, 1, NULL, doc, NULL }
#define ADDRS(key, f, doc) \
	{ key, MM_OT_ADDRESSES, O(f), NULL, 0, 0, NULL, doc, NULL }

/*
 * The options the core reads (modmilterd --describe dspam; the table of
 * doc/plugins/dspam.md is generated from it). groups, a map of group
 * name to addresses, is read here.
 */
const struct mm_option dspam_option_table[] = {
	{ "database", MM_OT_STRING, O(database), "dspam", 0, 0, NULL,
	  "database of the core's store (`store:` in the daemon's configuration: "
	  "LMDB, or Redis shared by several hosts) holding every dictionary and the "
	  "signatures. A full LMDB map is a store failure (logged with \"raise store "
	  "map_size\")", NULL },
	{ "purge_after", MM_OT_DURATION, O(c.ds.purge_after), "30d", 0, 0, NULL,
	  "a token with at most `purge_hits` hits expires `purge_after` after it "
	  "was last trained (so rare words of old mail do not pile up); a token "
	  "with more hits is kept. `purge_after: 0` keeps everything", NULL },
	{ "purge_hits", MM_OT_INT, O(opt.purge_hits), "1", 0, 1000000, NULL,
	  "see `purge_after`", NULL },
	{ "algorithm", MM_OT_ENUM, O(opt.algorithm), "fisher", 0, 0,
	  MM_OPT_WORDS("fisher", "burton", "graham"),
	  "`fisher` (Fisher–Robinson inverse chi-square) or `burton` (Graham's "
	  "token probability, Burton's 27 most interesting tokens; `graham` is "
	  "the same)", NULL },
	{ "tokenizer", MM_OT_ENUM, O(opt.tokenizer), "words", 0, 0,
	  MM_OPT_WORDS("words", "chain", "osb"),
	  "`words`; `chain` adds each pair of adjacent words; `osb` adds "
	  "orthogonal sparse bigrams (each word with each of the four before it). "
	  "See the performance page: pairs cost lookups and did not win here", NULL },
	{ "threshold", MM_OT_NUMBER, O(c.cp.threshold), "0.5", 0, 1, NULL,
	  "spam when the probability is above it (`X-DSPAM-Result`, training)", NULL },
	{ "robs", MM_OT_NUMBER, O(c.cp.robs), "0.05", 0.0001, 100, NULL,
	  "Robinson's strength for rare tokens", NULL },
	{ "robx", MM_OT_NUMBER, O(c.cp.robx), "0.5", 0, 1, NULL,
	  "Robinson's prior for rare tokens", NULL },
	{ "min_dev", MM_OT_NUMBER, O(c.cp.min_dev), "0.2", 0, 0.5, NULL,
	  "the band around 0.5 left out of the Fisher combination (tokens with "
	  "|f − 0.5| < min_dev)", NULL },
	{ "max_tokens", MM_OT_INT, O(opt.max_tokens), "0", 0, 1000000, NULL,
	  "Fisher: combine only the N most extreme tokens (SpamBayes-style); "
	  "`0`: all", NULL },
	{ "bnr", MM_OT_BOOL, O(c.cp.bnr), "false", 0, 0, NULL,
	  "Bayesian noise reduction (DSPAM's): patterns of three neighbouring "
	  "body words' probabilities are learned as tokens; a word that "
	  "contradicts a decided pattern is left out of the combination. One "
	  "more dictionary read per message; see the performance page", NULL },
	{ "bnr_threshold", MM_OT_NUMBER, O(c.cp.bnr_threshold), "0.3", 0, 0.5, NULL,
	  "a pattern is decided (it marks noise) when its probability is "
	  "beyond 0.5 ± this", NULL },
	{ "bnr_sides", MM_OT_ENUM, O(c.cp.bnr_sides), "both", 0, 0,
	  MM_OPT_WORDS("both", "spam"),
	  "`both` (DSPAM's): a decided spam pattern marks its innocent words and "
	  "a decided innocent pattern its spam words; `spam`: only the former", NULL },
	{ "training", MM_OT_ENUM, O(opt.training), "teft", 0, 0,
	  MM_OPT_WORDS("teft", "toe", "tum", "notrain"),
	  "`teft`: count every message in the class it was given; `toe`: count "
	  "nothing until a correction; `tum`: TEFT until 2,500 innocent messages "
	  "are learned, then only tokens with fewer than 25 hits; `notrain`: "
	  "classify only", NULL },
	{ "durability", MM_OT_ENUM, O(opt.durability), "commit", 0, 0,
	  MM_OPT_WORDS("commit", "queued"),
	  "`commit`: a message is answered once its training and signature are "
	  "committed to the store (a crash loses nothing accepted); `queued`: "
	  "once they are queued for the store's writer thread, which commits "
	  "large groups (much faster training); a crash (SIGKILL, power loss) "
	  "loses the training of the messages still queued, at most "
	  "`queue_max`; a stop or reload commits them first", NULL },
	{ "queue_max", MM_OT_INT, O(opt.queue_max), "1024", 1, 1000000, NULL,
	  "`durability: queued`: messages whose writes wait at most; the next "
	  "one waits for room", NULL },
	{ "headers", MM_OT_ENUM, O(opt.headers), "all", 0, 0,
	  MM_OPT_WORDS("all", "result"),
	  "`all`: X-DSPAM-Result, -Probability, -Confidence and -Signature; "
	  "`result`: X-DSPAM-Result and X-DSPAM-Signature only (two header "
	  "packets to the MTA instead of four; the probability stays in the log "
	  "line and the Authentication-Results result)", NULL },
	{ "signature_ttl", MM_OT_DURATION, O(c.sig_ttl), "14d", 0, 0, NULL,
	  "how long a message's token set is kept for a later correction", NULL },
	{ "dictionary", MM_OT_STRING, O(dictionary), "shared", 0, 0, NULL,
	  "the shared dictionary, also the screener for recipients without their "
	  "own", NULL },
	{ "per_recipient", MM_OT_BOOL, O(per_recipient), "false", 0, 0, NULL,
	  "use the recipient's own dictionary (named by the address) once it has "
	  "learned anything", NULL },
	{ "groups", MM_OT_HAND, 0, NULL, 0, 0, NULL,
	  "`{ NAME: [address, ...] }`: these recipients share the dictionary "
	  "`group:NAME`", NULL },
	{ "max_size", MM_OT_SIZE, O(max_size), "1M", 0, (double)(1ULL << 40), NULL,
	  "bytes of body above which a message is passed unclassified (logged); "
	  "`0`: no limit", NULL },
	PROB("tag_above", tag_above, "prefix the subject with `tag_text` above "
	    "this probability; none: off"),
	{ "tag_text", MM_OT_STRING, O(tag_text), "[SPAM]", 0, 0, NULL,
	  "the prefix (one line)", NULL },
	PROB("quarantine_above", quarantine_above, "quarantine the message above "
	    "this probability; none: off"),
	PROB("reject_above", reject_above, "refuse with 550 5.7.1 above this "
	    "probability; none: off"),
	PROB("triage_reject_above", triage_above, "classify the header alone at "
	    "end of header and refuse above this probability, before the body is "
	    "sent (no training); none: off"),
	ADDRS("spam_addresses", spam_addrs, "forwarding addresses that train as "
	    "spam (see below)"),
	ADDRS("ham_addresses", ham_addrs, "forwarding addresses that train as "
	    "innocent (see below)"),
	ADDRS("honeypots", honeypots, "addresses whose mail is trained as spam "
	    "and not delivered"),
	ADDRS("innocent_senders", innocent_senders, "envelope senders whose mail "
	    "is trained as innocent and marked `Whitelisted` — when the sender is "
	    "authenticated (see [Trust by sender](#trust-by-sender)); otherwise "
	    "the message is classified like any other"),
	{ NULL }
};

/*
 * Is an envelope address in the list? Compared in the core's normal
 * form, so that "<trap@example.com.>", "<@relay:trap@example.com>" or
 * "\"trap\"@EXAMPLE.COM" is the honeypot trap@example.com; an address
 * the core cannot parse is in no list.
 */
int
addrlist_has(const struct mm_api *api, const struct mm_strv *l,
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
	d->optapi->opt_table_free(dspam_option_table, d);
	pthread_mutex_destroy(&d->lock);
	for (i = 0; i < d->ngroups; i++) {
		free(d->groups[i].name);
		for (size_t k = 0; k < d->groups[i].members.n; k++)
			free(d->groups[i].members.v[k]);
		free(d->groups[i].members.v);
	}
	free(d->groups);
	free(d);
}

/* one group's addresses, in the core's normal form */
static int
group_members(const struct mm_api *api, const mm_opt *n, const char *key,
    struct mm_strv *l)
{
	size_t len = api->opt_type(n) == MM_OPT_SCALAR ? 1 : api->opt_len(n);

	if (api->opt_type(n) != MM_OPT_SCALAR && api->opt_type(n) != MM_OPT_LIST) {
		api->opt_error(n, "%s: an address or a list of addresses", key);
		return -1;
	}
	if ((l->v = calloc(len + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const mm_opt *it = api->opt_type(n) == MM_OPT_SCALAR ? n :
		    api->opt_at(n, i);
		const char *s = api->opt_scalar(it), *why;
		char *norm;

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
		l->n++;
	}
	return 0;
}

/* groups: { NAME: [address, ...] } */
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
		if (group_members(api, members, name, &dg->members) < 0)
			return -1;
	}
	return 0;
}

struct dspam_inst *
dspam_options(const struct mm_api *api, const mm_opt *o, char **err)
{
	struct dspam_inst *d = calloc(1, sizeof(*d));
	static const int pairs[] = { 0, 1, 4 };	/* words, chain, osb */
	const char *db;

	if (d == NULL) {
		*err = strdup("dspam: out of memory");
		return NULL;
	}
	if (!MM_API_HAS(api, opt_table)) {
		*err = strdup("dspam needs a modmilterd that reads options by table");
		free(d);
		return NULL;
	}
	combine_defaults(&d->c.cp);
	pthread_mutex_init(&d->lock, NULL);
	d->optapi = api;
	d->c.ds.api = api;
	d->tag_above = d->quarantine_above = d->reject_above = d->triage_above =
	    DISABLED;
	if (api->opt_table(o, dspam_option_table, d) < 0 ||
	    read_groups(api, o, d) < 0)
		goto fail;
	d->c.cp.algo = d->opt.algorithm == 0 ? ALGO_FISHER : ALGO_BURTON;
	d->tok.pairs = pairs[d->opt.tokenizer];
	d->tok.bnr = d->c.cp.bnr;
	d->c.mode = (enum train_mode)d->opt.training;
	d->c.cp.max_tokens = (size_t)d->opt.max_tokens;
	d->c.ds.purge_hits = (uint32_t)d->opt.purge_hits;
	if (*d->dictionary == '\0') {
		api->opt_error(api->opt_get(o, "dictionary"), "dictionary: a name");
		goto fail;
	}
	if (strpbrk(d->tag_text, "\r\n")) {
		api->opt_error(api->opt_get(o, "tag_text"), "tag_text must be one line");
		goto fail;
	}
	db = d->database;
	if (*db == '\0' || strlen(db) > 200 ||
	    strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(db)) {
		api->opt_error(api->opt_get(o, "database"), "database: a store "
		    "database name (letters, digits, '.', '_', '-')");
		goto fail;
	}
	return d;
fail:
	dspam_inst_free(d);
	return NULL;
}
