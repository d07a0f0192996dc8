/*
 * NAME
 *	dspam - the statistical spam classifier plugin
 * SYNOPSIS
 *	plugins:
 *	  dspam: { module: dspam, options: { db: /var/lib/modmilter/dspam,
 *	           training: teft, tag_above: 0.9, reject_above: 0.9999,
 *	           spam_addresses: [spam@example.com],
 *	           ham_addresses: [ham@example.com] } }
 * DESCRIPTION
 *	At end of message the whole message is tokenized and classified
 *	with the recipients' dictionary, trained by the training mode, and
 *	remembered under a signature. The verdict goes into X-DSPAM-Result,
 *	X-DSPAM-Probability, X-DSPAM-Confidence and X-DSPAM-Signature
 *	(incoming X-DSPAM-* headers are removed first); by probability the
 *	message is then tagged, quarantined or rejected (550 5.7.1).
 *
 *	Before that, mail itself trains: an internal sender (internal
 *	network or SMTP AUTH) who forwards to a spam or ham address
 *	corrects the signature found in the forwarded message, or trains
 *	the message as corpus when there is none; mail to a honeypot is
 *	trained as spam; mail from an innocent sender is trained as
 *	innocent. Training and honeypot recipients are removed from the
 *	message, which is discarded when no other recipient is left.
 *
 *	Trust by sender needs an authenticated sender (trust.c: internal
 *	client, SMTP AUTH, or SPF pass for the sender's own domain): an
 *	innocent sender that is not is classified like anyone, a From:
 *	with an innocent history does not whitelist, and a honeypot does
 *	not train a message that claims a trusted sender (it would count
 *	that sender's tokens as spam); each refusal is logged with why.
 *
 *	The policy plugin's fact policy.dspam overrides all this:
 *	"whitelisted" (an auto-whitelisted sender with SPF pass) trains
 *	the message as innocent into the shared dictionary and never
 *	refuses or quarantines it; "exempt" (dspam_exempt recipients,
 *	dspam_whitelist senders) leaves it unscreened.
 *
 *	With triage_reject_above, the header alone is classified at end of
 *	header (no training) and obvious spam is refused before its body.
 *
 *	Dictionary: the group dictionary of a recipient listed in groups,
 *	else with per_recipient the recipient's own when it has learned
 *	anything, else the shared (screener) dictionary; recipients of one
 *	message that would use different dictionaries use the shared one.
 * DIAGNOSTICS
 *	A store failure is logged and returned as MM_ERROR (the instance's
 *	on_error decides, TEMPFAIL by default): mail is never accepted
 *	unclassified by accident. A message above max_size is logged and
 *	passed without headers. A malformed message is classified on what
 *	can be read of it.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

static int
dspam_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct dspam_inst *d;

	if (!MM_API_HAS(api, header_decode)) {
		*err = strdup("dspam needs a core with SDK 1.3 (store batches, "
		    "address normalisation, message parts)");
		return -1;
	}
	if ((d = dspam_options(api, opts, err)) == NULL)
		return -1;
	d->api = api;
	d->classes = api->metric_counter(ctx, "messages_total",
	    "Messages classified, by X-DSPAM-Result", "class");
	d->lost = api->metric_counter(ctx, "training_lost_total",
	    "Messages answered whose queued training failed to commit "
	    "(durability: queued)", NULL);
	d->ictx = ctx;
	*instance = d;
	return 0;
}

/*
 * The store, opened on first use: after the daemon has dropped its
 * privileges, so that an LMDB store it creates belongs to its user.
 * -1 (logged) while it cannot be opened.
 */
