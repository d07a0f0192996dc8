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
 *	plugin's range (a usage error otherwise; cliopts.c).
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
#include "cliopts.h"
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

/* the classifier and where it counts (cliopts.c) */
static struct cliopts O;
static uint64_t dict;

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
	if (mm_host_store_sync(O.c.ds.st) < 0) {
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
	if (dspam_tokenize(&O.to, msg, len, &ts) < 0) {
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
		rc = train_corpus_many(&O.c, dict, t->chunk, t->n, t->klass, t->what,
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
	rc = train_tokens(&O.c, dict, ts, t->klass, t->src, err);
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
			cliopts_bad_value("source", optarg, "corpus, error or inoculation");
		else if (o == 'o' && strcmp(optarg, "words") == 0)
			t.what = TRAIN_WORDS;
		else if (o == 'o' && strcmp(optarg, "patterns") == 0)
			t.what = TRAIN_PATTERNS;
		else if (o == 'o')
			cliopts_bad_value("only", optarg, "words or patterns");
		else if (o != 'S')
			cliopts_usage();
	}
	if (t.klass < 0 || optind >= argc ||
	    (t.what != (TRAIN_WORDS | TRAIN_PATTERNS) && t.src != SRC_CORPUS))
		cliopts_usage();
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
			cliopts_usage();
	}
	if (klass < 0 || id == NULL || optind != argc)
		cliopts_usage();
	if (!sig_valid_id(id)) {
		fprintf(stderr, "modmilter-dspam: %s: not a signature id\n", id);
		return 1;
	}
	if ((r = retrain_signature(&O.c, id, klass, &err)) < 0)
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
			r = classify_and_learn(&O.c, dict, ts, TRUST_FROM, &v,
			    id, err);
	} else {
		r = classify_tokens(&O.c, dict, ts, TRUST_FROM, &v, err);
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
			cliopts_usage();
	}
	if (optind >= argc)
		cliopts_usage();
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

	if (classify_and_learn(&O.c, dict, ts, TRUST_FROM, &v, NULL, err) < 0) {
		tokset_free(ts);
		return -1;
	}
	margin = v.probability - O.c.cp.threshold;
	if ((v.spam != truth && train_tokens(&O.c, dict, ts, truth,
	    O.c.mode == MODE_TEFT || O.c.mode == MODE_TUM ? SRC_ERROR : SRC_CORPUS,
	    err) < 0) || (v.spam == truth && O.c.mode == MODE_TOE &&
	    margin < ol->unsure && margin > -ol->unsure &&
	    train_tokens(&O.c, dict, ts, truth, SRC_CORPUS, err) < 0)) {
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
		ol.unsure = cliopts_real("unsure", argv[2], 0, 0.5);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2)
		cliopts_usage();
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
	    train_mode_name(O.c.mode), r.pg.done, ol.nspam, ol.nham, ol.fp,
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
		cliopts_usage();
	if (dict_read(&O.c.ds, dict, NULL, NULL, &tot, &err) < 0 ||
	    dict_count_tokens(&O.c.ds, dict, &ntok, &err) < 0)
		return fail(err);
	printf("dictionary:          %s\n", O.dict_name);
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
		cliopts_usage();
	if ((n = dstore_expire(&O.c.ds, &err)) < 0 || sync_store(&err) < 0)
		return fail(err);
	printf("purged %ld expired tokens and signatures\n", n);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *store = NULL, *config = NULL, *instance = NULL, *cmd;
	struct dspam_inst *inst = NULL;
	struct mm_host_store_opts so = { 0, 1, 60 };
	mm_host *h = NULL;
	char *err = NULL;
	int o, rc;

	cliopts_defaults(&O);
	/* first pass: every option checked (usage errors before any file
	   is read), and where the configuration is */
	while ((o = getopt_long(argc, argv, "+c:", cliopts_long, NULL)) != -1) {
		if (o == 'c')
			config = optarg;
		else if (o == 'I')
			instance = optarg;
		else if (o == 's')
			store = optarg;
		else
			cliopts_set(&O, o, optarg);
	}
	if (optind >= argc)
		cliopts_usage();
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
			O.c = inst->c;
			O.to = inst->tok;
			O.database = inst->database;
			O.dict_name = inst->dictionary;
			optind = 0;	/* glibc: start getopt afresh */
			while ((o = getopt_long(argc, argv, "+c:", cliopts_long, NULL)) != -1)
				if (o != 'c' && o != 'I' && o != 's')
					cliopts_set(&O, o, optarg);
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
	dict = dstore_dict_id(O.dict_name);
	so.map_size = O.map_mb * 1024 * 1024;
	/* bulk writes of 256 messages take a while: a timeout of 60s at least */
	O.c.ds.api = mm_host_api(h);
	if ((O.c.ds.st = mm_host_store(h, O.database, &so, &err)) == NULL)
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
		cliopts_usage();
	/* what was committed is flushed, whatever else failed */
	if (mm_host_store_sync(O.c.ds.st) < 0 && rc == 0)
		rc = fail(strdup("cannot flush the store"));
	dspam_inst_free(inst);
	mm_host_close(h);
	return rc;
}
