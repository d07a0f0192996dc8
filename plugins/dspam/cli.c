/*
 * NAME
 *	modmilter-dspam - train, correct and query the dspam plugin's
 *	dictionaries
 * SYNOPSIS
 *	modmilter-dspam [-c CONFIG [--instance NAME] | --store STORE]
 *	    [--database NAME]
 *	    [--dict NAME] [--algorithm fisher|burton]
 *	    [--mode teft|toe|tum|notrain] [--threshold P]
 *	    [--tokenizer words|chain|osb] [--map-size MB] [--robs S] [--robx X]
 *	    [--min-dev D] [--max-tokens N] [--purge-days N] [--purge-hits N]
 *	    [--bnr] [--bnr-threshold T] [--bnr-sides both|spam]
 *	    COMMAND ...
 *
 *	train --spam|--ham [--source corpus|error|inoculation]
 *	    [--only words|patterns] SOURCE...
 *	retrain --signature ID --spam|--ham
 *	classify [--learn] [--score] SOURCE...
 *	online [--unsure D] LIST
 *	stats
 *	purge
 * DESCRIPTION
 *	Works on the same store as the plugin, also while modmilterd runs:
 *	the "store:" of the daemon's configuration file CONFIG, or STORE (a
 *	directory for LMDB, redis://[:PASSWORD@]HOST[:PORT][/DB] or
 *	redis:///SOCKET), else the daemon's default; database NAME
 *	(default "dspam", the plugin's option database). With CONFIG the
 *	classifier is the dspam instance's (cliconf.c); options given here
 *	override it. Every number given is checked whole against the
 *	plugin's range (a usage error otherwise).
 *
 *	A SOURCE is a message file, an mbox, a Maildir, a directory of
 *	Maildirs, or "-" for names read from standard input (msgsource.c);
 *	a message whose Message-ID was already seen in this run is skipped
 *	as a duplicate (dedup.c). A progress line on a terminal and a
 *	summary line go to standard error (progress.c).
 *
 *	classify prints "NAME
 *	spam|innocent PROBABILITY" (and the log-odds with --score); with
 *	--learn it trains by --mode and keeps a signature, printed as the
 *	last field, as the milter does. online reads lines "spam SOURCE" /
 *	"ham SOURCE" and plays their messages in order as a mail host
 *	would: classify, train by --mode, and correct every error (with
 *	TOE and --unsure D also train, with its class, a message classified
 *	right within D of the threshold); it
 *	prints one line per message and a summary. stats prints the dictionary's totals. Tokens
 *	trained here with at most --purge-hits hits (default 1) expire
 *	--purge-days days later (default 30) unless trained again, as the
 *	plugin's purge_hits and purge_after say; purge removes expired
 *	tokens and signatures now (LMDB keeps them until then; Redis drops
 *	them itself).
 *
 *	The messages are the administrator's own choice, not mail from a
 *	client, so their From: is trusted: a sender with an innocent
 *	history is whitelisted here (the plugin asks for SPF, an internal
 *	client or SMTP AUTH first).
 *
 *	With --bnr (the plugin's bnr), corpus training also learns each
 *	message's noise-reduction patterns from the dictionary as it was
 *	before its batch of 256; a corpus trained from nothing is better
 *	trained in two runs: --only words for every class first, then
 *	--only patterns (the patterns from the finished dictionary, the
 *	totals left as they are).
 *
 *	Bulk commands commit without flushing and flush once at the end.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on an error (message on stderr), 2 on usage.
 *	retrain exits 1 when the signature is unknown or expired.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/host.h>

#include "cliconf.h"
#include "dedup.h"
#include "dspam.h"
#include "msgsource.h"
#include "progress.h"

/* the files are the administrator's: their From: is taken as it is */
#define TRUST_FROM 1

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* corpus training: messages per store write */
#define TRAIN_CHUNK 256