static int
ready(struct dspam_inst *d, mm_ctx *ctx)
{
	char *err = NULL;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->c.ds.st == NULL &&
	    (d->c.ds.st = d->api->store_open(d->ictx, d->database, &err)) == NULL) {
		d->api->log(ctx, MM_LOG_ERR, "store database %s: %s", d->database,
		    err ? err : "cannot open");
		free(err);
		r = -1;
	} else if (d->c.ds.gc == NULL && !d->gc_failed) {
		struct gqueue q = { d->api, d->ictx, d->lost,
			d->opt.durability == 1 ? (size_t)d->opt.queue_max : 0 };

		if ((d->c.ds.gc = gcommit_start(&d->c.ds, &q, &err)) == NULL) {
			/* each message then commits alone: slower, as safe */
			d->api->log(ctx, MM_LOG_WARNING, "store database %s: %s; "
			    "committing each message alone", d->database, err);
			free(err);
			d->gc_failed = 1;
		} else
			d->c.ds.queued = q.max > 0;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

static void
dspam_fini(void *instance)
{
	struct dspam_inst *d = instance;

	gcommit_stop(d->c.ds.gc);
	dspam_inst_free(d);
}

/* which dictionary a recipient uses */
static const char *
rcpt_dict(const struct dspam_inst *d, const char *rcpt, mm_ctx *ctx)
{
	size_t i;

	for (i = 0; i < d->ngroups; i++)
		if (addrlist_has(d->api, &d->groups[i].members, rcpt))
			return d->groups[i].name;
	if (d->per_recipient && rcpt != NULL && *rcpt != '\0') {
		struct dtotals tot;
		char *err = NULL;
		int has = 0;

		if (dict_read(&d->c.ds, dstore_dict_id(rcpt), NULL, NULL, &tot,
		    &err) == 0)
			has = tot.spam_learned + tot.ham_learned > 0;
		if (err != NULL) {
			d->api->log(ctx, MM_LOG_WARNING, "dictionary of %s: %s", rcpt, err);
			free(err);
		}
		if (has)
			return rcpt;
	}
	return d->dictionary;
}

/* a training or honeypot address */
static int
special_rcpt(const struct dspam_inst *d, const char *r)
{
	return addrlist_has(d->api, &d->spam_addrs, r) ||
	    addrlist_has(d->api, &d->ham_addrs, r) ||
	    addrlist_has(d->api, &d->honeypots, r);
}

/* the dictionary of the message's recipients (training and honeypot
   addresses aside) */
static const char *
message_dict(const struct dspam_inst *d, mm_ctx *ctx)
{
	const char *dict = NULL;
	size_t i, n = d->api->rcpt_count(ctx);

	for (i = 0; i < n; i++) {
		const char *r = d->api->rcpt_at(ctx, i), *rd;

		if (special_rcpt(d, r))
			continue;
		rd = rcpt_dict(d, r, ctx);
		if (dict != NULL && strcmp(dict, rd) != 0)
			return d->dictionary;
		dict = rd;
	}
	return dict ? dict : d->dictionary;
}

static mm_verdict
store_failed(const struct dspam_inst *d, mm_ctx *ctx, const char *what,
    char *err)
{
	d->api->log(ctx, MM_LOG_ERR, "%s: %s", what, err ? err : "store failure");
	free(err);
	return MM_ERROR;
}

/*
 * Header triage. The header fields are the core's (it keeps them for
 * every plugin that reads the message); a header hook of our own would
 * make the MTA wait for a reply to every field.
 */
static int tokenize_message(mm_ctx *ctx, const struct dspam_inst *d,
    int header_only, struct tokset *ts);

/* The policy plugin's mark for this message (fact policy.dspam):
   "whitelisted" (an auto-whitelisted sender with SPF pass: trained as
   innocent, never refused or quarantined), "exempt" (dspam_exempt,
   dspam_whitelist: not screened), else NULL. */
static const char *
policy_mark(const struct dspam_inst *d, mm_ctx *ctx)
{
	const char *f = d->api->fact_get(ctx, "policy.dspam");

	return f != NULL && (strcmp(f, "whitelisted") == 0 ||
	    strcmp(f, "exempt") == 0) ? f : NULL;
}

static mm_verdict
dspam_eoh(mm_ctx *ctx, void *instance)
{
	struct dspam_inst *d = instance;
	struct tokset ts;
	struct verdict v;
	char *err = NULL, why[160];
	int r, trust;

	if (d->triage_above > 1.0 || policy_mark(d, ctx) != NULL)
		return MM_CONTINUE;
	if (ready(d, ctx) < 0)
		return MM_ERROR;
	/* no body: the header alone */
	if (tokenize_message(ctx, d, 1, &ts) < 0) {
		d->api->log(ctx, MM_LOG_ERR, "header triage: out of memory");
		return MM_ERROR;
	}
	trust = ts.from_addr[0] != '\0' &&
	    sender_trusted(d->api, ctx, ts.from_addr, why, sizeof(why));
	r = classify_tokens(&d->c, dstore_dict_id(message_dict(d, ctx)), &ts,
	    trust, &v, &err);
	tokset_free(&ts);
	if (r < 0)
		return store_failed(d, ctx, "header triage", err);
	if (v.probability > d->triage_above) {
		d->api->log(ctx, MM_LOG_NOTICE, "header triage: spam, probability %.4f",
		    v.probability);
		d->api->set_reply(ctx, "550", "5.7.1", "Message refused as spam");
		return MM_REJECT;
	}
	return MM_CONTINUE;
}

static int
tokenize_message(mm_ctx *ctx, const struct dspam_inst *d, int header_only,
    struct tokset *ts)
{
	size_t i, n = d->api->header_count(ctx);
	struct hdr *h = calloc(n ? n : 1, sizeof(*h));
	int r;

	if (h == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (d->api->header_at(ctx, i, &h[i].name, &h[i].value) < 0)
			h[i].name = h[i].value = "";
	tokset_init(ts);
	/* the core's parse, shared with the other plugins of the chain */
	r = dspam_tokenize_msg(&d->tok, d->api, h, n,
	    header_only || d->tok.headers_only ? NULL : d->api->parts(ctx), ts);
	free(h);
	if (r < 0)
		tokset_free(ts);
	return r;
}

/* Remove the training and honeypot recipients; DISCARD when none is left. */
static mm_verdict
drop_special_rcpts(mm_ctx *ctx, const struct dspam_inst *d, int *left)
{
	size_t i, n = d->api->rcpt_count(ctx);
	char **drop = calloc(n ? n : 1, sizeof(char *));
	size_t ndrop = 0;

	if (drop == NULL)
		return MM_ERROR;
	for (i = 0; i < n; i++) {
		const char *r = d->api->rcpt_at(ctx, i);

		if (special_rcpt(d, r))
			drop[ndrop++] = strdup(r);
	}
	*left = (int)(n - ndrop);
	for (i = 0; i < ndrop; i++) {
		if (*left > 0 && drop[i] != NULL && d->api->del_rcpt(ctx, drop[i]) < 0)
			d->api->log(ctx, MM_LOG_WARNING, "cannot remove recipient %s", drop[i]);
		free(drop[i]);
	}
	free(drop);
	return *left > 0 ? MM_CONTINUE : MM_DISCARD;
}

/* The signature of the message being corrected: in our header when the
   message was redirected as it was, else anywhere in the forwarded text. */
static int
find_signature(const struct dspam_inst *d, mm_ctx *ctx,
    const unsigned char *body, size_t blen, char id[SIG_ID_LEN + 1])
{
	const char *hv = d->api->header_get(ctx, "X-DSPAM-Signature", 1);

	if (hv != NULL) {
		char line[128];
		int n = snprintf(line, sizeof(line), "X-DSPAM-Signature: %s", hv);

		if (n > 0 && (size_t)n < sizeof(line) &&
		    sig_find_in((const unsigned char *)line, (size_t)n, id))
			return 1;
	}
	return sig_find_in(body, blen, id);
}

/*
 * A honeypot trains as spam only mail that does not claim a trusted
 * sender (an innocent sender as MAIL FROM, or a From: with an innocent
 * history): a forged claim would count the trusted sender's tokens as
 * spam and end its whitelisting, and a real trusted sender's message is
 * not spam. 1 when the message claims one (logged), 0 when not, -1 on
 * a store failure (*err).
 */
static int
claims_trusted_sender(mm_ctx *ctx, const struct dspam_inst *d,
    const struct tokset *ts, char **err)
{
	const char *from = d->api->mail_from(ctx), *who = NULL, *claim = "";
	struct verdict v;
	char why[160];
	int trusted;

	if (addrlist_has(d->api, &d->innocent_senders, from)) {
		who = from;
		claim = "innocent sender";
	} else if (ts->from_addr[0] != '\0') {
		if (classify_tokens(&d->c, dstore_dict_id(d->dictionary), ts, 0, &v,
		    err) < 0)
			return -1;
		if (v.from_history) {
			who = ts->from_addr;
			claim = "From: with an innocent history";
		}
	}
	if (who == NULL)
		return 0;
	trusted = sender_trusted(d->api, ctx, who, why, sizeof(why));
	d->api->log(ctx, MM_LOG_NOTICE, "honeypot: not trained as spam: %s <%s>, "
	    "%s (%s)", claim, who, trusted ? "trusted" : "a claim only", why);
	return 1;
}

/* Mail that trains: spam@/ham@ from inside, honeypots. 1 if it was
   such mail and was dealt with. */
static int
train_from_mail(mm_ctx *ctx, const struct dspam_inst *d,
    const unsigned char *body, size_t blen, char **err, int *failed)
{
	size_t i, n = d->api->rcpt_count(ctx);
	int to_spam = 0, to_ham = 0, honey = 0, internal;
	const char *from = d->api->mail_from(ctx);

	*failed = 0;
	for (i = 0; i < n; i++) {
		const char *r = d->api->rcpt_at(ctx, i);

		to_spam |= addrlist_has(d->api, &d->spam_addrs, r);
		to_ham |= addrlist_has(d->api, &d->ham_addrs, r);
		honey |= addrlist_has(d->api, &d->honeypots, r);
	}
	internal = d->api->client_class(ctx) == MM_CLIENT_INTERNAL ||
	    d->api->auth_user(ctx) != NULL;
	if ((to_spam || to_ham) && internal && !(to_spam && to_ham)) {
		char id[SIG_ID_LEN + 1];
		struct tokset ts;
		int klass = to_spam, r = 0;

		if (find_signature(d, ctx, body, blen, id)) {
			r = retrain_signature(&d->c, id, klass, err);
			if (r < 0) {
				*failed = 1;
				return 0;
			}
			if (r > 0) {
				d->api->log(ctx, MM_LOG_INFO, "retrained signature %s as %s "
				    "for %s", id, klass ? "spam" : "innocent", from);
				return 1;
			}
			d->api->log(ctx, MM_LOG_INFO, "signature %s unknown or expired: "
			    "training the message as corpus", id);
		}
		if (tokenize_message(ctx, d, 0, &ts) < 0) {
			*err = strdup("out of memory");
			*failed = 1;
			return 0;
		}
		r = train_tokens(&d->c, dstore_dict_id(rcpt_dict(d, from, ctx)), &ts,
		    klass, SRC_CORPUS, err);
		tokset_free(&ts);
		if (r < 0) {
			*failed = 1;
			return 0;
		}
		d->api->log(ctx, MM_LOG_INFO, "trained a message from %s as %s (corpus)",
		    from, klass ? "spam" : "innocent");
		return 1;
	}
	if (honey) {
		struct tokset ts;
		int r;

		if (tokenize_message(ctx, d, 0, &ts) < 0) {
			*err = strdup("out of memory");
			*failed = 1;
			return 0;
		}
		if ((r = claims_trusted_sender(ctx, d, &ts, err)) != 0) {
			tokset_free(&ts);
			*failed = r < 0;
			return r > 0;
		}
		r = train_tokens(&d->c, dstore_dict_id(d->dictionary), &ts, 1,
		    SRC_CORPUS, err);
		tokset_free(&ts);
		if (r < 0) {
			*failed = 1;
			return 0;
		}
		d->api->log(ctx, MM_LOG_INFO, "honeypot: trained a message from <%s> as spam",
		    from ? from : "");
		return 1;
	}
	return 0;
}

static void
strip_incoming(const struct dspam_inst *d, mm_ctx *ctx)
{
	static const char *const names[] = { "X-DSPAM-Result",
	    "X-DSPAM-Probability", "X-DSPAM-Confidence", "X-DSPAM-Signature" };
	size_t i, k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t n = 0;

		while (d->api->header_get(ctx, names[k], n + 1) != NULL)
			n++;
		for (i = n; i > 0; i--)
			d->api->change_header(ctx, names[k], i, NULL);
	}
}

static int
add_headers(const struct dspam_inst *d, mm_ctx *ctx, const char *result,
    const struct verdict *v, const char *sig)
{
	char buf[32];

	strip_incoming(d, ctx);
	d->api->metric_add(d->classes, result, 1);
	if (v != NULL)
		d->api->set_result(ctx, "%s/%.2f", result, v->probability);
	else
		d->api->set_result(ctx, "%s", result);
	if (d->api->add_header(ctx, "X-DSPAM-Result", result) < 0)
		return -1;
	if (v != NULL && d->opt.headers == 0) {	/* headers: all */
		snprintf(buf, sizeof(buf), "%.4f", v->probability);
		if (d->api->add_header(ctx, "X-DSPAM-Probability", buf) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "%.4f", v->confidence);
		if (d->api->add_header(ctx, "X-DSPAM-Confidence", buf) < 0)
			return -1;
	}
	if (sig != NULL && d->api->add_header(ctx, "X-DSPAM-Signature", sig) < 0)
		return -1;
	return 0;
}

static mm_verdict
act(mm_ctx *ctx, const struct dspam_inst *d, const struct verdict *v)
{
	if (v->probability > d->reject_above) {
		d->api->set_reply(ctx, "550", "5.7.1", "Message refused as spam");
		return MM_REJECT;
	}
	if (v->probability > d->quarantine_above) {
		char why[64];

		snprintf(why, sizeof(why), "spam probability %.4f", v->probability);
		if (d->api->quarantine(ctx, why) < 0)
			return MM_ERROR;
	}
	if (v->probability > d->tag_above) {
		const char *subj = d->api->header_get(ctx, "Subject", 1);
		size_t len = strlen(d->tag_text) + (subj ? strlen(subj) : 0) + 2;
		char *ns = malloc(len);
		int r;

		if (ns == NULL)
			return MM_ERROR;
		snprintf(ns, len, "%s %s", d->tag_text, subj ? subj : "");
		r = subj ? d->api->change_header(ctx, "Subject", 1, ns) :
		    d->api->add_header(ctx, "Subject", ns);
		free(ns);
		if (r < 0)
			return MM_ERROR;
	}
	return MM_CONTINUE;
}

static mm_verdict
dspam_eom(mm_ctx *ctx, void *instance)
{
	struct dspam_inst *d = instance;
	const unsigned char *body = NULL;
	size_t blen = 0;
	struct tokset ts;
	struct verdict v;
	char id[SIG_ID_LEN + 1], *err = NULL, why[160];
	const char *from = d->api->mail_from(ctx), *dict, *mark;
	int failed, left = 1, trust_from;
	mm_verdict res;

	if (d->api->body(ctx, &body, &blen) < 0) {
		d->api->log(ctx, MM_LOG_ERR, "the message body is not available");
		return MM_ERROR;
	}
	if (ready(d, ctx) < 0)
		return MM_ERROR;
	if (train_from_mail(ctx, d, body, blen, &err, &failed)) {
		if ((res = drop_special_rcpts(ctx, d, &left)) != MM_CONTINUE)
			return res;
	} else if (failed) {
		return store_failed(d, ctx, "training from mail", err);
	}
	if ((mark = policy_mark(d, ctx)) != NULL && strcmp(mark, "exempt") == 0) {
		d->api->log(ctx, MM_LOG_INFO, "not screened: exempt by the policy plugin");
		return MM_CONTINUE;
	}
	if (d->max_size > 0 && blen > d->max_size) {
		d->api->log(ctx, MM_LOG_INFO, "not classified: %zu bytes of body, "
		    "max_size %zu", blen, d->max_size);
		return MM_CONTINUE;
	}
	dict = message_dict(d, ctx);
	if (tokenize_message(ctx, d, 0, &ts) < 0) {
		d->api->log(ctx, MM_LOG_ERR, "tokenizer: out of memory");
		return MM_ERROR;
	}
	if (mark != NULL) {	/* whitelisted: the screener learns it as innocent */
		int r = train_tokens(&d->c, dstore_dict_id(d->dictionary), &ts, 0,
		    SRC_CORPUS, &err);

		tokset_free(&ts);
		if (r < 0)
			return store_failed(d, ctx, "training a whitelisted sender", err);
		d->api->log(ctx, MM_LOG_INFO, "<%s> whitelisted by the policy plugin: "
		    "trained as innocent, dictionary %s", from, d->dictionary);
		return add_headers(d, ctx, "Whitelisted", NULL, NULL) < 0 ?
		    MM_ERROR : MM_CONTINUE;
	}
	if (addrlist_has(d->api, &d->innocent_senders, from)) {
		int r;

		if (!sender_trusted(d->api, ctx, from, why, sizeof(why))) {
			d->api->log(ctx, MM_LOG_NOTICE, "innocent sender <%s> not "
			    "trusted (%s): classified", from, why);
		} else {
			r = train_tokens(&d->c, dstore_dict_id(dict), &ts, 0,
			    SRC_CORPUS, &err);
			tokset_free(&ts);
			if (r < 0)
				return store_failed(d, ctx, "training an innocent sender",
				    err);
			d->api->log(ctx, MM_LOG_INFO, "innocent sender <%s> (%s): "
			    "trained as innocent, dictionary %s", from, why, dict);
			return add_headers(d, ctx, "Whitelisted", NULL, NULL) < 0 ?
			    MM_ERROR : MM_CONTINUE;
		}
	}
	if (sig_new_id(id) < 0) {
		tokset_free(&ts);
		d->api->log(ctx, MM_LOG_ERR, "no random bytes for a signature id");
		return MM_ERROR;
	}
	trust_from = ts.from_addr[0] != '\0' &&
	    sender_trusted(d->api, ctx, ts.from_addr, why, sizeof(why));
	if (classify_and_learn(&d->c, dstore_dict_id(dict), &ts, trust_from, &v,
	    id, &err) < 0) {
		tokset_free(&ts);
		return store_failed(d, ctx, "classification", err);
	}
	if (v.from_history && !trust_from)
		d->api->log(ctx, MM_LOG_NOTICE, "From: <%s> has an innocent history "
		    "but is not whitelisted (%s)", ts.from_addr, why);
	d->api->log(ctx, MM_LOG_INFO, "%s, probability %.4f, %zu tokens, dictionary %s, "
	    "signature %s", v.whitelisted ? "whitelisted" : v.spam ? "spam" :
	    "innocent", v.probability, ts.len, dict, id);
	tokset_free(&ts);
	if (add_headers(d, ctx, v.whitelisted ? "Whitelisted" : v.spam ? "Spam" :
	    "Innocent", &v, id) < 0)
		return MM_ERROR;
	return act(ctx, d, &v);
}

MM_PLUGIN(dspam, "1.0", "statistical spam classifier (DSPAM-style)",
	.actions = MM_ACT_ADDHDRS | MM_ACT_CHGHDRS | MM_ACT_DELRCPT |
	    MM_ACT_QUARANTINE,
	.flags = MM_F_MESSAGE,
	.options = dspam_option_table,
	.init = dspam_init,
	.fini = dspam_fini,
	.eoh = dspam_eoh,
	.eom = dspam_eom);
