/*
 * NAME
 *	dspam.h - the statistical classifier's modules, as the plugin and
 *	the command line tool use them
 * SYNOPSIS
 *	#include "dspam.h"
 * DESCRIPTION
 *	A message becomes a token set (tokenize.c, from the parts the
 *	core's MIME reader gives, HTML reduced by htmltext.c, hashed by
 *	hash.c); the set is looked up in a
 *	dictionary (dict.c, in the core store), combined into a probability
 *	(combine.c; optionally without the words Bayesian noise reduction
 *	finds out of context, bnr.c), trained by mode and source (train.c),
 *	and remembered
 *	under a signature for later corrections (sig.c).
 *
 *	Nothing here depends on the milter: plugin.c and cli.c are the two
 *	front ends.
 */
#ifndef DSPAM_H
#define DSPAM_H

#include <stddef.h>
#include <stdint.h>

#include <modmilter/plugin.h>

/* --- hash.c --- */
uint64_t dspam_hash(const void *data, size_t len);
uint64_t dspam_hash2(const void *prefix, size_t plen, const void *data,
    size_t len);
uint64_t dspam_mix64(uint64_t x);	/* never 0 */

/* --- tokenize.c: a message -> a sorted set of 64-bit token hashes --- */
struct token {
	uint64_t h;
	uint32_t n;		/* occurrences in the message */
};

struct tokset {
	struct token *t;
	size_t len, cap;
	uint64_t from_token;	/* the From: whitelist token, 0 if none */
	char from_addr[256];	/* the address it names (lower-cased), "" if none */
	/* with tokopts.bnr: the body words in message order (their hashes,
	   as in t); 0 between two text parts */
	uint64_t *seq;
	size_t nseq, seqcap;
};

struct tokopts {
	int pairs;		/* word pairs: 0 none, 1 chained (adjacent),
				   4 orthogonal sparse bigrams (window 5) */
	int headers_only;	/* header triage: stop after the header */
	int bnr;		/* keep the body words' order (tokset.seq) */
};

/* tokset.c */
void tokset_init(struct tokset *ts);
void tokset_free(struct tokset *ts);
int tokset_add(struct tokset *ts, uint64_t h);
void tokset_finish(struct tokset *ts);	/* sort, merge duplicates */

/* Tokenize a whole RFC 5322 message (a leading mbox "From " line is
   skipped). Returns 0, or -1 when out of memory. */
int dspam_tokenize(const struct tokopts *o, const unsigned char *msg,
    size_t len, struct tokset *ts);

/* Same, from a header list and a body already split by the MTA. */
struct hdr {
	const char *name, *value;
};
int dspam_tokenize_parts(const struct tokopts *o, const struct hdr *h,
    size_t nh, const unsigned char *body, size_t blen, struct tokset *ts);

/* The same from a message the core's reader parsed (mm_api.parts):
   the header fields h (NULL: the root part's own), then, unless
   o->headers_only, the parts a reader sees (p may be NULL: header
   only). api needs its parts and header_decode members only. */
int dspam_tokenize_msg(const struct tokopts *o, const struct mm_api *api,
    const struct hdr *h, size_t nh, mm_parts *p, struct tokset *ts);

/* --- htmltext.c: the text a reader sees of HTML, to cb->text (html 1),
   tag names and link targets to cb->markup --- */
struct textcb {
	/* decoded text of a part, UTF-8; html != 0 when it came from
	   text/html and was reduced */
	int (*text)(void *arg, const char *s, size_t len, int html);
	/* an HTML tag name or a URL found in markup */
	int (*markup)(void *arg, const char *kind, const char *s, size_t len);
	void *arg;
};
int htmltext(const char *html, size_t len, const struct textcb *cb);
/* an href/src value as the browser reads it (references, %XX, no
   "user@" before the host): its length in out */
size_t html_link_target(const char *s, size_t len, char *out, size_t size);

/* --- combine.c --- */
enum dspam_algo { ALGO_FISHER = 0, ALGO_BURTON = 1 };

struct tokstat {
	uint32_t spam, ham;	/* counts in the dictionary */
	uint32_t n;		/* occurrences in the message */
	int noise;		/* left out of the combination (BNR) */
};

struct verdict {
	double probability;	/* of spam, 0..1 */
	double logodds;		/* ln(P/(1-P)), exact where P rounds to 0/1 */
	double confidence;	/* 0..1 */
	int spam;		/* probability > threshold */
	int whitelisted;	/* From: token seen only in innocent mail, and
				   the From: address trusted by the caller */
	int from_history;	/* the From: token has that innocent history,
				   trusted or not */
	size_t used;		/* tokens that took part */
	size_t noise;		/* tokens BNR left out */
};