static struct classifier C;
static struct tokopts TO = { .pairs = 0 };
static const char *dict_name = "shared";
static const char *database = "dspam";
static long long map_mb;
static uint64_t dict;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: modmilter-dspam [-c CONFIG [--instance NAME] | --store DIR|redis://...]\n"
	    "         [--database NAME] [--dict NAME]\n"
	    "         [--algorithm fisher|burton] [--mode teft|toe|tum|notrain] [--threshold P]\n"
	    "         [--tokenizer words|chain|osb] [--map-size MB] [--purge-days N] [--purge-hits N]\n"
	    "         [--robs S] [--robx X] [--min-dev D] [--max-tokens N]\n"
	    "         [--bnr] [--bnr-threshold T] [--bnr-sides both|spam] COMMAND\n"
	    "  train --spam|--ham [--source corpus|error|inoculation] [--only words|patterns]\n"
	    "        SOURCE...\n"
	    "  retrain --signature ID --spam|--ham\n"
	    "  classify [--learn] [--score] SOURCE...\n"
	    "  online [--unsure D] LIST   (lines: spam|ham SOURCE)\n"
	    "  stats\n"
	    "  purge\n"
	    "SOURCE: a message file, an mbox, a Maildir, a directory of Maildirs,\n"
	    "or - for names read from standard input\n");
	exit(2);
}

/* a bad value on the command line: a usage error naming the option */
static void
bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "modmilter-dspam: --%s: '%s' is not %s\n", opt, val, want);
	exit(2);
}

/* the whole argument must be a number in [min, max] */
static double
opt_real(const char *opt, const char *s, double min, double max)
{
	char want[96], *end;
	double v;

	snprintf(want, sizeof(want), "a number from %g to %g", min, max);
	/* strtod would also take blanks, "inf", "nan" and hex */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		bad_value(opt, s, want);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !(v >= min && v <= max))
		bad_value(opt, s, want);
	return v;
}

