/*
 * NAME
 *	modmilter-dspam - train, correct and query the dspam plugin's
 *	dictionaries
 * SYNOPSIS
 *	modmilter-dspam [-c CONFIG | --store STORE] [--database NAME]
 *	    [--dict NAME] [--algorithm fisher|burton]
 *	    [--mode teft|toe|tum|notrain] [--threshold P]
 *	    [--tokenizer words|chain|osb] [--map-size MB] [--robs S] [--robx X]
 *	    [--min-dev D] [--max-tokens N] [--purge-days N] [--purge-hits N]
 *	    COMMAND ...
 *
 *	train --spam|--ham [--source corpus|error|inoculation] FILE...
 *	retrain --signature ID --spam|--ham
 *	classify [--learn] [--score] FILE...
 *	online LIST
 *	stats
 *	purge
 * DESCRIPTION
 *	Works on the same store as the plugin, also while modmilterd runs:
 *	the "store:" of the daemon's configuration file CONFIG, or STORE (a
 *	directory for LMDB, redis://[:PASSWORD@]HOST[:PORT][/DB] or
 *	redis:///SOCKET), else the daemon's default; database NAME
 *	(default "dspam", the plugin's option database). FILE is one
 *	RFC 5322 message ("-" is standard input). classify prints "FILE
 *	spam|innocent PROBABILITY" (and the log-odds with --score); with
 *	--learn it trains by --mode and keeps a signature, printed as the
 *	last field, as the milter does. online reads lines "spam FILE" /
 *	"ham FILE" and plays them in order as a mail host would: classify,
 *	train by --mode, and correct every error; it prints one line per
 *	message and a summary. stats prints the dictionary's totals. Tokens
 *	trained here with at most --purge-hits hits (default 1) expire
 *	--purge-days days later (default 30) unless trained again, as the
 *	plugin's purge_hits and purge_after say; purge removes expired
 *	tokens and signatures now (LMDB keeps them until then; Redis drops
 *	them itself).
 *
 *	The files are the administrator's own choice, not mail from a
 *	client, so their From: is trusted: a sender with an innocent
 *	history is whitelisted here (the plugin asks for SPF, an internal
 *	client or SMTP AUTH first).
 *
 *	Bulk commands commit without flushing and flush once at the end.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on an error (message on stderr), 2 on usage.
 *	retrain exits 1 when the signature is unknown or expired.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cfgtree.h"
#include "dspam.h"
#include "log.h"
#include "store.h"

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
static uint64_t dict;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: modmilter-dspam [-c CONFIG | --store DIR|redis://...] [--database NAME] [--dict NAME]\n"
	    "         [--algorithm fisher|burton] [--mode teft|toe|tum|notrain] [--threshold P]\n"
	    "         [--tokenizer words|chain|osb] [--map-size MB] [--purge-days N] [--purge-hits N]\n"
	    "         [--robs S] [--robx X] [--min-dev D] [--max-tokens N] COMMAND\n"
	    "  train --spam|--ham [--source corpus|error|inoculation] FILE...\n"
	    "  retrain --signature ID --spam|--ham\n"
	    "  classify [--learn] [--score] FILE...\n"
	    "  online LIST            (lines: spam|ham FILE)\n"
	    "  stats\n"
	    "  purge\n");
	exit(2);
}

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 65536 > cap) {
			unsigned char *nb = realloc(buf, cap = (n + 65536) * 2);

			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != 0)
		close(fd);
	*len = n;
	return buf;
}

static int
tokenize_file(const char *path, struct tokset *ts)
{
	size_t len;
	unsigned char *m = slurp(path, &len);

	tokset_init(ts);
	if (m == NULL) {
		fprintf(stderr, "modmilter-dspam: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (dspam_tokenize(&TO, m, len, ts) < 0) {
		fprintf(stderr, "modmilter-dspam: %s: out of memory\n", path);
		free(m);
		tokset_free(ts);
		return -1;
	}
	free(m);
	return 0;
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
	if (store_sync(C.ds.st) < 0) {
		*err = strdup("cannot flush the store");
		return -1;
	}
	return 0;
}

static int
cmd_train(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "spam", no_argument, NULL, 's' }, { "ham", no_argument, NULL, 'h' },
		{ "innocent", no_argument, NULL, 'h' },
		{ "source", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 }
	};
	enum train_source src = SRC_CORPUS;
	int klass = -1, o, i, rc = 0;
	double t0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 's')
			klass = 1;
		else if (o == 'h')
			klass = 0;
		else if (o == 'S' && train_source_parse(optarg, &src) == 0)
			;
		else
			usage();
	}
	if (klass < 0 || optind >= argc)
		usage();
	t0 = now();
	if (src == SRC_CORPUS) {
		/* corpus training of many files: a chunk per store write */
		struct tokset chunk[TRAIN_CHUNK];
		size_t n = 0;
		int bad = 0;

		for (i = optind; i <= argc && rc == 0; i++) {
			char *err = NULL;

			if (i < argc) {
				if (tokenize_file(argv[i], &chunk[n]) < 0) {
					bad = 1;	/* reported; the others are trained */
					continue;
				}
				if (++n < TRAIN_CHUNK)
					continue;
			}
			if (n > 0 && train_corpus_many(&C, dict, chunk, n, klass, &err) < 0)
				rc = fail(err);
			while (n > 0)
				tokset_free(&chunk[--n]);
		}
		while (n > 0)
			tokset_free(&chunk[--n]);
		rc = rc ? rc : bad;
	} else {
		for (i = optind; i < argc; i++) {
			struct tokset ts;
			char *err = NULL;

			if (tokenize_file(argv[i], &ts) < 0) {
				rc = 1;
				continue;
			}
			if (train_tokens(&C, dict, &ts, klass, src, &err) < 0)
				rc = fail(err);
			tokset_free(&ts);
			if (rc)
				break;
		}
	}
	if (rc == 0) {
		char *err = NULL;

		if (sync_store(&err) < 0)
			return fail(err);
		fprintf(stderr, "trained %d messages as %s in %.2fs\n", argc - optind,
		    klass ? "spam" : "innocent", now() - t0);
	}
	return rc;
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