struct combparams {
	enum dspam_algo algo;
	double robs, robx, min_dev;	/* Robinson: strength, prior, cut */
	size_t max_tokens;	/* Fisher: the most extreme N only (0: all) */
	double threshold;
	int bnr;		/* Bayesian noise reduction (bnr.c) */
	double bnr_threshold;	/* a pattern is decided beyond 0.5 +- this */
	int bnr_sides;		/* BNR_BOTH, or BNR_SPAM: only spam patterns
				   mark noise (innocent words) */
};

enum { BNR_BOTH = 0, BNR_SPAM = 1 };

void combine_defaults(struct combparams *p);
double combine_token_robinson(const struct combparams *p, uint32_t spam,
    uint32_t ham, uint64_t nspam, uint64_t nham);
double combine_token_graham(uint32_t spam, uint32_t ham, uint64_t nspam,
    uint64_t nham);
void combine(const struct combparams *p, const struct tokstat *st, size_t n,
    uint64_t nspam, uint64_t nham, struct verdict *v);
/* chi-square tails for even degrees of freedom, in logs */
double chi2_log_q(double x2, unsigned df);
double chi2_log_p(double x2, unsigned df);

/* --- bnr.c: Bayesian noise reduction --- */
struct bnr {
	uint32_t *idx;		/* word position -> index in the token set */
	uint64_t *wh;		/* window at word i -> its pattern token (0:
				   none, the window spans a break) */
	size_t nwin;
	struct tokset pat;	/* the message's pattern tokens (sorted set) */
	struct tokstat *pst;	/* their counts, once read (bnr_read) */
};

void bnr_init(struct bnr *b);
void bnr_free(struct bnr *b);
/* The pattern tokens of the word sequence seq (nseq hashes, 0 a break)
   from the counts st of the sorted set set (every word of seq is in
   it); 0, or -1 when out of memory. */
int bnr_build(struct bnr *b, const struct combparams *cp,
    const struct tokset *set, const struct tokstat *st, const uint64_t *seq,
    size_t nseq, uint64_t nspam, uint64_t nham);
/* Mark as noise (st[i].noise) the words that contradict a decided
   pattern (b->pst read); how many were marked. */
size_t bnr_mark(const struct bnr *b, const struct combparams *cp,
    struct tokstat *st, uint64_t nspam, uint64_t nham);

/* --- dict.c: dictionaries in the core store --- */
struct dstore {
	const struct mm_api *api;	/* its store_* members */
	mm_store *st;
	double purge_after;	/* a token with <= purge_hits hits expires this
				   long after its last training; 0: never */
	uint32_t purge_hits;
	struct gcommit *gc;	/* group committer of unconditional writes
				   (gcommit.c); NULL: each batch alone */
	int queued;		/* durability: queued (through gc's queue) */
};

struct dtotals {
	uint64_t spam_learned, ham_learned;
	uint64_t spam_classified, ham_classified;
	uint64_t spam_misclassified, ham_misclassified;
	uint64_t spam_corpus, ham_corpus;
};

/* indexes of the totals' counters (struct dtotals order) */
enum { T_SPAM_LEARNED, T_HAM_LEARNED, T_SPAM_CLASSIFIED, T_HAM_CLASSIFIED,
	T_SPAM_MISS, T_HAM_MISS, T_SPAM_CORPUS, T_HAM_CORPUS, T_COUNT };

uint64_t dstore_dict_id(const char *name);

/* The totals and (ts may be NULL) the counts of a sorted token set,
   st[i].n taken from ts, in one read. 0 ok, -1 error. */
int dict_read(const struct dstore *ds, uint64_t dict, const struct tokset *ts,
    struct tokstat *st, struct dtotals *tot, char **err);

/* The counts of b's pattern tokens (b->pst), in one read. */
int bnr_read(const struct dstore *ds, uint64_t dict, struct bnr *b,
    char **err);

/* Writes, collected and run as one atomic store batch. */
struct dwrite;
struct dwrite *dwrite_begin(const struct dstore *ds);
/* Add dspam/dham (each -1, 0, +1) to every token; maxhits > 0: only
   tokens whose total in known (the counts read before; NULL when
   maxhits is 0) is below it (TUM). */
void dwrite_tokens(struct dwrite *w, uint64_t dict, const uint64_t *h,
    const struct tokstat *known, size_t n, int dspam, int dham,
    uint32_t maxhits);
/* One token, with its own deltas. */
void dwrite_token(struct dwrite *w, uint64_t dict, uint64_t h,
    int64_t dspam, int64_t dham);
void dwrite_totals(struct dwrite *w, uint64_t dict, const int64_t delta[T_COUNT]);
void dwrite_put(struct dwrite *w, const void *key, size_t klen,
    const void *val, size_t vlen, double ttl);
void dwrite_expect(struct dwrite *w, const void *key, size_t klen,
    const void *val, size_t vlen);