/* the whole argument must be a whole number in [min, max] */
static long long
opt_whole(const char *opt, const char *s, long long min, long long max)
{
	char want[96], *end;
	long long v;

	snprintf(want, sizeof(want), "a whole number from %lld to %lld", min, max);
	if (*s == '\0' || strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')))
		bad_value(opt, s, want);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
		bad_value(opt, s, want);
	return v;
}

/* One classifier option of the command line; the ranges are the
   plugin's (options.c), so what trains here is what the daemon takes. */
static void
set_option(int o, const char *arg)
{
	switch (o) {
	case 'B': database = arg; break;
	case 'd': dict_name = arg; break;
	case 'P': C.ds.purge_after = opt_real("purge-days", arg, 0, 36500) * 86400.0; break;
	case 'p': C.ds.purge_hits = (uint32_t)opt_whole("purge-hits", arg, 0, 1000000); break;
	case 'a':
		if (strcmp(arg, "fisher") == 0)
			C.cp.algo = ALGO_FISHER;
		else if (strcmp(arg, "burton") == 0 || strcmp(arg, "graham") == 0)
			C.cp.algo = ALGO_BURTON;
		else
			bad_value("algorithm", arg, "fisher or burton");
		break;
	case 'm':
		if (train_mode_parse(arg, &C.mode) < 0)
			bad_value("mode", arg, "teft, toe, tum or notrain");
		break;
	case 't': C.cp.threshold = opt_real("threshold", arg, 0, 1); break;
	case 'k':
		if (strcmp(arg, "words") == 0)
			TO.pairs = 0;
		else if (strcmp(arg, "chain") == 0)
			TO.pairs = 1;
		else if (strcmp(arg, "osb") == 0)
			TO.pairs = 4;
		else
			bad_value("tokenizer", arg, "words, chain or osb");
		break;
	case 'M': map_mb = opt_whole("map-size", arg, 1, 1048576); break;
	case 'S': C.cp.robs = opt_real("robs", arg, 0.0001, 100); break;
	case 'X': C.cp.robx = opt_real("robx", arg, 0, 1); break;
	case 'D': C.cp.min_dev = opt_real("min-dev", arg, 0, 0.5); break;
	case 'T': C.cp.max_tokens = (size_t)opt_whole("max-tokens", arg, 0, 1000000); break;
	case 'R': C.cp.bnr = TO.bnr = 1; break;
	case 'r': C.cp.bnr_threshold = opt_real("bnr-threshold", arg, 0, 0.5); break;
	case 'b':
		if (strcmp(arg, "both") == 0)
			C.cp.bnr_sides = BNR_BOTH;
		else if (strcmp(arg, "spam") == 0)
			C.cp.bnr_sides = BNR_SPAM;
		else
			bad_value("bnr-sides", arg, "both or spam");
		break;
	default: usage();
	}
}

static int
fail(char *err)
{
	fprintf(stderr, "modmilter-dspam: %s\n", err ? err : "error");
	free(err);
	return 1;
}

/* bulk commands commit without a flush each; flush once at the end */
static int
sync_store(char **err)
{
	if (mm_host_store_sync(C.ds.st) < 0) {
		*err = strdup("cannot flush the store");
		return -1;
	}
	return 0;
}

/* A run over the messages of some sources (msgsource.c): each message
   is deduplicated by Message-ID, tokenized and handed to the command's
   each(), which owns the token set; progress is shown as it goes. */
struct run {
	struct progress pg;
	struct dedup *seen;
	int bad;		/* a source could not be read */
	int (*each)(struct run *r, const char *name, struct tokset *ts,
	    char **err);
	void *arg;		/* the command's */
};

static void
run_error(void *arg, const char *name, const char *why)
{
	struct run *r = arg;

	progress_clear(&r->pg);
	fprintf(stderr, "modmilter-dspam: %s: %s\n", name, why);
	r->bad = 1;		/* reported; the others are taken */
}

static int
run_message(void *arg, const char *name, const unsigned char *msg, size_t len)
{
	struct run *r = arg;
	struct tokset ts;
	char *err = NULL;

	if (dedup_seen(r->seen, msg, len)) {
		r->pg.dups++;
		progress_tick(&r->pg);
		return 0;
	}
	tokset_init(&ts);
	if (dspam_tokenize(&TO, msg, len, &ts) < 0) {
		tokset_free(&ts);
		run_error(r, name, "out of memory");
		return 0;
	}
	if (r->each(r, name, &ts, &err) < 0) {
		progress_clear(&r->pg);
		fail(err);
		return -1;
	}
	r->pg.done++;
	progress_tick(&r->pg);
	return 0;
}

static void
run_start(struct run *r, const char *verb, int (*each)(struct run *,
    const char *, struct tokset *, char **), void *arg)
{
	memset(r, 0, sizeof(*r));
	progress_start(&r->pg, verb);
	r->seen = dedup_new();
	r->each = each;
	r->arg = arg;
}

/* 0, or -1 when a store operation failed (reported) */
static int
run_source(struct run *r, const char *source)
{
	struct msgsource_cb cb = { run_message, run_error, r };

	return msgsource_walk(source, &cb);
}

struct train {
	int klass;
	enum train_source src;
	int what;		/* corpus: TRAIN_WORDS, TRAIN_PATTERNS */
	struct tokset chunk[TRAIN_CHUNK];	/* corpus: a store write each */
	size_t n;
};

static int
train_flush(struct train *t, char **err)
{
	int rc = 0;

	if (t->n > 0)
		rc = train_corpus_many(&C, dict, t->chunk, t->n, t->klass, t->what,
		    err);
	while (t->n > 0)
		tokset_free(&t->chunk[--t->n]);
	return rc;
}

static int
train_one(struct run *r, const char *name, struct tokset *ts, char **err)
{
	struct train *t = r->arg;
	int rc;

	(void)name;
	if (t->src == SRC_CORPUS) {
		t->chunk[t->n++] = *ts;
		return t->n < TRAIN_CHUNK ? 0 : train_flush(t, err);
	}
	rc = train_tokens(&C, dict, ts, t->klass, t->src, err);
	tokset_free(ts);
	return rc;
}

static int
cmd_train(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "spam", no_argument, NULL, 's' }, { "ham", no_argument, NULL, 'h' },
		{ "innocent", no_argument, NULL, 'h' },
		{ "source", required_argument, NULL, 'S' },
		{ "only", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 }
	};
	struct train t = { .klass = -1, .src = SRC_CORPUS,
	    .what = TRAIN_WORDS | TRAIN_PATTERNS };
	struct run r;
	char *err = NULL;
	int o, i, rc = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 's')
			t.klass = 1;
		else if (o == 'h')
			t.klass = 0;
		else if (o == 'S' && train_source_parse(optarg, &t.src) < 0)
			bad_value("source", optarg, "corpus, error or inoculation");
		else if (o == 'o' && strcmp(optarg, "words") == 0)
			t.what = TRAIN_WORDS;
		else if (o == 'o' && strcmp(optarg, "patterns") == 0)
			t.what = TRAIN_PATTERNS;
		else if (o == 'o')
			bad_value("only", optarg, "words or patterns");
		else if (o != 'S')
			usage();
	}
	if (t.klass < 0 || optind >= argc ||
	    (t.what != (TRAIN_WORDS | TRAIN_PATTERNS) && t.src != SRC_CORPUS))
		usage();
	run_start(&r, "trained", train_one, &t);
	for (i = optind; i < argc && rc == 0; i++)
		rc = run_source(&r, argv[i]) < 0;
	if (rc == 0 && (train_flush(&t, &err) < 0 || sync_store(&err) < 0))
		rc = fail(err);
	if (rc == 0)
		progress_end(&r.pg, "trained %zu messages as %s in %.2fs, "
		    "%zu duplicates skipped", r.pg.done, t.klass ? "spam" :
		    "innocent", progress_elapsed(&r.pg), r.pg.dups);
	dedup_free(r.seen);
	return rc ? rc : r.bad;
}