static int
cmd_classify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "learn", no_argument, NULL, 'l' }, { "score", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int o, i, learn = 0, score = 0, rc = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'l')
			learn = 1;
		else if (o == 's')
			score = 1;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	for (i = optind; i < argc; i++) {
		struct tokset ts;
		struct verdict v;
		char *err = NULL, id[SIG_ID_LEN + 1];
		int r;

		if (tokenize_file(argv[i], &ts) < 0) {
			rc = 1;
			continue;
		}
		if (learn) {
			r = sig_new_id(id);
			if (r == 0)
				r = classify_and_learn(&C, dict, &ts, TRUST_FROM,
				    &v, id, &err);
		} else {
			r = classify_tokens(&C, dict, &ts, TRUST_FROM, &v, &err);
		}
		tokset_free(&ts);
		if (r < 0)
			return fail(err);
		printf("%s %s %.6f", argv[i], v.whitelisted ? "whitelisted" :
		    v.spam ? "spam" : "innocent", v.probability);
		if (score)
			printf(" %.6f", v.logodds);
		if (learn)
			printf(" %s", id);
		putchar('\n');
	}
	if (learn) {
		char *err = NULL;

		if (sync_store(&err) < 0)
			return fail(err);
	}
	return rc;
}

static int
cmd_online(int argc, char **argv)
{
	FILE *f;
	char line[4096];
	size_t n = 0, nspam = 0, nham = 0, fp = 0, fn = 0;
	double t0 = now();
	char *err = NULL;

	if (argc != 2)
		usage();
	if ((f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "modmilter-dspam: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *path, *nl = strchr(line, '\n');
		struct tokset ts;
		struct verdict v;
		int truth;

		if (nl)
			*nl = '\0';
		if (strncmp(line, "spam ", 5) == 0)
			truth = 1;
		else if (strncmp(line, "ham ", 4) == 0)
			truth = 0;
		else
			continue;
		path = strchr(line, ' ') + 1;
		if (tokenize_file(path, &ts) < 0)
			continue;
		if (classify_and_learn(&C, dict, &ts, TRUST_FROM, &v, NULL,
		    &err) < 0 ||
		    (v.spam != truth && train_tokens(&C, dict, &ts, truth,
		    C.mode == MODE_TEFT || C.mode == MODE_TUM ? SRC_ERROR : SRC_CORPUS,
		    &err) < 0)) {
			tokset_free(&ts);
			if (f != stdin)
				fclose(f);
			return fail(err);
		}
		tokset_free(&ts);
		n++;
		if (truth) {
			nspam++;
			fn += !v.spam;
		} else {
			nham++;
			fp += v.spam;
		}
		printf("%s %s %s %.6f %.6f\n", truth ? "spam" : "ham", path,
		    v.spam ? "spam" : "innocent", v.probability, v.logodds);
	}
	if (f != stdin)
		fclose(f);
	if (sync_store(&err) < 0)
		return fail(err);
	printf("# online %s: %zu messages (%zu spam, %zu ham), FP %zu (%.2f %%), "
	    "FN %zu (%.2f %%), %.0f msg/s\n", train_mode_name(C.mode), n, nspam,
	    nham, fp, nham ? 100.0 * (double)fp / (double)nham : 0.0, fn,
	    nspam ? 100.0 * (double)fn / (double)nspam : 0.0,
	    (double)n / (now() - t0));
	return 0;
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

/* the core's API table (core/api.c): its store functions are what the
   plugin reaches in the daemon */
extern const struct mm_api core_api;

/* the "store:" of the daemon's configuration file */
static int
store_of_config(const char *path, struct store_cfg *cfg)
{
	struct cfgtree *t = cfgtree_load(path);
	int ok;

	if (t == NULL) {
		fprintf(stderr, "modmilter-dspam: %s: %s\n", path, strerror(errno));
		return -1;
	}
	store_cfg_parse(t->root ? cfg_get(t->root, "store") : NULL, cfg);
	ok = t->nerrors == 0;
	cfgtree_print_errors(t, stderr);
	cfgtree_free(t);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
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
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	const char *store = NULL, *config = NULL, *database = "dspam", *cmd;
	struct store_cfg cfg;
	long long map_mb = 0;
	double purge_days = 30;
	long purge_hits = 1;
	char *err = NULL;
	int o, rc;

	combine_defaults(&C.cp);
	C.mode = MODE_TEFT;
	C.sig_ttl = 14 * 86400.0;
	while ((o = getopt_long(argc, argv, "+c:", lo, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 's': store = optarg; break;
		case 'B': database = optarg; break;
		case 'P': purge_days = strtod(optarg, NULL); break;
		case 'p': purge_hits = strtol(optarg, NULL, 10); break;
		case 'd': dict_name = optarg; break;
		case 'a':
			if (strcmp(optarg, "fisher") == 0)
				C.cp.algo = ALGO_FISHER;
			else if (strcmp(optarg, "burton") == 0 || strcmp(optarg, "graham") == 0)
				C.cp.algo = ALGO_BURTON;
			else
				usage();
			break;
		case 'm':
			if (train_mode_parse(optarg, &C.mode) < 0)
				usage();
			break;
		case 't': C.cp.threshold = strtod(optarg, NULL); break;
		case 'k':
			if (strcmp(optarg, "words") == 0)
				TO.pairs = 0;
			else if (strcmp(optarg, "chain") == 0)
				TO.pairs = 1;
			else if (strcmp(optarg, "osb") == 0)
				TO.pairs = 4;
			else
				usage();
			break;
		case 'M': map_mb = strtoll(optarg, NULL, 10); break;
		case 'S': C.cp.robs = strtod(optarg, NULL); break;
		case 'X': C.cp.robx = strtod(optarg, NULL); break;
		case 'D': C.cp.min_dev = strtod(optarg, NULL); break;
		case 'T': C.cp.max_tokens = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind >= argc || map_mb < 0 || !(purge_days >= 0) || purge_hits < 0 ||
	    !(C.cp.threshold >= 0.0 &&
	    C.cp.threshold <= 1.0) || !(C.cp.robs > 0.0) || !(C.cp.robx >= 0.0 &&
	    C.cp.robx <= 1.0) || !(C.cp.min_dev >= 0.0 && C.cp.min_dev <= 0.5))
		usage();
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	dict = dstore_dict_id(dict_name);
	log_open(LOG_DEST_STDERR, MM_LOG_WARNING, "modmilter-dspam");
	signal(SIGPIPE, SIG_IGN);	/* a dead store server is an error, not death */
	if (store != NULL) {
		if (store_cfg_from_uri(store, &cfg, &err) < 0)
			return fail(err);
	} else if (config != NULL) {
		if (store_of_config(config, &cfg) < 0)
			return 1;
	} else {
		store_cfg_parse(NULL, &cfg);	/* the daemon's default */
	}
	if (map_mb > 0)
		cfg.map_size = map_mb * 1024 * 1024;
	cfg.nosync = 1;
	if (cfg.timeout < 60)
		cfg.timeout = 60;	/* bulk writes of 256 messages take a while */
	C.ds.api = &core_api;
	C.ds.purge_after = purge_days * 86400.0;
	C.ds.purge_hits = (uint32_t)purge_hits;
	if ((C.ds.st = store_open(&cfg, database, &err)) == NULL)
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
	if (store_sync(C.ds.st) < 0 && rc == 0)
		rc = fail(strdup("cannot flush the store"));
	store_cfg_free(&cfg);
	return rc;
}