/* 1 done, 0 an expectation failed (nothing written), -1 error; frees w.
   With ds->gc an unconditional batch is committed with those of other
   messages, and dwrite_run returns once that commit is done; with
   ds->queued as well, once it is queued for that commit (1). */
int dwrite_run(struct dwrite *w, char **err);
void dwrite_abort(struct dwrite *w);
/* Add w's operations to a store batch (gcommit.c); 0, or -1. */
int dwrite_apply(const struct dwrite *w, mm_store_batch *b);
size_t dwrite_size(const struct dwrite *w);	/* operations */

/* --- gcommit.c: group commit, one writer thread per store handle --- */
struct gcommit;
/* durability: queued (NULL or max 0: every submitter waits) */
struct gqueue {
	const struct mm_api *api;	/* logs a failed commit ... */
	mm_ctx *ictx;			/* ... as this instance */
	mm_metric *lost;		/* counts its messages; may be NULL */
	size_t max;			/* batches queued at most */
};
struct gcommit *gcommit_start(const struct dstore *ds, const struct gqueue *q,
    char **err);
/* Hand w over to the writer (it frees w) and return at once: 0; -1 when
   there is no queue or the writer stops (w is still the caller's). */
int gcommit_queue(struct gcommit *gc, struct dwrite *w);
/* Commit w in the writer's next transaction and wait for it: 1 durable
   (as durable as the store's commits), -1 failed. */
int gcommit_submit(struct gcommit *gc, const struct dwrite *w);
/* Commit what is queued, then end the writer thread. */
void gcommit_stop(struct gcommit *gc);

int dict_count_tokens(const struct dstore *ds, uint64_t dict, size_t *n,
    char **err);
/* Remove expired tokens and signatures now; how many, or -1. */
long dstore_expire(const struct dstore *ds, char **err);

/* --- sig.c: signatures (the token set of a classified message) --- */
#define SIG_ID_LEN 32		/* hex characters */

struct sig {
	uint64_t dict;
	int klass;		/* 1 spam, 0 innocent: as last classified/trained */
	int orig;		/* the class it was classified as */
	int learned;		/* its tokens are counted in klass */
	uint64_t *h;
	size_t n;
};

int sig_new_id(char id[SIG_ID_LEN + 1]);
int sig_valid_id(const char *id);
/* Add the signature's record to a write batch. */
int sig_write(struct dwrite *w, const char *id, const struct sig *s,
    double ttl_seconds, char **err);
/* Make the batch conditional on the signature being still s. */
int sig_expect(struct dwrite *w, const char *id, const struct sig *s);
/* 1 found, 0 absent or expired, -1 error; s->h is malloc'ed */
int sig_read(const struct dstore *ds, const char *id, struct sig *s,
    char **err);
void sig_free(struct sig *s);
/* Find "X-DSPAM-Signature: <id>" anywhere in a message. */
int sig_find_in(const unsigned char *msg, size_t len, char id[SIG_ID_LEN + 1]);

/* --- train.c: classification and training --- */
enum train_mode { MODE_TEFT = 0, MODE_TOE, MODE_TUM, MODE_NOTRAIN };
enum train_source { SRC_CORPUS = 0, SRC_ERROR, SRC_INOCULATION };

struct classifier {
	struct dstore ds;
	struct combparams cp;
	enum train_mode mode;
	double sig_ttl;		/* seconds a signature is kept */
};

int train_mode_parse(const char *s, enum train_mode *m);
int train_source_parse(const char *s, enum train_source *src);
const char *train_mode_name(enum train_mode m);

/* Classify ts with dictionary dict (read transaction). trust_from: the
   caller vouches for ts->from_addr (an authenticated sender), so its
   innocent history may whitelist the message; without it the history
   is only reported (v->from_history). */
int classify_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int trust_from, struct verdict *v, char **err);

/* Classify, then train by mode and keep a signature, in one write
   transaction. sig_id may be NULL (no signature). */
int classify_and_learn(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int trust_from, struct verdict *v,
    const char *sig_id, char **err);

/* Train ts as spam (klass 1) or innocent (0) from a source. */
int train_tokens(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, int klass, enum train_source src, char **err);

/* Corpus training of n messages of one class at once: one atomic write
   for all (the counts are those of n trainings one by one); for bulk
   training from files. what: TRAIN_WORDS, TRAIN_PATTERNS (with BNR: the
   patterns from the dictionary as it was before the batch, one more
   read), or both. Patterns alone (after all the words of a corpus were
   trained) add no message to the totals. */
enum { TRAIN_WORDS = 1, TRAIN_PATTERNS = 2 };
int train_corpus_many(const struct classifier *c, uint64_t dict,
    const struct tokset *ts, size_t n, int klass, int what, char **err);

/* Correct the message a signature names; 1 done, 0 unknown signature. */
int retrain_signature(const struct classifier *c, const char *sig_id,
    int klass, char **err);

#endif