static int
cmd_retrain(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "spam", no_argument, NULL, 's' }, { "ham", no_argument, NULL, 'h' },
		{ "innocent", no_argument, NULL, 'h' },
		{ "signature", required_argument, NULL, 'g' }, { NULL, 0, NULL, 0 }
	};
	const char *id = NULL;
	char *err = NULL;
	int klass = -1, o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 's')
			klass = 1;
		else if (o == 'h')
			klass = 0;
		else if (o == 'g')
			id = optarg;
		else
			usage();
	}
	if (klass < 0 || id == NULL || optind != argc)
		usage();
	if (!sig_valid_id(id)) {
		fprintf(stderr, "modmilter-dspam: %s: not a signature id\n", id);
		return 1;
	}
	if ((r = retrain_signature(&C, id, klass, &err)) < 0)
		return fail(err);
	if (r == 0) {
		fprintf(stderr, "modmilter-dspam: signature %s unknown or expired\n", id);
		return 1;
	}
	printf("%s retrained as %s\n", id, klass ? "spam" : "innocent");
	return sync_store(&err) < 0 ? fail(err) : 0;
}

struct classify {
	int learn, score;
	size_t nspam, nham, nwhite;
};

static int
classify_one(struct run *run, const char *name, struct tokset *ts, char **err)
{
	struct classify *c = run->arg;
	struct verdict v;
	char id[SIG_ID_LEN + 1];
	int r;

	if (c->learn) {
		r = sig_new_id(id);
		if (r == 0)
			r = classify_and_learn(&C, dict, ts, TRUST_FROM, &v,
			    id, err);
	} else {
		r = classify_tokens(&C, dict, ts, TRUST_FROM, &v, err);
	}
	tokset_free(ts);
	if (r < 0)
		return -1;
	*(v.whitelisted ? &c->nwhite : v.spam ? &c->nspam : &c->nham) += 1;
	progress_clear(&run->pg);	/* stdout may be the same terminal */
	printf("%s %s %.6f", name, v.whitelisted ? "whitelisted" :
	    v.spam ? "spam" : "innocent", v.probability);
	if (c->score)
		printf(" %.6f", v.logodds);
	if (c->learn)
		printf(" %s", id);
	putchar('\n');
	return 0;
}

static int
cmd_classify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "learn", no_argument, NULL, 'l' }, { "score", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct classify c = { 0 };
	struct run r;
	int o, i, rc = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'l')
			c.learn = 1;
		else if (o == 's')
			c.score = 1;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	run_start(&r, "classified", classify_one, &c);
	for (i = optind; i < argc && rc == 0; i++)
		rc = run_source(&r, argv[i]) < 0;
	fflush(stdout);
	if (rc == 0 && c.learn) {
		char *err = NULL;

		if (sync_store(&err) < 0)
			rc = fail(err);
	}
	if (rc == 0)
		progress_end(&r.pg, "classified %zu messages (%zu spam, %zu innocent, "
		    "%zu whitelisted) in %.2fs, %zu duplicates skipped", r.pg.done,
		    c.nspam, c.nham, c.nwhite, progress_elapsed(&r.pg), r.pg.dups);
	dedup_free(r.seen);
	return rc ? rc : r.bad;
}

struct online {
	int truth;		/* of the current line */
	double unsure;		/* also train within this of the threshold */
	size_t nspam, nham, fp, fn;
};

static int
online_one(struct run *run, const char *name, struct tokset *ts, char **err)
{
	struct online *ol = run->arg;
	struct verdict v;
	int truth = ol->truth;

	double margin;

	if (classify_and_learn(&C, dict, ts, TRUST_FROM, &v, NULL, err) < 0) {
		tokset_free(ts);
		return -1;
	}
	margin = v.probability - C.cp.threshold;
	if ((v.spam != truth && train_tokens(&C, dict, ts, truth,
	    C.mode == MODE_TEFT || C.mode == MODE_TUM ? SRC_ERROR : SRC_CORPUS,
	    err) < 0) || (v.spam == truth && C.mode == MODE_TOE &&
	    margin < ol->unsure && margin > -ol->unsure &&
	    train_tokens(&C, dict, ts, truth, SRC_CORPUS, err) < 0)) {
		tokset_free(ts);
		return -1;
	}
	tokset_free(ts);
	if (truth) {
		ol->nspam++;
		ol->fn += !v.spam;
	} else {
		ol->nham++;
		ol->fp += v.spam;
	}
	progress_clear(&run->pg);
	printf("%s %s %s %.6f %.6f\n", truth ? "spam" : "ham", name,
	    v.spam ? "spam" : "innocent", v.probability, v.logodds);
	return 0;
}

static int
cmd_online(int argc, char **argv)
{
	struct online ol = { 0 };
	struct run r;
	FILE *f;
	char line[4096];
	char *err = NULL;
	int rc = 0;

	if (argc == 4 && strcmp(argv[1], "--unsure") == 0) {
		ol.unsure = opt_real("unsure", argv[2], 0, 0.5);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2)
		usage();
	if ((f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "modmilter-dspam: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	run_start(&r, "played", online_one, &ol);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *path, *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, "spam ", 5) == 0)
			ol.truth = 1;
		else if (strncmp(line, "ham ", 4) == 0)
			ol.truth = 0;
		else
			continue;
		path = strchr(line, ' ') + 1;
		/* "-" would read names from standard input: the list, or
		   nothing the list says */
		if (strcmp(path, "-") == 0)
			run_error(&r, argv[1], "'-' in an online list");
		else
			rc = run_source(&r, path) < 0;
	}
	if (f != stdin)
		fclose(f);
	progress_clear(&r.pg);
	dedup_free(r.seen);
	if (rc)
		return rc;
	if (sync_store(&err) < 0)
		return fail(err);
	printf("# online %s: %zu messages (%zu spam, %zu ham), FP %zu (%.2f %%), "
	    "FN %zu (%.2f %%), %.0f msg/s, %zu duplicates skipped\n",
	    train_mode_name(C.mode), r.pg.done, ol.nspam, ol.nham, ol.fp,
	    ol.nham ? 100.0 * (double)ol.fp / (double)ol.nham : 0.0, ol.fn,
	    ol.nspam ? 100.0 * (double)ol.fn / (double)ol.nspam : 0.0,
	    (double)r.pg.done / progress_elapsed(&r.pg), r.pg.dups);
	return r.bad;
}

static int
cmd_stats(int argc, char **argv)
{
	struct dtotals tot;
	char *err = NULL;
	size_t ntok = 0;

	(void)argv;
	if (argc != 1)
		usage();
	if (dict_read(&C.ds, dict, NULL, NULL, &tot, &err) < 0 ||
	    dict_count_tokens(&C.ds, dict, &ntok, &err) < 0)
		return fail(err);
	printf("dictionary:          %s\n", dict_name);
	printf("tokens:              %zu\n", ntok);
	printf("spam learned:        %llu\n", (unsigned long long)tot.spam_learned);
	printf("innocent learned:    %llu\n", (unsigned long long)tot.ham_learned);
	printf("spam classified:     %llu\n", (unsigned long long)tot.spam_classified);
	printf("innocent classified: %llu\n", (unsigned long long)tot.ham_classified);
	printf("spam missed:         %llu\n", (unsigned long long)tot.spam_misclassified);
	printf("innocent caught:     %llu\n", (unsigned long long)tot.ham_misclassified);
	printf("spam corpus-fed:     %llu\n", (unsigned long long)tot.spam_corpus);
	printf("innocent corpus-fed: %llu\n", (unsigned long long)tot.ham_corpus);
	return 0;
}

static int
cmd_purge(int argc, char **argv)
{
	char *err = NULL;
	long n;

	(void)argv;
	if (argc != 1)
		usage();
	if ((n = dstore_expire(&C.ds, &err)) < 0 || sync_store(&err) < 0)
		return fail(err);
	printf("purged %ld expired tokens and signatures\n", n);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "instance", required_argument, NULL, 'I' },
		{ "store", required_argument, NULL, 's' },
		{ "database", required_argument, NULL, 'B' },
		{ "purge-days", required_argument, NULL, 'P' },
		{ "purge-hits", required_argument, NULL, 'p' },
		{ "dict", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "threshold", required_argument, NULL, 't' },
		{ "tokenizer", required_argument, NULL, 'k' },
		{ "map-size", required_argument, NULL, 'M' },
		{ "robs", required_argument, NULL, 'S' },
		{ "robx", required_argument, NULL, 'X' },
		{ "min-dev", required_argument, NULL, 'D' },
		{ "max-tokens", required_argument, NULL, 'T' },
		{ "bnr", no_argument, NULL, 'R' },
		{ "bnr-threshold", required_argument, NULL, 'r' },
		{ "bnr-sides", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	const char *store = NULL, *config = NULL, *instance = NULL, *cmd;
	struct dspam_inst *inst = NULL;
	struct mm_host_store_opts so = { 0, 1, 60 };
	mm_host *h = NULL;
	char *err = NULL;
	int o, rc;

	combine_defaults(&C.cp);
	C.mode = MODE_TEFT;
	C.sig_ttl = 14 * 86400.0;
	C.ds.purge_after = 30 * 86400.0;
	C.ds.purge_hits = 1;
	/* first pass: every option checked (usage errors before any file
	   is read), and where the configuration is */
	while ((o = getopt_long(argc, argv, "+c:", lo, NULL)) != -1) {
		if (o == 'c')
			config = optarg;
		else if (o == 'I')
			instance = optarg;
		else if (o == 's')
			store = optarg;
		else
			set_option(o, optarg);
	}
	if (optind >= argc)
		usage();
	if (instance != NULL && config == NULL) {
		fprintf(stderr, "modmilter-dspam: --instance needs -c CONFIG\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);	/* a dead store server is an error, not death */
	if (config != NULL) {
		if ((rc = cliconf_load(config, instance, &h, &inst)) < 0) {
			mm_host_close(h);
			return rc == -2 ? 2 : 1;
		}
		if (inst != NULL) {
			/* the daemon's classifier, then the command line on top */
			C = inst->c;
			TO = inst->tok;
			database = inst->database;
			dict_name = inst->dictionary;
			optind = 0;	/* glibc: start getopt afresh */
			while ((o = getopt_long(argc, argv, "+c:", lo, NULL)) != -1)
				if (o != 'c' && o != 'I' && o != 's')
					set_option(o, optarg);
		}
	}
	/* --store instead of the file's; neither: the daemon's default */
	if (store != NULL && h != NULL) {
		mm_host_close(h);
		h = NULL;
	}
	if (h == NULL &&
	    (h = mm_host_open_store("modmilter-dspam", store)) == NULL) {
		dspam_inst_free(inst);
		return 1;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	dict = dstore_dict_id(dict_name);
	so.map_size = map_mb * 1024 * 1024;
	/* bulk writes of 256 messages take a while: a timeout of 60s at least */
	C.ds.api = mm_host_api(h);
	if ((C.ds.st = mm_host_store(h, database, &so, &err)) == NULL)
		return fail(err);
	if (strcmp(cmd, "train") == 0)
		rc = cmd_train(argc, argv);
	else if (strcmp(cmd, "retrain") == 0)
		rc = cmd_retrain(argc, argv);
	else if (strcmp(cmd, "classify") == 0)
		rc = cmd_classify(argc, argv);
	else if (strcmp(cmd, "online") == 0)
		rc = cmd_online(argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(argc, argv);
	else if (strcmp(cmd, "purge") == 0)
		rc = cmd_purge(argc, argv);
	else
		usage();
	/* what was committed is flushed, whatever else failed */
	if (mm_host_store_sync(C.ds.st) < 0 && rc == 0)
		rc = fail(strdup("cannot flush the store"));
	dspam_inst_free(inst);
	mm_host_close(h);
	return rc;
}
